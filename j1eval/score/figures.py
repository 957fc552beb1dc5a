"""What a figure is: a mean over pairs (``Figure``) or a pooled ratio (``Ratio``), by group and weight.

Benchmarks declare their official figures in these terms (``Benchmark.official_figures``), and the
scorer evaluates them with intervals (:mod:`j1eval.score.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The per-pair correctness column of :func:`pair_table` for each J1 protocol
#: ("single": one seeded random order; "consistent": correct in both orders).
PROTOCOL_COLUMNS = {"single": "correct_single", "consistent": "correct_both"}


@dataclass(frozen=True)
class Figure:
    """A score = weighted mean over groups of the mean of per-pair values.

    ``values`` is aligned with the scoring table's rows (NaN = the pair does not
    count). ``groups`` gives each pair's group (None: one group, a plain mean);
    ``weights`` each group's weight (None: equal weights), renormalised over the
    groups present. When a group in ``required`` has no pair, the figure is
    incomplete: the scorer reports it as None with the present-groups value beside it.
    """

    values: pd.Series
    groups: pd.Series | None = None
    weights: Mapping[str, float] | None = None
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Ratio:
    """A pooled ratio: sum(num) / sum(den) within each group (den counts, e.g. judgments)."""

    num: pd.Series
    den: pd.Series
    groups: pd.Series | None = None
    weights: Mapping[str, float] | None = None
    required: frozenset[str] = frozenset()

    @classmethod
    def of(cls, figure: Figure) -> Ratio:
        """A mean over pairs as a pooled ratio: each pair with a value counts once."""
        values = figure.values.to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(values)
        index = figure.values.index
        num, den = pd.Series(np.where(present, values, 0.0), index=index), pd.Series(present.astype(float), index=index)
        return cls(num, den, figure.groups, figure.weights, figure.required)
