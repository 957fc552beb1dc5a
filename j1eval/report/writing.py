"""Writing a report: every table in reading order, the files of one format, the combined Markdown page; ``main``.

``python -m j1eval report RUN... [--out DIR] [--format md|latex|csv] [--with-paper] [--no-plots]``
prints the tables, or writes them (and the plots, :mod:`j1eval.report.plots`) into ``--out``
through :mod:`j1eval.report.publish`: only the report's own files, one report per folder.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from j1eval import escape
from j1eval.errors import InputError
from j1eval.report.breakdowns import breakdown_table
from j1eval.report.kway_tables import kway_table, official_table
from j1eval.report.layouts import main_table, position_bias_table
from j1eval.report.paper_tables import paper_tables
from j1eval.report.publish import publish_report
from j1eval.report.runs import Report, load_report
from j1eval.report.scaling_table import plot_scaling, scaling_table
from j1eval.report.significance import stats_tables
from j1eval.report.tables import EXTENSIONS, RENDERERS, Table, render_all, render_markdown


def build_tables(report: Report) -> list[Table]:
    """Every table of the report, in reading order."""
    tables = [main_table(report), position_bias_table(report), *paper_tables(report)]
    tables += [t for t in (official_table(report), kway_table(report)) if t is not None]  # RewardBench 2
    scaling = scaling_table(report)
    if scaling is not None:
        tables.append(scaling)
    for bench in report.benches():
        t = breakdown_table(report, bench)
        if t is not None:
            tables.append(t)
    slot, mc, notes = stats_tables(report)
    slot.notes = notes + slot.notes
    tables.extend([slot, mc])
    return tables


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")  # into publish_report's staging folder


def write_report(
    report: Report, tables: Sequence[Table], out: Path, fmt: str, plots: bool = True
) -> tuple[list[Path], list[str]]:
    """Write each table (stats tables together in one file), and the plots; (files, notes)."""
    ext = EXTENSIONS[fmt]
    render = RENDERERS[fmt]
    written: list[Path] = []
    stats = [t for t in tables if t.key.startswith("stats_")]
    for table in tables:
        if table in stats:
            continue
        path = out / f"{table.key}.{ext}"
        _write(path, render(table))
        written.append(path)
    if stats:
        if fmt == "csv":
            for table in stats:
                path = out / f"{table.key}.csv"
                _write(path, render(table))
                written.append(path)
        else:
            sep = "\n" if fmt == "md" else "\n\\bigskip\n\n"
            path = out / f"stats.{ext}"
            _write(path, sep.join(render(t) for t in stats))
            written.append(path)
    plot_notes: list[str] = []
    plot_files: list[Path] = []
    if plots:
        plot_files, plot_notes = make_plots(report, out / "plots")
        written.extend(plot_files)
    if fmt == "md":
        path = out / "report.md"
        _write(path, combined_markdown(report, tables, [p for p in plot_files if p.suffix == ".png"], out, plot_notes))
        written.append(path)
    return written, plot_notes


def make_plots(report: Report, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Every plot the runs allow; (files written, notes on plots skipped). Matplotlib is imported here, not before."""
    from j1eval.report.kway_tables import plot_slot_preference
    from j1eval.report.plots import plot_accuracy, plot_length_bias, plot_score_diff, plot_slot_rate
    from j1eval.report.probability_plot import plot_probability_by_order

    kway_files, _ = plot_slot_preference(report, out_dir)
    if not report.benches():
        return kway_files, [] if kway_files else ["plots skipped: no benchmark results"]
    files = kway_files + plot_accuracy(report, out_dir) + plot_slot_rate(report, out_dir)
    notes: list[str] = []
    for fn in (plot_length_bias, plot_score_diff, plot_probability_by_order, plot_scaling):
        paths, more = fn(report, out_dir)
        files += paths
        notes += more
    return files, notes


def _sources(report: Report) -> list[str]:
    lines = []
    for judge in report.judges:
        for run in judge.runs:
            benches = ", ".join(run.results)
            when = run.manifest.get("finished_at") or run.manifest.get("updated_at") or "?"
            text = (
                f"{run.path}: judge {judge.name} (format {run.manifest.get('format')}, "
                f"seed {run.manifest.get('seed')}, order {run.manifest.get('order')}, "
                f"limit {run.manifest.get('limit')}), benchmarks {benches}; finished {when}"
            )
            lines.append(f"- {escape.markdown(text)}")
    return lines


def combined_markdown(
    report: Report, tables: Sequence[Table], pngs: Sequence[Path], out: Path, plot_notes: Sequence[str]
) -> str:
    """All tables and plots in one Markdown page."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    parts = [f"# j1eval report\n\nGenerated {now} from:\n", "\n".join(_sources(report)), ""]
    for table in tables:
        parts.append(render_markdown(table))
    if pngs:
        parts.append("## Plots\n")
        for png in pngs:
            rel = quote(png.relative_to(out).as_posix())
            parts.append(f"![{escape.markdown(png.stem)}]({rel})\n")
    notes = list(report.notes) + list(plot_notes)
    if notes:
        parts.append("## Notes\n")
        parts.extend(f"- {escape.markdown(n)}" for n in notes)
    return "\n".join(parts).rstrip() + "\n"


def main(args: Any) -> int:
    """``python -m j1eval report``: print the tables, or write tables and plots under ``--out``."""
    fmt = getattr(args, "format", "md") or "md"
    if fmt not in RENDERERS:
        raise InputError(f"--format must be one of {', '.join(RENDERERS)}, got {fmt!r}")
    # Runs are read from their own files (results.json, pairs.parquet): --data-dir is not needed.
    report = load_report(args.runs, with_paper=getattr(args, "with_paper", None))
    tables = build_tables(report)
    out = getattr(args, "out", None)
    if out is None:
        print(render_all(tables, fmt))
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    out = Path(out)
    plots = not getattr(args, "no_plots", False)
    # Written into a staging folder, then swapped in (j1eval.report.publish): a killed report leaves
    # the previous one whole, and the folder holds exactly one report.
    force = bool(getattr(args, "force", False))
    written, plot_notes = publish_report(out, lambda tmp: write_report(report, tables, tmp, fmt, plots=plots), force)
    print(render_all(tables[:1], fmt))
    for note in [*report.notes, *plot_notes]:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(written)} files under {out}")
    return 0
