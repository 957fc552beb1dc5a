"""The data model shared by every stage of the flow.

benchmark -> Pair -> Request (pair x order x sample) -> backend -> Completion
-> format.parse -> Parsed -> Judgment (stored) -> metrics.

Order "ab" shows ``response_1`` in slot A; order "ba" shows ``response_2`` in slot A.
A verdict names a *slot*: "A", "B", "tie", or None (no readable verdict).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Order = Literal["ab", "ba"]
ORDERS: tuple[Order, Order] = ("ab", "ba")
Verdict = Literal["A", "B", "tie"] | None
VERDICTS = ("A", "B", "tie")

#: Failure classes a judgment can carry (None = a readable verdict or tie).
FAILURE_CLASSES = (
    "no_verdict",  # nothing parseable
    "both_verdicts",  # the output names both slots as the winner
    "score_out_of_range",  # a score outside the format's range
    "truncated",  # generation stopped at the token limit before a verdict
    "backend_error",  # the backend failed on this request (after retries)
)


@dataclass(frozen=True)
class Pair:
    """One preference pair: a prompt and two responses, one of them better.

    ``label`` is 1 when ``response_1`` is better and 2 when ``response_2`` is.
    ``meta`` keeps the source record's other fields (and derived ones such as a
    RewardBench section or an RM-Bench style cell).
    """

    pair_id: str
    bench: str
    subset: str
    prompt: str
    response_1: str
    response_2: str
    label: int
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.label not in (1, 2):
            raise ValueError(f"pair {self.pair_id}: label must be 1 or 2, got {self.label!r}")

    def slots(self, order: Order) -> tuple[str, str]:
        """The responses shown in slots A and B under ``order``."""
        return (self.response_1, self.response_2) if order == "ab" else (self.response_2, self.response_1)

    def correct_slot(self, order: Order) -> Literal["A", "B"]:
        """The slot holding the better response under ``order``."""
        return correct_slot(self.label, order)


def correct_slot(label: int, order: Order) -> Literal["A", "B"]:
    """Slot of the better response: label 1 is in A under "ab", in B under "ba"."""
    return "A" if (label == 1) == (order == "ab") else "B"


def slot_to_response(verdict: Verdict, order: Order) -> int | None:
    """Which response (1 or 2) a slot verdict picks; None for a tie or no verdict."""
    if verdict not in ("A", "B"):
        return None
    return 1 if (verdict == "A") == (order == "ab") else 2


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters; part of every cache key."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 4096
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens, "seed": self.seed}


@dataclass(frozen=True)
class Prompt:
    """A rendered judge prompt: chat messages, and a text key used for hashing."""

    messages: tuple[Mapping[str, str], ...]

    @classmethod
    def user(cls, text: str, system: str | None = None) -> Prompt:
        msgs: list[Mapping[str, str]] = []
        if system:
            msgs.append({"role": "system", "content": system})
        msgs.append({"role": "user", "content": text})
        return cls(tuple(msgs))

    def with_prefill(self, opening: str) -> Prompt:
        """This prompt with the assistant's turn opened by ``opening`` (the model continues it)."""
        return Prompt((*self.conversation, {"role": "assistant", "content": opening}))

    @property
    def prefill(self) -> str:
        """The opening of the assistant's turn, when the prompt ends in one ("" otherwise)."""
        last = self.messages[-1] if self.messages else None
        return str(last["content"]) if last is not None and last.get("role") == "assistant" else ""

    @property
    def conversation(self) -> tuple[Mapping[str, str], ...]:
        """The messages without a trailing assistant prefill."""
        return self.messages[:-1] if self.prefill else self.messages

    @property
    def text(self) -> str:
        return "\n\n".join(m["content"] for m in self.messages)


@dataclass(frozen=True)
class Completion:
    """What a backend returns for one prompt and one sample."""

    text: str
    finish_reason: str  # "stop", "length" or "error"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    error: str | None = None
    #: The first generated position's most likely tokens (token text -> log-probability),
    #: when the backend was asked for them (prompts with an assistant prefill).
    top_logprobs: Mapping[str, float] | None = None
    #: P(slot A) given by a rule rather than a distribution (the baseline judges).
    p_a: float | None = None


@dataclass(frozen=True)
class Parsed:
    """A format's reading of one output (one prompt)."""

    verdict: Verdict = None
    score_a: float | None = None  # pairwise scores, per slot
    score_b: float | None = None
    score: float | None = None  # pointwise score
    failure: str | None = None
    p_a: float | None = None  # probability of slot A, renormalised over the two choices
    choice_probs: Mapping[str, float] | None = None  # {"A": mass, "B": mass} among the top tokens
