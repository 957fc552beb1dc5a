"""RM-Bench (Liu et al., 2024): 3 chosen x 3 rejected responses in three styles per prompt.

Local data in ``DATA_DIR/rmbench/``: the official per-domain files ``chat_filtered.json``,
``code_filtered.json``, ``math_filtered.json``, ``safety-refuse_filtered.json``,
``safety-response_filtered.json`` (read in that order); or, when none of them is there,
the official combined ``total_dataset.json``, whose records carry ``domain`` (chat, code,
math, safety-refuse or safety-response). Hub fallback: ``THU-KEG/RM-Bench`` (same
records as ``total_dataset.json``).

Each prompt gives 9 pairs, ``"{domain}:{id}:{i}:{j}"``: chosen style ``i`` (response 1,
label 1) vs rejected style ``j``; styles 0 concise, 1 detailed plain, 2 detailed
markdown. Domain is chat, code, math or safety (the two safety files together).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import (
    Located,
    Record,
    UniqueIds,
    field,
    hashes,
    id_text,
    read_json_list,
)
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

HF_ID = "THU-KEG/RM-Bench"
#: The hub copy is one JSON file, which ``datasets`` exposes as split "train" (assumed, not verified offline).
HF_SPLIT = "train"
#: Not pinned to a commit: the hub dataset's commit hash could not be checked offline.
HF_REVISION = "main"
WHAT = (
    "the official files '{chat,code,math,safety-refuse,safety-response}_filtered.json' "
    "(or 'total_dataset.json') from github.com/THU-KEG/RM-Bench data/"
)

DOMAINS = ("chat", "code", "math", "safety")
#: File part -> domain, in load order.
PARTS = {"chat": "chat", "code": "code", "math": "math", "safety-refuse": "safety", "safety-response": "safety"}
TOTAL_FILE = "total_dataset.json"
STYLES = ("concise", "detailed_plain", "detailed_markdown")
CELLS = ("easy", "normal", "hard")
#: Fields copied into ``meta`` when present (chat: error_key/error; code: language/task_id).
META_FIELDS = ("subset", "error_key", "error", "language", "task_id")


def cell_of(i: int, j: int) -> str:
    """hard: the chosen is plainer than the rejected (i < j); normal: same style; easy: i > j."""
    return "hard" if i < j else "normal" if i == j else "easy"


def part_file(part: str) -> str:
    return f"{part}_filtered.json"


@benchmark("rmbench")
class RMBench(Benchmark):
    title = "RM-Bench"
    folder = "rmbench"
    j1_protocol = "single"
    single_order = "seeded"  # chosen is always response_1 in the files: the order is drawn per pair

    hub = (HF_ID, HF_SPLIT, HF_REVISION)
    what = WHAT

    def load_local(self, folder: Path) -> BenchmarkData | None:
        if not folder.is_dir():
            return None
        ids = UniqueIds()
        part_files = [(part, folder / part_file(part)) for part in PARTS if (folder / part_file(part)).is_file()]
        if part_files:
            pairs = [
                p
                for part, f in part_files
                for loc, rec in read_json_list(f)
                for p in self._pairs(rec, f, loc, part, ids)
            ]
            present = {part for part, _ in part_files}
            return BenchmarkData(
                pairs, source=str(folder), files=hashes(f for _, f in part_files), missing=_missing(present)
            )
        total = folder / TOTAL_FILE
        if total.is_file():
            pairs = self._from_total(read_json_list(total), total, ids)
            return BenchmarkData(pairs, source=str(folder), files=hashes([total]), missing=_missing_of(pairs))
        return None

    def from_hub_rows(self, rows: list[Located], where: str) -> BenchmarkData:
        pairs = self._from_total(rows, where, UniqueIds())
        return BenchmarkData(pairs, source=where, missing=_missing_of(pairs))

    def _from_total(self, rows: list[Located], where: object, ids: UniqueIds) -> list[Pair]:
        pairs: list[Pair] = []
        for loc, rec in rows:
            part = field(rec, "domain", where, loc)
            if part not in PARTS and part != "safety":  # "safety" alone: both halves in one
                known = ", ".join(PARTS)
                raise InputError(f"unknown domain {part!r} (expected {known})", path=where, record=loc, field="domain")
            pairs.extend(self._pairs(rec, where, loc, part, ids))
        return pairs

    def _pairs(self, rec: Record, where: object, loc: str, part: str, ids: UniqueIds) -> list[Pair]:
        domain = PARTS.get(part, part)
        rid = id_text(rec, "id", where, loc)
        prompt = field(rec, "prompt", where, loc)
        chosen = _styles(rec, "chosen", where, loc)
        rejected = _styles(rec, "rejected", where, loc)
        meta_base = {"id": rid, "part": part, **{k: rec[k] for k in META_FIELDS if k in rec}}
        out = []
        for i in range(3):
            for j in range(3):
                pair_id = f"{domain}:{rid}:{i}:{j}"
                ids.add(pair_id, where, loc, name="id")
                out.append(
                    Pair(
                        pair_id=pair_id,
                        bench=self.name,
                        subset=domain,
                        prompt=prompt,
                        response_1=chosen[i],
                        response_2=rejected[j],
                        label=1,
                        meta={**meta_base, "chosen_style": i, "rejected_style": j, "cell": cell_of(i, j)},
                    )
                )
        return out

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        return {"domain": pair.subset, "cell": pair.meta["cell"]}

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """official = j1: single-order accuracy, mean over the 12 domain x cell groups;
        easy/normal/hard: the cell's accuracy, mean over the four domains."""
        domain, cell = _domain_cell(table)
        single = table["correct_single"]
        groups = domain + "/" + cell
        all_groups = frozenset(f"{d}/{c}" for d in DOMAINS for c in CELLS)
        figures = {
            "official": Figure(single, groups, None, all_groups),
            "j1": Figure(single, groups, None, all_groups),
        }
        for c in CELLS:
            figures[c] = Figure(single.where(cell == c), domain, None, frozenset(DOMAINS))
        return figures


def _domain_cell(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Domain and cell per row: from the pair columns, else parsed from the pair id."""
    if "domain" in table.columns and "cell" in table.columns:
        return table["domain"].astype(str), table["cell"].astype(str)
    parts = table["pair_id"].str.rsplit(":", n=2, expand=True)
    i, j = parts[1].astype(int), parts[2].astype(int)
    cell = pd.Series(["hard" if a < b else "normal" if a == b else "easy" for a, b in zip(i, j, strict=True)])
    return table["subset"].astype(str), cell.set_axis(table.index)


def _styles(rec: Record, name: str, where: object, loc: str) -> list[str]:
    value = field(rec, name, where, loc, list)
    if len(value) != 3 or not all(isinstance(v, str) for v in value):
        raise InputError(
            "expected a list of 3 strings (concise, detailed plain, markdown)", path=where, record=loc, field=name
        )
    return value


def _missing(parts: set[str]) -> list[str]:
    """Domains with no file; a safety half alone is named by its file part."""
    missing = [d for d in ("chat", "code", "math") if d not in parts]
    safety = [p for p in ("safety-refuse", "safety-response") if p not in parts]
    missing += ["safety"] if len(safety) == 2 else safety
    return missing


def _missing_of(pairs: list[Pair]) -> list[str]:
    parts = {str(p.meta["part"]) for p in pairs}
    if "safety" in parts:
        parts |= {"safety-refuse", "safety-response"}
    return _missing(parts)
