"""Baseline judges with no model: ``first``, ``random`` and ``longer``.

They answer in the pairwise-verdict format (``<answer> [[A]] </answer>``), so
their outputs go through the same parser, store and metrics as a model's. Each also
gives ``p_a``, its probability of slot A: 1 or 0 for ``first`` and ``longer`` (0.5 on equal
lengths), 0.5 for ``random``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence

from j1eval.backends import backend
from j1eval.backends.base import Backend, Request
from j1eval.errors import InputError
from j1eval.types import Completion, Sampling


def _first(request: Request, seed: int) -> str:
    return "A"


def _random(request: Request, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:{request.pair.pair_id}:{request.order}".encode()).digest()
    return "A" if digest[0] % 2 == 0 else "B"


def _longer(request: Request, seed: int) -> str:
    a, b = request.pair.slots(request.order)
    return "A" if len(a) > len(b) else "B" if len(b) > len(a) else "tie"


POLICIES: dict[str, Callable[[Request, int], str]] = {"first": _first, "random": _random, "longer": _longer}

#: Each rule's probability of slot A: the coin of ``random`` is fair whatever side it fell on.
P_A: dict[str, Callable[[str], float]] = {
    "first": lambda verdict: 1.0,
    "random": lambda verdict: 0.5,
    "longer": lambda verdict: {"A": 1.0, "B": 0.0}.get(verdict, 0.5),
}


@backend("baseline")
class BaselineBackend(Backend):
    """Answers by a fixed rule; ``model`` names the rule: first, random or longer."""

    #: Its answer is a verdict block: formats that read a verdict (not those that need scores).
    FORMATS = ("pairwise-verdict", "direct-verdict", "plan-execute", "scores-verdict")

    def __init__(self, model: str, **options: object) -> None:
        super().__init__(model, **options)
        if model not in POLICIES:
            raise InputError(f"unknown baseline {model!r}; known: {', '.join(POLICIES)}")
        self.policy = POLICIES[model]

    @property
    def model_revision(self) -> str:
        return f"baseline:{self.model}:v1"

    requests_per_call = None  # instant answers: the whole run in one call

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        out = []
        for i, request in enumerate(requests):
            start = time.perf_counter()
            verdict = self.policy(request, sampling.seed)
            text = f"<answer> [[{verdict}]] </answer>"
            prefill = request.prompt.prefill
            if prefill and text.startswith(prefill):  # continue the opened assistant turn
                text = text[len(prefill) :]
            p_a = P_A[self.model](verdict)
            done = [Completion(text, "stop", 0, 0, time.perf_counter() - start, p_a=p_a) for _ in range(n)]
            out.append(done)
            if on_done is not None:
                on_done(i, done)
        return out
