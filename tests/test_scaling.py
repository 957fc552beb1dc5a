"""Test-time scaling (j1eval.score.scaling): SC@k and Mean-Score@k recomputed by hand on small tables."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from j1eval.benchmarks.base import Benchmark
from j1eval.orders import single_order
from j1eval.score.samples import aggregate_samples
from j1eval.score.scaling import (
    ScalingPoint,
    choose_subsets,
    default_ks,
    scaling_curve,
    scaling_frame,
    subset_verdicts,
)
from j1eval.types import Pair


def _pair(pair_id: str, label: int) -> Pair:
    return Pair(pair_id, "toy", "all", "q", "r1", "r2", label)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows (pair_id, order, sample, verdict[, score_a, score_b, p_a]) as a judgments frame."""
    out = []
    for r in rows:
        pair_id, order, sample, verdict = r[:4]
        score_a, score_b, p_a = (list(r[4:]) + [None, None, None])[:3]
        out.append(
            {
                "pair_id": pair_id,
                "order": order,
                "sample": sample,
                "verdict": verdict,
                "failure": "no_verdict" if verdict is None else None,
                "score_a": score_a,
                "score_b": score_b,
                "p_a": p_a,
            }
        )
    return pd.DataFrame(out)


# p1: response 1 better (right slot: A under ab, B under ba); p2: response 2 better (B under ab, A under ba).
VERDICTS = {
    ("p1", "ab"): ["A", "A", "B", "tie"],  # right: 1 1 0 0
    ("p1", "ba"): ["B", "A", "B", "B"],  # right: 1 0 1 1
    ("p2", "ab"): ["B", "B", "B", "A"],  # right: 1 1 1 0
    ("p2", "ba"): [None, "A", "B", "A"],  # right: 0 1 0 1 (sample 0 gave no verdict)
}
PAIRS = [_pair("p1", 1), _pair("p2", 2)]


def _sc_frame() -> pd.DataFrame:
    return _frame([(p, o, s, v) for (p, o), vs in VERDICTS.items() for s, v in enumerate(vs)])


def test_sc_at_k_by_hand() -> None:
    points = {p.k: p for p in scaling_curve(_sc_frame(), PAIRS)}
    assert sorted(points) == [1, 2, 4]
    assert [(p.n_subsets, p.exhaustive) for p in points.values()] == [(4, True), (6, True), (1, True)]

    # k=1: each sample on its own. acc_ab per sample 1, 1, .5, 0; acc_ba .5, .5, .5, 1;
    # consistent: s0 p1 only (.5), s1 p2 only (.5), s2 none, s3 none.
    assert points[1].mean["acc_ab"] == pytest.approx(2.5 / 4)
    assert points[1].mean["acc_ba"] == pytest.approx(2.5 / 4)
    assert points[1].mean["acc_consistent"] == pytest.approx(1 / 4)

    # k=2, majority of two, level A/B is a tie, a tie or a missing verdict does not count as a vote:
    #            {0,1} {0,2} {0,3} {1,2} {1,3} {2,3}
    # p1 ab      A+    tie   A+    tie   A+    B
    # p1 ba      tie   B+    B+    tie   tie   B+
    # p2 ab      B+    B+    tie   B+    tie   tie
    # p2 ba      A+    B     A+    tie   A+    tie
    # acc_ab     1     .5    .5    .5    .5    0     -> 3/6
    # acc_ba     .5    .5    1     0     .5    .5    -> 3/6
    # consistent .5    0     .5    0     0     0     -> 1/6
    assert points[2].mean["acc_ab"] == pytest.approx(3 / 6)
    assert points[2].mean["acc_ba"] == pytest.approx(3 / 6)
    assert points[2].mean["acc_consistent"] == pytest.approx(1 / 6)
    assert points[2].mean["tie_rate"] == pytest.approx(10 / 24)  # 10 ties among 6 x 4 verdicts

    # k=4: A 2-1 (tie ignored), B 3-1, B 3-1, A 2-1 (None ignored): all right.
    assert points[4].mean == pytest.approx(
        {k: v for k, v in points[4].mean.items()} | {"acc_ab": 1.0, "acc_ba": 1.0, "acc_consistent": 1.0}
    )
    assert points[4].std["acc_ab"] == 0.0
    assert points[4].mean["flip_rate"] == 0.0

    # J1's single order: the run seed's order per pair, averaged like the rest.
    right = {(p, o): [int(v == good) for v in VERDICTS[(p, o)]] for (p, o), good in _GOOD.items()}
    orders = {p: single_order(p, 0) for p in ("p1", "p2")}
    k1_single = sum(right[(p, orders[p])][s] for p in orders for s in range(4)) / 8
    assert points[1].mean["acc_single"] == pytest.approx(k1_single)


_GOOD = {("p1", "ab"): "A", ("p1", "ba"): "B", ("p2", "ab"): "B", ("p2", "ba"): "A"}


