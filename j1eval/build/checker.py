"""The checker model's question: one constraint of one response at a time; its words are the evidence.

As FollowBench's own judge, the checker sees how the instruction grew: when the constraint
was not simply appended, it gets the instruction before and after the constraint was
added, so it can find the constraint itself where the derived text is off. It answers in
words and ends with ``Answer: YES`` or ``Answer: NO`` ("the answer is yes" and a leading yes
or no are read too); a reply with none of them counts as undecided, never as a pass.
"""

from __future__ import annotations

import hashlib
import re

from j1eval.build.instructions import Constraint, Task

#: A response is generated from the instruction sent as it is (FollowBench's inference).
RESPONSE = "{instruction}"

CHECK = """You check whether a response follows ONE constraint of an instruction.

<instruction>
{instruction}
</instruction>

<constraint>
{constraint}
</constraint>
{evolution}
<response>
{response}
</response>

Does the response satisfy this constraint? Judge only this constraint, not the other ones \
and not the quality of the response. Give a short reason that quotes the response, then end \
with one line that is exactly "Answer: YES" or "Answer: NO"."""

EVOLUTION = """
The instruction was written by adding one constraint at a time; this constraint was added \
when this version:
<before>
{before}
</before>
became this one:
<after>
{after}
</after>
"""

TEMPLATE_HASH = hashlib.sha256("\n\x00".join((RESPONSE, CHECK, EVOLUTION)).encode()).hexdigest()[:16]

_ANSWER = re.compile(r"answer(?:\s+to\s+(?:this|the)\s+question)?\s*(?:[:：]|\s+is)\s*[*_\"'\[(]*\s*(yes|no)\b", re.I)
_LEADING = re.compile(r"^\W*(yes|no)\b", re.I)


def describe(constraint: Constraint, n: int) -> str:
    """The constraint as the checker is told it."""
    head = f"Constraint {constraint.index} of {n} ({constraint.type})"
    if constraint.text:
        return f"{head}: {constraint.text}"
    if constraint.before:
        return f"{head}: what the second version below adds to the first"
    return f"{head}: everything this version of the instruction asks: {constraint.after}"


def check_prompt(task: Task, constraint: Constraint, response: str) -> str:
    """The checker's prompt for ``constraint`` of ``task`` and one response."""
    evolution = ""
    if constraint.before and constraint.derived != "appended":
        evolution = EVOLUTION.format(before=constraint.before.strip(), after=constraint.after.strip())
    return CHECK.format(
        instruction=task.item.text.strip(),
        constraint=describe(constraint, len(task.constraints)),
        evolution=evolution,
        response=response.strip(),
    )


def parse_answer(text: str) -> bool | None:
    """True for YES, False for NO: the last "Answer: ..." (or "the answer is ..."), else a leading yes or no."""
    found = _ANSWER.findall(text)
    if found:
        return found[-1].lower() == "yes"
    lead = _LEADING.match(text)
    return lead.group(1).lower() == "yes" if lead else None
