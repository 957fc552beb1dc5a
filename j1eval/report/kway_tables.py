"""RewardBench 2 in a report: its official figures, the k-way position-bias table and the slot-preference plot.

Read from ``results.json`` alone: 4-way runs (:mod:`j1eval.score.kway`) store their slot counts and the
test against a uniform slot choice beside the figures (their per-item table, ``items.parquet``, is
for the user's own analysis).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from j1eval.report.layouts import figure_cell, pct_text
from j1eval.report.runs import BenchRun, Report
from j1eval.report.tables import DAGGER, INCOMPLETE, NOT_RUN, Cell, Row, Table, dedupe
from j1eval.score.stats import format_p

BENCH = "rewardbench2"
SUBSETS = ("Factuality", "Precise IF", "Math", "Safety", "Focus")
#: k-way position-bias columns: (title, figure key).
KWAY_COLUMNS = (
    ("acc slot A", "acc_slot_a"),
    ("acc slot B", "acc_slot_b"),
    ("acc slot C", "acc_slot_c"),
    ("acc slot D", "acc_slot_d"),
    ("all rotations", "acc_all_rotations"),
    ("changes with rotation", "rotation_change_rate"),
    ("picks A", "slot_rate_a"),
    ("picks B", "slot_rate_b"),
    ("picks C", "slot_rate_c"),
    ("picks D", "slot_rate_d"),
    ("TV shift", "tv_shift"),
    ("no verdict", "parse_failure_rate"),
)


def _runs(report: Report) -> list[tuple[str, BenchRun]]:
    """(way, run) for every RewardBench 2 run: pairwise runs, then 4-way ones."""
    pairwise = [("pairwise", j.benches[BENCH]) for j in report.judges if BENCH in j.benches]
    return pairwise + [("4-way", j.kway[BENCH]) for j in report.judges if BENCH in j.kway]


def _cell(br: BenchRun, figs: dict[str, Any], key: str, where: str, notes: list[str]) -> Cell:
    if key not in figs:
        return Cell(NOT_RUN, status="not measured")
    return figure_cell(br, figs, key, where, notes)[0]


def _official_cell(br: BenchRun, figs: dict[str, Any], reason: str | None, where: str, notes: list[str]) -> Cell:
    """The official overall; null because Ties needs scores (the data all there): that reason, not "incomplete"."""
    if figs.get("official") is None and reason and not figs.get("missing"):
        partial = figs.get("official_partial")
        part = f"; the five best-of-4 subsets' mean: {pct_text(partial)}" if partial is not None else ""
        notes.append(f"{DAGGER} {where}: null: {reason}{part}.")
        return Cell(INCOMPLETE, status=f"null: {reason}")
    return _cell(br, figs, "official", where, notes)


def official_table(report: Report) -> Table | None:
    """Per RewardBench 2 run: the official overall (six subsets' mean), best-of-4 per subset, Ties."""
    runs = _runs(report)
    if not runs:
        return None
    columns = ["official", "best-of-4 (5 subsets)", *SUBSETS, "Ties"]
    table = Table("rewardbench2_official", "RewardBench 2: official figures, %", ["Judge", "way"], columns)
    table.ci_line = True
    notes: list[str] = []
    for way, br in runs:
        figs, subsets = br.overall, br.results.get("subsets", {})
        reasons = dict(br.results.get("reasons") or {})
        cells = [_official_cell(br, figs, reasons.pop("official", None), f"{br.judge}, official", notes)]
        cells.append(_cell(br, figs, "best_of_4", f"{br.judge}, best-of-4", notes))
        for name in SUBSETS:
            sub = subsets.get(name)
            cells.append(_cell(br, sub, "best_of_4", f"{br.judge}, {name}", notes) if sub else Cell(NOT_RUN))
        ties = subsets.get("Ties") or {}
        cells.append(Cell.pct(ties.get("ties")) if ties.get("ties") is not None else Cell(NOT_RUN, status="null"))
        for figure, reason in reasons.items():
            notes.append(f"{br.judge} ({way}), {figure}: null: {reason}.")
        table.rows.append(Row([br.judge, way], cells, way))
    table.notes = dedupe(notes) + [
        "best-of-4 (allenai/reward-bench's rule): 1 when the chosen response is ranked above all three rejected "
        "ones, 1/k when k share the top, 0 otherwise; no verdict counts as a tie. Pairwise runs: from the three "
        "pairs in each pair's seeded order; 4-way runs: in the item's seeded rotation. official = mean of the six "
        "subsets (Ties by its own weighted rule, from per-response scores only)."
    ]
    return table


def kway_table(report: Report) -> Table | None:
    """The k-way position-bias table: one row per 4-way run, with the slot test against uniform."""
    runs = report.kway_runs()
    if not runs:
        return None
    columns = [c[0] for c in KWAY_COLUMNS] + ["uniform test p"]
    title = "4-way position bias (RewardBench 2, 4 cyclic rotations), %"
    table = Table("kway_position_bias", title, ["Judge"], columns)
    table.ci_line = True
    notes: list[str] = []
    for br in runs:
        figs = br.overall
        cells = [_cell(br, figs, key, f"{br.judge}, {title}", notes) for title, key in KWAY_COLUMNS]
        test = (br.results.get("slot_preference") or {}).get("overall") or {}
        p = test.get("p_value")
        cells.append(Cell(format_p(p) if p is not None else NOT_RUN, p))
        if test.get("method"):
            notes.append(f"{br.judge}: slot counts {test.get('counts')} ({test['method']} test vs 1/4 each).")
        table.rows.append(Row([br.judge], cells, "runs"))
    table.notes = dedupe(notes) + [
        "acc slot X: accuracy when the correct response sits in slot X; all rotations: correct in all four (the "
        "k-way analogue of consistent accuracy); changes with rotation: items whose picked response is not the "
        "same in all four rotations; picks X: share of decisive verdicts naming slot X (25% = no preference); "
        "TV shift: mean total-variation distance between the four rotations' P(response), over the six pairs of "
        "rotations (0: the preference ignores slots, 1: it follows one slot)."
    ]
    return table


def plot_slot_preference(report: Report, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Share of decisive 4-way verdicts per slot, per judge, with a 25% line."""
    runs = report.kway_runs()
    if not runs:
        return [], []
    from j1eval.report.plots import STYLE, _colors, plt, save_files

    colors = _colors([br.judge for br in runs])
    width = 0.8 / len(runs)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4.0))
        for j, br in enumerate(runs):
            x = [s + (j - (len(runs) - 1) / 2) * width for s in range(4)]
            y = [100 * (br.overall.get(f"slot_rate_{x}") or 0.0) for x in "abcd"]
            ax.bar(x, y, width * 0.95, color=colors[br.judge], label=br.judge)
        ax.axhline(25, color="black", linestyle="--", linewidth=1.2, label="no preference (25%)")
        ax.set_xticks(range(4), ["A", "B", "C", "D"])
        ax.set_ylim(0, 105)
        ax.set_xlabel("slot")
        ax.set_ylabel("decisive verdicts picking the slot (%)")
        ax.set_title("RewardBench 2, 4-way: slot preference over four rotations")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        return save_files(fig, out_dir, "kway_slot_preference"), []
