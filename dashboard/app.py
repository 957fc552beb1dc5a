"""j1eval dashboard: ``streamlit run dashboard/app.py [-- --runs DIR] [--data-dir DIR]``.

Read what a judge thought: run figures (Overview), every pair in both answer orders side
by side with several runs or checkpoints at once (Pairs), and j1train rollouts (Training).
Runs are read once per file version (``st.cache_resource`` keyed by size and mtime); the
app writes nothing. See ``dashboard/__init__.py`` for the modules.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import figures  # noqa: E402
from dashboard.data import LoadedRun, load_run  # noqa: E402
from dashboard.runs import DashboardError, Options, RunEntry, discover, parse_args  # noqa: E402
from dashboard.training import TrainingRun, load_training  # noqa: E402
from dashboard.views import overview, pairs, training  # noqa: E402
from dashboard.views.common import problem  # noqa: E402
from j1eval.errors import J1EvalError  # noqa: E402

VIEWS = ("Overview", "Pairs", "Training")
#: Runs kept loaded at once (each holds its judgments' text in memory).
MAX_LOADED = 8


def options() -> Options:
    """Arguments after ``--`` on the ``streamlit run`` line (none when the script is run another way)."""
    argv = sys.argv[1:] if sys.argv and Path(sys.argv[0]).resolve() == Path(__file__).resolve() else []
    return parse_args(argv)


@st.cache_data(ttl=5, show_spinner=False)
def find_runs(root: str) -> list[RunEntry] | str:
    try:
        return discover(Path(root))
    except DashboardError as exc:
        return str(exc)


@st.cache_resource(max_entries=MAX_LOADED, show_spinner="Reading the run…")
def read_run(root: str, rel: str, stamp: tuple, data_dir: str | None) -> LoadedRun | str:  # noqa: ARG001 (cache key)
    entry = next((e for e in discover_cached(root) if e.rel == rel), None)
    if entry is None:
        return f"run {rel!r} is no longer under {root}"
    try:
        return load_run(entry, Path(root), Path(data_dir) if data_dir else None)
    except Exception as exc:  # any file content: one line on the page, never a traceback
        return _one_line(rel, exc)


@st.cache_resource(max_entries=MAX_LOADED, show_spinner="Reading the training logs…")
def read_training(root: str, rel: str, stamp: tuple) -> TrainingRun | str:  # noqa: ARG001 (cache key)
    entry = next((e for e in discover_cached(root) if e.rel == rel), None)
    if entry is None:
        return f"run {rel!r} is no longer under {root}"
    try:
        return load_training(entry, Path(root))
    except Exception as exc:  # any file content: one line on the page, never a traceback
        return _one_line(rel, exc)


def _one_line(rel: str, exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, DashboardError | J1EvalError):
        return text  # already names the file
    return f"{rel}: cannot read this run ({type(exc).__name__}{': ' + text[:300] if text else ''})"


def discover_cached(root: str) -> list[RunEntry]:
    found = find_runs(root)
    return found if isinstance(found, list) else []


@st.cache_data(max_entries=16, show_spinner="Drawing the plots…")
def plots_of(root: str, keys: tuple[tuple[str, tuple], ...], data_dir: str | None) -> tuple[list, list]:
    runs = [read_run(root, rel, stamp, data_dir) for rel, stamp in keys]
    try:
        return figures.render([r for r in runs if isinstance(r, LoadedRun)])
    except Exception as exc:  # a plot the data cannot draw is a note, not a traceback
        return [], [f"plots skipped ({type(exc).__name__}: {str(exc)[:200]})"]


def main() -> None:
    st.set_page_config(page_title="j1eval dashboard", layout="wide")
    opts = options()
    root = str(opts.runs_dir)
    data_dir = str(opts.data_dir) if opts.data_dir else None
    side = st.sidebar
    side.markdown("## j1eval dashboard")
    side.text(f"runs directory: {root}")
    for line in opts.problems:
        problem(line)
    found = find_runs(root)
    if isinstance(found, str):
        problem(found)
        return
    view = side.radio("View", VIEWS, key="view", bind="query-params", horizontal=True)
    evals = {e.rel: e for e in found if e.kind == "eval"}
    trains = {e.rel: e for e in found if e.kind == "train"}
    if view == "Training":
        if not trains:
            st.info("No j1train output under the runs directory (a folder with log.jsonl or completions/).")
            return
        # No format_func on widgets bound to the URL: the URL holds the option's label.
        rel = side.selectbox("Training run", list(trains), key="train", bind="query-params")
        side.text(trains[rel].label())
        loaded = read_training(root, rel, trains[rel].stamp)
        if isinstance(loaded, str):
            problem(loaded)
        else:
            training.render(loaded)
        return
    if not evals:
        st.info("No run directories (folders with manifest.json) under the runs directory.")
        return
    chosen = side.multiselect(
        "Runs", list(evals), key="runs", bind="query-params", placeholder="choose one or more runs"
    )
    for rel in chosen:
        side.text(evals[rel].label())
    if not chosen:
        st.info(f"{len(evals)} runs found. Choose one or more in the sidebar.")
        return
    runs: list[LoadedRun] = []
    for rel in chosen:
        loaded = read_run(root, rel, evals[rel].stamp, data_dir)
        if isinstance(loaded, str):
            problem(loaded)
        else:
            runs.append(loaded)
    if not runs:
        return
    if view == "Overview":
        keys = tuple((r.entry.rel, r.entry.stamp) for r in runs)
        overview.render(runs, lambda: plots_of(root, keys, data_dir))
    else:
        pairs.render(runs)


main()
