"""Reward model: each response scored alone by a scalar reward model (``--judge rm:PATH_OR_ID``).

``prompts`` gives two conversations per (pair, order), slot A's then slot B's: the user's
prompt and the response as the assistant's turn, which the ``rm`` backend renders with the
model's own chat template and scores. The conversation of a response is the same in both
orders, so each response is scored once and both orders read the same two numbers: the
judge is order-blind by construction (flip rate 0, order shift 0).

The backend answers each conversation with its score as text (``repr`` of a float, kept as
the judgment's ``raw``). ``combine`` gives the verdict from the two scores (the higher wins,
equal scores are a tie, compared exactly), keeps them as the judgment's ``scores``, and sets
``p_a`` = sigmoid(score_A - score_B), the Bradley-Terry probability that slot A is preferred.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from j1eval.formats import judge_format
from j1eval.formats._parsing import compare
from j1eval.formats.base import Format
from j1eval.types import Order, Pair, Parsed, Prompt

#: What the reward model is shown (there is no judge prompt: this text only names the layout,
#: and its hash is the format's ``template_hash``).
LAYOUT = (
    "reward-model v1: [user: {instruction}] [assistant: {response}] through the model's chat template; "
    "score = the classification head's single logit"
)

#: Which failure names a judgment whose two parts failed differently (fixed, so both orders agree).
_RANK = ["backend_error", "truncated", "score_out_of_range", "no_verdict"]


def bradley_terry(score_a: float, score_b: float) -> float:
    """sigmoid(score_a - score_b), computed so that swapping the scores gives exactly 1 - p."""
    diff = score_a - score_b
    if diff >= 0:
        return 1.0 / (1.0 + math.exp(-diff))
    return 1.0 - 1.0 / (1.0 + math.exp(diff))


@judge_format("reward-model")
class RewardModel(Format):
    """Two conversations per (pair, order), one per slot; verdict and ``p_a`` from the two scores."""

    template: ClassVar[str] = LAYOUT  # type: ignore[assignment]
    pointwise = True
    uses_scores = True
    default_max_tokens = 1  # nothing is generated; the value only keeps the judge's identity short

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        return [
            Prompt(({"role": "user", "content": pair.prompt}, {"role": "assistant", "content": response}))
            for response in pair.slots(order)
        ]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        """One response's score from the backend's text; a non-number is no verdict."""
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        if finish_reason == "length":  # a score cut short is no score
            return Parsed(failure="truncated")
        try:
            score = float(text.strip())
        except ValueError:
            return Parsed(failure="no_verdict")
        if not math.isfinite(score):
            return Parsed(failure="score_out_of_range")
        return Parsed(score=score)

    def combine(self, parts: Sequence[Parsed]) -> Parsed:
        """(slot A's part, slot B's part) -> one judgment; a failed part fails the judgment."""
        if len(parts) != 2:
            raise ValueError(f"reward-model combine needs 2 parts (slot A, slot B), got {len(parts)}")
        part_a, part_b = parts
        failures = [p.failure for p in parts if p.failure is not None]
        if failures or part_a.score is None or part_b.score is None:
            failure = min(failures, key=_RANK.index) if failures else "no_verdict"  # the same in both orders
            return Parsed(score_a=part_a.score, score_b=part_b.score, failure=failure)
        a, b = part_a.score, part_b.score
        return Parsed(verdict=compare(a, b), score_a=a, score_b=b, p_a=bradley_terry(a, b))
