"""k-way figures: one prompt's k responses ranked at once, the correct one moved through every slot.

Items and their rotations (which response each slot shows) are defined in :mod:`j1eval.orders`;
here each judged item becomes a row (``item_table``) and the rows become figures: accuracy per
slot, in all rotations, rotation changes, slot preference against uniform, and probability shift.

Verdicts name a slot letter (``A``-``D``); ``p_a`` is P(slot A), and the four slots'
probabilities, where the judge gave them, travel as ``probs`` ({letter: probability}).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from j1eval.orders import LETTERS, ROTATION_RULE, ROTATIONS, K, kway_items, single_rotation
from j1eval.score.figures import Figure, Ratio
from j1eval.score.metrics import N_BOOTSTRAP, _evaluate, poisson_weights
from j1eval.types import Pair

#: Why the official overall is null for a k-way run.
TIES_REASON = "Ties is scored from one score per response (official rule); a 4-way ranking gives verdicts only"


def _majority(letters: list[Any]) -> Any:
    """SC@N over slot letters: the most frequent decisive letter; a tie between letters, or none, is None."""
    counts: dict[str, int] = {}
    for v in letters:
        if v in LETTERS:
            counts[v] = counts.get(v, 0) + 1
    if not counts:
        return None
    top = max(counts.values())
    best = [v for v, c in counts.items() if c == top]
    return best[0] if len(best) == 1 else None


def item_table(items: Sequence[Pair], judgments: pd.DataFrame) -> pd.DataFrame:
    """One row per judged item: per rotation its verdict, the base response it picks, correctness,
    the official value (1, 0, or 0.25 without a verdict) and P(base response i) where probabilities exist."""
    has_probs = "probs" in judgments.columns
    cells: dict[tuple[str, str], tuple[Any, Any]] = {}
    for (pid, order), part in judgments.groupby(["pair_id", "order"], sort=False):
        probs = part["probs"].iloc[0] if has_probs and len(part) == 1 else None
        cells[(pid, order)] = (_majority(part["verdict"].tolist()), probs if isinstance(probs, dict) else None)
    judged_items = [it for it in items if any((it.pair_id, o) in cells for o in ROTATIONS)]
    table = pd.DataFrame({"item_id": [it.pair_id for it in judged_items], "subset": [it.subset for it in judged_items]})
    for r, order in enumerate(ROTATIONS):
        got = [cells.get((it.pair_id, order)) for it in judged_items]
        judged = np.array([c is not None for c in got], dtype=bool)
        verdict = [c[0] if c is not None else None for c in got]
        slot = np.array([LETTERS.index(v) if v in LETTERS else -1 for v in verdict])
        picked = np.where(slot >= 0, (slot - r) % K, -1)  # base index of the picked response
        table[f"judged_{order}"] = judged
        table[f"verdict_{order}"] = pd.Series(verdict, dtype=object)
        table[f"picked_{order}"] = np.where(judged, picked, -2)  # -1: no verdict, -2: not judged
        table[f"correct_{order}"] = np.where(judged, (picked == 0).astype(float), np.nan)
        table[f"official_{order}"] = np.where(judged, np.where(slot < 0, 0.25, (picked == 0).astype(float)), np.nan)
        for i in range(K):  # P(base response i) under this rotation: the probability of its slot (i + r) % K
            table[f"p{i}_{order}"] = [_prob(c[1], LETTERS[(i + r) % K]) if c is not None else np.nan for c in got]
    return table


def _prob(probs: dict[str, float] | None, letter: str) -> float:
    if not probs:
        return np.nan
    total = sum(float(probs.get(x) or 0.0) for x in LETTERS)
    return float(probs.get(letter) or 0.0) / total if total > 0 else np.nan


def uniformity_test(counts: Sequence[int]) -> dict[str, Any]:
    """Slot counts against a uniform choice: the exact multinomial test (n <= 100; outcomes at most as
    probable as the observed one), else Pearson's chi-square (df = k - 1)."""
    counts = [int(c) for c in counts]
    n, k = sum(counts), len(counts)
    expected = n / k if n else 0.0
    chi2 = sum((c - expected) ** 2 / expected for c in counts) if n else 0.0
    out: dict[str, Any] = {"counts": counts, "n": n, "chi2": chi2, "df": k - 1}
    if n == 0:
        return {**out, "p_value": None, "method": None}
    if n <= 100:
        return {**out, "p_value": _exact_multinomial(counts), "method": "exact multinomial"}
    return {**out, "p_value": _chi2_sf(chi2, k - 1), "method": "chi-square"}


def _log_prob(counts: Sequence[int], n: int, k: int) -> float:
    return math.lgamma(n + 1) - sum(math.lgamma(c + 1) for c in counts) - n * math.log(k)


