"""Scores and verdict: ``<score_A>``, ``<score_B>`` (0-10 to 0.1), then ``<answer> [[A]] </answer>``.

Prompt: J1 (arXiv 2505.10320), Figure 7, verbatim; placeholders set on their own
lines. The verdict decides; the scores are kept in :class:`Parsed` for reference
(an unreadable or out-of-range score is None and causes no failure). Samples
combine by SC@N on the verdicts.
"""

from __future__ import annotations

from j1eval.formats import judge_format
from j1eval.formats._parsing import find_verdict, settle, visible_text
from j1eval.formats.base import Format
from j1eval.formats.pairwise_scores import read_pair_scores
from j1eval.formats.pairwise_verdict import pairwise_prompt
from j1eval.types import Order, Pair, Parsed, Prompt


@judge_format("scores-verdict")
class ScoresVerdict(Format):
    """One prompt per (pair, order); the answer block decides, scores ride along."""

    template_file = "scores_verdict.txt"

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        return [pairwise_prompt(self.template, pair, order)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        visible = visible_text(text)
        verdict, failure = find_verdict(visible)
        score_a, score_b, _ = read_pair_scores(visible)
        return settle(Parsed(verdict=verdict, score_a=score_a, score_b=score_b, failure=failure), finish_reason)
