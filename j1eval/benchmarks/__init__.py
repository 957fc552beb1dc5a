"""Benchmark registry. A benchmark is one module here plus one line in ``BENCHMARKS``."""

from __future__ import annotations

from j1eval.benchmarks._sources import resolve_data_dir
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.registry import Registry
from j1eval.score.figures import Figure

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


def single_order_rule(name: str) -> str:
    """A benchmark's single-order rule (:func:`j1eval.orders.single_order_by_rule`); "seeded" for a name
    no benchmark has (judgments imported from elsewhere)."""
    return getattr(BENCHMARKS.get(name), "single_order", "seeded") if name in BENCHMARKS.names() else "seeded"


__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "BenchmarkData",
    "Figure",
    "benchmark",
    "get_benchmark",
    "load_installed",
    "resolve_data_dir",
    "single_order_rule",
    "standard_benchmarks",
]
