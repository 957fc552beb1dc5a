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
    if name in ("run", "RunConfig", "RunOutcome"):
        from j1eval import runner

        return getattr(runner, name)
    if name in ("score_bench", "read_judgments"):
        from j1eval import scoring

        return getattr(scoring, name)
    raise AttributeError(name)


__all__ = ["RunConfig", "RunOutcome", "read_judgments", "run", "score_bench"]
