"""Published J1 figures, read from one data file (``paper_rows.csv``).

Source: Whitehouse et al., "J1: Incentivizing Thinking in LLM-as-a-Judge via Reinforcement
Learning", arXiv:2505.10320. Two versions are transcribed, and their tables differ:

- ``v1`` (dated May 7, 2025): Table 1 (PPE), 2 (main results, PPE split into preference and
  correctness), 3 (judge formats), 4 (seed prompts and rewards), 5 (position bias), 6
  (RewardBench sections), 7 (KL penalty and entropy bonus), 8 (Mean-Score@32).
- ``v3`` (13 Oct 2025): Table 1 (PPE Correctness), 2 (main results, PPE as one column, Qwen3-32B,
  J1-Qwen-32B-MultiTask, OpenAI-o3), 3 (pairwise vs pointwise bias), 4 (rewards and prompts), 6
  (RewardBench), 7 (pairwise variants), 8 (position bias), 9 (decoding), 10 (KL and entropy), 11
  (Bradley-Terry baseline; its column order is uncertain, see its notes), 12 and 13 (test-time
  scaling).

The file has one line per published cell: ``version, table, source, url, row, column, value``,
the gain printed beside the value (``gain``, relative to row ``base``) where there is one, and
``notes``. A cell printed as a dash is absent. Values are percentages, as printed.

Column keys are the project's benchmark keys (``ppe_preference``, ``ppe_correctness``,
``rewardbench``, ``judgebench``, ``rmbench``, ``followbencheval``), ``ppe`` for PPE as a whole,
``overall``, PPE Correctness sets (``mmlu_pro``, ``math``, ``gpqa``, ``mbpp_plus``, ``ifeval``),
RewardBench sections (``chat``, ``chat_hard``, ``safety``, ``reasoning``) and, in the bias tables,
``<bench>.<metric>`` with metric ``acc_ab``, ``acc_ba``, ``acc_consistent``, ``inconsistency``
(the verdict-flip rate) or ``ties``.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

DATA_FILE = Path(__file__).with_name("paper_rows.csv")
VERSIONS = ("v1", "v3")
URLS = {version: f"https://arxiv.org/abs/2505.10320{version}" for version in VERSIONS}

#: Per table: the column keys in the paper's order.
V1_TABLE2_COLUMNS = (
    "overall",
    "ppe_preference",
    "ppe_correctness",
    "rewardbench",
    "judgebench",
    "rmbench",
    "followbencheval",
)
V3_TABLE2_COLUMNS = ("overall", "ppe", "rewardbench", "rmbench", "judgebench", "followbencheval")
PPE_SETS = ("mmlu_pro", "math", "gpqa", "mbpp_plus", "ifeval")
REWARDBENCH_SECTIONS = ("chat", "chat_hard", "safety", "reasoning")
BIAS_METRICS = ("acc_ab", "acc_ba", "acc_consistent", "inconsistency")

#: Where each version reports main results, position bias, RewardBench sections and formats.
MAIN_TABLE = {"v1": "Table 2", "v3": "Table 2"}
BIAS_TABLE = {"v1": "Table 5", "v3": "Table 8"}
REWARDBENCH_TABLE = {"v1": "Table 6", "v3": "Table 6"}

#: j1eval format name -> (version, table, row) of the paper's row for that J1-Llama-8B recipe.
FORMAT_ROWS: Mapping[str, tuple[str, str, str]] = MappingProxyType(
    {
        "pairwise-verdict": ("v1", "Table 3", "Pairwise w/ Verdict (default)"),
        "pairwise-scores": ("v1", "Table 3", "Pairwise w/ Scores"),
        "scores-verdict": ("v1", "Table 3", "Pairwise w/ Scores&Verdict"),
        "pointwise": ("v1", "Table 3", "Pointwise w/ Score"),
        "plan-execute": ("v1", "Table 4", "Plan & Execution (EvalPlanner-style)"),
    }
)


@dataclass(frozen=True)
class PaperRow:
    """One published row: where it is printed, its label, and its cells (percent)."""

    version: str
    table: str
    source: str  # "J1 v1, Table 2"
    url: str  # the versioned arXiv address
    row: str  # the row label as printed (markers such as † moved to ``notes``)
    values: Mapping[str, float]
    gains: Mapping[str, float] = field(default_factory=dict)  # "+x" printed beside a value
    base: str | None = None  # the row the gains are relative to
    notes: str = ""

    @property
    def label(self) -> str:
        return f"{self.row} [paper, {self.source}]"

    def get(self, column: str) -> float | None:
        return self.values.get(column)


@functools.cache
def _all_rows() -> tuple[PaperRow, ...]:
    rows: dict[tuple[str, str, str], dict] = {}
    with DATA_FILE.open(newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            key = (rec["version"], rec["table"], rec["row"])
            row = rows.setdefault(
                key,
                {
                    "source": rec["source"],
                    "url": rec["url"],
                    "values": {},
                    "gains": {},
                    "base": None,
                    "notes": rec["notes"],
                },
            )
            if rec["column"] in row["values"]:
                raise ValueError(f"{DATA_FILE.name}: duplicate cell {key} {rec['column']}")
            row["values"][rec["column"]] = float(rec["value"])
            if rec["gain"]:
                row["gains"][rec["column"]] = float(rec["gain"])
                row["base"] = rec["base"]
    return tuple(
        PaperRow(
            version=version,
            table=table,
            source=r["source"],
            url=r["url"],
            row=label,
            values=MappingProxyType(r["values"]),
            gains=MappingProxyType(r["gains"]),
            base=r["base"],
            notes=r["notes"],
        )
        for (version, table, label), r in rows.items()
    )


def paper_rows(version: str = "v1", table: str | None = None) -> list[PaperRow]:
    """The rows of one paper version (``"v1"`` or ``"v3"``), optionally of one table, as printed in order."""
    if version not in VERSIONS:
        raise ValueError(f"unknown paper version {version!r}; known: {', '.join(VERSIONS)}")
    found = [r for r in _all_rows() if r.version == version and (table is None or r.table == table)]
    if table is not None and not found:
        raise ValueError(f"no {table!r} transcribed for J1 {version}; known: {', '.join(tables(version))}")
    return found


def tables(version: str = "v1") -> list[str]:
    """The tables transcribed for a version, in the paper's order."""
    seen = dict.fromkeys(r.table for r in _all_rows() if r.version == version)
    return sorted(seen, key=lambda t: int(t.split()[-1]))


