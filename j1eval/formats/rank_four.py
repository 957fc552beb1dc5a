"""Four-way formats for best-of-4 benchmarks (RewardBench 2): the judge picks the best of four responses.

``rank-4``: J1's Figure 3 prompt adapted to four responses (think, then ``<answer> [[X]] </answer>``,
X in A-D; its own template, so its own hash). ``direct-rank-4``: the same without thinking, the
answer tag prefilled (``<answer> [[``), so the first generated token is the slot letter; as in
:mod:`j1eval.formats.direct_verdict`, every first token that starts a letter (``C``, `` C``,
``C]]``, ``c`` ...) counts for it, ``choice_probs`` keeps the four masses and ``p_a`` is slot A's
share of them. Greedy, the verdict is the most probable letter (equal top masses: no verdict); a
rule's answer (the baselines, which give ``p_a``) keeps the letter its text names.

Prompts are made per item and rotation (:mod:`j1eval.score.kway`): rotation ``rN`` puts the chosen
response in slot N. The official script's reading is kept: the last ``[[X]]`` names the winner.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import ClassVar

from j1eval.formats import judge_format
from j1eval.formats._parsing import render, settle, tag_blocks, visible_text
from j1eval.formats.base import Format
from j1eval.orders import LETTERS, slots
from j1eval.types import Completion, Pair, Parsed, Prompt

PREFILL = "<answer> [["
CHOICE_TAIL = "]] </answer>"
_LETTER = re.compile(r"\[\[\s*(?:(?:assistant|response)\s+)?([a-d])\s*\]\]", re.IGNORECASE)
_ECHO = re.compile(r"[ \t*_]*(?:if|when)\b", re.IGNORECASE)
_CONTINUATION = re.compile(r"\s*(?:\*\*\s*)?(?:(?:assistant|response)\s+)?([a-d])(?![a-z0-9])", re.IGNORECASE)


def four_way_prompt(template: str, item: Pair, order: str) -> Prompt:
    a, b, c, d = slots(item, order)
    text = render(template, instruction=item.prompt, response_a=a, response_b=b, response_c=c, response_d=d)
    return Prompt.user(text)


def read_letter(visible: str) -> Parsed:
    """The slot named by the last answer block (several different letters in it: ``both_verdicts``),
    else by the last ``[[X]]`` outside the format's own echoed lines."""
    closed = [b for b in tag_blocks(visible, "answer") if b.closed and not _ECHO.match(visible, b.end)]
    if closed:
        found = {m.group(1).upper() for m in _LETTER.finditer(closed[-1].content)}
        if len(found) == 1:
            return Parsed(verdict=found.pop())  # type: ignore[arg-type]
        if len(found) > 1:
            return Parsed(failure="both_verdicts")
    tokens = [m for m in _LETTER.finditer(visible) if not _ECHO.match(visible, m.end())]
    if not tokens:
        return Parsed(failure="no_verdict")
    return Parsed(verdict=tokens[-1].group(1).upper())  # type: ignore[arg-type]


def letter_of_token(token: str) -> str | None:
    """The slot letter a first token starts, or None."""
    text = token.lstrip()
    if not text or text[0].upper() not in LETTERS:
        return None
    rest = text[1:]
    return text[0].upper() if not rest or CHOICE_TAIL.startswith(rest) or rest.startswith("]]") else None


def letter_masses(top_logprobs: Mapping[str, float]) -> dict[str, float]:
    mass = dict.fromkeys(LETTERS, 0.0)
    for token, logprob in top_logprobs.items():
        letter = letter_of_token(token)
        if letter is not None and logprob is not None and math.isfinite(logprob):
            mass[letter] += math.exp(logprob)
    return mass


@judge_format("rank-4")
class RankFour(Format):
    """Think, then name the best of four slots."""

    template_file = "rank_4.txt"
    k: ClassVar[int] = 4
    reasoning_tags: ClassVar[tuple[str, ...]] = ("think",)

    def prompts(self, pair: Pair, order: str) -> list[Prompt]:  # type: ignore[override]
        return [four_way_prompt(self.template, pair, order)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        return settle(read_letter(visible_text(text, self.reasoning_tags)), finish_reason)


@judge_format("direct-rank-4")
class DirectRankFour(Format):
    """No thinking: the slot letter and P(slot) from the first token's top log-probabilities."""

    template_file = "direct_rank_4.txt"
    k: ClassVar[int] = 4
    default_max_tokens = 1
    reads_probabilities = True

    def prompts(self, pair: Pair, order: str) -> list[Prompt]:  # type: ignore[override]
        return [four_way_prompt(self.template, pair, order).with_prefill(PREFILL)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        """The letter in a continuation of the prefill (no probabilities)."""
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        match = _CONTINUATION.match(text)
        if match:
            return Parsed(verdict=match.group(1).upper())  # type: ignore[arg-type]
        return read_letter(text if "<answer" in text.lower() else PREFILL + text)

    def read(self, completion: Completion, sampled: bool = False) -> Parsed:
        parsed = self.parse(completion.text, completion.finish_reason)
        if parsed.failure == "backend_error" or completion.top_logprobs is None:
            return parsed
        mass = letter_masses(completion.top_logprobs)
        total = sum(mass.values())
        if total <= 0:
            return Parsed(failure="no_verdict", choice_probs=mass)
        p_a = mass["A"] / total
        if sampled or completion.p_a is not None:  # a sample, or a rule's pick (baselines): the text's letter
            return Parsed(verdict=parsed.verdict, failure=parsed.failure, p_a=p_a, choice_probs=mass)
        top = max(mass.values())
        best = [x for x in LETTERS if mass[x] == top]
        verdict = best[0] if len(best) == 1 else None
        return Parsed(verdict=verdict, failure=None if verdict else "no_verdict", p_a=p_a, choice_probs=mass)  # type: ignore[arg-type]
