"""Clopper-Pearson and Wilson intervals (j1eval.score.intervals) against independent computations."""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from j1eval.score.intervals import (
    Interval,
    beta_quantile,
    clopper_pearson,
    proportion_interval,
    regularized_beta,
    wilson,
)


def _binom_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed term by term."""
    return math.fsum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def _solve(f, target: float) -> float:
    """x in [0, 1] with f(x) = target, for f decreasing in x (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) > target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _cp_by_binomial(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson by definition: P(X >= k | low) = a/2 and P(X <= k | high) = a/2."""
    a = 1 - level
    # P(X >= k | low) = a/2 is P(X <= k - 1 | low) = 1 - a/2; both CDFs decrease in p.
    low = 0.0 if k == 0 else _solve(lambda p: _binom_cdf(k - 1, n, p), 1 - a / 2)
    high = 1.0 if k == n else _solve(lambda p: _binom_cdf(k, n, p), a / 2)
    return low, high


@pytest.mark.parametrize(
    ("k", "n"), [(0, 6), (6, 6), (3, 6), (1, 6), (5, 6), (0, 1), (1, 1), (7, 20), (0, 30), (17, 40), (49, 50)]
)
def test_clopper_pearson_matches_the_binomial_definition(k: int, n: int) -> None:
    got = clopper_pearson(k, n)
    want = _cp_by_binomial(k, n)
    assert got == pytest.approx(want, abs=1e-9)


def test_clopper_pearson_known_values() -> None:
    # 0/n and n/n have closed forms: upper (a/2)^(1/n) away from 1, and its mirror.
    assert clopper_pearson(0, 6) == (0.0, pytest.approx(1 - 0.025 ** (1 / 6), abs=1e-12))
    assert clopper_pearson(0, 6)[1] == pytest.approx(0.4593, abs=5e-5)
    assert clopper_pearson(6, 6) == (pytest.approx(0.025 ** (1 / 6), abs=1e-12), 1.0)
    low, high = clopper_pearson(3, 6)
    assert low == pytest.approx(1 - high, abs=1e-12)  # symmetric at k = n/2
    assert (low, high) == pytest.approx((0.1181, 0.8819), abs=5e-5)
    # other levels: 90% is inside 95%
    lo90, hi90 = clopper_pearson(3, 6, level=0.90)
    assert low < lo90 < 0.5 < hi90 < high


def test_clopper_pearson_large_n_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k, n in [(9000, 12700), (1, 12700), (12699, 12700), (175, 350), (0, 10200)]:
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        assert clopper_pearson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-10), (k, n)


def test_regularized_beta_against_exact_sums() -> None:
    # For integer a, b: I_x(a, b) = P(Binomial(a + b - 1, x) >= a).
    for a, b in [(1, 1), (2, 5), (7, 3), (20, 20), (1, 40)]:
        for x in (0.01, 0.3, 0.5, 0.77, 0.99):
            exact = 1 - _binom_cdf(a - 1, a + b - 1, x)
            assert regularized_beta(x, a, b) == pytest.approx(exact, abs=1e-12), (a, b, x)
    # Beta(1, 1) is uniform; quantiles invert the CDF.
    assert beta_quantile(0.3, 1, 1) == pytest.approx(0.3, abs=1e-14)
    assert regularized_beta(beta_quantile(0.025, 4, 9), 4, 9) == pytest.approx(0.025, abs=1e-13)


def test_wilson_by_hand() -> None:
    z = 1.959963984540054  # the 97.5% normal quantile
    for k, n in [(0, 6), (3, 6), (6, 6), (2, 9), (140, 350)]:
        p = Fraction(k, n)
        p_f = float(p)
        centre = (p_f + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * math.sqrt(p_f * (1 - p_f) / n + z * z / (4 * n * n))
        low, high = wilson(k, n)
        assert low == pytest.approx(max(0.0, centre - half), abs=1e-12)
        assert high == pytest.approx(min(1.0, centre + half), abs=1e-12)
    assert wilson(0, 6)[0] == 0.0 and wilson(6, 6)[1] == 1.0
    assert wilson(3, 6) == pytest.approx((0.1876, 0.8124), abs=5e-5)


def test_small_samples_cover_what_they_allow() -> None:
    """Six pairs say little: no interval collapses to a point, and 0/6 still allows 45%."""
    for k in range(7):
        for method in ("clopper-pearson", "wilson"):
            iv = proportion_interval(k, 6, method=method)
            assert iv.high - iv.low > 0.3, (k, method, iv)
            assert iv.low <= k / 6 <= iv.high
    assert proportion_interval(0, 6).as_list() == [0.0, pytest.approx(0.4593, abs=5e-5)]
    # Clopper-Pearson contains Wilson here (it is the conservative one).
    for k in range(7):
        cp, wi = clopper_pearson(k, 6), wilson(k, 6)
        assert cp[0] <= wi[0] + 1e-12 and wi[1] <= cp[1] + 1e-12


def test_interval_object_and_errors() -> None:
    iv = proportion_interval(np.int64(3), np.int64(6), level=0.9, method="wilson")
    assert isinstance(iv, Interval) and (iv.k, iv.n, iv.level, iv.method) == (3, 6, 0.9, "wilson")
    assert iv.rate == 0.5
    with pytest.raises(ValueError, match="n must be"):
        clopper_pearson(0, 0)
    with pytest.raises(ValueError, match="k must be"):
        wilson(7, 6)
    with pytest.raises(ValueError, match="level"):
        clopper_pearson(1, 2, level=1.0)
    with pytest.raises(TypeError):
        clopper_pearson(1.5, 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        wilson(True, 2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        proportion_interval(1, 2, method="normal")  # type: ignore[arg-type]


def test_import_does_not_load_scipy() -> None:
    code = "import sys, j1eval.score.intervals; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
