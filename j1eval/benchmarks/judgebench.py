"""JudgeBench (Tan et al., 2024): objectively correct vs incorrect responses.

Local data: every ``*.jsonl`` in ``DATA_DIR/judgebench/`` in the official format
(``dataset=judgebench,response_model=<model>.jsonl`` from the repository's ``data/``;
the GPT-4o and the Claude-3.5-Sonnet files may sit side by side and are both loaded,
in file-name order). Hub fallback: ``ScalerLab/JudgeBench``, split ``gpt``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import (
    Located,
    Record,
    UniqueIds,
    ab_label,
    field,
    find_files,
    hashes,
    read_jsonl,
)
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

HF_ID = "ScalerLab/JudgeBench"
HF_SPLIT = "gpt"
#: Not pinned to a commit: the hub dataset's commit hash could not be checked offline.
HF_REVISION = "main"
WHAT = "the official file(s) 'dataset=judgebench,response_model=*.jsonl' from github.com/ScalerLab/JudgeBench data/"

#: ``source`` prefix -> subset.
SUBSET_OF_SOURCE = (
    ("mmlu-pro", "knowledge"),
    ("livebench-reasoning", "reasoning"),
    ("livebench-math", "math"),
    ("livecodebench", "coding"),
)


def subset_of(source: str) -> str | None:
    """JudgeBench's category for a ``source`` value, or None if unknown."""
    for prefix, subset in SUBSET_OF_SOURCE:
        if source == prefix or source.startswith(prefix + "-"):
            return subset
    return None


@benchmark("judgebench")
class JudgeBench(Benchmark):
    title = "JudgeBench"
    folder = "judgebench"
    j1_protocol = "consistent"

    hub = (HF_ID, HF_SPLIT, HF_REVISION)
    hub_rows_are_pairs = True
    what = WHAT

    def load_local(self, folder: Path) -> BenchmarkData | None:
        files = find_files(folder, ["*.jsonl"])
        if not files:
            return None
        ids = UniqueIds()
        pairs = [self._pair(rec, f, loc, ids) for f in files for loc, rec in read_jsonl(f)]
        return BenchmarkData(pairs, source=str(folder), files=hashes(files))

    def from_hub_rows(self, rows: list[Located], where: str) -> BenchmarkData:
        ids = UniqueIds()
        return BenchmarkData([self._pair(rec, where, loc, ids) for loc, rec in rows], source=where)

    def _pair(self, rec: Record, where: object, loc: str, ids: UniqueIds) -> Pair:
        pair_id = field(rec, "pair_id", where, loc)
        source = field(rec, "source", where, loc)
        subset = subset_of(source)
        if subset is None:
            known = ", ".join(p for p, _ in SUBSET_OF_SOURCE)
            raise InputError(
                f"unknown source {source!r} (expected {known}[-*])", path=where, record=loc, field="source"
            )
        pair = Pair(
            pair_id=pair_id,
            bench=self.name,
            subset=subset,
            prompt=field(rec, "question", where, loc),
            response_1=field(rec, "response_A", where, loc),
            response_2=field(rec, "response_B", where, loc),
            label=ab_label(rec, where, loc),
            meta={
                "source": source,
                "original_id": field(rec, "original_id", where, loc, (str, int), nullable=True),  # null for LiveBench
                "response_model": field(rec, "response_model", where, loc),
            },
        )
        ids.add(pair_id, where, loc)
        return pair

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """official: the sum of both orders' points is positive; j1: correct in both orders."""
        both = table["judged_ab"] & table["judged_ba"]
        official = ((table["points_ab"] + table["points_ba"]) > 0).astype(float).where(both)
        return {"official": Figure(official), "j1": Figure(table["correct_both"])}
