"""RewardBench (Lambert et al., 2024), the ``filtered`` split: 2,985 chosen/rejected pairs.

Local data: every ``*.parquet`` and ``*.jsonl`` under ``DATA_DIR/rewardbench/`` (file
order by path), in either schema, told apart per record:

- official (``allenai/reward-bench``): ``prompt``, ``chosen``, ``rejected``,
  ``chosen_model``, ``rejected_model``, ``subset``, ``id``;
- converted (BiasScope copy): ``question``, ``response_A``, ``response_B``, ``subset``,
  ``id``, optional ``label`` (1: A is chosen, the norm; 2: B is chosen).

A hub snapshot works too: shards of other splits (``data/raw-00000-of-00001.parquet``)
are skipped. Hub fallback: ``allenai/reward-bench``, split ``filtered``. ``response_1`` is always the
chosen response (label 1): the order is left to the harness. Pair ids are
``"{subset}:{id}"`` (id 3692 occurs in two subsets).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.benchmarks import benchmark
from j1eval.benchmarks._sources import (
    Located,
    Record,
    UniqueIds,
    field,
    find_files,
    hashes,
    id_text,
    read_records,
)
from j1eval.benchmarks.base import Benchmark, BenchmarkData
from j1eval.errors import InputError
from j1eval.score.figures import Figure
from j1eval.types import Pair

HF_ID = "allenai/reward-bench"
HF_SPLIT = "filtered"
#: Not pinned to a commit: the hub dataset's commit hash could not be checked offline.
HF_REVISION = "main"
WHAT = "the 'filtered' split of allenai/reward-bench as parquet or jsonl (huggingface.co/datasets/allenai/reward-bench)"

SECTIONS: dict[str, tuple[str, ...]] = {
    "Chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
    "Chat Hard": (
        "mt-bench-hard",
        "llmbar-natural",
        "llmbar-adver-neighbor",
        "llmbar-adver-GPTInst",
        "llmbar-adver-GPTOut",
        "llmbar-adver-manual",
    ),
    "Safety": (
        "refusals-dangerous",
        "refusals-offensive",
        "xstest-should-refuse",
        "xstest-should-respond",
        "donotanswer",
    ),
    "Reasoning": ("math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"),
}
SECTION_OF_SUBSET = {subset: section for section, subsets in SECTIONS.items() for subset in subsets}
#: Official per-subset counts of the filtered split.
EXAMPLE_COUNTS = {
    "alpacaeval-easy": 100,
    "alpacaeval-length": 95,
    "alpacaeval-hard": 95,
    "mt-bench-easy": 28,
    "mt-bench-med": 40,
    "mt-bench-hard": 37,
    "llmbar-natural": 100,
    "llmbar-adver-neighbor": 134,
    "llmbar-adver-GPTInst": 92,
    "llmbar-adver-GPTOut": 47,
    "llmbar-adver-manual": 46,
    "refusals-dangerous": 100,
    "refusals-offensive": 100,
    "xstest-should-refuse": 154,
    "xstest-should-respond": 250,
    "donotanswer": 136,
    "math-prm": 447,
    "hep-cpp": 164,
    "hep-go": 164,
    "hep-java": 164,
    "hep-js": 164,
    "hep-python": 164,
    "hep-rust": 164,
}
#: Scoring groups: sections, with Reasoning split so that math-prm weighs as much as
#: the code subsets together (the official up-weighting); sections weigh 1/4 each.
GROUP_WEIGHTS = {
    "Chat": 0.25,
    "Chat Hard": 0.25,
    "Safety": 0.25,
    "Reasoning/math-prm": 0.125,
    "Reasoning/code": 0.125,
}
#: Section figure name -> section: ``chat``... under RewardBench's rule (a tie or no verdict = 0.5),
#: ``j1_chat``... under J1's (wrong), so that J1's four sections average to ``j1``.
SECTION_FIGURES = {"chat": "Chat", "chat_hard": "Chat Hard", "safety": "Safety", "reasoning": "Reasoning"}


_HUB_SHARD = re.compile(r"^(?P<split>[\w.]+)-\d{5}-of-\d{5}\.parquet$")


def _other_hub_split(path: Path) -> bool:
    """A hub shard of another split (``data/raw-00000-of-00001.parquet``): skipped."""
    m = _HUB_SHARD.match(path.name)
    return m is not None and m["split"] != HF_SPLIT


def scoring_group(subset: str) -> str | None:
    """The scoring group of a subset (see :data:`GROUP_WEIGHTS`), None if unknown."""
    section = SECTION_OF_SUBSET.get(subset)
    if section != "Reasoning":
        return section
    return "Reasoning/math-prm" if subset == "math-prm" else "Reasoning/code"


@benchmark("rewardbench")
class RewardBench(Benchmark):
    title = "RewardBench"
    folder = "rewardbench"
    j1_protocol = "single"
    single_order = "seeded"  # the file puts the chosen response first: the order is drawn per pair

    hub = (HF_ID, HF_SPLIT, HF_REVISION)
    hub_rows_are_pairs = True
    what = WHAT

    def load_local(self, folder: Path) -> BenchmarkData | None:
        files = [f for f in find_files(folder, ["*.parquet", "*.jsonl"], recursive=True) if not _other_hub_split(f)]
        if not files:
            return None
        ids = UniqueIds()
        pairs = [self._pair(rec, f, loc, ids) for f in files for loc, rec in read_records(f)]
        return BenchmarkData(pairs, source=str(folder), files=hashes(files))

    def from_hub_rows(self, rows: list[Located], where: str) -> BenchmarkData:
        ids = UniqueIds()
        return BenchmarkData([self._pair(rec, where, loc, ids) for loc, rec in rows], source=where)

    def _pair(self, rec: Record, where: object, loc: str, ids: UniqueIds) -> Pair:
        subset = field(rec, "subset", where, loc)
        section = SECTION_OF_SUBSET.get(subset)
        if section is None:
            raise InputError(f"unknown RewardBench subset {subset!r}", path=where, record=loc, field="subset")
        rid = id_text(rec, "id", where, loc)
        if "prompt" in rec or "chosen" in rec:  # the official schema
            prompt = field(rec, "prompt", where, loc)
            chosen = field(rec, "chosen", where, loc)
            rejected = field(rec, "rejected", where, loc)
        else:  # the converted schema: response_A is chosen unless label says 2
            prompt = field(rec, "question", where, loc)
            chosen = field(rec, "response_A", where, loc)
            rejected = field(rec, "response_B", where, loc)
            label = rec.get("label", 1)
            if label not in (1, 2) or isinstance(label, bool):
                raise InputError(f"expected 1 or 2, got {label!r}", path=where, record=loc, field="label")
            if label == 2:
                chosen, rejected = rejected, chosen
        pair_id = f"{subset}:{rid}"
        ids.add(pair_id, where, loc, name="id")
        return Pair(
            pair_id=pair_id,
            bench=self.name,
            subset=subset,
            prompt=prompt,
            response_1=chosen,
            response_2=rejected,
            label=1,
            meta={
                "id": rid,
                "section": section,
                "chosen_model": rec.get("chosen_model"),
                "rejected_model": rec.get("rejected_model"),
            },
        )

    def pair_columns(self, pair: Pair) -> dict[str, Any]:
        return {"section": SECTION_OF_SUBSET[pair.subset]}

    def figures(self, table: pd.DataFrame) -> dict[str, Figure]:
        """official: half credit for ties, sections 1/4 each; j1: plain single-order accuracy, same weights.

        Per section, both rules: ``chat``, ... (official, half credit) and ``j1_chat``, ... (J1, a tie is wrong).
        """
        groups = table["subset"].map(scoring_group)
        sections = table["subset"].map(SECTION_OF_SUBSET)
        required = frozenset(GROUP_WEIGHTS)
        half, single = table["halfcredit_single"], table["correct_single"]
        figures = {
            "official": Figure(half, groups, GROUP_WEIGHTS, required),
            "j1": Figure(single, groups, GROUP_WEIGHTS, required),
        }
        for name, section in SECTION_FIGURES.items():
            inside = sections == section
            weights = {g: w for g, w in GROUP_WEIGHTS.items() if g.split("/")[0] == section}
            figures[name] = Figure(half.where(inside), groups, weights, frozenset(weights))
            figures[f"j1_{name}"] = Figure(single.where(inside), groups, weights, frozenset(weights))
        return figures
