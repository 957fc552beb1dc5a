"""EvalPlanner-style format: ``<plan>``, ``<execution>``, then ``<answer> [[A]] </answer>``.

Prompt: J1 (arXiv 2505.10320), Figure 5, verbatim; placeholders set on their own
lines. ``<plan>`` and ``<execution>`` (and ``<think>``, should a model add one) are
reasoning: verdict-like strings inside them never decide. They are not required.
"""

from __future__ import annotations

from typing import ClassVar

from j1eval.formats import judge_format
from j1eval.formats.pairwise_verdict import PairwiseVerdict


@judge_format("plan-execute")
class PlanExecute(PairwiseVerdict):
    """As pairwise-verdict, with plan and execution spans treated as reasoning."""

    template_file = "plan_execute.txt"
    reasoning_tags: ClassVar[tuple[str, ...]] = ("think", "plan", "execution")
