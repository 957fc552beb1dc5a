"""The bootstrap's Poisson(1) weights, and one draw shared by a benchmark and its subsets."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from j1eval.benchmarks import get_benchmark
from j1eval.score.bench import score_bench
from j1eval.score.metrics import compute_figures, pair_table, poisson_weights
from j1eval.types import Pair


def test_weights_are_poisson_one() -> None:
    w = poisson_weights(200_000, 20, seed=3)
    assert w.shape == (20, 200_000) and w.dtype == np.uint8
    n = w.size
    for k in range(6):  # frequencies within 5 standard errors of the Poisson(1) probabilities
        p = math.exp(-1) / math.factorial(k)
        assert abs((w == k).sum() / n - p) < 5 * math.sqrt(p * (1 - p) / n), k
    assert w.mean() == pytest.approx(1.0, abs=0.002) and w.var() == pytest.approx(1.0, abs=0.005)
    assert np.array_equal(w, poisson_weights(200_000, 20, seed=3))
    assert not np.array_equal(w, poisson_weights(200_000, 20, seed=4))


def _pairs(n: int) -> tuple[list[Pair], pd.DataFrame]:
    rng = np.random.default_rng(0)
    pairs = [Pair(f"p{i}", "pairs", f"s{i % 3}", "q", "a", "b", 1 + i % 2) for i in range(n)]
    rows = []
    for p in pairs:
        for order in ("ab", "ba"):
            rows.append({"pair_id": p.pair_id, "order": order, "sample": 0, "verdict": rng.choice(["A", "B"]),
                         "failure": None, "p_a": float(rng.random())})  # fmt: skip
    return pairs, pd.DataFrame(rows)


def test_subsets_use_the_benchmarks_draw_restricted_to_them() -> None:
    bench = get_benchmark("pairs")
    pairs, frame = _pairs(300)
    results = score_bench(bench, pairs, frame, seed=5, n_boot=200)
    table = pair_table(pairs, frame, bench, seed=5)
    weights = poisson_weights(len(table), 200, 5)
    rows = table.groupby("subset", sort=True).indices["s1"]
    alone = compute_figures(table.iloc[rows].reset_index(drop=True), bench, n_boot=200, seed=5,
                            check_required=False, weights=weights[:, rows])  # fmt: skip
    assert results["subsets"]["s1"]["ci"] == alone["ci"]
    overall = results["overall"]
    for name, (lo, hi) in overall["ci"].items():
        assert lo <= overall[name] <= hi, name
    # a plain share by hand: consistent accuracy over 300 pairs
    by_hand = np.mean([v for v in table["correct_both"] if not math.isnan(v)])
    assert overall["acc_consistent"] == pytest.approx(by_hand)
