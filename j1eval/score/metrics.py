"""Accuracy and position-bias figures from per (pair, order) verdicts.

One table, one row per pair, is built from the verdicts (:func:`pair_table`);
every figure is then a weighted mean over groups of a per-pair ratio, computed in
vectorised form, with a seeded Poisson bootstrap (resampling pairs) for its 95%
interval. See :class:`Figure`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from j1eval.orders import single_order_by_rule
from j1eval.score.figures import Figure, Ratio
from j1eval.score.intervals import N_BOOTSTRAP, clopper_pearson, plain_count
from j1eval.types import ORDERS, Order, Pair

if TYPE_CHECKING:
    from j1eval.benchmarks.base import Benchmark

CI_LEVEL = 0.95

#: Generic figures, in the order they are reported.
GENERIC_FIGURES = (
    "acc_ab",
    "acc_ba",
    "acc_consistent",
    "acc_single",
    "flip_rate",
    "position_consistency",
    "slot_a_rate",
    "tie_rate",
    "parse_failure_rate",
    "truncation_rate",
    # Over the judge's probability of slot A (``p_a``), where a run has it:
    "mean_p_a",
    "order_shift",
    "acc_prob_avg",
)


def pair_table(
    pairs: Iterable[Pair],
    verdicts: pd.DataFrame,
    benchmark: Benchmark | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per judged pair, with per-order verdicts and correctness columns.

    ``verdicts`` has one row per (pair_id, order) with columns ``verdict`` (A, B,
    tie or None) and optionally ``failure`` (then ``failure_ab``/``failure_ba``
    columns are added and a truncation rate is reported). Pairs with no verdict row
    are left out.
    """
    has_failure = "failure" in verdicts.columns
    has_p_a = "p_a" in verdicts.columns and bool(verdicts["p_a"].notna().any())
    absent = [None] * len(verdicts)
    # Plain dict lookups: far faster than pandas string-array joins at a million rows.
    found: dict[tuple[str, str], tuple[Any, Any, Any]] = dict(
        zip(
            zip(verdicts["pair_id"].tolist(), verdicts["order"].tolist(), strict=True),
            zip(
                verdicts["verdict"].tolist(),
                verdicts["failure"].tolist() if has_failure else absent,
                verdicts["p_a"].tolist() if has_p_a else absent,
                strict=True,
            ),
            strict=True,
        )
    )
    judged_ids = {pid for pid, _ in found}
    pairs = [p for p in pairs if p.pair_id in judged_ids]
    ids = [p.pair_id for p in pairs]
    table = pd.DataFrame(
        {"pair_id": np.array(ids, dtype=object), "subset": [p.subset for p in pairs], "label": [p.label for p in pairs]}
    )
    if benchmark is not None and pairs:
        extra = _extra_columns([benchmark.pair_columns(p) for p in pairs], table.index)
        if len(extra.columns):
            table = pd.concat([table, extra], axis=1)
    label_one = table["label"].to_numpy() == 1
    for order in ORDERS:
        cells = [found.get((pid, order), _ABSENT) for pid in ids]
        judged = np.fromiter((c is not _ABSENT for c in cells), dtype=bool, count=len(cells))
        verdict, failure, p_a = _cell_columns(cells)
        good = np.where(label_one == (order == "ab"), "A", "B")
        bad = np.where(good == "A", "B", "A")
        is_good = (verdict == good).astype(float)
        table[f"judged_{order}"] = judged
        table[f"verdict_{order}"] = verdict
        table[f"correct_{order}"] = np.where(judged, is_good, np.nan)
        table[f"points_{order}"] = np.where(judged, is_good - (verdict == bad), np.nan)
        if has_failure:  # failure classes are optional in a judgments file
            table[f"failure_{order}"] = failure
        if has_p_a:  # P(slot A) under this order, where the judge gave one
            p_a[pd.isna(p_a)] = np.nan
            table[f"p_a_{order}"] = p_a.astype(float)
    rule = getattr(benchmark, "single_order", "seeded")  # PPE: "dataset", the file's order ("ab")
    chosen = np.array([single_order_by_rule(pid, seed, rule) for pid in ids], dtype=object)
    # The seeded order where the pair has it; otherwise the one order that was judged.
    chosen = np.where(
        chosen == "ab", np.where(table["judged_ab"], "ab", "ba"), np.where(table["judged_ba"], "ba", "ab")
    )
    table["single_order"] = chosen
    is_ab = chosen == "ab"
    table["verdict_single"] = np.where(is_ab, table["verdict_ab"], table["verdict_ba"])
    table["correct_single"] = np.where(is_ab, table["correct_ab"], table["correct_ba"])
    points_single = pd.Series(np.where(is_ab, table["points_ab"], table["points_ba"]), index=table.index)
    table["halfcredit_single"] = (points_single + 1) / 2  # 1 correct, 0.5 tie or none, 0 wrong
    both = table["judged_ab"] & table["judged_ba"]
    table["correct_both"] = (table["correct_ab"] * table["correct_ba"]).where(both)
    return table


