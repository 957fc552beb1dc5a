"""Pairs of your own, such as those ``python -m j1train data`` builds, as a benchmark.

Local data only: ``DATA_DIR/pairs.jsonl`` (so ``--data-dir`` can be the builder's output
folder), else every ``DATA_DIR/pairs/*.jsonl``. One pair a line, j1eval's pair model:
``pair_id``, ``prompt``, ``response_1``, ``response_2``, ``label`` (1 or 2: the better
response), optional ``subset`` (default ``pairs``); every other field (the builder's
``provenance``, for instance) is kept in the pair's ``meta``. Scored as J1 scores its
two-order benchmarks: position-consistent accuracy (correct in both orders) is both
``official`` and ``j1``.

It is not part of ``--bench all`` (the five J1 benchmarks): name it, ``--bench pairs``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import Record, UniqueIds, field, hashes, id_text, read_jsonl
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import DataNotFoundError, InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

FILE = "pairs.jsonl"
DEFAULT_SUBSET = "pairs"
KEYS = ("pair_id", "prompt", "response_1", "response_2", "label", "subset")


@benchmark("pairs")
class Pairs(Benchmark):
    title = "Pairs (your own)"
    folder = "pairs"
    j1_protocol = "consistent"
    #: Not expanded by ``--bench all``: the data is the user's, not a published benchmark.
    in_all: ClassVar[bool] = False

    def files(self, data_dir: str | Path | None) -> list[Path]:
        """``DATA_DIR/pairs.jsonl``, else ``DATA_DIR/pairs/*.jsonl`` (sorted); [] when neither exists."""
        if data_dir is None:
            return []
        single = Path(data_dir) / FILE
        if single.is_file():
            return [single]
        folder = Path(data_dir) / self.folder
        return sorted(folder.glob("*.jsonl")) if folder.is_dir() else []

    def load_local(self, folder: Path) -> BenchmarkData | None:
        files = self.files(folder.parent)
        if not files:
            return None
        ids = UniqueIds()
        pairs = [self._pair(rec, path, loc, ids) for path in files for loc, rec in read_jsonl(path)]
        if not pairs:
            raise InputError("no pairs (the file is empty)", path=files[0] if len(files) == 1 else files[0].parent)
        return BenchmarkData(pairs, source=str(files[0].parent), files=hashes(files))

    def not_found(self, data_dir: str | Path | None, hub_reason: str | None = None) -> Exception:
        where = f"{Path(data_dir)}/" if data_dir is not None else "DATA_DIR/ and pass --data-dir DATA_DIR"
        return DataNotFoundError(
            f"{self.title} data not found: put {FILE} (or pairs/*.jsonl; e.g. the output folder of "
            f"`python -m j1train data`) into {where}"
        )

    def _pair(self, rec: Record, where: Path, loc: str, ids: UniqueIds) -> Pair:
        pair_id = id_text(rec, "pair_id", where, loc)
        label = field(rec, "label", where, loc, int)
        if label not in (1, 2):
            raise InputError(f"expected 1 or 2, got {label!r}", path=where, record=loc, field="label")
        subset = field(rec, "subset", where, loc) if rec.get("subset") is not None else DEFAULT_SUBSET
        pair = Pair(
            pair_id=pair_id,
            bench=self.name,
            subset=subset,
            prompt=field(rec, "prompt", where, loc),
            response_1=field(rec, "response_1", where, loc),
            response_2=field(rec, "response_2", where, loc),
            label=label,
            meta={k: v for k, v in rec.items() if k not in KEYS},
        )
        ids.add(pair_id, where, loc)
        return pair

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """official = j1: position-consistent accuracy (correct in both orders)."""
        both = table["correct_both"]
        return {"official": Figure(both), "j1": Figure(both)}