def _exact_multinomial(counts: Sequence[int]) -> float:
    n, k = sum(counts), len(counts)
    observed = _log_prob(counts, n, k) + 1e-7  # relative tolerance, as for the binomial test
    total = 0.0
    for a in range(n + 1):
        for b in range(n - a + 1):
            for c in range(n - a - b + 1):
                cell = (a, b, c, n - a - b - c)
                lp = _log_prob(cell, n, k)
                if lp <= observed:
                    total += math.exp(lp)
    return min(1.0, total)


def _chi2_sf(x: float, df: int) -> float:
    """P(chi-square with ``df`` = 3 degrees of freedom >= x) in closed form."""
    assert df == 3, "closed form for k = 4 only"
    return math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)


def kway_ratios(table: pd.DataFrame, seed: int, groups_required: Sequence[str], all_groups: Sequence[str]) -> dict:
    """Every k-way figure as a ratio over the item table."""
    idx = table.index
    judged = {o: table[f"judged_{o}"] for o in ROTATIONS}
    all_judged = pd.concat(list(judged.values()), axis=1).all(axis=1)
    n_judged = sum(j.astype(float) for j in judged.values())
    correct = pd.concat([table[f"correct_{o}"] for o in ROTATIONS], axis=1)
    official = pd.concat([table[f"official_{o}"] for o in ROTATIONS], axis=1)
    picks = pd.concat([table[f"picked_{o}"] for o in ROTATIONS], axis=1)
    single = [single_rotation(i, seed) for i in table["item_id"]]
    official_single = pd.Series([table.at[i, f"official_{o}"] for i, o in zip(idx, single, strict=True)], index=idx)
    changed = (picks.nunique(axis=1) > 1).astype(float).where(all_judged)
    groups = table["subset"]
    five = {g: 1.0 for g in groups_required}
    six = {g: 1.0 for g in all_groups}
    ratios: dict[str, Ratio] = {
        f"acc_slot_{LETTERS[r].lower()}": Ratio.of(Figure(correct.iloc[:, r])) for r in range(K)
    }
    all_rot = correct.prod(axis=1, min_count=K).where(all_judged)
    ratios["acc_all_rotations"] = Ratio.of(Figure(all_rot))
    ratios["acc_mean"] = Ratio(correct.fillna(0.0).sum(axis=1), n_judged)
    ratios["rotation_change_rate"] = Ratio.of(Figure(changed))
    ratios["best_of_4"] = Ratio.of(Figure(official_single, groups, five, frozenset(groups_required)))
    mean_official = official.mean(axis=1).where(all_judged)
    ratios["best_of_4_all_rotations"] = Ratio.of(Figure(mean_official, groups, five, frozenset(groups_required)))
    ratios["j1"] = Ratio.of(Figure(all_rot, groups, five, frozenset(groups_required)))
    ratios["official"] = Ratio.of(Figure(official_single, groups, six, frozenset(all_groups)))
    verdicts = pd.concat([table[f"verdict_{o}"] for o in ROTATIONS], axis=1)
    decisive = verdicts.isin(LETTERS).sum(axis=1).astype(float)
    for letter in LETTERS:
        ratios[f"slot_rate_{letter.lower()}"] = Ratio((verdicts == letter).sum(axis=1).astype(float), decisive)
    parse = sum((table[f"verdict_{o}"].isna() & judged[o]).astype(float) for o in ROTATIONS)
    ratios["parse_failure_rate"] = Ratio(parse, n_judged)
    probs = {(i, o): table[f"p{i}_{o}"] for i in range(K) for o in ROTATIONS}
    with_probs = pd.concat([probs[(0, o)].notna() for o in ROTATIONS], axis=1).all(axis=1)
    if with_probs.any():
        tv = pd.Series(0.0, index=idx)
        pairs_of_rotations = [(a, b) for a in range(K) for b in range(a + 1, K)]
        for a, b in pairs_of_rotations:
            tv += 0.5 * sum((probs[(i, ROTATIONS[a])] - probs[(i, ROTATIONS[b])]).abs() for i in range(K))
        ratios["tv_shift"] = Ratio.of(Figure((tv / len(pairs_of_rotations)).where(with_probs)))
        mean_p = [sum(probs[(i, o)] for o in ROTATIONS) / K for i in range(K)]
        others = pd.concat(mean_p[1:], axis=1).max(axis=1)
        ratios["acc_prob_avg"] = Ratio.of(Figure((mean_p[0] > others).astype(float).where(with_probs)))
        for s, letter in enumerate(LETTERS):  # P(slot s) = P(base response (s - r) mod K) under rotation r
            p_slot = sum(probs[((s - r) % K, o)].fillna(0.0) for r, o in enumerate(ROTATIONS))
            n_with = sum(probs[(0, o)].notna().astype(float) for o in ROTATIONS)
            ratios[f"mean_p_slot_{letter.lower()}"] = Ratio(p_slot, n_with)
    return ratios


