"""j1eval: evaluate LLM judges on pairwise benchmarks under both answer orders.

Library use::

    from j1eval import RunConfig, run
    outcome = run(RunConfig(judge="longer", benches=["judgebench"], out="runs/longer"))
    outcome.results["judgebench"]["overall"]["j1"]
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy exports keep `import j1eval` light (no pandas/torch at import time).
    if name == "RunConfig":
        from j1eval.judging.config import RunConfig

        return RunConfig
    if name in ("run", "RunOutcome"):
        from j1eval.judging import runner

        return getattr(runner, name)
    if name == "score_bench":
        from j1eval.score.bench import score_bench

        return score_bench
    if name == "read_judgments":
        from j1eval.store.records import read_judgments

        return read_judgments
    raise AttributeError(name)


__all__ = ["RunConfig", "RunOutcome", "read_judgments", "run", "score_bench"]
