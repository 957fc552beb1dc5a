"""The report's plots (:mod:`j1eval.report.plots`) for the selected runs, drawn in memory.

``python -m j1eval report`` writes its plots as files; the dashboard writes nothing, so it
calls the same plotting functions with a ``save`` step that keeps the PNG bytes. Each run is one
bar / line / panel, named by its path under the runs directory.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dashboard.data import LoadedRun
from j1eval.report import BenchRun, JudgeRuns, Report, RunDir, plots, probability_plot
from j1eval.store.pairs_file import pair_details

_LOCK = threading.Lock()


def report_of(runs: Sequence[LoadedRun]) -> Report:
    """A j1eval report over the runs, one "judge" per run directory."""
    judges = []
    for run in runs:
        rundir = RunDir(run.entry.path, run.manifest, run.results)
        jr = JudgeRuns(run.entry.rel, runs=[rundir])
        for name, view in run.benches.items():
            if not view.results:
                continue
            table = None
            if view.pairs is not None:  # with the lengths and per-sample scores that pairs.parquet holds
                table = pair_details(view.table, view.pairs.values(), view.judgments)
            jr.benches[name] = BenchRun(run.entry.rel, name, rundir, view.results, table, view.benchmark)
        judges.append(jr)
    return Report(judges, [])


def render(runs: Sequence[LoadedRun]) -> tuple[list[tuple[str, bytes]], list[str]]:
    """([(plot name, PNG bytes)], notes on plots the runs do not allow)."""
    report = report_of(runs)
    if not report.benches():
        return [], ["no plots: the selected runs have no results.json figures"]
    images: list[tuple[str, bytes]] = []

    def keep(fig: Any, out_dir: Path, stem: str) -> list[Path]:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        plots.plt.close(fig)
        images.append((stem, buf.getvalue()))
        return []

    notes: list[str] = []
    nowhere = Path("unused")  # never created: ``keep`` writes no file
    with _LOCK:  # matplotlib's pyplot state is process-wide
        plots.plot_accuracy(report, nowhere, keep)
        plots.plot_slot_rate(report, nowhere, keep)
        for fn in (plots.plot_length_bias, plots.plot_score_diff, probability_plot.plot_probability_by_order):
            notes += fn(report, nowhere, keep)[1]
    return images, notes