def kway_figures(table: pd.DataFrame, ratios: dict[str, Ratio], evaluated: dict[str, dict[str, Any]]) -> dict:
    """``results.json``'s entry for one set of items: figures, intervals, slot counts and their test."""
    result: dict[str, Any] = {
        "n_items": int(len(table)),
        "n_judgments": int(sum(table[f"judged_{o}"].sum() for o in ROTATIONS)),
        "n_all_rotations": int(pd.concat([table[f"judged_{o}"] for o in ROTATIONS], axis=1).all(axis=1).sum()),
    }
    ci: dict[str, list[float]] = {}
    missing: set[str] = set()
    for name, ev in evaluated.items():
        if ev["value"] is None:
            continue
        if ev["missing"] and ratios[name].required:
            result[name], result[f"{name}_partial"] = None, ev["value"]
            missing.update(ev["missing"])
        else:
            result[name] = ev["value"]
        if "ci" in ev:
            ci[name] = ev["ci"]
    verdicts = pd.concat([table[f"verdict_{o}"] for o in ROTATIONS], axis=1)
    result["slot_preference"] = uniformity_test([int((verdicts == x).sum().sum()) for x in LETTERS])
    if missing:
        result["missing"] = sorted(missing)
    result["ci"] = ci
    return result


def item_rows(bench: str, items: Sequence[Pair], table: pd.DataFrame) -> pd.DataFrame:
    """A benchmark's rows of ``items.parquet`` (:mod:`j1eval.store.pairs_file`): its name, the item table, and
    ``base_0``-``base_3``, the item's seeded base order (indices into [chosen, *rejected])."""
    order = {it.pair_id: it.meta["base_order"] for it in items}
    rows = table.copy()
    rows.insert(0, "bench", pd.array([bench] * len(rows), dtype=object))
    for i in range(K):
        rows[f"base_{i}"] = pd.array([int(order[pid][i]) for pid in rows["item_id"]], dtype="int64")
    return rows


def score_kway(
    benchmark: Any,
    pairs: Sequence[Pair],
    judgments: pd.DataFrame,
    *,
    seed: int = 0,
    n_boot: int = N_BOOTSTRAP,
    rows: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    """``{"overall", "subsets", "protocol": "k-way", ...}`` for a k-way run of a best-of-k benchmark;
    ``rows[benchmark.name]``, when ``rows`` is given: the per-item table behind it (:func:`item_rows`)."""
    items = kway_items(pairs, seed)
    table = item_table(items, judgments)
    if rows is not None:
        rows[benchmark.name] = item_rows(benchmark.name, items, table)
    required = [s for s in getattr(benchmark, "BEST_OF_K_SUBSETS", ()) or sorted(set(table["subset"]))]
    every = [*required, *getattr(benchmark, "OTHER_SUBSETS", ())]
    weights = poisson_weights(len(table), n_boot, seed) if n_boot > 0 and len(table) else None

    def entry(part: pd.DataFrame, w: np.ndarray | None, overall: bool) -> dict[str, Any]:
        ratios = kway_ratios(part, seed, required, every)
        if not overall:
            ratios = {n: Ratio(r.num, r.den, r.groups, r.weights, frozenset()) for n, r in ratios.items()}
        return kway_figures(part, ratios, _evaluate(ratios, n_boot, seed, w))

    overall = entry(table, weights, True)
    if overall.get("official") is None and overall.get("missing") == list(every[len(required) :]):
        del overall["missing"]  # the data is there: a ranking gives no scores for it
        overall["official_reason"] = TIES_REASON
    subsets = {
        name: entry(table.iloc[rows].reset_index(drop=True), None if weights is None else weights[:, rows], False)
        for name, rows in sorted(table.groupby("subset", sort=True).indices.items())
    }
    for sub in subsets.values():  # a subset's "official" is its best-of-4 value
        sub.pop("official", None)
        sub["ci"].pop("official", None)
    slot_tests = {"overall": overall.pop("slot_preference"), "subsets": {}}
    for name, sub in subsets.items():
        slot_tests["subsets"][name] = sub.pop("slot_preference")
    out = {"overall": overall, "subsets": subsets, "protocol": "k-way", "k": K, "rotation_rule": ROTATION_RULE}
    out["slot_preference"] = slot_tests
    # The seeded base sequence of each judged item (indices into [chosen, *rejected]): rotation r shows
    # base[(s - r) % 4] in slot s, so every slot assignment can be rebuilt from this file alone.
    judged = set(table["item_id"])
    out["base_orders"] = {it.pair_id: it.meta["base_order"] for it in items if it.pair_id in judged}
    reasons = {k.removesuffix("_reason"): overall.pop(k) for k in [k for k in overall if k.endswith("_reason")]}
    if reasons:
        out["reasons"] = reasons
    return out
