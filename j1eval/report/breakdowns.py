"""Per-part breakdowns of one benchmark: sections and subsets, sources, levels; RM-Bench's easy / normal / hard.

Rows are parts, columns judges. Figures come from ``results.json`` (``overall`` and ``subsets``);
RM-Bench cells of a run whose subsets lack them are computed from its per-pair table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from j1eval.report.layouts import compact_missing, figure_cell, figure_pairs, interval_note, pct_text
from j1eval.report.runs import BenchRun, Report, bench_title
from j1eval.report.tables import DAGGER, INCOMPLETE, MIN_PAIRS, NOT_RUN, SMALL, Cell, Row, Table, dedupe, small_mark

#: Section figures that a benchmark's scorer puts in ``overall`` (shown in its breakdown).
SECTION_KEYS = {
    "rewardbench": (
        ("j1_chat", "Chat (J1)"),
        ("j1_chat_hard", "Chat Hard (J1)"),
        ("j1_safety", "Safety (J1)"),
        ("j1_reasoning", "Reasoning (J1)"),
        ("chat", "Chat (official)"),
        ("chat_hard", "Chat Hard (official)"),
        ("safety", "Safety (official)"),
        ("reasoning", "Reasoning (official)"),
    ),
    "ppe": (("preference", "Preference"), ("correctness", "Correctness")),
    "rmbench": (("easy", "Easy"), ("normal", "Normal"), ("hard", "Hard")),
}
RMBENCH_LEVELS = (("easy", "easy"), ("normal", "normal"), ("hard", "hard"))
RMBENCH_DOMAINS = ("chat", "code", "math", "safety")


def subset_value(figs: Mapping[str, Any], key: str = "j1", n: int | None = None) -> Cell:
    """A subset's figure; marked ¶ when it counts fewer than 30 pairs (``n``, else the figure's own count)."""
    if key in figs and figs[key] is not None:
        count = n if n is not None else figure_pairs(None, figs, key)
        return Cell.pct(figs[key], figs.get("ci", {}).get(key), small_mark(count))
    if f"{key}_partial" in figs:
        return Cell(INCOMPLETE, status="incomplete")
    return Cell(NOT_RUN, status="not measured")


def n_label(counts: Iterable[Any]) -> str:
    values = sorted({int(c) for c in counts if isinstance(c, int)})
    return "/".join(str(v) for v in values) if values else ""


def breakdown_table(report: Report, bench: str) -> Table | None:
    """Per-part figures of one benchmark: rows = sections and subsets, columns = judges."""
    runs = report.runs_of(bench)
    if not runs:
        return None
    if bench == "rmbench":
        return rmbench_table(report)
    title = bench_title(bench)
    what = {
        "rewardbench": "sections and subsets",
        "judgebench": "per source",
        "ppe": "per set",
        "followbencheval": "per level",
    }.get(bench, "per subset")
    judges = [br.judge for br in runs]
    table = Table(
        f"breakdown_{bench}", f"{title} {what}: J1 protocol accuracy, %", ["Part", "pairs"], judges, ci_line=False
    )
    notes: list[str] = []
    overall_cells = []
    for br in runs:
        cell, _ = figure_cell(br, br.overall, "j1", f"{br.judge}, {title} overall", notes)
        overall_cells.append(cell)
    table.rows.append(Row(["overall (J1)", n_label(br.overall.get("n_pairs") for br in runs)], overall_cells, "all"))
    if bench in ("rewardbench", "judgebench", "followbencheval"):
        official = [subset_value(br.overall, "official") for br in runs]
        table.rows.append(Row(["overall (official rule)", ""], official, "all"))
    for key, name in SECTION_KEYS.get(bench, ()):
        if any(key in br.overall or f"{key}_partial" in br.overall for br in runs):
            cells = []
            for br in runs:
                if key in br.overall or f"{key}_partial" in br.overall:
                    cell, _ = figure_cell(br, br.overall, key, f"{br.judge}, {title} {name}", notes)
                else:
                    cell = Cell(NOT_RUN, status="not measured")
                cells.append(cell)
            table.rows.append(Row([name, ""], cells, "sections"))
    subsets = sorted({s for br in runs for s in br.results.get("subsets", {})}, key=_subset_sort_key)
    for subset in subsets:
        figs = [br.results.get("subsets", {}).get(subset) for br in runs]
        cells = [subset_value(f) if f is not None else Cell(NOT_RUN, status="not run") for f in figs]
        table.rows.append(Row([subset, n_label(f.get("n_pairs") for f in figs if f)], cells, "subsets"))
    if bench == "rewardbench":
        notes.append(
            "Rules per row: overall (J1) and the (J1) sections count a tie or no verdict as wrong, so the four "
            "J1 sections average to the J1 overall (as in J1 Table 6); overall (official rule) and the (official) "
            "sections are RewardBench's own scores, a tie or no verdict = 0.5. Both use one seeded order per pair; "
            "Reasoning weights math-prm like the code subsets together."
        )
    table.notes = dedupe(notes) + [
        "Subset cells: the benchmark's J1 figure on that subset's pairs"
        + (
            " (J1 rule: a tie or no verdict is wrong; no section weights within a subset)."
            if bench == "rewardbench"
            else "."
        )
        + f" {NOT_RUN} = not run or not measured; pairs = pairs per judge"
        + f" (several values when judges ran different slices). {SMALL} = fewer than {MIN_PAIRS} pairs. "
        + interval_note()
    ]
    return table


def _subset_sort_key(name: str) -> tuple[int, str]:
    known = ["knowledge", "reasoning", "math", "coding", "L1", "L2", "L3", "L4", "L5"]
    return (known.index(name) if name in known else len(known), name)


def _rmbench_cells(br: BenchRun) -> dict[str, dict[str, Any]]:
    """Per domain, easy/normal/hard figures: from subsets' keys, else from the pair table."""
    from j1eval.score.metrics import compute_figures

    out: dict[str, dict[str, Any]] = {}
    for domain, figs in br.results.get("subsets", {}).items():
        if all(level in figs for level, _ in RMBENCH_LEVELS):
            out[domain] = figs
    if out or br.table is None or br.benchmark is None:
        return out
    for domain, part in br.table.groupby("subset", sort=True):
        out[str(domain)] = compute_figures(part.reset_index(drop=True), br.benchmark, n_boot=0, check_required=False)
    return out


