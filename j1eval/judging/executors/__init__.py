"""Where a run's prompts are judged: in this process (``local``) or on replicas over a Ray cluster (``ray``).

An executor turns a judge into the :class:`~j1eval.backends.Backend` that
:func:`j1eval.judging.generation.generate` drives: ``local`` builds the judge's own backend here;
``ray`` builds one backend per replica inside Ray actors and returns a backend that hands
them bundles of whole pairs. Either way the run's store, lock and manifest stay in the
driver, so resume and every figure are the same. Executor settings are operational: they
are not part of the judge's identity, and a run may be resumed under another executor.
Adding an executor is one module plus one line in :data:`EXECUTORS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from j1eval.backends import Backend
from j1eval.errors import InputError
from j1eval.flags import flag
from j1eval.judges import JudgeSpec
from j1eval.registry import Registry

#: Builds the backend a run drives from its judge and the executor's settings.
Opener = Callable[[JudgeSpec, "ExecutorConfig"], Backend]

#: executor name -> module that registers it (imported only when used: Ray only for ``ray``).
EXECUTORS: Registry[Opener] = Registry(
    "executor",
    {
        "local": "j1eval.judging.executors.local",
        "ray": "j1eval.judging.executors.ray_actors",
    },
)


def executor(name: str) -> Callable[[Opener], Opener]:
    """Decorator: register an opener under ``name``."""
    return EXECUTORS.register(name)


@dataclass(frozen=True)
class ExecutorConfig:
    """How a run is spread out (``run --executor ... --ray-address ... --replicas ...``)."""

    name: str = field(
        default="local",
        metadata=flag("ray: replicas of the judge on a Ray cluster", name="--executor", choices=["local", "ray"]),
    )
    ray_address: str | None = field(  # None: a cluster already joined, $RAY_ADDRESS, else a local one
        default=None, metadata=flag("HOST:PORT of a Ray head (default: $RAY_ADDRESS, else local)")
    )
    replicas: int | None = field(  # None: one per replica's worth of the cluster's GPUs, or 1
        default=None, metadata=flag("Ray replicas (default: one per GPU share, else 1)", type=int)
    )
    replica_cpus: float = field(default=1.0, metadata=flag("CPUs Ray reserves per replica", type=float))
    replica_gpus: float | None = field(  # None: the judge's GPU need (vLLM: its TP size) on a GPU cluster, else 0
        default=None, metadata=flag("GPUs per replica (default: the judge's need)", type=float)
    )
    bundle_size: int | None = None  # requests per bundle; None: the backend's own, else sized from the run

    def check(self) -> ExecutorConfig:
        """This config, or InputError naming the flag that is wrong (before any model loads)."""
        if self.name not in EXECUTORS:
            raise InputError(f"--executor {self.name!r}: unknown; known: {', '.join(EXECUTORS.names())}")
        if self.name != "ray":
            given = [
                flag
                for flag, value in (
                    ("--ray-address", self.ray_address),
                    ("--replicas", self.replicas),
                    ("--replica-gpus", self.replica_gpus),
                )
                if value is not None
            ]
            if given:
                raise InputError(f"{', '.join(given)}: only with --executor ray")
        for option, value, low in (
            ("--replicas", self.replicas, 1),
            ("--replica-cpus", self.replica_cpus, 0),
            ("--replica-gpus", self.replica_gpus, 0),
            ("bundle_size", self.bundle_size, 1),
        ):
            if value is not None and value < low:
                raise InputError(f"{option} must be at least {low}, got {value}")
        return self

    def describe(self) -> dict[str, Any]:
        """What the manifest records of it (operational: never part of a cache key)."""
        return {key: value for key, value in self.__dict__.items() if value is not None}


def open_backend(spec: JudgeSpec, config: ExecutorConfig | None = None) -> Backend:
    """The backend a run drives for ``spec``: its own (``local``) or replicas of it (``ray``)."""
    config = (config or ExecutorConfig()).check()
    return EXECUTORS.get(config.name)(spec, config)


__all__ = ["EXECUTORS", "ExecutorConfig", "Opener", "executor", "open_backend"]
