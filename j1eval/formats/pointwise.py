"""Pointwise: one response at a time, ``<score> x </score>``, 0-10 in steps of 0.1.

Prompt: J1 (arXiv 2505.10320), Figure 8, verbatim; placeholders set on their own
lines. ``prompts`` returns two prompts: part 0 shows slot A's response under the
order, part 1 slot B's. ``parse`` reads one part: ``Parsed.score`` on success
(verdict None, failure None), else a failure. ``combine`` decides the pair by the
higher score. Samples combine by Mean-Score@N. Decoding: sampled by default (temperature 1.0,
top-p 0.95, seeded), as J1 samples its pointwise judge; see :attr:`Pointwise.default_sampling`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from j1eval.formats import judge_format
from j1eval.formats._parsing import TENTH_STEP, compare, read_score, render, settle, visible_text
from j1eval.formats.base import Format
from j1eval.types import FAILURE_CLASSES, Order, Pair, Parsed, Prompt

#: Which failure names a pointwise judgment whose two parts failed differently.
_FAILURE_RANK = {
    name: rank
    for rank, name in enumerate(["backend_error", "truncated", "score_out_of_range", "both_verdicts", "no_verdict"])
}
assert set(_FAILURE_RANK) == set(FAILURE_CLASSES)


@judge_format("pointwise")
class Pointwise(Format):
    """Two prompts per (pair, order), one per slot; verdict by the higher score."""

    template_file = "pointwise.txt"
    pointwise = True
    uses_scores = True
    #: J1 samples pointwise judgments ("top-p sampling with temperature of 1": greedy pointwise scores tie
    #: often; v3 gives top-p 0.95), seeded by the run's seed. ``--temperature 0`` asks for greedy.
    default_sampling: ClassVar[dict[str, float]] = {"temperature": 1.0, "top_p": 0.95}

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        return [Prompt.user(render(self.template, instruction=pair.prompt, response=r)) for r in pair.slots(order)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        score, failure = read_score(visible_text(text), "score", TENTH_STEP)
        return settle(Parsed(score=score, failure=failure), finish_reason)

    def combine(self, parts: Sequence[Parsed]) -> Parsed:
        """(slot A's part, slot B's part) -> one judgment.

        When a part failed, the judgment's failure is the parts' failure that ranks first in
        ``_FAILURE_RANK`` (backend error, then truncation, then the rest), so the same two
        generations get the same failure class in both answer orders.
        """
        if len(parts) != 2:
            raise ValueError(f"pointwise combine needs 2 parts (slot A, slot B), got {len(parts)}")
        part_a, part_b = parts
        failed = [p.failure for p in parts if p.failure is not None]
        failure = min(failed, key=_FAILURE_RANK.__getitem__) if failed else None
        if failure is not None or part_a.score is None or part_b.score is None:
            return Parsed(score_a=part_a.score, score_b=part_b.score, failure=failure or "no_verdict")
        return Parsed(verdict=compare(part_a.score, part_b.score), score_a=part_a.score, score_b=part_b.score)
