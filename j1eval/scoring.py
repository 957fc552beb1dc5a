"""Score verdicts: read a judgments file, combine samples, compute results.json.

This is how verdicts from any tool are scored: a JSONL file with ``pair_id``,
``order`` ("ab"/"ba"), ``verdict`` ("A"/"B"/"tie"/null) and optional ``sample``,
``failure``, ``scores``, ``p_a`` (the judge's probability of slot A) and ``bench``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.benchmarks import Benchmark
from j1eval.errors import InputError
from j1eval.metrics import N_BOOTSTRAP, compute_figures, pair_table
from j1eval.safe_io import iter_jsonl
from j1eval.store import latest_records
from j1eval.types import FAILURE_CLASSES, ORDERS, VERDICTS, Pair


def read_judgments(path: str | Path, pair_ids: Iterable[str] | None = None, bench: str | None = None) -> pd.DataFrame:
    """Read and validate a judgments JSONL file.

    Every problem raises :class:`InputError` naming the file, line and field. With
    ``pair_ids``, an unknown pair id is an error. Rows whose ``bench`` names another
    benchmark are skipped (a run over several benchmarks writes one file).
    """
    path = Path(path)
    known = set(pair_ids) if pair_ids is not None else None
    rows: list[dict[str, Any]] = []
    for lineno, rec in iter_jsonl(path):  # not UTF-8, not JSON, not an object: an error naming the line
        where = {"path": path, "record": f"line {lineno}"}
        if bench is not None and rec.get("bench") not in (None, bench):
            continue
        rows.append(validate_row(rec, known, where))
    if not rows:
        raise InputError("no judgments" + (f" for benchmark {bench!r}" if bench else ""), path=path)
    frame = pd.DataFrame(latest_records(rows))  # a retried judgment supersedes the earlier line of its key
    dupes = frame.duplicated(["pair_id", "order", "sample"], keep=False)
    if dupes.any():
        first = frame[dupes].iloc[0]
        raise InputError(
            f"duplicate judgment for pair {first['pair_id']!r}, order {first['order']!r}, sample {first['sample']}",
            path=path,
            record=f"line {first['line']}",
        )
    return frame


def validate_row(rec: Mapping[str, Any], known: set[str] | None, where: dict[str, Any]) -> dict[str, Any]:
    """One judgment's fields checked (InputError naming ``where`` and the field), as a scoring row."""
    for key in ("pair_id", "order", "verdict"):
        if key not in rec:
            raise InputError("missing field", field=key, **where)
    pair_id = rec["pair_id"]
    if not isinstance(pair_id, str) or not pair_id:
        raise InputError(f"must be a non-empty string, got {pair_id!r}", field="pair_id", **where)
    if known is not None and pair_id not in known:
        raise InputError(f"unknown pair id {pair_id!r} for this benchmark", field="pair_id", **where)
    if rec["order"] not in ORDERS:
        raise InputError(f"must be 'ab' or 'ba', got {rec['order']!r}", field="order", **where)
    if rec["verdict"] is not None and rec["verdict"] not in VERDICTS:
        raise InputError(f"must be 'A', 'B', 'tie' or null, got {rec['verdict']!r}", field="verdict", **where)
    sample = rec.get("sample", 0)
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 0:
        raise InputError(f"must be a non-negative integer, got {sample!r}", field="sample", **where)
    failure = rec.get("failure")
    if failure is not None and failure not in FAILURE_CLASSES:
        raise InputError(f"unknown failure class {failure!r}", field="failure", **where)
    if rec["verdict"] is None and failure is None:
        failure = "no_verdict"
    p_a = rec.get("p_a")
    if p_a is not None and (
        not isinstance(p_a, int | float) or isinstance(p_a, bool) or not (0.0 <= p_a <= 1.0)  # NaN fails too
    ):
        raise InputError(f"must be a probability from 0 to 1 or null, got {p_a!r}", field="p_a", **where)
    scores = rec.get("scores")
    if scores is not None and not isinstance(scores, dict):
        raise InputError("must be an object like {'A': 7, 'B': 5}", field="scores", **where)
    return {
        "pair_id": pair_id,
        "order": rec["order"],
        "sample": sample,
        "verdict": rec["verdict"],
        "failure": failure,
        "score_a": _score(scores, "A"),
        "score_b": _score(scores, "B"),
        "p_a": None if p_a is None else float(p_a),
        "line": int(str(where["record"]).split()[-1]),
        **({"key": rec["key"]} if isinstance(rec.get("key"), str) else {}),  # a run's cache key (j1eval.store)
    }


