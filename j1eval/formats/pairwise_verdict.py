"""J1's default format: think, then ``<answer> [[A]] </answer>`` or ``[[B]]``.

Prompt: J1 (Whitehouse et al., 2025, arXiv 2505.10320), Figure 3, verbatim;
placeholders set on their own lines. Reading rules: :mod:`j1eval.formats._parsing`.
"""

from __future__ import annotations

from typing import ClassVar

from j1eval.formats import judge_format
from j1eval.formats._parsing import find_verdict, render, settle, visible_text
from j1eval.formats.base import Format
from j1eval.types import Order, Pair, Parsed, Prompt


def pairwise_prompt(template: str, pair: Pair, order: Order) -> Prompt:
    """The template filled with the pair's question and its responses in slot order."""
    response_a, response_b = pair.slots(order)
    return Prompt.user(render(template, instruction=pair.prompt, response_a=response_a, response_b=response_b))


@judge_format("pairwise-verdict")
class PairwiseVerdict(Format):
    """One prompt per (pair, order); the verdict is the slot named in the last answer block."""

    template_file = "pairwise_verdict.txt"
    reasoning_tags: ClassVar[tuple[str, ...]] = ("think",)

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        return [pairwise_prompt(self.template, pair, order)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        verdict, failure = find_verdict(visible_text(text, self.reasoning_tags))
        return settle(Parsed(verdict=verdict, failure=failure), finish_reason)
