"""What a run is asked to do (``RunConfig``), checked once, before any data or model loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from j1eval.errors import InputError, check_seed
from j1eval.flags import flag
from j1eval.judging.executors import ExecutorConfig
from j1eval.orders import ORDER_MODES
from j1eval.score.intervals import N_BOOTSTRAP

if TYPE_CHECKING:
    from j1eval.benchmarks import Benchmark, BenchmarkData
    from j1eval.types import Pair

#: Each benchmark of a run: (benchmark, its data, the pairs this run covers).
Loaded = dict[str, tuple["Benchmark", "BenchmarkData", list["Pair"]]]


@dataclass
class RunConfig:
    """What ``python -m j1eval run`` does; the fields with :func:`~j1eval.flags.flag` metadata are its flags."""

    judge: str = field(
        metadata=flag("a judge name (see `list`), hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@URL", required=True)
    )
    benches: Sequence[str] = field(
        metadata=flag("NAME[,NAME...] or all", name="--bench", required=True, parse=lambda value: [value])
    )
    out: Path | None = field(default=None, metadata=flag("run directory (default: runs/<judge>__<benches>)", type=Path))
    data_dir: Path | None = field(
        default=None,
        metadata=flag(
            "folder with one subfolder per benchmark (default: $J1EVAL_DATA_DIR, else the official sources)",
            type=Path,
        ),
    )
    limit: int | None = field(
        default=None, metadata=flag("the first N pairs of each benchmark (stable order)", type=int)
    )
    sample: int | None = field(
        default=None,
        metadata=flag(
            "a seeded sample of N pairs of each benchmark, across all its subsets (stable; grows by adding pairs)",
            type=int,
        ),
    )
    seed: int = field(default=0, metadata=flag("0 to 2**32-1", type=int))
    order: str = field(default="both", metadata=flag(choices=ORDER_MODES))
    samples: int = field(default=1, metadata=flag("N samples per judgment: SC@N or Mean-Score@N", type=int))
    format: str | None = field(default=None, metadata=flag("prompt format (default: the judge's)"))
    model: str | None = field(default=None, metadata=flag("model path or id overriding the judge's"))
    max_tokens: int | None = field(default=None, metadata=flag(type=int))
    temperature: float | None = field(default=None, metadata=flag(type=float))
    top_p: float | None = field(default=None, metadata=flag(type=float))
    #: ``--backend-option KEY=VALUE`` and the backend shortcuts (``--batch-size``...): see :mod:`j1eval.cli`.
    backend_options: dict[str, Any] = field(default_factory=dict)
    executor: ExecutorConfig = field(default_factory=ExecutorConfig)  # operational: where prompts are judged
    progress: bool = field(default=True, metadata=flag(name="--no-progress", action="store_false"))
    n_boot: int = N_BOOTSTRAP
    command: list[str] | None = None

    def check(self) -> None:
        """Every value that needs no data or model, checked here once (one line naming the flag)."""
        check_seed(self.seed)
        if self.samples < 1:
            raise InputError(f"--samples must be at least 1, got {self.samples}")
        if self.limit is not None and self.limit < 1:
            raise InputError(f"--limit must be at least 1, got {self.limit}")
        if self.sample is not None and self.sample < 1:
            raise InputError(f"--sample must be at least 1, got {self.sample}")
        if self.sample is not None and self.limit is not None:
            raise InputError("--limit and --sample pick pairs in different ways: give one of them")
        if self.order not in ORDER_MODES:
            raise InputError(f"--order must be one of {', '.join(ORDER_MODES)}, got {self.order!r}")
        self.executor.check()  # executor flags are checked before any data or model loads
