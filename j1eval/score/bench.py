"""One benchmark's figures from its rows (:mod:`j1eval.store.records`): samples combined, the pair table,
figures with intervals for the benchmark and each subset: what ``results.json`` holds per benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from j1eval.benchmarks import Benchmark
from j1eval.errors import InputError
from j1eval.orders import ROTATIONS
from j1eval.score.kway import score_kway
from j1eval.score.metrics import N_BOOTSTRAP, compute_figures, pair_table, poisson_weights
from j1eval.score.samples import aggregate_samples
from j1eval.store.pairs_file import pair_rows
from j1eval.types import Pair


def score_bench(
    benchmark: Benchmark,
    pairs: Sequence[Pair],
    judgments: pd.DataFrame,
    *,
    seed: int = 0,
    use_scores: bool = False,
    n_boot: int = N_BOOTSTRAP,
    missing_parts: Sequence[str] = (),
    rows: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """``{"overall": {...}, "subsets": {name: {...}}}`` for one benchmark.

    ``missing_parts`` are parts of the benchmark whose data is absent (e.g. RM-Bench
    math); they are listed under ``missing`` so that no reader takes the figures
    for the whole benchmark.
    """
    rotations = judgments["order"].isin(ROTATIONS)
    if rotations.any():  # a 4-way run: items in rotations, scored by j1eval.score.kway (rows for items.parquet)
        if not rotations.all() or not getattr(benchmark, "kway", None):
            raise InputError(f"{benchmark.name}: 4-way rotations (r0-r3) need a best-of-4 benchmark, alone in the file")
        return score_kway(benchmark, pairs, judgments, seed=seed, n_boot=n_boot, rows=rows)
    verdicts = aggregate_samples(judgments, use_scores=use_scores)
    table = pair_table(pairs, verdicts, benchmark, seed=seed)
    prepare = getattr(benchmark, "prepare_table", None)  # per-pair columns from the judgments (RewardBench 2's scores)
    if prepare is not None:
        table = prepare(table, judgments)
    if rows is not None:  # ``rows[bench]``: this table as pairs.parquet keeps it (j1eval.store.pairs_file)
        rows[benchmark.name] = pair_rows(benchmark, pairs, judgments, table)
    # One bootstrap draw per pair serves the benchmark and each subset (a subset's resample is the
    # benchmark's restricted to its pairs): drawn once, not once per subset.
    weights = poisson_weights(len(table), n_boot, seed) if n_boot > 0 and len(table) else None
    overall = compute_figures(table, benchmark, n_boot=n_boot, seed=seed, weights=weights)
    if missing_parts:
        overall["missing"] = sorted(set(overall.get("missing", [])) | set(missing_parts))
    subsets = {
        name: compute_figures(
            table.iloc[rows].reset_index(drop=True),
            benchmark,
            n_boot=n_boot,
            seed=seed,
            check_required=False,
            weights=None if weights is None else weights[:, rows],
        )
        for name, rows in sorted(table.groupby("subset", sort=True).indices.items())
    }
    finish = getattr(benchmark, "finish_figures", None)  # figures without intervals, reasons for null figures
    if finish is not None:
        finish(overall, table)
        for name, part in table.groupby("subset", sort=True):
            finish(subsets[name], part)
    out: dict[str, Any] = {"overall": overall, "subsets": subsets}
    reasons = pop_reasons(overall, *subsets.values())
    if reasons:  # why a figure is null, in words (beside the figures, which are numbers)
        out["reasons"] = reasons
    return out


def pop_reasons(overall: dict[str, Any], *others: dict[str, Any]) -> dict[str, str]:
    """Take the ``<figure>_reason`` texts out of figure sets; the overall set's, by figure."""
    reasons = {k.removesuffix("_reason"): overall.pop(k) for k in [k for k in overall if k.endswith("_reason")]}
    for figs in others:
        for k in [k for k in figs if k.endswith("_reason")]:
            reasons.setdefault(k.removesuffix("_reason"), figs.pop(k))
    return reasons