def paper_row(version: str, table: str, row: str) -> PaperRow:
    """One row by its printed label; KeyError naming the labels of that table if absent."""
    rows = paper_rows(version, table)
    for r in rows:
        if r.row == row:
            return r
    raise KeyError(f"J1 {version} {table} has no row {row!r}; rows: {', '.join(r.row for r in rows)}")


def main_rows(version: str = "v1") -> list[PaperRow]:
    """The main-results rows (Table 2 in both versions)."""
    return paper_rows(version, MAIN_TABLE[version])


def bias_rows(version: str = "v1") -> list[PaperRow]:
    """The position-bias rows (v1 Table 5, v3 Table 8)."""
    return paper_rows(version, BIAS_TABLE[version])


def bias_values(row: PaperRow, bench: str) -> dict[str, float]:
    """One bias row's figures for ``bench`` (``ppe_correctness`` or ``judgebench``): metric -> value."""
    prefix = f"{bench}."
    return {k[len(prefix) :]: v for k, v in row.values.items() if k.startswith(prefix)}


def format_row(fmt: str) -> PaperRow | None:
    """The paper's J1-Llama-8B row trained and evaluated in j1eval format ``fmt`` (None if the paper has none)."""
    where = FORMAT_ROWS.get(fmt)
    return paper_row(*where) if where else None


def column_values(version: str, table: str, column: str) -> dict[str, float]:
    """One column of a table: row label -> value, for the rows that print it."""
    return {r.row: r.values[column] for r in paper_rows(version, table) if column in r.values}


@dataclass(frozen=True)
class PaperScaling:
    """A published test-time scaling result: the same model's greedy row and its row at ``n`` samples."""

    greedy: PaperRow
    scaled: PaperRow
    rule: str  # "SC" (majority verdict) or "Mean-Score" (mean scores)
    n: int


#: (version, table, greedy row, scaled row, rule, samples) of every published scaling result.
SCALING_ROWS = (
    ("v1", "Table 1", "J1-Llama-8B", "J1-Llama-8B (SC@32)", "SC", 32),
    ("v1", "Table 1", "J1-Llama-70B", "J1-Llama-70B (SC@32)", "SC", 32),
    ("v1", "Table 8", "Greedy", "Mean-Score@32", "Mean-Score", 32),
    ("v3", "Table 12", "J1-Llama-70B - Greedy", "J1-Llama-70B (Mean-Score@32)", "Mean-Score", 32),
    ("v3", "Table 13", "J1-Llama-70B - Greedy", "J1-Llama-70B (SC@32)", "SC", 32),
)


def scaling_rows(version: str = "v1") -> list[PaperScaling]:
    """The paper's SC@32 and Mean-Score@32 results with their greedy rows, for one version."""
    return [
        PaperScaling(paper_row(v, table, greedy), paper_row(v, table, scaled), rule, n)
        for v, table, greedy, scaled, rule, n in SCALING_ROWS
        if v == version
    ]
