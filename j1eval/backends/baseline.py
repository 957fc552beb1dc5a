"""Baseline judges with no model: ``first``, ``random`` and ``longer``.

They answer in the verdict formats (``<answer> [[A]] </answer>``), so their outputs go through
the same parser, store and metrics as a model's. Each also gives ``p_a``, its probability of
slot A: 1 or 0 for ``first`` and ``longer`` (0.5 on equal lengths), 0.5 for ``random``.

4-way prompts (a rotation ``r0``-``r3`` of a best-of-4 item, :mod:`j1eval.score.kway`) get a slot
letter A-D by the same rules: ``first`` names A; ``random`` a seeded letter, each with
probability 1/4; ``longer`` the slot of the longest response (equal longest: no letter, so no
verdict). ``p_a`` is then the rule's P(slot A), and a prefilled 4-way prompt
(``direct-rank-4``) also gets the rule's four slot probabilities as its first token's
log-probabilities (letters the rule never picks left out), which that format reads.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence

from j1eval.backends import backend
from j1eval.backends.base import Backend, Request
from j1eval.errors import InputError
from j1eval.orders import LETTERS, is_rotation, slots
from j1eval.types import Completion, Sampling


def _digest(request: Request, seed: int) -> bytes:
    return hashlib.sha256(f"{seed}:{request.pair.pair_id}:{request.order}".encode()).digest()


def _first(request: Request, seed: int) -> str:
    return "A"


def _random(request: Request, seed: int) -> str:
    return "A" if _digest(request, seed)[0] % 2 == 0 else "B"


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


def four_way(rule: str, request: Request, seed: int) -> tuple[str, dict[str, float]]:
    """A 4-way prompt's answer under ``rule``: the slot letter ("tie" when none) and P(slot) per letter."""
    if rule == "first":
        return "A", {"A": 1.0}
    if rule == "random":
        return LETTERS[_digest(request, seed)[0] % len(LETTERS)], dict.fromkeys(LETTERS, 1 / len(LETTERS))
    lengths = [len(text) for text in slots(request.pair, request.order)]
    best = [letter for letter, n in zip(LETTERS, lengths, strict=True) if n == max(lengths)]
    return (best[0] if len(best) == 1 else "tie"), dict.fromkeys(best, 1 / len(best))


@backend("baseline")
class BaselineBackend(Backend):
    """Answers by a fixed rule; ``model`` names the rule: first, random or longer."""

    #: Its answer is a verdict block: formats that read a verdict (not those that need scores).
    FORMATS = ("pairwise-verdict", "direct-verdict", "plan-execute", "scores-verdict", "rank-4", "direct-rank-4")

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
            prefill = request.prompt.prefill
            top: dict[str, float] | None = None
            if is_rotation(request.order):
                verdict, probs = four_way(self.model, request, sampling.seed)
                p_a = probs.get("A", 0.0)
                top = {x: math.log(p) for x, p in probs.items()} if prefill else None
            else:
                verdict = self.policy(request, sampling.seed)
                p_a = P_A[self.model](verdict)
            text = f"<answer> [[{verdict}]] </answer>"
            if prefill and text.startswith(prefill):  # continue the opened assistant turn
                text = text[len(prefill) :]
            elapsed = time.perf_counter() - start
            done = [Completion(text, "stop", 0, 0, elapsed, top_logprobs=top, p_a=p_a) for _ in range(n)]
            out.append(done)
            if on_done is not None:
                on_done(i, done)
        return out
