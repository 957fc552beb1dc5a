"""The exact binomial test in j1eval.score.stats (plain Python) against scipy's binomtest, and its import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest
from scipy.stats import binomtest

from j1eval.score.stats import binomial, binomial_p_value, mcnemar_exact_p


@pytest.mark.parametrize("n", [1, 2, 5, 6, 17, 100, 1001])
@pytest.mark.parametrize("p", [0.5, 0.3, 0.9, 0.02])
def test_p_value_equals_scipy(n: int, p: float) -> None:
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        expected = binomtest(k, n, p, alternative="two-sided").pvalue
        assert binomial_p_value(k, n, p) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_by_hand() -> None:
    # 0 of 6 against 1/2: P(0) + P(6) = 2 / 64.
    assert binomial_p_value(0, 6) == pytest.approx(2 / 64)
    # 1 of 6: P(0) + P(1) + P(5) + P(6) = (1 + 6 + 6 + 1) / 64.
    assert binomial_p_value(1, 6) == pytest.approx(14 / 64)
    assert binomial_p_value(3, 6) == 1.0
    assert mcnemar_exact_p(0, 0) == 1.0
    assert mcnemar_exact_p(5, 0) == pytest.approx(2 / 32)


def test_binomial_interval_is_exact() -> None:
    result = binomial(0, 6)
    assert result.ci is not None
    assert result.ci[0] == 0.0 and result.ci[1] == pytest.approx(0.4593, abs=1e-4)
    ci = binomtest(13, 40).proportion_ci(confidence_level=0.95, method="exact")
    assert binomial(13, 40).ci == pytest.approx((ci.low, ci.high), rel=1e-9)


def test_bad_counts() -> None:
    with pytest.raises(ValueError):
        binomial_p_value(7, 6)


def test_no_scipy_import() -> None:
    code = "import sys, j1eval.score.stats; print(any(m.startswith('scipy') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