def _score(scores: Mapping[str, Any] | None, slot: str) -> float | None:
    if not scores:
        return None
    value = scores.get(slot)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def aggregate_samples(frame: pd.DataFrame, use_scores: bool = False) -> pd.DataFrame:
    """One verdict per (pair_id, order) from N samples.

    Verdict formats use self-consistency (SC@N): the majority among decisive
    verdicts, "tie" when A and B are level or only ties were given. Score formats
    (``use_scores``) use Mean-Score@N: the slot with the higher mean score wins.
    With no readable sample, the verdict is None and the failure the most common.
    """
    columns = ["pair_id", "order", "verdict", "failure", "p_a"]
    if "p_a" not in frame.columns:
        frame = frame.assign(p_a=None)
    if frame["sample"].max() == 0:
        return frame[columns].reset_index(drop=True)
    out = []
    for (pair_id, order), group in frame.groupby(["pair_id", "order"], sort=False):
        verdict, failure = combine_samples(
            group["verdict"].tolist(),
            group["failure"].tolist(),
            group["score_a"].tolist() if use_scores else None,
            group["score_b"].tolist() if use_scores else None,
        )
        probs = [p for p in group["p_a"].tolist() if _num(p)]
        p_a = math.fsum(probs) / len(probs) if probs else None  # mean over the samples that have one
        out.append({"pair_id": pair_id, "order": order, "verdict": verdict, "failure": failure, "p_a": p_a})
    return pd.DataFrame(out, columns=columns)


def combine_samples(
    verdicts: Sequence[str | None],
    failures: Sequence[str | None],
    scores_a: Sequence[float | None] | None = None,
    scores_b: Sequence[float | None] | None = None,
) -> tuple[str | None, str | None]:
    """SC@N or Mean-Score@N over one (pair, order)'s samples: (verdict, failure)."""
    if scores_a is not None and scores_b is not None:
        both = [(a, b) for a, b in zip(scores_a, scores_b, strict=True) if _num(a) and _num(b)]
        if both:
            # Same number of terms on both sides: comparing exact sums compares the means
            # without the rounding of a division (3 samples of 7.1 vs 7.1 stay a tie).
            sum_a = math.fsum(a for a, _ in both)
            sum_b = math.fsum(b for _, b in both)
            return ("A" if sum_a > sum_b else "B" if sum_b > sum_a else "tie"), None
    counts = Counter(v for v in verdicts if isinstance(v, str))  # pandas gives NaN for a missing verdict
    if counts:
        if counts["A"] == counts["B"]:
            return "tie", None
        return ("A" if counts["A"] > counts["B"] else "B"), None
    failed = Counter(f for f in failures if isinstance(f, str))
    return None, (failed.most_common(1)[0][0] if failed else "no_verdict")


def _num(x: float | None) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def score_bench(
    benchmark: Benchmark,
    pairs: Sequence[Pair],
    judgments: pd.DataFrame,
    *,
    seed: int = 0,
    use_scores: bool = False,
    n_boot: int = N_BOOTSTRAP,
    missing_parts: Sequence[str] = (),
) -> dict[str, Any]:
    """``{"overall": {...}, "subsets": {name: {...}}}`` for one benchmark.

    ``missing_parts`` are parts of the benchmark whose data is absent (e.g. RM-Bench
    math); they are listed under ``missing`` so that no reader takes the figures
    for the whole benchmark.
    """
    verdicts = aggregate_samples(judgments, use_scores=use_scores)
    table = pair_table(pairs, verdicts, benchmark, seed=seed)
    overall = compute_figures(table, benchmark, n_boot=n_boot, seed=seed)
    if missing_parts:
        overall["missing"] = sorted(set(overall.get("missing", [])) | set(missing_parts))
    subsets = {
        name: compute_figures(part.reset_index(drop=True), benchmark, n_boot=n_boot, seed=seed, check_required=False)
        for name, part in table.groupby("subset", sort=True)
    }
    return {"overall": overall, "subsets": subsets}
