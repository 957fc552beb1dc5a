"""SC@N and Mean-Score@N on whole tables (j1eval.score.samples) against the rule written out per group."""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

import pandas as pd
import pytest

from j1eval.score.samples import aggregate_samples, combine_samples


def rule(verdicts, failures, scores_a=None, scores_b=None):
    """The rule, one (pair, order) at a time, as the README states it."""
    if scores_a is not None:
        both = [(a, b) for a, b in zip(scores_a, scores_b, strict=True) if a is not None and b is not None]
        if both:
            sa = sum((Fraction(a) for a, _ in both), Fraction(0))
            sb = sum((Fraction(b) for _, b in both), Fraction(0))
            return ("A" if sa > sb else "B" if sb > sa else "tie"), None
    counts = Counter(v for v in verdicts if v is not None)
    if counts:
        if counts["A"] == counts["B"]:
            return "tie", None
        return ("A" if counts["A"] > counts["B"] else "B"), None
    failed = Counter(f for f in failures if f is not None)
    return None, (failed.most_common(1)[0][0] if failed else "no_verdict")


def random_frame(rng: random.Random, n_pairs: int, n_samples: int) -> pd.DataFrame:
    rows = []
    for i in range(n_pairs):
        for order in ("ab", "ba"):
            for s in range(n_samples):
                verdict = rng.choice(["A", "B", "tie", None, None])
                failure = None if verdict else rng.choice(["no_verdict", "truncated", "backend_error", None])
                score = [rng.choice([None, 0.1, 0.2, 0.3, 1, 7, 7.5]) for _ in range(2)]
                p_a = rng.choice([None, rng.random()])
                rows.append((f"p{i}", order, s, verdict, failure, score[0], score[1], p_a))
    rng.shuffle(rows)
    return pd.DataFrame(rows, columns=["pair_id", "order", "sample", "verdict", "failure", "score_a", "score_b", "p_a"])


@pytest.mark.parametrize("use_scores", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_table_equals_rule_per_group(seed: int, use_scores: bool) -> None:
    rng = random.Random(seed)
    frame = random_frame(rng, 40, rng.choice([2, 3, 4, 5]))
    out = aggregate_samples(frame, use_scores=use_scores)
    seen = list(dict.fromkeys(zip(frame["pair_id"], frame["order"], strict=True)))
    assert list(zip(out["pair_id"], out["order"], strict=True)) == seen  # first-seen order
    for row in out.itertuples():
        group = frame[(frame["pair_id"] == row.pair_id) & (frame["order"] == row.order)]

        def clean(col: str, group: pd.DataFrame = group) -> list:
            return [None if pd.isna(x) else x for x in group[col]]

        expected = rule(
            clean("verdict"), clean("failure"), *((clean("score_a"), clean("score_b")) if use_scores else ())
        )
        got = tuple(None if pd.isna(x) else x for x in (row.verdict, row.failure))
        assert got == expected, (row.pair_id, row.order)
        probs = [p for p in clean("p_a") if p is not None]
        if probs:
            assert row.p_a == pytest.approx(math.fsum(probs) / len(probs), rel=1e-12)
        else:
            assert pd.isna(row.p_a)


def test_exact_tie_of_decimal_means() -> None:
    # 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ in floating point; the means are equal.
    assert combine_samples(["A"] * 3, [None] * 3, [0.1, 0.2, 0.3], [0.3, 0.2, 0.1]) == ("tie", None)
    assert combine_samples(["A"] * 3, [None] * 3, [0.1, 0.2, 0.31], [0.3, 0.2, 0.1]) == ("A", None)


def test_by_hand() -> None:
    assert combine_samples(["A", "B", "A"], [None] * 3) == ("A", None)
    assert combine_samples(["A", "B", "tie"], [None] * 3) == ("tie", None)
    assert combine_samples(["tie", None], [None, "truncated"]) == ("tie", None)
    # Nothing readable: the most common failure, the first seen winning a tie.
    assert combine_samples([None] * 4, ["truncated", "backend_error", "backend_error", "truncated"]) == (
        None,
        "truncated",
    )
    assert combine_samples([None, None], [None, None]) == (None, "no_verdict")
    # Scores on no sample: SC@N decides.
    assert combine_samples(["B", "B"], [None, None], [None, 3], [2, None]) == ("B", None)


def test_one_sample_is_kept_as_stored() -> None:
    frame = pd.DataFrame(
        {
            "pair_id": ["p", "p"],
            "order": ["ab", "ba"],
            "sample": [0, 0],
            "verdict": ["A", None],
            "failure": [None, "truncated"],
            "p_a": [0.7, None],
        }  # fmt: skip
    )
    out = aggregate_samples(frame)
    assert out["verdict"].tolist()[0] == "A" and out["failure"].tolist()[1] == "truncated"


def test_latest_rows_as_latest_records() -> None:
    from j1eval.store.judgments import latest_records
    from j1eval.store.records import latest_rows

    records = [
        {"key": "k1", "v": 1},
        {"v": 2},
        {"key": "k2", "v": 3},
        {"key": "k1", "v": 4},
        {"v": 5},
        {"key": "k2", "v": 6},
        {"key": "k3", "v": 7},
    ]
    expected = [r["v"] for r in latest_records(records)]
    assert latest_rows(pd.DataFrame(records))["v"].tolist() == expected == [4, 2, 6, 5, 7]
