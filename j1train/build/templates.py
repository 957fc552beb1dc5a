"""The builder's prompts (our own wording).

The open-ended recipe follows the Self-Taught Evaluator (Wang et al. 2024, arXiv 2408.02666),
which J1 (arXiv 2505.10320) and EvalPlanner reuse: the chosen response answers the prompt; the
rejected one answers a "noisy" instruction, a subtly different instruction that a model derives
from the prompt, so that it reads well but misses what was asked.
"""

from __future__ import annotations

import hashlib
import re

NOISY_INSTRUCTION = """Here is a user instruction:

<instruction>
{instruction}
</instruction>

Write a new instruction that stays very close to it (same topic, tone and length) but asks for \
something subtly different, so that a perfect answer to the new instruction would be a flawed \
answer to the original one: change a detail, a constraint, a quantity or the exact question. \
Reply with the new instruction only, without any comment."""

#: The chosen and the rejected response both answer an instruction sent as it is.
ANSWER = "{instruction}"

MATH_SOLUTION = """{problem}

Solve the problem step by step, then give the final answer as \\boxed{{ANSWER}}."""

TEMPLATES = {"noisy_instruction": NOISY_INSTRUCTION, "answer": ANSWER, "math_solution": MATH_SOLUTION}
TEMPLATE_HASH = hashlib.sha256("\n\x00".join(TEMPLATES[k] for k in sorted(TEMPLATES)).encode()).hexdigest()[:16]

_LABEL = re.compile(
    r"^\s*(?:\*\*)?\s*(?:new|modified|noisy|rewritten)?\s*instruction\s*(?:\*\*)?\s*:\s*(?:\*\*)?", re.I
)
_TAGS = re.compile(r"</?instruction>", re.I)


def parse_noisy_instruction(text: str) -> str | None:
    """The new instruction in a model's reply (a leading "New instruction:" label and tags removed)."""
    body = _TAGS.sub("", _LABEL.sub("", text.strip(), count=1)).strip()
    if len(body) >= 2 and body[0] == body[-1] and body[0] in "\"'":
        body = body[1:-1].strip()
    return body or None
