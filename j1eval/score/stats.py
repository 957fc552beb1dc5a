"""Significance tests for judge reports (exact, in plain Python: no scipy import).

- :func:`mcnemar`: exact McNemar test between two judges on the pairs both judged,
  on per-pair correctness under a benchmark's J1 protocol (correct in the single
  seeded order, or correct in both orders). The exact test is a two-sided binomial
  test of the discordant pairs against 1/2.
- :func:`slot_preference`: two-sided binomial test of the share of decisive
  verdicts (both orders pooled) that pick slot A, against 1/2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from j1eval.score.figures import PROTOCOL_COLUMNS
from j1eval.score.intervals import clopper_pearson

#: Relative tolerance when comparing binomial probabilities with the observed one (as scipy's binomtest).
_RELATIVE_TOLERANCE = 1 + 1e-7


@dataclass(frozen=True)
class McNemarResult:
    """Paired comparison of judges 1 and 2 on ``n`` pairs both judged.

    ``n10``: judge 1 right and judge 2 wrong; ``n01``: judge 1 wrong and judge 2 right.
    """

    n: int
    n11: int
    n10: int
    n01: int
    n00: int
    p_value: float

    @property
    def acc_1(self) -> float | None:
        return (self.n11 + self.n10) / self.n if self.n else None

    @property
    def acc_2(self) -> float | None:
        return (self.n11 + self.n01) / self.n if self.n else None


@dataclass(frozen=True)
class BinomialResult:
    """``k`` successes out of ``n`` trials, the Clopper-Pearson 95% interval and the two-sided p-value."""

    k: int
    n: int
    p_value: float
    ci: tuple[float, float] | None

    @property
    def rate(self) -> float | None:
        return self.k / self.n if self.n else None


def _log_pmf(i: int, n: int, log_p: float, log_q: float) -> float:
    return math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q


def binomial_p_value(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test of ``k`` of ``n`` against ``p``: the total probability of every
    outcome no more likely than ``k`` (the rule of R's binom.test and scipy's binomtest)."""
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, n], got k={k}, n={n}")
    if n == 0:
        return 1.0
    if p in (0.0, 1.0):
        return 1.0 if k == round(p * n) else 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    observed = _log_pmf(k, n, log_p, log_q) + math.log(_RELATIVE_TOLERANCE)
    logs = np.array([_log_pmf(i, n, log_p, log_q) for i in range(n + 1)])
    peak = logs.max()
    kept = logs[logs <= observed]
    total = float(np.exp(kept - peak).sum() * math.exp(peak)) if kept.size else 0.0
    return min(1.0, total)


def mcnemar_exact_p(n10: int, n01: int) -> float:
    """Exact two-sided McNemar p-value: binomial test of ``n10`` of ``n10 + n01`` against 1/2."""
    return binomial_p_value(n10, n10 + n01, 0.5)


def mcnemar(correct_1: pd.Series, correct_2: pd.Series) -> McNemarResult:
    """Exact McNemar test on two per-pair correctness series (index: pair id; 1, 0 or NaN).

    Only pairs with a correctness value for both judges count.
    """
    joined = pd.concat([correct_1.rename("c1"), correct_2.rename("c2")], axis=1, join="inner").dropna()
    c1 = joined["c1"].to_numpy(dtype=float) > 0.5
    c2 = joined["c2"].to_numpy(dtype=float) > 0.5
    n11 = int(np.sum(c1 & c2))
    n10 = int(np.sum(c1 & ~c2))
    n01 = int(np.sum(~c1 & c2))
    n00 = int(np.sum(~c1 & ~c2))
    return McNemarResult(len(joined), n11, n10, n01, n00, mcnemar_exact_p(n10, n01))


def binomial(k: int, n: int, p: float = 0.5) -> BinomialResult:
    """Two-sided exact binomial test of ``k`` of ``n`` against ``p``, with a Clopper-Pearson 95% interval."""
    if n == 0:
        return BinomialResult(0, 0, 1.0, None)
    return BinomialResult(k, n, binomial_p_value(k, n, p), clopper_pearson(k, n))


def slot_preference(verdicts: Iterable[str | None]) -> BinomialResult:
    """Slot-A share of the decisive verdicts ("A"/"B"; ties and missing verdicts left out) against 1/2."""
    values = list(verdicts)
    n_a = sum(v == "A" for v in values)
    n_b = sum(v == "B" for v in values)
    return binomial(n_a, n_a + n_b)


def pair_correctness(table: pd.DataFrame, protocol: str) -> pd.Series:
    """Per-pair correctness under a J1 protocol ("single" or "consistent"), indexed by pair id."""
    try:
        column = PROTOCOL_COLUMNS[protocol]
    except KeyError:
        raise ValueError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOL_COLUMNS)}") from None
    return pd.Series(table[column].to_numpy(dtype=float), index=table["pair_id"].to_numpy(), name=column)


def format_p(p: float | None) -> str:
    """A p-value for a table: three significant digits, '<1e-4' below that."""
    if p is None or (isinstance(p, float) and np.isnan(p)):
        return "—"
    if p < 1e-4:
        return "<1e-4"
    if p >= 0.01:
        return f"{p:.3f}"
    return f"{p:.2g}" if p < 0.001 else f"{p:.4f}"
