"""Confidence intervals for a proportion k/n, in pure Python (no scipy import).

- :func:`clopper_pearson`: the exact interval, from quantiles of the beta distribution
  (the regularized incomplete beta by its continued fraction, inverted by bisection).
  It never undercovers, and it says what few pairs allow: 0 right out of 6 gives [0, 0.459].
- :func:`wilson`: the Wilson score interval (closed form; narrower, about nominal coverage).
- :func:`plain_count`: whether per-item numerators and denominators are a plain count k of n.

Both take integer counts; ``level`` is the two-sided confidence (0.95 by default).
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

Method = Literal["clopper-pearson", "wilson"]
DEFAULT_LEVEL = 0.95

_BISECTIONS = 200  # enough for the float grid on [0, 1]: the loop stops when the midpoint stops moving
_CF_EPS = 1e-16
_CF_TINY = 1e-300
_CF_MAX_TERMS = 100_000

#: Bootstrap resamples for the intervals of weighted or grouped figures (plain shares are exact).
N_BOOTSTRAP = 1000


@dataclass(frozen=True)
class Interval:
    """``k`` successes out of ``n`` and a two-sided interval for the proportion."""

    k: int
    n: int
    low: float
    high: float
    level: float = DEFAULT_LEVEL
    method: Method = "clopper-pearson"

    @property
    def rate(self) -> float:
        return self.k / self.n

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def proportion_interval(k: int, n: int, level: float = DEFAULT_LEVEL, method: Method = "clopper-pearson") -> Interval:
    """The interval for k/n by ``method`` ("clopper-pearson" or "wilson")."""
    if method == "clopper-pearson":
        low, high = clopper_pearson(k, n, level)
    elif method == "wilson":
        low, high = wilson(k, n, level)
    else:
        raise ValueError(f"unknown interval method {method!r}; use 'clopper-pearson' or 'wilson'")
    return Interval(operator.index(k), operator.index(n), low, high, level, method)


def plain_count(num: Iterable[float], den: Iterable[float]) -> tuple[int, int] | None:
    """``(k, n)`` when per-item ``num`` / ``den`` make a plain count (every ``den`` 0 or 1, every ``num`` 0 or 1
    and at most its ``den``), so that sum(num) / sum(den) is a proportion of n items; else None (also for n = 0).

    The scorer gives such a figure (accuracy in one order, consistent accuracy, flip rate...) an exact
    interval; a figure weighted over groups, or counting two judgments per pair, keeps the bootstrap.
    """
    import numpy as np  # vectorised: the scorer asks this of every figure, at a million pairs

    a, b = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"num and den differ in length: {a.shape} vs {b.shape}")
    if not (((b == 0) | (b == 1)).all() and ((a == 0) | (a == 1)).all() and (a <= b).all()):
        return None
    n = int(b.sum())
    return (int(a.sum()), n) if n else None


@functools.lru_cache(maxsize=4096)  # a pure function of its counts: figures often share them
def clopper_pearson(k: int, n: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval: Beta(a/2; k, n-k+1) to Beta(1-a/2; k+1, n-k), a = 1 - level."""
    k, n = _check(k, n, level)
    alpha = 1.0 - level
    low = 0.0 if k == 0 else beta_quantile(alpha / 2, k, n - k + 1)
    high = 1.0 if k == n else beta_quantile(1 - alpha / 2, k + 1, n - k)
    return low, high


def wilson(k: int, n: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Wilson score interval: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    k, n = _check(k, n, level)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    z2n = z * z / n
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / n + z2n / (4 * n))
    # At k = 0 or k = n one bound is exactly 0 or 1; clamp the float rounding there.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x in [0, 1] with I_x(a, b) = q, by bisection (I is increasing in x)."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {q!r}")
    lo, hi = 0.0, 1.0
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if regularized_beta(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the regularized incomplete beta function (CDF of Beta(a, b) at x)."""
    if a <= 0 or b <= 0:
        raise ValueError(f"beta parameters must be positive, got a={a!r}, b={b!r}")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    # The continued fraction converges fast for x < (a + 1) / (a + b + 2); else use I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1) / (a + b + 2):
        return front * _beta_fraction(x, a, b) / a
    return 1.0 - front * _beta_fraction(1.0 - x, b, a) / b


def _beta_fraction(x: float, a: float, b: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _CF_TINY else _CF_TINY)
    h = d
    for m in range(1, _CF_MAX_TERMS + 1):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > _CF_TINY else _CF_TINY)
            c = 1.0 + aa / c
            c = c if abs(c) > _CF_TINY else _CF_TINY
            delta = d * c
            h *= delta
        if abs(delta - 1.0) < _CF_EPS:
            return h
    raise ArithmeticError(f"incomplete beta continued fraction did not converge (x={x}, a={a}, b={b})")


def _check(k: int, n: int, level: float) -> tuple[int, int]:
    """``(k, n)`` as ints (numpy integers accepted), after checking the counts and the level."""
    counts = []
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool):
            raise TypeError(f"{name} must be an integer count, got {v!r}")
        try:
            counts.append(operator.index(v))
        except TypeError:
            raise TypeError(f"{name} must be an integer count, got {v!r}") from None
    k, n = counts
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n={n}], got {k}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return k, n
