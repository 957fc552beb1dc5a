"""What a benchmark module provides: a loader and its scoring rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from j1eval.benchmarks import _sources
from j1eval.score.figures import PROTOCOL_COLUMNS, Figure
from j1eval.types import Pair


@dataclass
class BenchmarkData:
    """The pairs of one benchmark and where they came from."""

    pairs: list[Pair]
    source: str  # a local folder, or "hf:<dataset id>@<revision>"
    files: dict[str, str] = field(default_factory=dict)  # file path -> sha256
    notes: dict[str, Any] = field(default_factory=dict)  # e.g. {"ties_dropped": 5838}
    missing: list[str] = field(default_factory=list)  # parts of the benchmark that are absent


class Benchmark:
    """Base class of a benchmark module. Subclasses register with ``@benchmark(name)``."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    folder: ClassVar[str] = ""  # folder under the data dir
    #: J1's headline protocol for this benchmark: "single" (one seeded random
    #: order) or "consistent" (correct in both orders).
    j1_protocol: ClassVar[str] = "single"
    #: Which order is J1's "one random order" per pair: "seeded" (drawn by sha256(f"{seed}:{pair_id}"),
    #: for files that always put the better response first) or "dataset" (order "ab", as the file gives it).
    single_order: ClassVar[str] = "seeded"

    #: The official copy on the Hugging Face hub: (dataset id, split, revision); None when there is none.
    hub: ClassVar[tuple[str, str, str] | None] = None
    #: Whether each row of the hub copy is one pair (then the hub's metadata gives the pair count).
    hub_rows_are_pairs: ClassVar[bool] = False
    #: Which files to get and from where, for the one-line "data not found" error.
    what: ClassVar[str] = ""

    def load(self, data_dir: str | Path | None = None) -> BenchmarkData:
        """The pairs from ``data_dir/<folder>`` (:meth:`load_local`), else from the hub (:meth:`load_hub`).

        Found in neither: one :class:`~j1eval.errors.DataNotFoundError` line saying what to get.
        """
        folder = Path(data_dir) / self.folder if data_dir is not None else None
        data = self.load_local(folder) if folder is not None else None
        return data if data is not None else self.load_hub(data_dir)

    def load_local(self, folder: Path) -> BenchmarkData | None:
        """The pairs in the benchmark's local folder; None when it holds none of the benchmark's files."""
        return None

    def load_hub(self, data_dir: str | Path | None) -> BenchmarkData:
        """The pairs of the hub copy (:meth:`from_hub_rows`), or the not-found error."""
        if self.hub is None:
            raise self.not_found(data_dir)
        dataset_id, split, revision = self.hub
        try:
            rows = _sources.load_hub(dataset_id, split, revision)
        except _sources.HubError as exc:
            raise self.not_found(data_dir, f"hub dataset {dataset_id} unreachable: {exc}") from None
        return self.from_hub_rows(rows, _sources.hub_source(dataset_id, revision))

    def from_hub_rows(self, rows: list[tuple[str, dict[str, Any]]], where: str) -> BenchmarkData:
        """The pairs of the hub's ``(location, record)`` rows; ``where`` names the dataset and commit."""
        raise NotImplementedError

    def not_found(self, data_dir: str | Path | None, hub_reason: str | None = None) -> Exception:
        """The one-line error for data found neither locally nor on the hub."""
        folder = Path(data_dir) if data_dir else None
        return _sources.data_not_found(self.title, self.what, self.folder, folder, hub_reason)

    def count(self, data_dir: str | Path | None = None) -> tuple[int | None, str, list[str]]:
        """(number of pairs or None when unknown, where the data is, parts missing), never downloading a dataset.

        Local files are read (they are at hand); for the hub the count comes from the dataset's
        metadata where :attr:`hub_rows_are_pairs` and the metadata says, else it is None.
        """
        folder = Path(data_dir) / self.folder if data_dir is not None else None
        data = self.load_local(folder) if folder is not None else None
        if data is not None:
            return len(data.pairs), data.source, data.missing
        if _sources.hub_unreachable() is not None or (self.hub is None and type(self).load_hub is Benchmark.load_hub):
            self.load_hub(data_dir)  # with no hub to reach, this raises the not-found error at once
        if self.hub is None:  # several hub datasets (PPE): counting them would mean reading them
            return None, "the hub (not downloaded)", []
        dataset_id, split, revision = self.hub
        n = _sources.hub_rows(dataset_id, split, revision) if self.hub_rows_are_pairs else None
        return n, f"hf:{dataset_id} (on the hub, not downloaded)", []

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        """Extra per-pair columns the scoring rules need (section, domain, cell...)."""
        return {}

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """Benchmark-specific figures for ``table`` (one row per pair).

        Must include ``official`` and ``j1``. The table holds the columns made by
        :func:`j1eval.score.metrics.pair_table` plus :meth:`pair_columns`.
        """
        j1 = table[PROTOCOL_COLUMNS[self.j1_protocol]]
        return {"official": Figure(j1), "j1": Figure(j1)}
