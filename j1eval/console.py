"""Plain-text tables for the terminal."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from j1eval.escape import plain

COLUMNS = (
    ("n_pairs", "pairs"),
    ("j1", "J1"),
    ("official", "official"),
    ("acc_ab", "acc(a,b)"),
    ("acc_ba", "acc(b,a)"),
    ("acc_consistent", "consistent"),
    ("acc_single", "single"),
    ("flip_rate", "flips"),
    ("slot_a_rate", "slot A"),
    ("tie_rate", "ties"),
    ("parse_failure_rate", "no verdict"),
    ("truncation_rate", "truncated"),
)
#: Shown when a run has the judge's probability of slot A (direct verdicts, baselines).
PROBABILITY_COLUMNS = (
    ("mean_p_a", "mean P(A)"),
    ("order_shift", "order shift"),
    ("acc_prob_avg", "acc(avg P)"),
)


def cell(figures: Mapping[str, Any], key: str) -> str:
    """A figure as a percentage with one decimal; '-' when absent, 'incompl.' when incomplete."""
    if key not in figures:
        return "-"
    value = figures[key]
    if value is None:
        return "incompl." if f"{key}_partial" in figures else "-"
    if key.startswith("n_"):
        return str(value)
    return f"{100 * value:.1f}"


_NUMERIC_CELL = re.compile(r"^\s*([-+]?[\d.,]+%?|-|—|incompl\.)?\s*$")


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: numeric columns right-aligned, text columns left-aligned.

    Text from runs (names) is shown as printable characters: no terminal control sequence passes.
    """
    header = [plain(h) for h in header]
    rows = [[plain(c) for c in row] for row in rows]
    columns = list(zip(header, *rows, strict=True))
    widths = [max(len(str(x)) for x in col) for col in columns]
    numeric = [i > 0 and all(_NUMERIC_CELL.match(str(x)) for x in col[1:]) for i, col in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            str(c).rjust(w) if right else str(c).ljust(w) for c, w, right in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    lines = [line(header), "  ".join("-" * w for w in widths)]
    lines += [line(row) for row in rows]
    return "\n".join(lines)


#: 4-way runs of a best-of-4 benchmark (j1eval.score.kway): their own table.
KWAY_COLUMNS = (
    ("n_items", "items"),
    ("j1", "J1"),
    ("best_of_4", "best-of-4"),
    ("acc_slot_a", "acc slot A"),
    ("acc_slot_b", "B"),
    ("acc_slot_c", "C"),
    ("acc_slot_d", "D"),
    ("acc_all_rotations", "all rotations"),
    ("rotation_change_rate", "changes"),
    ("slot_rate_a", "picks A"),
    ("tv_shift", "TV shift"),
    ("parse_failure_rate", "no verdict"),
)


def results_table(results: Mapping[str, Any], subsets: bool = True) -> str:
    """One row per benchmark (and per subset, indented), figures in percent; 4-way runs in a table of their own."""
    kway = {b: r for b, r in results.items() if r.get("protocol") == "k-way"}
    reasons = [f"{b}: {k} is null: {why}" for b, r in results.items() for k, why in (r.get("reasons") or {}).items()]
    results = {b: r for b, r in results.items() if b not in kway}
    parts = [_pairwise_table(results, subsets)] if results else []
    if kway:
        rows = [
            [name] + [cell(figs, key) for key, _ in KWAY_COLUMNS]
            for bench, res in kway.items()
            for name, figs in [(bench, res["overall"])] + [(f"  {n}", f) for n, f in res.get("subsets", {}).items()]
            if subsets or not name.startswith(" ")
        ]
        parts.append(render_table(["4-way benchmark"] + [t for _, t in KWAY_COLUMNS], rows))
    return "\n\n".join(parts) + ("\n" + "\n".join(reasons) if reasons else "")


def _pairwise_table(results: Mapping[str, Any], subsets: bool = True) -> str:
    columns = list(COLUMNS)
    if any("mean_p_a" in res["overall"] for res in results.values()):
        columns += PROBABILITY_COLUMNS
    header = ["benchmark"] + [title for _, title in columns]
    rows = []
    notes = []
    for bench, res in results.items():
        overall = res["overall"]
        rows.append([bench] + [cell(overall, key) for key, _ in columns])
        if overall.get("missing"):
            notes.append(f"{bench}: data missing for {', '.join(overall['missing'])}; incomplete figures are not shown")
        if subsets:
            for name, figs in res.get("subsets", {}).items():
                rows.append([f"  {name}"] + [cell(figs, key) for key, _ in columns])
    text = render_table(header, rows)
    if notes:
        text += "\n" + "\n".join(notes)
    return text
