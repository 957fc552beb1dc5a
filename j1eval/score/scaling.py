"""Test-time scaling from one run's stored samples: SC@k and Mean-Score@k for k = 1, 2, 4, ..., N.

A run with ``--samples N`` stores N judgments per (pair, order). For each k, this module
takes subsets of k sample ids (every subset when there are few, else seeded random ones),
combines each (pair, order)'s samples in the subset with the project's own rule
(:func:`j1eval.score.samples.aggregate_samples`: majority verdict for SC@k, higher mean score for
Mean-Score@k, with its tie and failure rules), scores the result with
:func:`j1eval.score.metrics.pair_table` and :func:`j1eval.score.metrics.compute_figures`, and averages each
figure over the subsets. The same subset of sample ids is used for every (pair, order), as if
the run had been made with k samples.

Figures per k: accuracy in each order (``acc_ab``, ``acc_ba``), position-consistent accuracy
(``acc_consistent``), J1's single seeded order (``acc_single``), the benchmark's ``j1`` and
``official`` figures when a benchmark is given, and the flip, tie and parse-failure rates.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from j1eval.benchmarks.base import Benchmark
from j1eval.score.metrics import compute_figures, pair_table
from j1eval.score.samples import aggregate_samples
from j1eval.types import Pair

#: The figures reported per k, where the scorer gives them.
SCALING_FIGURES = (
    "acc_ab",
    "acc_ba",
    "acc_consistent",
    "acc_single",
    "j1",
    "official",
    "flip_rate",
    "tie_rate",
    "parse_failure_rate",
)
DEFAULT_SUBSETS = 16


@dataclass(frozen=True)
class ScalingPoint:
    """The figures at k samples: their mean (and standard deviation) over ``n_subsets`` subsets of sample ids."""

    k: int
    n_subsets: int
    exhaustive: bool  # True when every k-subset of the N sample ids was used
    mean: dict[str, float]
    std: dict[str, float]
    subsets: tuple[tuple[int, ...], ...] = field(repr=False)

    @property
    def label(self) -> str:
        return f"@{self.k}"


def default_ks(n_samples: int) -> list[int]:
    """1, 2, 4, ... up to ``n_samples``, and ``n_samples`` itself."""
    if n_samples < 1:
        raise ValueError(f"need at least one sample, got {n_samples}")
    ks = [2**i for i in range(n_samples.bit_length()) if 2**i <= n_samples]
    return ks if ks[-1] == n_samples else [*ks, n_samples]


def choose_subsets(sample_ids: Sequence[int], k: int, n_subsets: int, seed: int = 0) -> tuple[tuple[int, ...], bool]:
    """k-subsets of ``sample_ids``: all of them when there are at most ``n_subsets``, else that many
    distinct ones drawn with a generator seeded by (seed, k). Returns (subsets, exhaustive)."""
    ids = sorted(set(sample_ids))
    if not 1 <= k <= len(ids):
        raise ValueError(f"k must be between 1 and {len(ids)} (the number of samples), got {k}")
    if n_subsets < 1:
        raise ValueError(f"n_subsets must be at least 1, got {n_subsets}")
    if math.comb(len(ids), k) <= n_subsets:
        return tuple(itertools.combinations(ids, k)), True
    rng = random.Random(f"j1eval-scaling:{seed}:{k}")
    chosen: dict[tuple[int, ...], None] = {}
    while len(chosen) < n_subsets:
        chosen.setdefault(tuple(sorted(rng.sample(ids, k))))
    return tuple(chosen), False


def subset_verdicts(judgments: pd.DataFrame, subset: Iterable[int], use_scores: bool = False) -> pd.DataFrame:
    """One verdict per (pair_id, order) from the samples whose id is in ``subset``, by the
    scorer's rule (:func:`j1eval.score.samples.aggregate_samples`), applied to a one-sample subset too.
    (pair, order)s with no sample in the subset are left out."""
    part = judgments[judgments["sample"].isin(list(subset))].reset_index(drop=True)
    return aggregate_samples(part, use_scores=use_scores, combine_single=True)


def scaling_curve(
    judgments: pd.DataFrame,
    pairs: Sequence[Pair],
    benchmark: Benchmark | None = None,
    *,
    use_scores: bool = False,
    ks: Sequence[int] | None = None,
    n_subsets: int = DEFAULT_SUBSETS,
    seed: int = 0,
    subset_seed: int = 0,
    figures: Sequence[str] = SCALING_FIGURES,
) -> list[ScalingPoint]:
    """SC@k (or Mean-Score@k with ``use_scores``) for each k, from one run's samples.

    ``judgments``: a judgments frame as :func:`j1eval.store.records.read_judgments` gives it (columns
    ``pair_id``, ``order``, ``sample``, ``verdict``, ``failure``, optional ``score_a``,
    ``score_b``, ``p_a``). ``seed`` is the run's seed (J1's single order per pair);
    ``subset_seed`` seeds the choice of sample subsets. Bootstrap intervals are not computed.
    """
    sample_ids = sorted({int(s) for s in judgments["sample"].tolist()})
    ks = list(ks) if ks is not None else default_ks(len(sample_ids))
    points = []
    for k in ks:
        subsets, exhaustive = choose_subsets(sample_ids, k, n_subsets, subset_seed)
        runs: list[dict[str, Any]] = []
        for subset in subsets:
            verdicts = subset_verdicts(judgments, subset, use_scores)
            table = pair_table(pairs, verdicts, benchmark, seed=seed)
            runs.append(compute_figures(table, benchmark, n_boot=0, seed=seed))
        mean: dict[str, float] = {}
        std: dict[str, float] = {}
        for name in figures:
            values = [r[name] for r in runs if isinstance(r.get(name), int | float)]
            if values:
                mean[name] = math.fsum(values) / len(values)
                std[name] = math.sqrt(math.fsum((v - mean[name]) ** 2 for v in values) / len(values))
        points.append(ScalingPoint(k, len(subsets), exhaustive, mean, std, subsets))
    return points


def scaling_frame(points: Sequence[ScalingPoint]) -> pd.DataFrame:
    """The curve as a long table: k, figure, mean, std, n_subsets, exhaustive."""
    rows = [
        {
            "k": p.k,
            "figure": name,
            "mean": value,
            "std": p.std[name],
            "n_subsets": p.n_subsets,
            "exhaustive": p.exhaustive,
        }
        for p in points
        for name, value in p.mean.items()
    ]
    return pd.DataFrame(rows, columns=["k", "figure", "mean", "std", "n_subsets", "exhaustive"])
