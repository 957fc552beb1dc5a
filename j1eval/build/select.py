"""Deciding an instruction's pair from its checked responses.

A response *meets* the instruction when every check says yes, *misses* it when at least one
says no, and is *undecided* otherwise (a checker answer that could not be read). The pair is
the first response (by sample index) that meets it against the response that misses the
fewest constraints (ties: the lower index), their texts different. Empty responses, and
responses cut at the token limit unless allowed, take no part.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from j1eval.build.checks import Check


@dataclass
class Response:
    """One sampled response of an instruction and the checks of its constraints."""

    sample: int
    text: str
    finish_reason: str
    checks: list[Check] = field(default_factory=list)

    @property
    def status(self) -> str:
        """meets, misses or undecided."""
        if any(c.satisfied is False for c in self.checks):
            return "misses"
        return "meets" if all(c.satisfied for c in self.checks) else "undecided"

    @property
    def missed(self) -> list[int | None]:
        """The constraints a check says no to (None: all of them, one whole-answer check)."""
        return sorted({c.constraint for c in self.checks if c.satisfied is False}, key=lambda c: c or 0)


@dataclass(frozen=True)
class Choice:
    """The pair of an instruction, or why it has none."""

    chosen: Response | None = None
    rejected: Response | None = None
    reason: str = ""


def usable(response: Response, allow_truncated: bool) -> bool:
    return bool(response.text.strip()) and (allow_truncated or response.finish_reason != "length")


def choose(responses: Sequence[Response], allow_truncated: bool = False) -> Choice:
    """The pair of one instruction (see the module docstring), or the reason there is none."""
    pool = [r for r in responses if usable(r, allow_truncated)]
    if not pool:
        cut = sum(r.finish_reason == "length" for r in responses)
        return Choice(reason="every response cut at the token limit" if cut else "no non-empty response")
    meets = [r for r in pool if r.status == "meets"]
    misses = [r for r in pool if r.status == "misses"]
    if not meets:
        undecided = sum(r.status == "undecided" for r in pool)
        return Choice(reason="no response meets every constraint" + (" (some undecided)" if undecided else ""))
    chosen = meets[0]
    different = [r for r in misses if r.text.strip() != chosen.text.strip()]
    if not different:
        return Choice(reason="no response misses a constraint" if not misses else "only identical responses")
    rejected = min(different, key=lambda r: (len(r.missed), r.sample))
    return Choice(chosen, rejected)


def chosen_slot(pair_id: str, seed: int) -> str:
    """Slot "A" or "B": where the better response goes, by a seeded hash of the pair id (stable everywhere)."""
    return "A" if hashlib.sha256(f"{seed}:{pair_id}".encode()).digest()[0] % 2 == 0 else "B"
