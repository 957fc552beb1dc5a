"""Scoring stored verdicts: the per-pair table, figures with intervals, significance tests, SC@N samples,
test-time scaling and k-way (best-of-4) figures."""
