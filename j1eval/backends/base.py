"""What a backend provides: completions for a batch of judge prompts."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from j1eval.types import Completion, Order, Pair, Prompt, Sampling

#: How many of the most likely first tokens a prefilled prompt returns (the OpenAI API's maximum).
TOP_LOGPROBS = 20


def merge_top_logprobs(entries: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Token text -> log-probability; tokens that read the same (several ids) have their probabilities added."""
    top: dict[str, float] = {}
    for text, value in entries:
        if text in top:  # log(exp(a) + exp(b)), safe for very negative values
            high, low = max(top[text], value), min(top[text], value)
            value = high + math.log1p(math.exp(low - high))
        top[text] = value
    return top


@dataclass(frozen=True)
class Request:
    """One prompt to send: a (pair, order) prompt, or one part of a pointwise pair."""

    prompt: Prompt
    pair: Pair
    order: Order
    part: int = 0  # pointwise formats: 0 = slot A's response, 1 = slot B's


class Backend:
    """Base class of a backend. Subclasses register with ``@backend(name)``.

    ``generate`` returns, for each request, ``n`` completions. A failure on one
    request is returned as a Completion with ``finish_reason="error"`` and ``error``
    set; exceptions are for broken set-ups (missing model, unreachable server).
    ``on_done``, when given, is called with (index, completions) as each request
    finishes, so the runner can store results as they arrive.
    """

    name = ""

    def __init__(self, model: str, **options: object) -> None:
        self.model = model
        self.options = options

    @property
    def model_revision(self) -> str:
        """An identifier of the exact weights (hash or revision); part of the cache key."""
        return self.model

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release resources (GPU memory, HTTP sessions)."""
