"""What a benchmark module provides: a loader and its scoring rules."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from j1eval.types import Pair

DATA_DIR_ENV = "J1EVAL_DATA_DIR"


@dataclass
class BenchmarkData:
    """The pairs of one benchmark and where they came from."""

    pairs: list[Pair]
    source: str  # a local folder, or "hf:<dataset id>@<revision>"
    files: dict[str, str] = field(default_factory=dict)  # file path -> sha256
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. {"ties_dropped": 5838}
    missing: list[str] = field(default_factory=list)  # parts of the benchmark that are absent


@dataclass(frozen=True)
class Figure:
    """A score = weighted mean over groups of the mean of per-pair values.

    ``values`` is aligned with the scoring table's rows (NaN = the pair does not
    count). ``groups`` gives each pair's group (None: one group, a plain mean);
    ``weights`` each group's weight (None: equal weights), renormalised over the
    groups present. When a group in ``required`` has no pair, the figure is
    incomplete: the scorer reports it as None with the present-groups value beside it.
    """

    values: pd.Series
    groups: pd.Series | None = None
    weights: Mapping[str, float] | None = None
    required: frozenset[str] = frozenset()


class Benchmark:
    """Base class of a benchmark module. Subclasses register with ``@benchmark(name)``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    folder: ClassVar[str] = ""  # folder under the data dir
    #: J1's headline protocol for this benchmark: "single" (one seeded random
    #: order) or "consistent" (correct in both orders).
    j1_protocol: ClassVar[str] = "single"

    def load(self, data_dir: str | Path | None = None) -> BenchmarkData:
        """Load the pairs from ``data_dir/<folder>`` or the official source."""
        raise NotImplementedError

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        """Extra per-pair columns the scoring rules need (section, domain, cell...)."""
        return {}

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """Benchmark-specific figures for ``table`` (one row per pair).

        Must include ``official`` and ``j1``. The table holds the columns made by
        :func:`j1eval.metrics.pair_table` plus :meth:`pair_columns`.
        """
        j1 = table["correct_single"] if self.j1_protocol == "single" else table["correct_both"]
        return {"official": Figure(j1), "j1": Figure(j1)}


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """The data directory from the flag, else ``$J1EVAL_DATA_DIR``, else None."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
