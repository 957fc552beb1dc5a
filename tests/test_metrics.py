"""Scorer figures against hand-computed expectations, tie and missing-verdict cases included."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from j1eval.benchmarks import Figure
from j1eval.orders import single_order
from j1eval.score.metrics import compute_figures, pair_table
from j1eval.score.samples import aggregate_samples, combine_samples
from j1eval.types import Pair


def make_pairs(labels: dict[str, int], subset: str = "s") -> list[Pair]:
    return [Pair(pid, "t", subset, "q", "r1", "r2", label) for pid, label in labels.items()]


def verdicts(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pair_id", "order", "verdict"])


# Five pairs covering every case:
# p0 label 1: ab A (right), ba B (right)            -> consistent, correct both
# p1 label 2: ab A (wrong), ba A (right)            -> primacy, flip
# p2 label 1: ab tie, ba None                       -> left out of PC; not a flip
# p3 label 2: ab B (right), ba B (wrong)            -> recency, flip
# p4 label 1: ab A (right), ba not judged           -> one order only
LABELS = {"p0": 1, "p1": 2, "p2": 1, "p3": 2, "p4": 1}
ROWS = [
    ("p0", "ab", "A"),
    ("p0", "ba", "B"),
    ("p1", "ab", "A"),
    ("p1", "ba", "A"),
    ("p2", "ab", "tie"),
    ("p2", "ba", None),
    ("p3", "ab", "B"),
    ("p3", "ba", "B"),
    ("p4", "ab", "A"),
]


@pytest.fixture
def figures() -> dict:
    table = pair_table(make_pairs(LABELS), verdicts(ROWS), seed=0)
    return compute_figures(table, n_boot=200, seed=0)


def test_per_order_accuracy(figures):
    assert figures["n_pairs"] == 5
    assert figures["n_judgments"] == 9
    assert figures["n_both_orders"] == 4
    assert figures["acc_ab"] == pytest.approx(3 / 5)  # p0, p3, p4
    assert figures["acc_ba"] == pytest.approx(2 / 4)  # p0, p1 (tie and None are not correct)


def test_consistent_and_flip(figures):
    assert figures["acc_consistent"] == pytest.approx(1 / 4)  # only p0, over pairs with both orders
    assert figures["flip_rate"] == pytest.approx(2 / 4)  # p1 and p3; p2 has no decisive pair of verdicts


def test_position_consistency_shi(figures):
    # consistent p0 / (consistent p0 + primacy p1 + recency p3); p2 (tie + None) left out
    assert figures["position_consistency"] == pytest.approx(1 / 3)


def test_slot_and_failure_rates(figures):
    # decisive verdicts: A, B, A, A, B, B, A -> 4 of 7 pick slot A
    assert figures["slot_a_rate"] == pytest.approx(4 / 7)
    assert figures["tie_rate"] == pytest.approx(1 / 9)
    assert figures["parse_failure_rate"] == pytest.approx(1 / 9)
    assert "truncation_rate" not in figures  # no failure column given


def test_single_order_follows_the_seeded_hash(figures):
    table = pair_table(make_pairs(LABELS), verdicts(ROWS), seed=0)
    expected = []
    for pid in ["p0", "p1", "p2", "p3", "p4"]:
        order = single_order(pid, 0) if pid != "p4" else "ab"  # p4 only has ab
        v = dict(((p, o), v) for p, o, v in ROWS)[(pid, order)]
        good = "A" if (LABELS[pid] == 1) == (order == "ab") else "B"
        expected.append(v == good)
    assert list(table["single_order"][:4]) == [single_order(p, 0) for p in ["p0", "p1", "p2", "p3"]]
    assert figures["acc_single"] == pytest.approx(sum(expected) / 5)


def test_single_order_hash_is_stable_and_balanced():
    assert single_order("abc", 0) == single_order("abc", 0)
    orders = [single_order(f"pair-{i}", 7) for i in range(2000)]
    assert 0.45 < orders.count("ab") / 2000 < 0.55
    assert [single_order(f"pair-{i}", 8) for i in range(50)] != orders[:50]


def test_intervals_are_seeded_and_bracket_the_estimate(figures):
    table = pair_table(make_pairs(LABELS), verdicts(ROWS), seed=0)
    again = compute_figures(table, n_boot=200, seed=0)
    assert again["ci"] == figures["ci"]
    for name, (lo, hi) in figures["ci"].items():
        assert lo <= figures[name] + 1e-12 and figures[name] <= hi + 1e-12, name


def test_two_order_figures_absent_when_one_order_was_run():
    rows = [("p0", "ab", "A"), ("p1", "ab", "B"), ("p2", "ab", None)]
    table = pair_table(make_pairs({"p0": 1, "p1": 1, "p2": 2}), verdicts(rows))
    figs = compute_figures(table, n_boot=50)
    assert figs["acc_ab"] == pytest.approx(1 / 3)
    for name in ("acc_ba", "acc_consistent", "flip_rate", "position_consistency"):
        assert name not in figs and name not in figs["ci"]
    assert figs["acc_single"] == pytest.approx(1 / 3)  # falls back to the one judged order


def test_all_ties_and_failures():
    rows = [("p0", "ab", "tie"), ("p0", "ba", "tie"), ("p1", "ab", None), ("p1", "ba", None)]
    table = pair_table(make_pairs({"p0": 1, "p1": 2}), verdicts(rows))
    figs = compute_figures(table, n_boot=50)
    assert figs["acc_ab"] == 0 and figs["acc_consistent"] == 0
    assert figs["flip_rate"] == 0
    assert figs["position_consistency"] == 1.0  # tie-tie is consistent; p1 left out
    assert "slot_a_rate" not in figs  # no decisive verdict at all
    assert figs["tie_rate"] == 0.5 and figs["parse_failure_rate"] == 0.5


def test_truncation_rate_from_failure_column():
    frame = verdicts([("p0", "ab", None), ("p0", "ba", "A"), ("p1", "ab", None), ("p1", "ba", "B")])
    frame["failure"] = ["truncated", None, "no_verdict", None]
    table = pair_table(make_pairs({"p0": 1, "p1": 1}), frame)
    figs = compute_figures(table, n_boot=0)
    assert figs["truncation_rate"] == pytest.approx(1 / 4)
    assert figs["parse_failure_rate"] == pytest.approx(2 / 4)


class GroupedBench:
    """A stand-in benchmark whose official figure weights two groups 3:1, one required."""

    j1_protocol = "single"

    def pair_columns(self, pair):
        return {"group": pair.subset}

    def figures(self, table):
        return {
            "official": Figure(table["correct_ab"], table["group"], {"g1": 0.75, "g2": 0.25}, frozenset({"g1", "g2"})),
            "j1": Figure(table["correct_ab"]),
        }


def test_weighted_groups_and_missing_required_group():
    pairs = make_pairs({"a0": 1, "a1": 1}, "g1") + make_pairs({"b0": 1, "b1": 1, "b2": 1, "b3": 1}, "g2")
    rows = [("a0", "ab", "A"), ("a1", "ab", "B"), ("b0", "ab", "A"), ("b1", "ab", "B"), ("b2", "ab", "B")]
    rows.append(("b3", "ab", "B"))
    table = pair_table(pairs, verdicts(rows), GroupedBench())
    figs = compute_figures(table, GroupedBench(), n_boot=100)
    assert figs["official"] == pytest.approx(0.75 * 0.5 + 0.25 * 0.25)
    assert figs["j1"] == pytest.approx(2 / 6)
    only_g2 = table[table["group"] == "g2"].reset_index(drop=True)
    figs2 = compute_figures(only_g2, GroupedBench(), n_boot=0)
    assert figs2["official"] is None
    assert figs2["official_partial"] == pytest.approx(0.25)
    assert figs2["missing"] == ["g1"]
    assert compute_figures(only_g2, GroupedBench(), n_boot=0, check_required=False)["official"] == 0.25


def test_self_consistency_majority():
    assert combine_samples(["A", "A", "B"], [None] * 3) == ("A", None)
    assert combine_samples(["A", "B", "tie"], [None] * 3) == ("tie", None)  # A and B level
    assert combine_samples(["tie", "tie"], [None, None]) == ("tie", None)
    assert combine_samples(["B", None, None], [None, "no_verdict", "truncated"]) == ("B", None)
    assert combine_samples([None, None, None], ["truncated", "no_verdict", "truncated"]) == (None, "truncated")


def test_self_consistency_with_every_sample_failed_in_a_frame():
    """Missing verdicts arrive as NaN from a frame: all samples failed is no verdict, never a tie."""
    nan = float("nan")
    assert combine_samples([nan, nan], ["no_verdict", "no_verdict"]) == (None, "no_verdict")
    frame = pd.DataFrame(
        {
            "pair_id": ["p", "p", "q", "q"],
            "order": ["ab"] * 4,
            "sample": [0, 1, 0, 1],
            "verdict": ["A", None, None, None],
            "failure": [None, "no_verdict", "truncated", "truncated"],
            "score_a": [None] * 4,
            "score_b": [None] * 4,
        }
    )  # a string column: pandas 3 stores the missing verdicts as NaN
    rows = aggregate_samples(frame).set_index("pair_id")
    assert rows.loc["p", "verdict"] == "A"
    assert pd.isna(rows.loc["q", "verdict"]) and rows.loc["q", "failure"] == "truncated"


def test_mean_score_at_n():
    # mean A = 6, mean B = 6.5 -> B, although two of three samples favour A
    assert combine_samples(["A", "A", "B"], [None] * 3, [7, 7, 4], [6, 6, 7.5]) == ("B", None)
    assert combine_samples([None], ["no_verdict"], [None], [None]) == (None, "no_verdict")
    assert combine_samples(["tie"], [None], [5.0], [5.0]) == ("tie", None)


def test_aggregate_samples_frame():
    frame = pd.DataFrame(
        {
            "pair_id": ["p"] * 3 + ["q"] * 3,
            "order": ["ab"] * 6,
            "sample": [0, 1, 2] * 2,
            "verdict": ["A", "B", "B", None, None, "A"],
            "failure": [None, None, None, "truncated", "no_verdict", None],
            "score_a": [math.nan] * 6,
            "score_b": [math.nan] * 6,
        }
    )
    out = aggregate_samples(frame).set_index("pair_id")
    assert out.loc["p", "verdict"] == "B" and out.loc["q", "verdict"] == "A"