_ABSENT: Any = (None, None, None)  # the cell of an order that was not judged (told apart by identity)


def _cell_columns(cells: list[tuple[Any, Any, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(verdict, failure, p_a) of each cell as object arrays, None for a missing value (None or NaN)."""
    columns = []
    for i in range(3):
        column = np.fromiter([c[i] for c in cells], dtype=object, count=len(cells))
        column[pd.isna(column)] = None
        columns.append(column)
    return columns[0], columns[1], columns[2]


def _extra_columns(records: list[dict[str, Any]], index: pd.Index) -> pd.DataFrame:
    """``pd.DataFrame(records)``, column by column when every record has the same keys (the usual case)."""
    keys = list(records[0]) if records else []
    if all(list(r) == keys for r in records):
        return pd.DataFrame({k: [r[k] for r in records] for k in keys}, index=index)
    return pd.DataFrame(records, index=index)


def _response_picked(verdict: np.ndarray, order: Order) -> np.ndarray:
    first, second = (1.0, 2.0) if order == "ab" else (2.0, 1.0)
    return np.select([verdict == "A", verdict == "B"], [first, second], np.nan)


def generic_figures(table: pd.DataFrame) -> dict[str, Ratio]:
    """The benchmark-independent figures as ratios over the pair table (computed on its columns'
    arrays: one Series per figure at the end, not one per step)."""
    idx = table.index
    judged = {o: table[f"judged_{o}"].to_numpy(dtype=bool) for o in ORDERS}
    verdict = {o: table[f"verdict_{o}"].to_numpy(dtype=object) for o in ORDERS}
    both = judged["ab"] & judged["ba"]
    pick_ab = _response_picked(verdict["ab"], "ab")
    pick_ba = _response_picked(verdict["ba"], "ba")
    decisive_both = ~np.isnan(pick_ab) & ~np.isnan(pick_ba)
    flip = np.where(both, (decisive_both & (pick_ab != pick_ba)).astype(float), np.nan)

    # Shi et al. (2024): consistent / (consistent + primacy + recency); pairs with a
    # missing verdict are left out, and so is a pair with one tie and one pick.
    v_ab, v_ba = verdict["ab"], verdict["ba"]
    consistent = (decisive_both & (pick_ab == pick_ba)) | ((v_ab == "tie") & (v_ba == "tie"))
    primacy = (v_ab == "A") & (v_ba == "A")
    recency = (v_ab == "B") & (v_ba == "B")
    pc = np.where(both, np.where(consistent, 1.0, np.where(primacy | recency, 0.0, np.nan)), np.nan)
    n_judged = judged["ab"].astype(float) + judged["ba"].astype(float)

    def count(predicate) -> pd.Series:  # judgments (both orders) where predicate(order) holds
        per_order = [(predicate(o) & judged[o]).astype(float) for o in ORDERS]
        return pd.Series(per_order[0] + per_order[1], index=idx)

    def series(values: np.ndarray) -> pd.Series:
        return pd.Series(values, index=idx)

    decisive = count(lambda o: (verdict[o] == "A") | (verdict[o] == "B"))
    figures: dict[str, Ratio] = {
        "acc_ab": Ratio.of(Figure(table["correct_ab"])),
        "acc_ba": Ratio.of(Figure(table["correct_ba"])),
        "acc_consistent": Ratio.of(Figure(table["correct_both"])),
        "acc_single": Ratio.of(Figure(table["correct_single"])),
        "flip_rate": Ratio.of(Figure(series(flip))),
        "position_consistency": Ratio.of(Figure(series(pc))),
        "slot_a_rate": Ratio(count(lambda o: verdict[o] == "A"), decisive),
        "tie_rate": Ratio(count(lambda o: verdict[o] == "tie"), series(n_judged)),
        "parse_failure_rate": Ratio(count(lambda o: pd.isna(verdict[o])), series(n_judged)),
    }
    if "failure_ab" in table.columns:
        failure = {o: table[f"failure_{o}"].to_numpy(dtype=object) for o in ORDERS}
        figures["truncation_rate"] = Ratio(count(lambda o: failure[o] == "truncated"), series(n_judged))
    if "p_a_ab" in table.columns:
        figures.update(probability_figures(table))
    return figures


def probability_figures(table: pd.DataFrame) -> dict[str, Ratio]:
    """Position bias in probability: figures over each order's P(slot A).

    ``mean_p_a``: mean P(slot A) over judgments with a probability, both orders pooled
    (0.5 for a judge with no slot preference). With P1(order) = P(the judge picks
    response_1 | order), i.e. ``p_a`` under "ab" and ``1 - p_a`` under "ba", over pairs
    with a probability in both orders: ``order_shift`` = mean |P1(ab) - P1(ba)| (0 for a
    judge whose preference ignores order, 1 for ``first``), and ``acc_prob_avg`` = share
    of pairs where the mean of P1(ab) and P1(ba) is on the better response's side of 0.5
    (exactly 0.5 counts as wrong, like a tie).
    """
    p_ab, p_ba = table["p_a_ab"], table["p_a_ba"]
    has = {"ab": p_ab.notna(), "ba": p_ba.notna()}
    p1_ab, p1_ba = p_ab, 1.0 - p_ba
    both = has["ab"] & has["ba"]
    shift = (p1_ab - p1_ba).abs().where(both)
    mean_p1 = (p1_ab + p1_ba) / 2
    label_one = table["label"] == 1
    right = ((mean_p1 > 0.5) & label_one) | ((mean_p1 < 0.5) & ~label_one)
    return {
        "mean_p_a": Ratio(p_ab.fillna(0.0) + p_ba.fillna(0.0), has["ab"].astype(float) + has["ba"].astype(float)),
        "order_shift": Ratio.of(Figure(shift)),
        "acc_prob_avg": Ratio.of(Figure(right.astype(float).where(both))),
    }


@dataclass
class _Component:
    figure: str
    group: str
    weight: float


def poisson_weights(n_rows: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_rows) independent Poisson(1) draws as uint8, seeded.

    Drawn by inverse transform: a uniform 32-bit integer against the Poisson(1) CDF scaled
    to 2**32 (exact to 2**-32 in each probability; counts above 12 have probability < 1e-10
    and are not drawn), about 4x faster than ``Generator.poisson`` and an eighth of its memory.
    Every draw is compared with the first thresholds; only the ~2% that pass the fourth are
    compared with the rest.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((n_boot, n_rows), dtype=np.uint8)
    rows = max(1, (16 << 20) // max(1, n_rows))
    thresholds = _poisson_thresholds()
    passed = np.empty((min(rows, n_boot), n_rows), dtype=bool)
    for start in range(0, n_boot, rows):
        u = rng.integers(0, 2**32, size=(min(rows, n_boot - start), n_rows), dtype=np.uint32)
        block, mask = out[start : start + len(u)], passed[: len(u)]
        for threshold in thresholds[:_DENSE_THRESHOLDS]:
            np.greater_equal(u, threshold, out=mask)
            block += mask.view(np.uint8)
        np.greater_equal(u, thresholds[_DENSE_THRESHOLDS], out=mask)
        far = np.flatnonzero(mask)
        far_u = u.reshape(-1)[far]
        more = np.zeros(len(far), dtype=np.uint8)
        for threshold in thresholds[_DENSE_THRESHOLDS:]:
            more += far_u >= threshold
        block.reshape(-1)[far] += more
    return out


_DENSE_THRESHOLDS = 3  # P(X >= 3) for Poisson(1) is 8%, P(X >= 4) 1.9%


@functools.lru_cache(maxsize=1)
def _poisson_thresholds() -> np.ndarray:
    """2**32 * P(X <= k) for Poisson(1), k = 0, 1, ... while below 2**32: X = how many a uniform passes."""
    thresholds, total, term, k = [], 0.0, math.exp(-1.0), 0
    while round((total + term) * 2**32) < 2**32:
        total += term
        thresholds.append(round(total * 2**32))
        k += 1
        term /= k
    return np.array(thresholds, dtype=np.uint64).astype(np.uint32)


def _group_masks(ratio: Ratio, den: np.ndarray) -> dict[str, np.ndarray]:
    """Each group's rows, by group name in sorted order: the groups with a count and those weighted
    (``{"all": every row}`` for an ungrouped ratio). Groups are compared once each, not per row."""
    if ratio.groups is None:
        return {"all": np.ones(len(den), dtype=bool)}
    codes, uniques = pd.factorize(ratio.groups.to_numpy(dtype=object), use_na_sentinel=True)
    counted = set(np.unique(codes[(den > 0) & (codes >= 0)]).tolist())
    names = sorted({str(u) for i, u in enumerate(uniques) if i in counted} | set(ratio.weights or {}))
    return {g: np.isin(codes, [i for i, u in enumerate(uniques) if u == g]) for g in names}


def _evaluate(
    ratios: Mapping[str, Ratio], n_boot: int, seed: int, boot_weights: np.ndarray | None = None
) -> dict[str, dict[str, Any]]:
    """Point estimates, missing groups and bootstrap intervals for each ratio."""
    components: list[_Component] = []
    num_cols: list[np.ndarray] = []
    den_cols: list[np.ndarray] = []
    out: dict[str, dict[str, Any]] = {}
    for name, ratio in ratios.items():
        num = ratio.num.to_numpy(dtype=float)
        den = ratio.den.to_numpy(dtype=float)
        masks = _group_masks(ratio, den)
        weights = dict(ratio.weights) if ratio.weights is not None else {g: 1.0 for g in masks}
        present = [g for g in masks if g in weights and den[masks[g]].sum() > 0]
        missing = sorted(g for g in ratio.required if g not in present)
        total = sum(weights[g] for g in present)
        if not present or total <= 0:
            out[name] = {"value": None, "missing": missing}
            continue
        value = 0.0
        for g in present:
            mask = masks[g]
            value += weights[g] / total * num[mask].sum() / den[mask].sum()
            components.append(_Component(name, g, weights[g]))
            num_cols.append(np.where(mask, num, 0.0))
            den_cols.append(np.where(mask, den, 0.0))
        out[name] = {"value": float(value), "missing": missing}
        one = masks[present[0]]  # one group (no groups: "all"), 0/1 out of 1 per pair: an exact interval
        if len(present) == 1 and (kn := plain_count(num[one], den[one])) is not None:
            out[name]["ci"] = list(clopper_pearson(*kn))
    if not components or n_boot <= 0:
        return out
    # Poisson bootstrap over pairs: resample b gives pair i the weight W[b, i] ~ Poisson(1).
    # Sums are taken in chunks of resamples, so memory stays ~64 MB whatever the run's size.
    if boot_weights is None:
        boot_weights = poisson_weights(len(num_cols[0]), n_boot, seed)
    nums = np.stack(num_cols, axis=1)
    dens = np.stack(den_cols, axis=1)
    chunk = max(1, (8 << 20) // max(1, len(nums)))
    draws = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, len(boot_weights), chunk):
            w = boot_weights[start : start + chunk].astype(np.float64)
            draws.append((w @ nums) / (w @ dens))
    per_comp = np.concatenate(draws, axis=0)  # (n_boot, n_components)
    weight_vec = np.array([c.weight for c in components])
    for name in out:
        cols = [i for i, c in enumerate(components) if c.figure == name]
        if not cols or "ci" in out[name]:
            continue
        vals = per_comp[:, cols]
        w = np.where(np.isnan(vals), 0.0, weight_vec[cols])
        with np.errstate(invalid="ignore", divide="ignore"):
            est = np.nansum(vals * w, axis=1) / w.sum(axis=1)
        est = est[np.isfinite(est)]
        if len(est):
            alpha = (1 - CI_LEVEL) / 2
            lo, hi = np.quantile(est, [alpha, 1 - alpha])
            out[name]["ci"] = [float(lo), float(hi)]
    return out


def compute_figures(
    table: pd.DataFrame,
    benchmark: Benchmark | None = None,
    *,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
    check_required: bool = True,
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    """All figures for one set of pairs: ``{name: value, ..., "ci": {name: [lo, hi]}}``.

    ``weights``: the bootstrap's (n_boot, len(table)) Poisson weights, when the caller shares one
    draw between a table and its parts (a benchmark and its subsets); else drawn from ``seed``.

    A figure with nothing to count (e.g. two-order figures when one order was run)
    is absent. A benchmark figure whose required groups are missing is ``None``,
    with ``<name>_partial`` (the mean over the groups present) and ``missing``.
    """
    ratios: dict[str, Ratio] = dict(generic_figures(table))
    if benchmark is not None and len(table):
        for name, figure in benchmark.figures(table).items():
            ratios[name] = Ratio.of(figure)
    return assemble(table, _evaluate(ratios, n_boot, seed, weights), check_required)


def assemble(
    table: pd.DataFrame, evaluated: Mapping[str, Mapping[str, Any]], check_required: bool = True
) -> dict[str, Any]:
    """``results.json``'s entry for one set of pairs from its evaluated figures (see :func:`compute_figures`)."""
    result: dict[str, Any] = {
        "n_pairs": int(len(table)),
        "n_judgments": int(table["judged_ab"].sum() + table["judged_ba"].sum()) if len(table) else 0,
        "n_both_orders": int((table["judged_ab"] & table["judged_ba"]).sum()) if len(table) else 0,
    }
    ci: dict[str, list[float]] = {}
    missing: set[str] = set()
    for name, ev in evaluated.items():
        if ev["value"] is None:
            continue
        if check_required and ev["missing"]:
            result[name] = None
            result[f"{name}_partial"] = ev["value"]
            missing.update(ev["missing"])
        else:
            result[name] = ev["value"]
        if "ci" in ev:
            ci[name] = ev["ci"]
    if missing:
        result["missing"] = sorted(missing)
    result["ci"] = ci
    return result
