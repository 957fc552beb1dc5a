"""FollowBenchEval (EvalPlanner, Saha et al., 2025): constraint-following pairs, L1-L5.

The pairs were never released, so the project builds them from FollowBench. Local data
only: ``DATA_DIR/followbencheval/followbencheval.jsonl``, one pair a line with
``pair_id``, ``example_id``, ``category`` (content, situation, style, format, example,
mixed), ``level`` (1-5), ``instruction``, ``response_A``, ``response_B`` and ``label``
("A>B" or "B>A"). Subsets are the levels ``L1``..``L5``: ``results.json`` holds the
position-consistent accuracy overall and per level, as EvalPlanner and J1 report it.

Pairs made by ``python -m j1eval build followbencheval`` also carry ``rebuilt``,
``generator``, ``checker``, ``source``, ``constraints``, ``checks``, ``missed`` and
``provenance``: they are kept in each pair's ``meta``, and the loaded data's ``notes``
(recorded in a run's ``manifest.json``) say how many pairs are rebuilt and by which
generator and checker, so that no table takes them for the paper's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import Record, UniqueIds, ab_label, field, hashes, id_text, read_jsonl
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

FILE = "followbencheval.jsonl"
CATEGORIES = ("content", "situation", "style", "format", "example", "mixed")
LEVELS = (1, 2, 3, 4, 5)
WHAT = (
    f"'{FILE}' (the original FollowBenchEval pairs were never released: build pairs from FollowBench with "
    "`python -m j1eval build followbencheval --generator MODEL --checker MODEL`)"
)
#: Fields a rebuilt pair carries besides the loader's own; kept in the pair's meta.
REBUILT_FIELDS = ("rebuilt", "generator", "checker", "source", "constraints", "checks", "missed", "provenance")
REBUILT_NOTE = (
    "pairs rebuilt from FollowBench by `python -m j1eval build followbencheval`, not EvalPlanner's unreleased "
    "205 pairs: figures on them are not comparable with the paper's"
)


@benchmark("followbencheval")
class FollowBenchEval(Benchmark):
    title = "FollowBenchEval"
    folder = "followbencheval"
    j1_protocol = "consistent"

    what = WHAT

    def load_local(self, folder: Path) -> BenchmarkData | None:
        path = folder / FILE
        if not path.is_file():
            return None
        ids = UniqueIds()
        pairs = [self._pair(rec, path, loc, ids) for loc, rec in read_jsonl(path)]
        return BenchmarkData(pairs, source=str(path.parent), files=hashes([path]), notes=rebuilt_notes(pairs))

    def _pair(self, rec: Record, where: object, loc: str, ids: UniqueIds) -> Pair:
        pair_id = field(rec, "pair_id", where, loc)
        category = field(rec, "category", where, loc)
        if category not in CATEGORIES:
            raise InputError(
                f"expected one of {', '.join(CATEGORIES)}, got {category!r}", path=where, record=loc, field="category"
            )
        level = field(rec, "level", where, loc, int)
        if level not in LEVELS:
            raise InputError(f"expected 1 to 5, got {level!r}", path=where, record=loc, field="level")
        pair = Pair(
            pair_id=pair_id,
            bench=self.name,
            subset=f"L{level}",
            prompt=field(rec, "instruction", where, loc),
            response_1=field(rec, "response_A", where, loc),
            response_2=field(rec, "response_B", where, loc),
            label=ab_label(rec, where, loc),
            meta={
                "example_id": id_text(rec, "example_id", where, loc),
                "category": category,
                "level": level,
                **{k: rec[k] for k in REBUILT_FIELDS if k in rec},
            },
        )
        ids.add(pair_id, where, loc)
        return pair

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        return {"category": pair.meta["category"]}

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """official = j1: position-consistent accuracy (correct in both orders)."""
        both = table["correct_both"]
        return {"official": Figure(both), "j1": Figure(both)}


def rebuilt_notes(pairs: list[Pair]) -> dict[str, Any]:
    """``{"rebuilt": {...}}`` when some pairs say they were rebuilt: how many, by which generator and checker."""
    rebuilt = [p for p in pairs if p.meta.get("rebuilt")]
    if not rebuilt:
        return {}
    return {
        "rebuilt": {
            "pairs": len(rebuilt),
            "of": len(pairs),
            "generators": sorted({str(p.meta.get("generator")) for p in rebuilt}),
            "checkers": sorted({str(p.meta.get("checker")) for p in rebuilt}),
            "note": REBUILT_NOTE,
        }
    }
