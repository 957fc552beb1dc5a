"""Plain-text tables for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

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


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)


def results_table(results: Mapping[str, Any], subsets: bool = True) -> str:
    """One row per benchmark (and per subset, indented), figures in percent."""
    header = ["benchmark"] + [title for _, title in COLUMNS]
    rows = []
    notes = []
    for bench, res in results.items():
        overall = res["overall"]
        rows.append([bench] + [cell(overall, key) for key, _ in COLUMNS])
        if overall.get("missing"):
            notes.append(f"{bench}: data missing for {', '.join(overall['missing'])}; incomplete figures are not shown")
        if subsets:
            for name, figs in res.get("subsets", {}).items():
                rows.append([f"  {name}"] + [cell(figs, key) for key, _ in COLUMNS])
    text = render_table(header, rows)
    if notes:
        text += "\n" + "\n".join(notes)
    return text