def test_mean_score_at_k_by_hand() -> None:
    # One pair, order ab, response 1 (slot A) better; scores per sample (A, B): 7-5, 4-6, 6-6.
    # The verdict column says B every time: with scores, Mean-Score decides, not the verdicts.
    frame = _frame([("p1", "ab", 0, "B", 7, 5), ("p1", "ab", 1, "B", 4, 6), ("p1", "ab", 2, "B", 6, 6)])
    points = {p.k: p for p in scaling_curve(frame, [_pair("p1", 1)], use_scores=True)}
    assert sorted(points) == [1, 2, 3]
    # k=1: A, B, tie -> 1/3.  k=2: {0,1} 11-11 tie, {0,2} 13-11 A, {1,2} 10-12 B -> 1/3.  k=3: 17-17 tie -> 0.
    assert points[1].mean["acc_ab"] == pytest.approx(1 / 3)
    assert points[2].mean["acc_ab"] == pytest.approx(1 / 3)
    assert points[3].mean["acc_ab"] == 0.0
    assert points[3].mean["tie_rate"] == 1.0
    # Without use_scores the same samples are SC@k over the verdicts: always B, always wrong.
    assert all(p.mean["acc_ab"] == 0.0 for p in scaling_curve(frame, [_pair("p1", 1)]))


def test_subset_verdicts_match_aggregate_samples() -> None:
    """The per-subset verdicts are the project's aggregate_samples on that subset of rows."""
    rng = random.Random(7)
    rows = []
    for i in range(40):
        for order in ("ab", "ba"):
            for s in range(5):
                verdict = rng.choice(["A", "B", "tie", None])
                scores = (rng.choice([None, 3, 5.5, 7]), rng.choice([None, 3, 5.5, 7]))
                rows.append((f"p{i}", order, s, verdict, *scores, rng.choice([None, rng.random()])))
    frame = _frame(rows)
    for use_scores in (False, True):
        # Not (0,) with scores: aggregate_samples returns the stored verdicts of a frame whose only
        # sample id is 0 without applying Mean-Score (a run's stored verdict of a score format
        # already comes from its scores); these random verdicts disagree with their scores.
        for subset in [(0,), (3,), (1, 4), (0, 2, 3), (0, 1, 2, 3, 4)][use_scores:]:
            got = subset_verdicts(frame, subset, use_scores)
            want = aggregate_samples(frame[frame["sample"].isin(subset)].reset_index(drop=True), use_scores=use_scores)
            key = ["pair_id", "order"]
            got = got.sort_values(key).reset_index(drop=True)
            want = want.sort_values(key).reset_index(drop=True)
            assert (
                got[key + ["verdict", "failure"]]
                .astype(object)
                .equals(want[key + ["verdict", "failure"]].astype(object))
            ), (use_scores, subset)
            for a, b in zip(got["p_a"], want["p_a"], strict=True):
                assert pd.isna(a) == pd.isna(b)
                if not pd.isna(a):
                    assert a == pytest.approx(b, abs=1e-15)


def test_benchmark_j1_figure_and_frame() -> None:
    class Consistent(Benchmark):
        name = "toy"
        j1_protocol = "consistent"

    points = scaling_curve(_sc_frame(), PAIRS, Consistent())
    for p in points:
        assert p.mean["j1"] == pytest.approx(p.mean["acc_consistent"])
        assert p.mean["official"] == pytest.approx(p.mean["acc_consistent"])
    frame = scaling_frame(points)
    assert list(frame.columns) == ["k", "figure", "mean", "std", "n_subsets", "exhaustive"]
    row = frame[(frame["k"] == 2) & (frame["figure"] == "acc_consistent")].iloc[0]
    assert row["mean"] == pytest.approx(1 / 6) and row["n_subsets"] == 6


def test_seeded_random_subsets() -> None:
    ids = list(range(32))
    subsets, exhaustive = choose_subsets(ids, 4, 16, seed=3)
    assert not exhaustive and len(subsets) == 16 and len(set(subsets)) == 16
    assert all(len(s) == 4 and list(s) == sorted(s) for s in subsets)
    assert choose_subsets(ids, 4, 16, seed=3) == (subsets, False)
    assert choose_subsets(ids, 4, 16, seed=4)[0] != subsets
    assert choose_subsets(ids, 32, 16) == ((tuple(ids),), True)
    assert choose_subsets([0, 1, 2], 2, 16) == (((0, 1), (0, 2), (1, 2)), True)
    with pytest.raises(ValueError, match="k must be"):
        choose_subsets(ids, 33, 16)
    assert default_ks(32) == [1, 2, 4, 8, 16, 32]
    assert default_ks(6) == [1, 2, 4, 6]
    assert default_ks(1) == [1]
    # a curve with random subsets is reproducible
    frame = _frame(
        [(p, o, s, random.Random(s).choice("AB")) for p in ("p1", "p2") for o in ("ab", "ba") for s in range(8)]
    )
    a = scaling_curve(frame, PAIRS, ks=[2, 4], n_subsets=5, subset_seed=1)
    b = scaling_curve(frame, PAIRS, ks=[2, 4], n_subsets=5, subset_seed=1)
    assert a == b and all(isinstance(p, ScalingPoint) and p.n_subsets == 5 for p in a)
