"""Pairwise scores: ``<score_A> n </score_A>`` ``<score_B> n </score_B>``, 0-10 to 0.1 (v1's prompt asks integers,
v3's allows one decimal: both are read).

Prompt: J1 (arXiv 2505.10320), Figure 6, verbatim; placeholders set on their own
lines. The higher score wins, equal scores are a tie. Samples combine by
Mean-Score@N. Reading rules: :mod:`j1eval.formats._parsing`.
"""

from __future__ import annotations

from j1eval.formats import judge_format
from j1eval.formats._parsing import TENTH_STEP, compare, read_score, settle, visible_text
from j1eval.formats.base import Format
from j1eval.formats.pairwise_verdict import pairwise_prompt
from j1eval.types import Order, Pair, Parsed, Prompt

SCORE_A_TAG = r"score[_ ]?a"
SCORE_B_TAG = r"score[_ ]?b"


def read_pair_scores(visible: str) -> tuple[float | None, float | None, str | None]:
    """(score_a, score_b, failure): valid scores are kept even when the other one fails.

    ``score_out_of_range`` on either side wins over a missing score.
    """
    score_a, fail_a = read_score(visible, SCORE_A_TAG, TENTH_STEP)
    score_b, fail_b = read_score(visible, SCORE_B_TAG, TENTH_STEP)
    failures = {fail_a, fail_b} - {None}
    failure = "score_out_of_range" if "score_out_of_range" in failures else (failures.pop() if failures else None)
    return score_a, score_b, failure


@judge_format("pairwise-scores")
class PairwiseScores(Format):
    """One prompt per (pair, order); verdict by comparing the two scores."""

    template_file = "pairwise_scores.txt"
    uses_scores = True

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        return [pairwise_prompt(self.template, pair, order)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        score_a, score_b, failure = read_pair_scores(visible_text(text))
        if failure is not None or score_a is None or score_b is None:
            parsed = Parsed(score_a=score_a, score_b=score_b, failure=failure or "no_verdict")
        else:
            parsed = Parsed(verdict=compare(score_a, score_b), score_a=score_a, score_b=score_b)
        return settle(parsed, finish_reason)