def _cell_pairs(br: BenchRun, domain: str, level: str) -> int | None:
    """Pairs of one RM-Bench domain in one cell (easy, normal, hard), from the run's pair table."""
    t = br.table
    if t is None or "cell" not in t.columns or level not in ("easy", "normal", "hard"):
        return None
    return int(((t["subset"] == domain) & (t["cell"] == level)).sum())


def rmbench_table(report: Report) -> Table:
    """RM-Bench: easy / normal / hard accuracy per domain (rows), per judge (columns)."""
    runs = report.runs_of("rmbench")
    table = Table(
        "breakdown_rmbench",
        "RM-Bench easy / normal / hard per domain (single order), %",
        ["Domain", "Level"],
        [br.judge for br in runs],
    )
    notes: list[str] = []
    per_judge = [_rmbench_cells(br) for br in runs]
    domains = [d for d in RMBENCH_DOMAINS] + sorted({d for c in per_judge for d in c} - set(RMBENCH_DOMAINS))
    missing_all = {m for br in runs for m in br.overall.get("missing", [])}
    for domain in domains:
        if domain not in missing_all and not any(domain in c for c in per_judge):
            continue
        if not any(domain in c for c in per_judge):  # no judge has data for it: one row says so
            cells = [
                Cell(INCOMPLETE, status="no data") if domain in br.overall.get("missing", []) else Cell(NOT_RUN)
                for br in runs
            ]
            table.rows.append(Row([domain, "all"], cells, domain))
            notes.append(f"{DAGGER} {domain}: no data (absent from the data folder); no figure.")
            continue
        for level, level_title in (*RMBENCH_LEVELS, ("j1", "mean")):
            cells = []
            for br, cells_by_domain in zip(runs, per_judge, strict=True):
                figs = cells_by_domain.get(domain)
                if figs is None:
                    missing = domain in br.overall.get("missing", [])
                    cells.append(Cell(INCOMPLETE if missing else NOT_RUN, status="no data" if missing else "not run"))
                    if missing:
                        notes.append(f"{DAGGER} {domain}: no data (absent from the data folder); no figure.")
                else:
                    cells.append(subset_value(figs, level, _cell_pairs(br, domain, level)))
            table.rows.append(Row([domain, level_title], cells, domain))
    partials: dict[str, list[str]] = {}
    for level, level_title in (*RMBENCH_LEVELS, ("j1", "mean (J1)")):
        cells = []
        for br in runs:
            if level in br.overall or f"{level}_partial" in br.overall:
                own: list[str] = []
                cell, ok = figure_cell(br, br.overall, level, f"{br.judge}, RM-Bench", own)
                partial = br.overall.get(f"{level}_partial")
                if not ok and partial is not None:  # one footnote per judge below, not one per level
                    partials.setdefault(br.judge, []).append(f"{level_title} {pct_text(partial)}")
                else:
                    notes.extend(own)
            else:
                cell = Cell(NOT_RUN, status="not measured")
            cells.append(cell)
        table.rows.append(Row(["overall", level_title], cells, "overall"))
    for br in runs:
        if br.judge in partials:
            missing = ", ".join(compact_missing(br.overall.get("missing", [])))
            notes.append(
                f"{DAGGER} {br.judge}, RM-Bench overall: incomplete (data missing for {missing}); values over the "
                f"domains present: {'; '.join(partials[br.judge])}. Not scores for the whole benchmark."
            )
    table.notes = dedupe(notes) + [
        f"{SMALL} = fewer than {MIN_PAIRS} pairs. "
        "Hard = chosen response plainer than the rejected one (upper triangle of the 3x3 style matrix), "
        "normal = same style, easy = chosen response richer. A domain's mean = mean of its three levels; "
        "overall = mean over the four domains (chat, code, math, safety)."
    ]
    return table
