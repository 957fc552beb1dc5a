"""Benchmark registry. A benchmark is one module here plus one import line below."""

from __future__ import annotations

from j1eval.benchmarks.base import Benchmark, BenchmarkData, Figure, resolve_data_dir
from j1eval.registry import Registry

BENCHMARKS: Registry[type[Benchmark]] = Registry("benchmark")


def benchmark(name: str):
    """Class decorator: register a :class:`Benchmark` subclass under ``name``."""

    def decorator(cls: type[Benchmark]) -> type[Benchmark]:
        cls.name = name
        return BENCHMARKS.register(name)(cls)

    return decorator


def get_benchmark(name: str) -> Benchmark:
    return BENCHMARKS.get(name)()


# Registration happens on import: one line per benchmark module.
from j1eval.benchmarks import judgebench, rewardbench, rmbench, ppe, followbencheval  # noqa: E402,F401,I001

__all__ = ["BENCHMARKS", "Benchmark", "BenchmarkData", "Figure", "benchmark", "get_benchmark", "resolve_data_dir"]
