"""Paper-style tables, statistics and plots from run directories: ``python -m j1eval report``.

A report reads each run directory's ``manifest.json``, ``results.json`` and ``pairs.parquet`` (the
scorer's per-pair table, :mod:`j1eval.store.pairs_file`): it scores nothing again and needs no benchmark
data. Its parts:

- :mod:`~j1eval.report.tables`: :class:`Cell` / :class:`Row` / :class:`Table` and the Markdown,
  LaTeX and CSV renderers;
- :mod:`~j1eval.report.runs`: loading runs, merged by judge (:func:`load_report`);
- :mod:`~j1eval.report.layouts`: the paper's main layouts (J1 Table 2 and the position-bias table, v1 or v3);
- :mod:`~j1eval.report.paper_tables`: J1 Table 1 (PPE sets), Tables 3-4 (judge formats), Table 6 (RewardBench);
- :mod:`~j1eval.report.scaling_table`: SC@k / Mean-Score@k from one run's samples, table and plot;
- :mod:`~j1eval.report.set_means`: figures averaged over sets (PPE Correctness);
- :mod:`~j1eval.report.breakdowns`: per-part tables of each benchmark;
- :mod:`~j1eval.report.significance`: slot-preference and McNemar tests;
- :mod:`~j1eval.report.writing`: the files of a report and :func:`main`;
- :mod:`~j1eval.report.plots`, :mod:`~j1eval.report.probability_plot`: the plots (matplotlib,
  imported only when plots are drawn).

A cell is never filled in: a benchmark that was not run is "—", one whose data was incomplete
is "n/a†" with a footnote giving the partial value and what is missing.
"""

from __future__ import annotations

from j1eval.report.breakdowns import breakdown_table, rmbench_table
from j1eval.report.layouts import BIAS_COLUMNS, MAIN_COLUMNS, PROBABILITY_COLUMNS, main_table, position_bias_table
from j1eval.report.paper_tables import formats_table, ppe_table, rewardbench_table
from j1eval.report.runs import (
    BENCH_ORDER,
    BENCH_TITLES,
    BenchRun,
    JudgeRuns,
    Report,
    RunDir,
    bench_title,
    load_report,
    read_run_dir,
)
from j1eval.report.scaling_table import scaling_table
from j1eval.report.significance import stats_tables
from j1eval.report.tables import (
    EXTENSIONS,
    RENDERERS,
    Cell,
    Row,
    Table,
    latex_escape,
    render_all,
    render_csv,
    render_latex,
    render_markdown,
    table_frame,
)
from j1eval.report.writing import build_tables, combined_markdown, main, write_report

__all__ = [
    "BENCH_ORDER",
    "BENCH_TITLES",
    "BIAS_COLUMNS",
    "EXTENSIONS",
    "MAIN_COLUMNS",
    "PROBABILITY_COLUMNS",
    "RENDERERS",
    "BenchRun",
    "Cell",
    "JudgeRuns",
    "Report",
    "Row",
    "RunDir",
    "Table",
    "bench_title",
    "breakdown_table",
    "build_tables",
    "combined_markdown",
    "formats_table",
    "latex_escape",
    "load_report",
    "main",
    "main_table",
    "position_bias_table",
    "ppe_table",
    "read_run_dir",
    "render_all",
    "render_csv",
    "render_latex",
    "render_markdown",
    "rewardbench_table",
    "rmbench_table",
    "scaling_table",
    "stats_tables",
    "table_frame",
    "write_report",
]
