"""Direct verdict: J1's pairwise prompt without thinking, the answer tag already opened.

The prompt is J1's Figure 3 prompt (:mod:`j1eval.formats.pairwise_verdict`) with the
thinking instruction replaced by "answer with the verdict only" (its own template
file, so its own hash). The assistant's turn is prefilled with ``<answer> [[``, so the
first generated token is the choice, and one forward pass of the prompt decides it.

Probabilities: backends return the most likely tokens at the first generated position
(``Completion.top_logprobs``, top 20). Every token that starts the choice counts for
it: ``A``, `` A``, ``A]``, ``A]]``, ``a`` ... (leading white space dropped, any case, the
rest a prefix of ``]] </answer>`` or starting with ``]]``). ``p_a`` is slot A's mass
over the two choices' mass. Neither choice among the top tokens -> no verdict.

Verdict: with probabilities and greedy decoding, the more probable choice (the stored
verdict is the argmax of the stored probabilities; equal mass is a tie). Sampled
completions (SC@N) keep the sampled choice, read from the text, and the same ``p_a``.
Without probabilities (a server that returns none), the verdict is read from the text:
the continuation of the prefill (``A]] </answer>``, or just ``A`` when one token was
asked), else any J1 answer block in it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from j1eval.formats import judge_format
from j1eval.formats._parsing import find_verdict, render
from j1eval.formats.base import Format
from j1eval.types import Completion, Order, Pair, Parsed, Prompt, Verdict

PREFILL = "<answer> [["
CHOICE_TAIL = "]] </answer>"
CHOICES = ("A", "B")

_CONTINUATION = re.compile(r"\s*(?:\*\*\s*)?(?:(?:assistant|response)\s+)?([ab]|tie|c)(?![a-z0-9])", re.IGNORECASE)


def choice_of_token(token: str) -> str | None:
    """The choice ("A" or "B") a first token starts, or None."""
    text = token.lstrip()
    if not text or text[0].upper() not in CHOICES:
        return None
    rest = text[1:]
    if not rest or CHOICE_TAIL.startswith(rest) or rest.startswith("]]"):
        return text[0].upper()
    return None


def choice_masses(top_logprobs: Mapping[str, float]) -> dict[str, float]:
    """Probability mass of each choice among the given first tokens."""
    mass = dict.fromkeys(CHOICES, 0.0)
    for token, logprob in top_logprobs.items():
        choice = choice_of_token(token)
        if choice is not None and logprob is not None and math.isfinite(logprob):
            mass[choice] += math.exp(logprob)
    return mass


def verdict_of(p_a: float) -> Verdict:
    return "A" if p_a > 0.5 else "B" if p_a < 0.5 else "tie"


@judge_format("direct-verdict")
class DirectVerdict(Format):
    """One prompt per (pair, order) with the answer tag prefilled; verdict and ``p_a`` from one token."""

    template_file = "direct_verdict.txt"
    default_max_tokens = 1
    reads_probabilities = True

    def prompts(self, pair: Pair, order: Order) -> list[Prompt]:
        response_a, response_b = pair.slots(order)
        text = render(self.template, instruction=pair.prompt, response_a=response_a, response_b=response_b)
        return [Prompt.user(text).with_prefill(PREFILL)]

    def parse(self, text: str, finish_reason: str = "stop") -> Parsed:
        """The verdict in a continuation of the prefill (no probabilities)."""
        if finish_reason == "error":
            return Parsed(failure="backend_error")
        match = _CONTINUATION.match(text)
        if match:
            letter = match.group(1).upper()
            return Parsed(verdict="tie" if letter in ("TIE", "C") else letter)  # type: ignore[arg-type]
        # A full answer block (a model that restarted its answer), else the prefill continued.
        verdict, failure = find_verdict(text if "<answer" in text.lower() else PREFILL + text)
        # One token is all the format asks for: a cut-off output is no verdict, not a truncation.
        return Parsed(verdict=verdict, failure=failure)

    def read(self, completion: Completion, sampled: bool = False) -> Parsed:
        parsed = self.parse(completion.text, completion.finish_reason)
        if parsed.failure == "backend_error":
            return parsed
        if completion.top_logprobs is None:
            if completion.p_a is not None:  # a rule's probability (baselines)
                return Parsed(verdict=parsed.verdict, failure=parsed.failure, p_a=completion.p_a)
            return parsed
        mass = choice_masses(completion.top_logprobs)
        total = mass["A"] + mass["B"]
        if total <= 0:
            return Parsed(failure="no_verdict", choice_probs=mass)
        p_a = mass["A"] / total
        if sampled:
            return Parsed(verdict=parsed.verdict, failure=parsed.failure, p_a=p_a, choice_probs=mass)
        return Parsed(verdict=verdict_of(p_a), p_a=p_a, choice_probs=mass)
