"""Report tables and their renderers: :class:`Cell` / :class:`Row` / :class:`Table`, as Markdown, LaTeX or CSV.

A cell is never filled in: a benchmark that was not run is "—" (:data:`NOT_RUN`), one whose
data was incomplete "n/a†" (:data:`INCOMPLETE`) with a footnote; a CSV cell keeps the number,
its interval and a status beside the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from j1eval import escape

NOT_RUN = "—"
INCOMPLETE = "n/a†"
DAGGER = "†"
SLICE = "‡"
REBUILT = "§"
SMALL = "¶"
#: A figure over fewer pairs than this is marked (:data:`SMALL`) in every table, with a note.
MIN_PAIRS = 30


def small_mark(n: int | None) -> str:
    """:data:`SMALL` for a figure over fewer than :data:`MIN_PAIRS` pairs (or decisive verdicts), else ""."""
    return SMALL if isinstance(n, int) and n < MIN_PAIRS else ""


def small_note(where: str, n: int | None, unit: str = "pairs") -> str:
    unit = unit[:-1] if n == 1 and unit.endswith("s") else unit
    return f"{SMALL} {where}: over {n} {unit}, fewer than {MIN_PAIRS}: a rough figure; its interval says how rough."


@dataclass
class Cell:
    """One table cell: its display text and, for CSV, the number, interval and status behind it."""

    text: str
    value: float | int | str | None = None
    ci: tuple[float, float] | None = None  # same unit as value (percent for figures)
    status: str = ""  # "" = measured; otherwise e.g. "not run", "incomplete", "not measured"

    @classmethod
    def pct(cls, value: float | None, ci: Sequence[float] | None = None, mark: str = "") -> Cell:
        if value is None:
            return cls(NOT_RUN, status="not measured")
        interval = (100 * ci[0], 100 * ci[1]) if ci else None
        return cls(f"{100 * value:.1f}{mark}", round(100 * value, 2), interval)

    @classmethod
    def quoted(cls, value: float | None, source: str = "") -> Cell:
        """A percentage quoted from the paper (already in percent); ``source`` (table and URL) goes in its status."""
        if value is None:
            return cls(NOT_RUN, status="not reported")
        return cls(f"{value:.1f}", value, status=f"quoted: {source}" if source else "quoted")

    @classmethod
    def number(cls, value: int | float | None, text: str | None = None) -> Cell:
        if value is None:
            return cls(NOT_RUN, status="not measured")
        return cls(text if text is not None else str(value), value)


@dataclass
class Row:
    labels: list[str]
    cells: list[Cell]
    group: str = ""  # a rule is drawn between groups (LaTeX)


@dataclass
class Table:
    """A report table, rendered as Markdown, a LaTeX tabular fragment or CSV."""

    key: str  # file stem
    title: str
    label_columns: list[str]
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ci_line: bool = False  # show each row's intervals on a second line

    def has_ci(self, row: Row) -> bool:
        return self.ci_line and any(c.ci for c in row.cells)

    def ci_text(self, cell: Cell) -> str:
        return f"[{cell.ci[0]:.1f}, {cell.ci[1]:.1f}]" if cell.ci else ""


def render_markdown(table: Table) -> str:
    """A GitHub Markdown table with its title and footnotes."""

    esc = escape.markdown  # names from runs are text, never markup
    header = table.label_columns + table.columns
    lines = [f"### {esc(table.title)}", ""]
    lines.append("| " + " | ".join(esc(h) for h in header) + " |")
    lines.append("|" + "|".join([":---"] * len(table.label_columns) + ["---:"] * len(table.columns)) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(esc(x) for x in row.labels + [c.text for c in row.cells]) + " |")
        if table.has_ci(row):
            blanks = ["*95% CI*"] + [""] * (len(table.label_columns) - 1)
            lines.append("| " + " | ".join(blanks + [table.ci_text(c) for c in row.cells]) + " |")
    if table.notes:
        lines.append("")
        lines.extend(f"{escape.markdown_line(note)}  " for note in table.notes)
    return "\n".join(lines).rstrip() + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "—": "---",
    "–": "--",
    "†": r"\textsuperscript{\dag}",
    "‡": r"\textsuperscript{\ddag}",
    "¶": r"\textsuperscript{\P}",
    "·": r"$\cdot$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "×": r"$\times$",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters and map the few non-ASCII marks used in tables.

    A leading "[" is braced, so that it is not read as the optional argument of the ``\\`` before it.
    """
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in escape.plain(text))
    return "{}" + out if out.startswith("[") else out


def render_latex(table: Table) -> str:
    """A booktabs ``tabular`` fragment (no float), then its footnotes in small type."""
    n_labels, n_values = len(table.label_columns), len(table.columns)
    spec = "l" * n_labels + "r" * n_values
    lines = [f"% {latex_escape(table.title)}", f"\\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines.append(" & ".join(latex_escape(h) for h in table.label_columns + table.columns) + r" \\")
    lines.append(r"\midrule")
    previous_group: str | None = None
    for row in table.rows:
        if previous_group is not None and row.group != previous_group:
            lines.append(r"\midrule")
        previous_group = row.group
        lines.append(" & ".join(latex_escape(x) for x in row.labels + [c.text for c in row.cells]) + r" \\")
        if table.has_ci(row):
            cis = [f"{{\\footnotesize {table.ci_text(c)}}}" if c.ci else "" for c in row.cells]
            lines.append(" & ".join([""] * n_labels + cis) + r" \\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    if table.notes:
        lines.append(r"\par\smallskip")
        lines.append(r"{\footnotesize")
        lines.extend(latex_escape(note) + r"\par" for note in table.notes)
        lines.append("}")
    return "\n".join(lines) + "\n"


def table_frame(table: Table) -> pd.DataFrame:
    """The table as a DataFrame: numbers (percent for figures), intervals and statuses in their own columns."""
    records = []
    with_ci = [any(r.cells[i].ci for r in table.rows) for i in range(len(table.columns))]
    with_status = [any(r.cells[i].status for r in table.rows) for i in range(len(table.columns))]
    for row in table.rows:
        rec: dict[str, Any] = dict(zip(table.label_columns, row.labels, strict=True))
        for i, (name, cell) in enumerate(zip(table.columns, row.cells, strict=True)):
            rec[name] = cell.value
            if with_ci[i]:
                rec[f"{name} ci_low"] = round(cell.ci[0], 2) if cell.ci else None
                rec[f"{name} ci_high"] = round(cell.ci[1], 2) if cell.ci else None
            if with_status[i]:
                rec[f"{name} status"] = cell.status
        records.append(rec)
    return pd.DataFrame(records)


def render_csv(table: Table) -> str:
    """CSV in which no text (a judge's name, a subset's) is read as a formula by a spreadsheet."""
    frame = table_frame(table).map(lambda v: escape.csv_text(v) if isinstance(v, str) else v)
    return frame.rename(columns=escape.csv_text).to_csv(index=False)


RENDERERS = {"md": render_markdown, "latex": render_latex, "csv": render_csv}
EXTENSIONS = {"md": "md", "latex": "tex", "csv": "csv"}


def render_all(tables: Sequence[Table], fmt: str) -> str:
    render = RENDERERS[fmt]
    if fmt == "csv":
        return "\n".join(f"# {t.title}\n{render(t)}" for t in tables)
    return "\n".join(render(t) for t in tables)


def dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
