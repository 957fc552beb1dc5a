"""J1's rewards on hand-made completions: verdicts, no verdict, truncation, ties, scores, pointwise, prefill."""

from __future__ import annotations

from collections import defaultdict

import pytest

from j1eval.formats import FORMATS
from j1train.rewards import consistency_reward, format_reward, mean_consistency_reward, verdict_reward

A = "<think>slot A is right</think> <answer> [[A]] </answer>"
B = "<think>slot B is right</think> <answer> [[B]] </answer>"


def rows(fmt: str, orders: list[str], label: int = 1, parts: list[int] | None = None, limit: int = 64) -> dict:
    """Reward kwargs for one pair: one entry per completion."""
    n = len(orders)
    return {
        "pair_id": ["p"] * n,
        "order": orders,
        "part": parts or [0] * n,
        "label": [label] * n,
        "judge_format": [fmt] * n,
        "max_completion_length": [limit] * n,
        "completion_ids": [[1, 2, 3]] * n,
    }


def test_verdict_and_index_consistency() -> None:
    # label 1: response 1 is better -> slot A under "ab", slot B under "ba"
    kw = rows("pairwise-verdict", ["ab", "ab", "ba", "ba"])
    completions = [A, "I cannot decide.", B, A]
    assert verdict_reward([], completions, **kw) == [1.0, 0.0, 1.0, 0.0]
    # rollout k of ab is matched with rollout k of ba
    assert consistency_reward([], completions, **kw) == [1.0, 0.0, 1.0, 0.0]
    assert consistency_reward([], [A, A, A, B], **kw) == [0.0, 1.0, 0.0, 1.0]


def test_mean_consistency_uses_share_of_other_order() -> None:
    kw = rows("pairwise-verdict", ["ab", "ab", "ba", "ba"])
    assert mean_consistency_reward([], [A, "no", B, A], **kw) == [0.5, 0.0, 0.5, 0.0]
    assert consistency_reward([], [A, A, B, B], **kw, consistency_match="mean") == [1.0] * 4


def test_label_two_and_conversational_completions() -> None:
    kw = rows("pairwise-verdict", ["ab", "ba"], label=2)
    completions = [[{"role": "assistant", "content": B}], [{"role": "assistant", "content": A}]]
    assert verdict_reward([], completions, **kw) == [1.0, 1.0]
    assert consistency_reward([], completions, **kw) == [1.0, 1.0]


def test_ties_no_verdict_and_both_verdicts_score_zero() -> None:
    kw = rows("pairwise-verdict", ["ab", "ba", "ab", "ba"])
    kw["pair_id"] = ["t", "t", "u", "u"]
    completions = ["<answer> [[C]] </answer>", "<answer> tie </answer>", "", "<answer> A and B </answer>"]
    assert verdict_reward([], completions, **kw) == [0.0] * 4
    assert consistency_reward([], completions, **kw) == [0.0] * 4


def test_truncation() -> None:
    kw = rows("pairwise-verdict", ["ab", "ba", "ab", "ba"], limit=3)
    kw["pair_id"] = ["t", "t", "u", "u"]
    kw["completion_ids"] = [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1]]
    seen: dict[str, list] = {}
    metrics: dict[str, list[float]] = defaultdict(list)
    completions = ["<think>still thinking", A.replace("[[A]]", "[[B]]"), A, B]
    out = verdict_reward(
        [],
        completions,
        **kw,
        log_extra=lambda k, v: seen.__setitem__(k, v),
        log_metric=lambda k, v: metrics[k].append(v),
    )
    # a truncated output without a verdict scores 0; one whose verdict was complete before the limit counts
    assert out == [0.0, 1.0, 1.0, 1.0]
    assert seen["failure"] == ["truncated", "None", "None", "None"]
    assert metrics["j1/truncation_rate"] == [0.25]
    assert metrics["j1/parse_failure_rate"] == [0.25]
    assert metrics["j1/verdict_accuracy"] == [0.75]
    assert metrics["j1/consistent_correct"] == [0.5]  # pair u correct in both orders, pair t not


def test_pairwise_scores_agree_with_gold_and_ties() -> None:
    kw = rows("pairwise-scores", ["ab", "ba", "ab", "ba"])
    kw["pair_id"] = ["s", "s", "t", "t"]
    completions = [
        "<score_A> 8 </score_A> <score_B> 3 </score_B>",
        "<score_A> 2 </score_A> <score_B> 9 </score_B>",
        "<score_A> 5 </score_A> <score_B> 5 </score_B>",  # tie
        "<score_A> 11 </score_A> <score_B> 2 </score_B>",  # out of range
    ]
    assert verdict_reward([], completions, **kw) == [1.0, 1.0, 0.0, 0.0]
    assert consistency_reward([], completions, **kw) == [1.0, 1.0, 0.0, 0.0]


def test_scores_verdict_uses_the_verdict_only() -> None:
    kw = rows("scores-verdict", ["ab", "ba"])
    disagree = "<score_A> 1 </score_A> <score_B> 9 </score_B> <answer> [[A]] </answer>"
    assert verdict_reward([], [disagree, "<score_A> 1 </score_A>"], **kw) == [1.0, 0.0]


def test_pointwise_two_responses_in_one_batch() -> None:
    kw = rows("pointwise", ["ab"] * 4, parts=[0, 0, 1, 1])
    completions = [
        "<score> 8 </score>",  # rollout 0 of response 1
        "no score",  # rollout 1 of response 1
        "<score> 3.5 </score>",  # rollout 0 of response 2
        "<score> 2 </score>",  # rollout 1 of response 2
    ]
    assert verdict_reward([], completions, **kw) == [1.0, 0.0, 1.0, 0.0]
    tie = ["<score> 4 </score>", "<score> 9 </score>", "<score> 4 </score>", "<score> 9.5 </score>"]
    assert verdict_reward([], tie, **kw) == [0.0, 0.0, 0.0, 0.0]


def test_missing_partner_is_an_error_not_a_zero() -> None:
    with pytest.raises(ValueError, match="order ba is not in this batch"):
        consistency_reward([], [A], **rows("pairwise-verdict", ["ab"]))
    with pytest.raises(ValueError, match="pointwise"):
        verdict_reward([], ["<score> 3 </score>"], **rows("pointwise", ["ab"], parts=[0]))


def test_missing_column_is_named() -> None:
    with pytest.raises(ValueError, match="judge_format"):
        verdict_reward([], [A], pair_id=["p"], order=["ab"], label=[1])


def test_format_reward() -> None:
    good = "<think>compare them</think> <answer> [[A]] </answer>"
    assert format_reward([], [good, "<answer> [[A]] </answer>", "<think>never closed"]) == [1.0, 0.0, 0.0]


@pytest.mark.skipif("direct-verdict" not in FORMATS.names(), reason="direct-verdict format not in j1eval yet")
def test_direct_verdict_reads_the_prefill_continuation() -> None:
    kw = rows("direct-verdict", ["ab", "ba"])
    assert verdict_reward([], ["A]] </answer>", "B]] </answer>"], **kw) == [1.0, 1.0]
    assert verdict_reward([], ["B]] </answer>", "?"], **kw) == [0.0, 0.0]
