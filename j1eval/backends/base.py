"""What a backend provides: completions for a batch of judge prompts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from j1eval.types import Completion, Order, Pair, Prompt, Sampling


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
