"""The paper's other layouts, each with the measured rows beside the published ones.

- :func:`ppe_table`: J1 Table 1 (PPE: overall, preference, correctness and its five sets; v1 also
  the SC@32 rows, and v1 Table 8's Mean-Score@32 rows, which print the same columns).
- :func:`rewardbench_table`: J1 Table 6 (RewardBench Overall, Chat, Chat Hard, Safety, Reasoning),
  each judge under J1's rule and under RewardBench's own.
- :func:`formats_table`: J1 v1 Tables 3 and 4 (v3 Tables 7 and 4) in Table 2's columns: runs
  grouped by their judge format (``manifest.json``), each group followed by the paper's J1-Llama-8B
  row trained and evaluated in that format, then the paper's seed-prompt and reward rows.

A table appears when a run can fill it or when paper rows are asked for (``--with-paper``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from j1eval.report import paper
from j1eval.report.layouts import (
    LAYOUTS,
    figure_cell,
    interval_note,
    judge_cells,
    quoted_cell,
)
from j1eval.report.paper_data import FORMAT_ROWS as FORMAT_ROWS_V1
from j1eval.report.paper_data import PPE_SETS, REWARDBENCH_SECTIONS
from j1eval.report.runs import BenchRun, Report
from j1eval.report.tables import MIN_PAIRS, NOT_RUN, SMALL, Cell, Row, Table, dedupe

#: PPE columns of Table 1: (title, paper key); the measured figure of each is :func:`_ppe_figure`.
PPE_COLUMNS = {
    "v1": (
        ("PPE", "ppe"),
        ("PPE-Preference", "ppe_preference"),
        ("PPE-Correctness", "ppe_correctness"),
        ("MMLU-Pro", "mmlu_pro"),
        ("MATH", "math"),
        ("GPQA", "gpqa"),
        ("MBPP-Plus", "mbpp_plus"),
        ("IFEval", "ifeval"),
    ),
    "v3": (
        ("PPE-Correctness", "ppe_correctness"),
        ("MMLU-Pro", "mmlu_pro"),
        ("MATH", "math"),
        ("GPQA", "gpqa"),
        ("MBPP-Plus", "mbpp_plus"),
        ("IFEval", "ifeval"),
    ),
}
#: Paper key -> (where in results: "overall" or a subset name, figure key).
PPE_FIGURES = {
    "ppe": ("overall", "j1"),
    "ppe_preference": ("overall", "preference"),
    "ppe_correctness": ("overall", "correctness"),
    **{s: (s.replace("_", "-"), "j1") for s in PPE_SETS},
}
#: The PPE tables quoted per version (v1 Table 8 prints Table 1's columns).
PPE_TABLES = {"v1": ("Table 1", "Table 8"), "v3": ("Table 1",)}
RB_COLUMNS = (("Overall", "overall"), *((s.replace("_", " ").title(), s) for s in REWARDBENCH_SECTIONS))
#: RewardBench figure keys per rule: overall, then the four sections.
RB_RULES = {
    "J1 rule": ("j1", *(f"j1_{s}" for s in REWARDBENCH_SECTIONS)),
    "official rule": ("official", *REWARDBENCH_SECTIONS),
}
#: j1eval format -> the paper's J1-Llama-8B row in that format, per version (v3 keeps no pointwise row here).
FORMAT_ROWS = {
    "v1": dict(FORMAT_ROWS_V1),
    "v3": {
        "pairwise-verdict": ("v3", "Table 7", "w/ Verdict"),
        "pairwise-scores": ("v3", "Table 7", "w/ Scores"),
        "scores-verdict": ("v3", "Table 7", "w/ Scores&Verdict"),
        "plan-execute": ("v3", "Table 4", "Plan & Execution"),
    },
}
#: The paper's rows that are not a format: seed prompts and reward schemes (j1train's recipes).
RECIPE_TABLES = {"v1": ("Table 4",), "v3": ("Table 4",)}


def _figure(br: BenchRun, where: str, key: str) -> tuple[Mapping[str, Any], str]:
    figs = br.overall if where == "overall" else br.results.get("subsets", {}).get(where, {})
    if key == "j1" and where != "overall" and key not in figs and "acc_single" in figs:
        key = "acc_single"
    return figs, key


def ppe_table(report: Report) -> Table | None:
    """J1 Table 1: PPE overall, preference, correctness (mean of five sets) and each set, single order."""
    version = report.paper_version
    runs = report.runs_of("ppe")
    quoted = [r for t in PPE_TABLES[version] for r in paper.paper_rows(version, t)] if report.with_paper else []
    if not runs and not quoted:
        return None
    columns = PPE_COLUMNS[version]
    table = Table(
        "ppe_table",
        f"PPE (J1 {version}, Table 1 layout): accuracy in the dataset's order, %",
        ["Judge"],
        [c[0] for c in columns],
        ci_line=True,
    )
    notes: list[str] = []
    for br in runs:
        cells = []
        for title, key in columns:
            where, fig = PPE_FIGURES[key]
            figs, fig = _figure(br, where, fig)
            if not figs:
                cells.append(Cell(NOT_RUN, status="not run"))
                continue
            cells.append(figure_cell(br, figs, fig, f"{br.judge}, {title}", notes)[0])
        table.rows.append(Row([br.judge], cells, "runs"))
    for prow in quoted:
        table.rows.append(Row([prow.label], [quoted_cell(prow, key) for _, key in columns], prow.table))
    if not runs:
        notes.append(f"{NOT_RUN}: no PPE run in this report; the rows are the paper's.")
    table.notes = dedupe(notes) + [
        "One order per pair: the order the PPE files give (PPE already randomises which response comes first), "
        "as J1 does (its PPE-Correctness equals its (a,b) accuracy). A tie or no verdict is wrong. "
        "PPE = mean of preference and correctness; correctness = mean of the five sets. "
        f"{SMALL} = fewer than {MIN_PAIRS} pairs. " + interval_note()
    ]
    if quoted:
        table.notes.append(
            paper.quote_note(
                quoted, "SC@32: majority verdict of 32 samples; Mean-Score@32: mean of 32 samples' scores."
            )
        )
    return table


def rewardbench_table(report: Report) -> Table | None:
    """J1 Table 6: RewardBench Overall and sections; each judge under J1's rule and RewardBench's own."""
    version = report.paper_version
    runs = report.runs_of("rewardbench")
    quoted = paper.paper_rows(version, paper.REWARDBENCH_TABLE[version]) if report.with_paper else []
    if not runs and not quoted:
        return None
    table = Table(
        "rewardbench_sections",
        f"RewardBench sections (J1 {version}, {paper.REWARDBENCH_TABLE[version]} layout), one seeded order, %",
        ["Judge", "rule"],
        [c[0] for c in RB_COLUMNS],
        ci_line=True,
    )
    notes: list[str] = []
    for br in runs:
        for rule, keys in RB_RULES.items():
            cells = []
            for (title, _), key in zip(RB_COLUMNS, keys, strict=True):
                if key not in br.overall and f"{key}_partial" not in br.overall:
                    cells.append(Cell(NOT_RUN, status="not measured (scored before j1eval gave J1 sections)"))
                    continue
                cells.append(figure_cell(br, br.overall, key, f"{br.judge}, {title} ({rule})", notes)[0])
            table.rows.append(Row([br.judge, rule], cells, br.judge))
    for prow in quoted:
        table.rows.append(Row([prow.label, ""], [quoted_cell(prow, key) for _, key in RB_COLUMNS], "paper"))
    table.notes = dedupe(notes) + [
        "J1 rule: a tie or no verdict is wrong; the four sections average to the Overall (Reasoning weights "
        "math-prm like the code subsets together), as in the paper's table. Official rule: RewardBench's own "
        "scores, a tie or no verdict = 0.5, the same weights. Both: one seeded random order per pair (the files "
        f"put the better response first). {SMALL} = fewer than {MIN_PAIRS} pairs. " + interval_note()
    ]
    if quoted:
        table.notes.append(
            paper.quote_note(quoted, "Rows marked † in the paper come from the RewardBench leaderboard.")
        )
    return table


def formats_table(report: Report) -> Table | None:
    """J1 v1 Tables 3 and 4 (v3 Tables 7 and 4): runs grouped by judge format beside the paper's row per format."""
    version = report.paper_version
    layout = LAYOUTS[version]
    by_format: dict[str, list[Any]] = {}
    for judge in report.judges:
        fmt = str(judge.runs[0].manifest.get("format") or "?") if judge.runs else "?"
        by_format.setdefault(fmt, []).append(judge)
    if not report.judges and not report.with_paper:
        return None
    tables = {"v1": "Tables 3 and 4", "v3": "Tables 7 and 4"}[version]
    table = Table(
        "formats_table",
        f"Judge formats (J1 {version}, {tables} layout): J1 protocol accuracy, %",
        ["Format", "Judge"],
        ["Overall"] + [c[0] for c in layout],
        ci_line=True,
    )
    notes: list[str] = []
    quoted: list[paper.PaperRow] = []
    rows_of = FORMAT_ROWS[version] if report.with_paper else {}
    formats = list(by_format) + [f for f in rows_of if f not in by_format]
    for fmt in formats:
        for judge in by_format.get(fmt, []):
            table.rows.append(Row([fmt, judge.name], judge_cells(judge, layout, notes), fmt))
        if fmt in rows_of:
            prow = paper.paper_row(*rows_of[fmt])
            quoted.append(prow)
            cells = [quoted_cell(prow, "overall")] + [quoted_cell(prow, c[3]) for c in layout]
            table.rows.append(Row([fmt, prow.label], cells, fmt))
    if report.with_paper:
        shown = {p.row for p in quoted}
        for t in RECIPE_TABLES[version]:
            for prow in paper.paper_rows(version, t):
                if prow.row in shown:
                    continue
                quoted.append(prow)
                cells = [quoted_cell(prow, "overall")] + [quoted_cell(prow, c[3]) for c in layout]
                table.rows.append(Row(["(training recipe)", prow.label], cells, "recipes"))
    table.notes = dedupe(notes) + [
        "Runs are grouped by the judge format in their manifest.json; a cell is the run's J1 protocol figure, as "
        "in the main table. The paper's rows are J1-Llama-8B trained and evaluated in that format (pointwise: "
        "sampled at temperature 1, which is j1eval's pointwise default); '(training recipe)' rows vary the seed "
        "prompt or the reward, which j1train sets, not the judge format. " + interval_note()
    ]
    if quoted:
        table.notes.append(paper.quote_note(quoted))
    return table


def paper_tables(report: Report) -> list[Table]:
    """Every table of this module that the runs or the paper rows fill, in the paper's order."""
    built: Sequence[Table | None] = (ppe_table(report), formats_table(report), rewardbench_table(report))
    return [t for t in built if t is not None]


__all__ = ["formats_table", "paper_tables", "ppe_table", "rewardbench_table"]
