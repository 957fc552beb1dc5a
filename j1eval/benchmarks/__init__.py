"""Benchmark registry. A benchmark is one module here plus one line in ``BENCHMARKS``."""

from __future__ import annotations

from j1eval.benchmarks.base import Benchmark, BenchmarkData, resolve_data_dir
from j1eval.metrics import Figure
from j1eval.registry import Registry

#: benchmark name -> the module that registers it (imported when the benchmark is first used).
BENCHMARKS: Registry[type[Benchmark]] = Registry(
    "benchmark",
    {
        "judgebench": "j1eval.benchmarks.judgebench",
        "rewardbench": "j1eval.benchmarks.rewardbench",
        "rmbench": "j1eval.benchmarks.rmbench",
        "ppe": "j1eval.benchmarks.ppe",
        "followbencheval": "j1eval.benchmarks.followbencheval",
        "rewardbench2": "j1eval.benchmarks.rewardbench2",
        "pairs": "j1eval.benchmarks.pairs",
    },
)


def standard_benchmarks() -> list[str]:
    """What ``--bench all`` means: the published benchmarks, not ``pairs`` (the user's own)."""
    return [name for name in BENCHMARKS.names() if getattr(BENCHMARKS.get(name), "in_all", True)]


def load_installed(name: str, data_dir: object, role: str) -> BenchmarkData:
    """A benchmark's data for a use named by ``role`` ("evaluation", "decontamination").

    Bad data is an InputError as usual; absent data is one SetupError line naming the role.
    """
    from j1eval.errors import InputError, J1EvalError, SetupError

    try:
        return get_benchmark(name).load(resolve_data_dir(data_dir))  # type: ignore[arg-type]
    except InputError:
        raise
    except J1EvalError as exc:
        raise SetupError(f"{role} benchmark {name!r} is not installed: {exc}") from None


def benchmark(name: str):
    """Class decorator: register a :class:`Benchmark` subclass under ``name``."""

    def decorator(cls: type[Benchmark]) -> type[Benchmark]:
        cls.name = name
        return BENCHMARKS.register(name)(cls)

    return decorator


def get_benchmark(name: str) -> Benchmark:
    return BENCHMARKS.get(name)()


__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkData",
    "Figure",
    "benchmark",
    "get_benchmark",
    "load_installed",
    "resolve_data_dir",
    "standard_benchmarks",
]
