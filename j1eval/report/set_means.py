"""Figures averaged over sets: each generic figure's value on every set, then their mean.

J1 averages PPE Correctness over its five sets (MMLU-Pro, MATH, GPQA, MBPP-Plus, IFEval), in the
main table and in the position-bias table alike: a set of 500 pairs weighs as much as one of
5,000. :func:`set_mean_figures` does that for every figure of :func:`j1eval.score.metrics.generic_figures`
(accuracy in each order, consistent accuracy, flip rate, ...), with the scorer's bootstrap over
pairs for its interval. A set with no pair makes every figure incomplete (``None``, with
``<name>_partial`` and ``missing``), as the scorer does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from j1eval.score import metrics


def set_mean_figures(
    table: pd.DataFrame, column: str, sets: Sequence[str], *, seed: int = 0, n_boot: int = metrics.N_BOOTSTRAP
) -> dict[str, Any]:
    """The generic figures of ``table`` as means over ``sets`` (the values of ``table[column]``), equal weights."""
    weights = {s: 1.0 for s in sets}
    groups = table[column].astype(object)
    ratios = {
        name: dataclasses.replace(ratio, groups=groups, weights=weights, required=frozenset(sets))
        for name, ratio in metrics.generic_figures(table).items()
    }
    return metrics.assemble(table, metrics._evaluate(ratios, n_boot, seed))
