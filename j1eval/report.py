"""Paper-style tables, statistics and plots from run directories: ``python -m j1eval report``.

Run directories are merged by judge (``manifest["judge"]``): one row per judge. The
figures come from each run's ``results.json``; per-pair work (significance tests,
RM-Bench style cells, length bias, score distributions) re-reads ``judgments.jsonl``
and the benchmark's pairs. A cell is never filled in: a benchmark that was not run
is "—", one whose data was incomplete is "n/a†" with a footnote giving the partial
value and what is missing.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from j1eval import escape, paper
from j1eval.checks import check_results
from j1eval.errors import InputError, J1EvalError
from j1eval.safe_io import iter_jsonl, publish_dir, read_json_object
from j1eval.stats import BinomialResult, McNemarResult, format_p, mcnemar, pair_correctness, slot_preference
from j1eval.store import JUDGMENTS_FILE, RESULTS_FILE, latest_records, read_manifest

#: Benchmarks in the paper's column order; unknown ones follow, sorted.
BENCH_ORDER = ("ppe", "rewardbench", "judgebench", "rmbench", "followbencheval")
BENCH_TITLES = {
    "ppe": "PPE",
    "rewardbench": "RewardBench",
    "judgebench": "JudgeBench",
    "rmbench": "RM-Bench",
    "followbencheval": "FollowBenchEval",
}
#: J1 Table 2: (column title, benchmark, figure key in results[bench]["overall"], paper key).
MAIN_COLUMNS = (
    ("PPE-Preference", "ppe", "preference", "ppe_preference"),
    ("PPE-Correctness", "ppe", "correctness", "ppe_correctness"),
    ("RewardBench", "rewardbench", "j1", "rewardbench"),
    ("JudgeBench", "judgebench", "j1", "judgebench"),
    ("RM-Bench", "rmbench", "j1", "rmbench"),
    ("FollowBenchEval", "followbencheval", "j1", "followbencheval"),
)
#: Position-bias table: (column title, figure key).
BIAS_COLUMNS = (
    ("acc (a,b)", "acc_ab"),
    ("acc (b,a)", "acc_ba"),
    ("consistent acc", "acc_consistent"),
    ("inconsistency", "flip_rate"),
    ("slot A", "slot_a_rate"),
    ("position consistency", "position_consistency"),
    ("ties", "tie_rate"),
    ("no verdict", "parse_failure_rate"),
    ("truncated", "truncation_rate"),
)
#: Position bias in probability, where runs have the judge's P(slot A) (direct verdicts, baselines).
PROBABILITY_COLUMNS = (
    ("mean P(A)", "mean_p_a"),
    ("order shift", "order_shift"),
    ("acc (avg P)", "acc_prob_avg"),
)
#: Section figures that a benchmark's scorer puts in ``overall`` (shown in its breakdown).
SECTION_KEYS = {
    "rewardbench": (("chat", "Chat"), ("chat_hard", "Chat Hard"), ("safety", "Safety"), ("reasoning", "Reasoning")),
    "ppe": (("preference", "Preference"), ("correctness", "Correctness")),
    "rmbench": (("easy", "Easy"), ("normal", "Normal"), ("hard", "Hard")),
}
RMBENCH_LEVELS = (("easy", "easy"), ("normal", "normal"), ("hard", "hard"))
RMBENCH_DOMAINS = ("chat", "code", "math", "safety")

NOT_RUN = "—"
INCOMPLETE = "n/a†"
DAGGER = "†"
SLICE = "‡"
REBUILT = "§"


# --------------------------------------------------------------------------- tables


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
    def quoted(cls, value: float | None) -> Cell:
        """A percentage quoted from the paper (already in percent)."""
        if value is None:
            return cls(NOT_RUN, status="not reported")
        return cls(f"{value:.1f}", value)

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


# --------------------------------------------------------------------------- loading runs


@dataclass
class RunDir:
    path: Path
    manifest: dict[str, Any]
    results: dict[str, Any]


@dataclass
class BenchRun:
    """One judge's run of one benchmark: its scored figures and, where the data loads, its pair table."""

    judge: str
    bench: str
    run: RunDir
    results: dict[str, Any]
    records: list[dict[str, Any]]
    pairs: list[Any] | None = None  # the run's pairs (Pair objects), None when the data could not be loaded
    table: pd.DataFrame | None = None  # j1eval.metrics.pair_table of the run's verdicts
    verdicts: pd.DataFrame | None = None  # one verdict per (pair_id, order), samples combined
    benchmark: Any = None
    uses_scores: bool = False

    @property
    def overall(self) -> dict[str, Any]:
        return self.results.get("overall", {})

    @property
    def info(self) -> dict[str, Any]:
        return self.run.manifest.get("benchmarks", {}).get(self.bench, {})

    @property
    def seed(self) -> int:
        return int(self.run.manifest.get("seed", 0))

    @property
    def slice(self) -> tuple[int, int] | None:
        """(pairs run, pairs in the benchmark) when the run covered part of the data (--limit, --sample)."""
        run, total = self.info.get("n_pairs_run"), self.info.get("n_pairs_total")
        if isinstance(run, int) and isinstance(total, int) and run < total:
            return run, total
        return None

    @property
    def protocol(self) -> str:
        return getattr(self.benchmark, "j1_protocol", "single") if self.benchmark is not None else "single"


@dataclass
class JudgeRuns:
    """Every benchmark run of one judge, merged over run directories."""

    name: str
    benches: dict[str, BenchRun] = field(default_factory=dict)
    runs: list[RunDir] = field(default_factory=list)


@dataclass
class Report:
    judges: list[JudgeRuns]
    notes: list[str]
    with_paper: bool = False

    def benches(self) -> list[str]:
        present = {b for j in self.judges for b in j.benches}
        return [b for b in BENCH_ORDER if b in present] + sorted(present - set(BENCH_ORDER))

    def runs_of(self, bench: str) -> list[BenchRun]:
        return [j.benches[bench] for j in self.judges if bench in j.benches]


def read_run_dir(path: Path) -> RunDir:
    """A run directory's manifest and results; a clear error when either is absent or corrupt."""
    path = Path(path)
    if not path.is_dir():
        raise InputError("not a directory (pass run directories written by `python -m j1eval run`)", path=path)
    manifest = read_manifest(path)
    if manifest is None:
        raise InputError("no manifest.json: not a run directory written by `python -m j1eval run`", path=path)
    results_path = path / RESULTS_FILE
    if not results_path.exists():
        raise InputError(
            "no results.json: the run has not finished; rerun its `run` command to resume and score it", path=path
        )
    results = check_results(read_json_object(results_path, "results"), results_path)
    return RunDir(path, manifest, results)


def _read_records(run: RunDir) -> list[dict[str, Any]]:
    """The run's judgments, each checked; a partial last line (a killed or running run) is left out."""
    from j1eval.scoring import validate_row

    path = run.path / JUDGMENTS_FILE
    if not path.exists():
        return []
    out = []
    for lineno, rec in iter_jsonl(path, partial_tail_ok=True):
        validate_row(rec, None, {"path": path, "record": f"line {lineno}"})
        if "key" in rec and not isinstance(rec["key"], str):
            raise InputError(f"must be a string, got {rec['key']!r}", path=path, record=f"line {lineno}", field="key")
        out.append(rec)
    return latest_records(out)


def _data_dir_candidates(info: Mapping[str, Any], data_dir: Path | None, folder: str) -> list[Path]:
    """Local data folders that hold the benchmark's folder: --data-dir, $J1EVAL_DATA_DIR, the run's source."""
    from j1eval.benchmarks import resolve_data_dir

    out: list[Path] = []
    env = resolve_data_dir(None)
    for candidate in (data_dir, env):
        if candidate is not None:
            out.append(Path(candidate))
    source = str(info.get("source") or "")
    if source and not source.startswith("hf:"):
        src = Path(source)
        out.extend([src.parent, src.parent.parent])
    seen: list[Path] = []
    for p in out:
        if (p / folder).is_dir() and p not in seen:
            seen.append(p)
    return seen


class _PairCache:
    """Benchmark data loaded once per (benchmark, data folder)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Any] = {}

    def load(self, bench: str, info: Mapping[str, Any], data_dir: Path | None) -> tuple[Any, str | None]:
        """(BenchmarkData or None, a note when it could not be loaded or differs from the run's data)."""
        from j1eval.benchmarks import get_benchmark

        candidates = _data_dir_candidates(info, data_dir, get_benchmark(bench).folder or bench)
        if not candidates:
            return None, f"no local data folder for {bench} (source {info.get('source')!r}); pass --data-dir"
        errors = []
        for folder in candidates:
            key = (bench, str(folder.resolve()))
            if key not in self._cache:
                try:
                    self._cache[key] = get_benchmark(bench).load(folder)
                except (J1EvalError, OSError, ValueError) as exc:
                    self._cache[key] = exc
            data = self._cache[key]
            if isinstance(data, Exception):
                errors.append(f"{folder}: {data}")
                continue
            wanted = set((info.get("files") or {}).values())
            if wanted and not wanted <= set(data.files.values()):
                errors.append(f"{folder}: data files differ from the run's (sha256)")
                continue
            return data, None
        return None, f"could not load {bench} data: " + "; ".join(errors)


def _uses_scores(fmt: str | None) -> bool:
    if not fmt:
        return False
    try:
        from j1eval.formats import get_format

        return bool(get_format(fmt).uses_scores)
    except Exception:  # an unknown or unimportable format: verdicts only
        return False


def _bench_run(
    judge: str, bench: str, run: RunDir, records: list[dict[str, Any]], cache: _PairCache, data_dir: Path | None
) -> tuple[BenchRun, list[str]]:
    from j1eval.benchmarks import BENCHMARKS, get_benchmark
    from j1eval.metrics import pair_table
    from j1eval.runner import judgments_frame, orders_for, select_pairs
    from j1eval.scoring import aggregate_samples

    notes: list[str] = []
    manifest = run.manifest
    br = BenchRun(judge, bench, run, run.results[bench], [], uses_scores=_uses_scores(manifest.get("format")))
    if bench in BENCHMARKS.names():
        br.benchmark = get_benchmark(bench)
    data, why = cache.load(bench, br.info, data_dir) if br.benchmark is not None else (None, "unknown benchmark")
    pairs = None
    if data is not None:
        pairs = select_pairs(data.pairs, manifest.get("limit"), manifest.get("sample"), br.seed)
    elif why:
        notes.append(f"{judge} / {bench} ({run.path}): {why}; per-pair tests and plots skip it")
    order_mode, seed, samples = manifest.get("order", "both"), br.seed, int(manifest.get("samples", 1) or 1)
    ids = {p.pair_id for p in pairs} if pairs is not None else None
    kept: dict[tuple[str, str, int], dict[str, Any]] = {}
    for rec in records:
        pid, order, sample = rec.get("pair_id"), rec.get("order"), int(rec.get("sample", 0))
        if ids is not None and pid not in ids:
            continue
        if sample >= samples or order not in orders_for(pid, order_mode, seed):
            continue
        kept[(pid, order, sample)] = rec  # the last write wins
    br.records = list(kept.values())
    if br.records:
        br.verdicts = aggregate_samples(judgments_frame(br.records), use_scores=br.uses_scores)
    if pairs is not None and br.verdicts is not None:
        br.pairs = pairs
        br.table = pair_table(pairs, br.verdicts, br.benchmark, seed=seed)
        n_scored = br.overall.get("n_pairs")
        if isinstance(n_scored, int) and n_scored != len(br.table):
            notes.append(
                f"{judge} / {bench}: results.json scores {n_scored} pairs but judgments.jsonl has {len(br.table)}; "
                "per-pair tests use the judgments"
            )
    return br, notes


def _row_name(manifest: Mapping[str, Any], path: Path) -> str:
    """The judge's name; with its format and SC@N when they are not the judge's own (they differ in output)."""
    from j1eval.judges import JUDGES, JudgeSpec

    name = escape.plain(manifest.get("judge") or path.name)  # printable in every output, plots included
    fmt = manifest.get("format")
    default = (JUDGES.get(name) if name in JUDGES else JudgeSpec(name, "", "")).format
    if fmt and fmt != default:
        name += f" [{fmt}]"
    samples = manifest.get("samples") or 1
    if samples > 1:
        name += f" @{samples}"
    return name


def load_report(paths: Iterable[Path], data_dir: Path | None = None, with_paper: bool = False) -> Report:
    """Read run directories and merge them by judge."""
    judges: dict[str, JudgeRuns] = {}
    notes: list[str] = []
    cache = _PairCache()
    for path in paths:
        run = read_run_dir(Path(path))
        name = _row_name(run.manifest, Path(path))
        jr = judges.setdefault(name, JudgeRuns(name))
        jr.runs.append(run)
        if not run.results:
            notes.append(f"{path}: results.json holds no benchmark")
        records = _read_records(run)
        by_bench: dict[str, list[dict[str, Any]]] = {}
        for rec in records:
            by_bench.setdefault(str(rec.get("bench")), []).append(rec)
        for bench in run.results:
            br, bench_notes = _bench_run(name, bench, run, by_bench.get(bench, []), cache, data_dir)
            notes.extend(bench_notes)
            old = jr.benches.get(bench)
            if old is not None:
                keep = max(
                    (old, br), key=lambda b: (b.overall.get("n_pairs", 0), str(b.run.manifest.get("finished_at")))
                )
                drop = br if keep is old else old
                notes.append(
                    f"{name} / {bench}: several run directories; using {keep.run.path} "
                    f"({keep.overall.get('n_pairs')} pairs), not {drop.run.path}"
                )
                br = keep
            jr.benches[bench] = br
    return Report(list(judges.values()), notes, with_paper)


# --------------------------------------------------------------------------- table builders


def slice_text(br: BenchRun) -> str:
    """How a run's pairs were picked, when it covered only part of a benchmark."""
    run, total = br.slice or (0, 0)
    if br.run.manifest.get("sample"):
        return f"on a seeded sample of {run} of {total} pairs (--sample, seed {br.seed})"
    return f"on the first {run} of {total} pairs (--limit)"


def _pct_text(value: float) -> str:
    return f"{100 * value:.1f}"


def compact_missing(missing: Iterable[str]) -> list[str]:
    """Missing parts without their sub-groups: ["math", "math/easy"] -> ["math"]."""
    items = list(dict.fromkeys(str(m) for m in missing))
    return [m for m in items if not ("/" in m and m.split("/")[0] in items)]


#: Parts of a benchmark that a figure does not depend on (a missing one leaves the figure complete).
UNRELATED_PARTS = {
    ("ppe", "preference"): lambda part: part != "preference",
    ("ppe", "correctness"): lambda part: part == "preference",
}


def _figure_cell(br: BenchRun, figs: Mapping[str, Any], key: str, where: str, notes: list[str]) -> tuple[Cell, bool]:
    """A figure's cell and whether it is complete; incomplete or unmeasured cells get a footnote."""
    unrelated = UNRELATED_PARTS.get((br.bench, key), lambda part: False)
    missing = [m for m in compact_missing(figs.get("missing") or []) if not unrelated(m.split("/")[0])]
    if key not in figs:
        notes.append(f"{DAGGER} {where}: not measured by this run (e.g. one answer order only).")
        return Cell(INCOMPLETE, status="not measured"), False
    value = figs[key]
    if value is None or missing:
        partial = figs.get(f"{key}_partial", value)
        detail = f"data missing for {', '.join(missing)}" if missing else "incomplete data"
        part = f"; value over the parts present: {_pct_text(partial)}" if partial is not None else ""
        notes.append(f"{DAGGER} {where}: incomplete ({detail}){part}. Not a score for the whole benchmark.")
        status = f"incomplete: {detail}" + (f"; partial {100 * partial:.2f}" if partial is not None else "")
        return Cell(INCOMPLETE, status=status), False
    mark = ""
    if br.slice:
        mark = SLICE
        notes.append(f"{SLICE} {where}: {slice_text(br)}.")
    rebuilt = br.results.get("rebuilt") or (br.info.get("notes") or {}).get("rebuilt")
    if rebuilt:
        mark += REBUILT
        gens, checkers = ", ".join(rebuilt.get("generators", [])), ", ".join(rebuilt.get("checkers", []))
        made = f"j1eval build: generator {gens}; checker {checkers}"
        notes.append(f"{REBUILT} {where}: rebuilt pairs ({made}), not the paper's; not comparable to its row.")
    cell = Cell.pct(value, figs.get("ci", {}).get(key), mark)
    if br.slice:
        cell.status = f"slice: {br.slice[0]} of {br.slice[1]} pairs"
    return cell, True


def main_table(report: Report) -> Table:
    """J1 Table 2: the ``j1`` figure per benchmark and their mean."""
    columns = [c[0] for c in MAIN_COLUMNS] + ["Overall"]
    table = Table("main_table", "J1 main table (Table 2 layout): J1 protocol accuracy, %", ["Judge"], columns)
    table.ci_line = True
    notes: list[str] = []
    for judge in report.judges:
        cells: list[Cell] = []
        complete: list[float] = []
        for title, bench, key, _ in MAIN_COLUMNS:
            br = judge.benches.get(bench)
            if br is None:
                cells.append(Cell(NOT_RUN, status="not run"))
                continue
            cell, ok = _figure_cell(br, br.overall, key, f"{judge.name}, {title}", notes)
            cells.append(cell)
            if ok and not br.slice:  # a slice is shown (marked) but never averaged into Overall
                complete.append(float(cell.value) / 100)  # type: ignore[arg-type]
        if len(complete) == len(MAIN_COLUMNS):
            cells.append(Cell.pct(sum(complete) / len(complete)))
        else:
            notes.append(
                f"{DAGGER} {judge.name}, Overall: {len(complete)} of {len(MAIN_COLUMNS)} benchmark cells cover "
                "their whole benchmark; the mean over six is not shown."
            )
            cells.append(Cell(INCOMPLETE, status=f"incomplete: {len(complete)} of {len(MAIN_COLUMNS)} cells"))
        table.rows.append(Row([judge.name], cells, "runs"))
    if report.with_paper:
        for prow in paper.TABLE2:
            cells = [Cell.quoted(prow.values.get(c[3])) for c in MAIN_COLUMNS] + [Cell.quoted(prow.overall)]
            table.rows.append(Row([prow.label], cells, "paper"))
    table.notes = _dedupe(notes) + [
        f"{NOT_RUN} = benchmark not run. Cells: the J1 protocol figure (PPE, RewardBench, RM-Bench: one seeded "
        "random order per pair; JudgeBench, FollowBenchEval: correct in both orders); second line: "
        "95% bootstrap interval (pairs resampled). Overall = mean of the six cells, only when all six are complete."
    ]
    if report.with_paper:
        table.notes.append(
            f"Rows marked [paper, Table 2] are quoted from {paper.CITATION} ({paper.URL}), not measured."
        )
    return table


def _ppe_parts(br: BenchRun) -> dict[str, dict[str, Any]]:
    """PPE position-bias figures per half (preference, correctness), recomputed from the pair table."""
    from j1eval.metrics import compute_figures

    if br.table is None or br.benchmark is None:
        return {}
    if "group" not in br.table.columns:
        return {}
    parts = br.table["group"]
    out = {}
    for part in ("preference", "correctness"):
        sub = br.table[parts == part].reset_index(drop=True)
        if len(sub):
            out[part] = compute_figures(sub, None, n_boot=0, seed=br.seed)
    return out


def position_bias_table(report: Report) -> Table:
    """J1 Table 5 layout, one row per (benchmark, judge), plus slot preference and failure rates."""
    with_probs = any("mean_p_a" in br.overall for bench in report.benches() for br in report.runs_of(bench))
    columns = BIAS_COLUMNS + (PROBABILITY_COLUMNS if with_probs else ())
    table = Table(
        "position_bias",
        "Position bias (J1 Table 5 layout, extended), %",
        ["Benchmark", "Judge"],
        [c[0] for c in columns] + ["pairs"],
    )
    notes: list[str] = []

    def row(bench_title: str, judge: str, figs: Mapping[str, Any], br: BenchRun | None) -> Row:
        cells = []
        for _, key in columns:
            if key in figs and figs[key] is not None:
                mark = SLICE if br is not None and br.slice else ""
                cells.append(Cell.pct(figs[key], figs.get("ci", {}).get(key), mark))
            else:
                cells.append(Cell(NOT_RUN, status="not measured"))
        cells.append(Cell.number(figs.get("n_pairs")))
        if br is not None and br.slice:
            notes.append(f"{SLICE} {judge}, {bench_title}: {slice_text(br)}.")
        return Row([bench_title, judge], cells, bench_title)

    paper_rows: dict[str, list[paper.PaperBiasRow]] = {}
    if report.with_paper:
        for prow in paper.TABLE5:
            for bench in paper.TABLE5_BENCHES:
                paper_rows.setdefault(bench, []).append(prow)
    groups: list[tuple[str, str]] = []  # (title, key for paper rows)
    for bench in report.benches():
        if bench == "ppe":
            groups.append(("PPE", "ppe"))
        else:
            groups.append((BENCH_TITLES.get(bench, bench), bench))
    if report.with_paper and "ppe" not in report.benches():
        groups.insert(0, ("PPE-Correctness", "ppe_correctness"))
    if report.with_paper and "judgebench" not in report.benches():
        groups.append(("JudgeBench", "judgebench"))

    for title, key in groups:
        if key == "ppe":
            emitted_corr = False
            for br in report.runs_of("ppe"):
                parts = _ppe_parts(br)
                if parts:
                    for part, figs in parts.items():
                        table.rows.append(row(f"PPE-{part.capitalize()}", br.judge, figs, br))
                    emitted_corr = True
                else:
                    table.rows.append(row("PPE (both halves)", br.judge, br.overall, br))
            if report.with_paper:
                if not emitted_corr:
                    notes.append(
                        "PPE: the run's figures pool preference and correctness; the paper's rows are PPE Correctness."
                    )
                table.rows.extend(
                    _paper_bias_row("PPE-Correctness", p, "ppe_correctness", columns)
                    for p in paper_rows["ppe_correctness"]
                )
            continue
        for br in report.runs_of(key):
            table.rows.append(row(title, br.judge, br.overall, br))
        for prow in paper_rows.get(key, []):
            table.rows.append(_paper_bias_row(title, prow, key, columns))
    table.rows.sort(key=lambda r: _group_rank(r.labels[0]))
    table.notes = _dedupe(notes) + [
        "inconsistency = flip rate: share of pairs judged in both orders whose two verdicts are decisive and pick "
        "different responses (J1 Table 5 reports inconsistency; this harness measures it as the flip rate). "
        "consistent acc = correct in both orders. slot A = share of decisive verdicts (both orders pooled) that "
        "pick slot A. position consistency = consistent / (consistent + primacy + recency) over pairs with both "
        "verdicts readable (Shi et al., 2024). ties, no verdict, truncated = shares of all judgments. "
        f"{NOT_RUN} = not measured (one order only) or not reported."
    ]
    if with_probs:
        table.notes.append(
            "In probability, where the judge gives P(slot A) (direct verdicts read it from the first answer token; "
            "baselines give 1, 0 or 0.5): mean P(A) = mean P(slot A) over judgments, both orders pooled (50 = no slot "
            "preference); order shift = mean over pairs of |P(picks response 1 | order a,b) - P(picks response 1 | "
            "order b,a)| (0 for a judge whose preference ignores order, 100 for one that always picks slot A); "
            "acc (avg P) = share of pairs where the mean of the two orders' P(picks the better response) is above "
            "50 (exactly 50 counts as wrong)."
        )
    if report.with_paper:
        table.notes.append(
            f"Rows marked [paper, Table 5] are quoted from {paper.CITATION}: PPE Correctness and JudgeBench, "
            "four columns only."
        )
    return table


def _group_rank(title: str) -> int:
    order = ["PPE", "PPE-Preference", "PPE-Correctness", "PPE (both halves)"] + [
        BENCH_TITLES[b] for b in BENCH_ORDER[1:]
    ]
    return order.index(title) if title in order else len(order)


def _paper_bias_row(
    title: str, prow: paper.PaperBiasRow, key: str, columns: Sequence[tuple[str, str]] = BIAS_COLUMNS
) -> Row:
    values = prow.values.get(key, {})
    paper_key = {
        "acc_ab": "acc_ab",
        "acc_ba": "acc_ba",
        "acc_consistent": "acc_consistent",
        "flip_rate": "inconsistency",
    }
    cells = [Cell.quoted(values.get(paper_key[k])) if k in paper_key else Cell.quoted(None) for _, k in columns]
    cells.append(Cell.quoted(None))
    return Row([title, prow.label], cells, title)


def _subset_value(figs: Mapping[str, Any], key: str = "j1") -> Cell:
    if key in figs and figs[key] is not None:
        return Cell.pct(figs[key], figs.get("ci", {}).get(key))
    if f"{key}_partial" in figs:
        return Cell(INCOMPLETE, status="incomplete")
    return Cell(NOT_RUN, status="not measured")


def _n_label(counts: Iterable[Any]) -> str:
    values = sorted({int(c) for c in counts if isinstance(c, int)})
    return "/".join(str(v) for v in values) if values else ""


def breakdown_table(report: Report, bench: str) -> Table | None:
    """Per-part figures of one benchmark: rows = sections and subsets, columns = judges."""
    runs = report.runs_of(bench)
    if not runs:
        return None
    if bench == "rmbench":
        return rmbench_table(report)
    title = BENCH_TITLES.get(bench, bench)
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
        cell, _ = _figure_cell(br, br.overall, "j1", f"{br.judge}, {title} overall", notes)
        overall_cells.append(cell)
    table.rows.append(Row(["overall (J1)", _n_label(br.overall.get("n_pairs") for br in runs)], overall_cells, "all"))
    if bench in ("rewardbench", "judgebench", "followbencheval"):
        official = [_subset_value(br.overall, "official") for br in runs]
        table.rows.append(Row(["overall (official rule)", ""], official, "all"))
    for key, name in SECTION_KEYS.get(bench, ()):
        if any(key in br.overall or f"{key}_partial" in br.overall for br in runs):
            cells = []
            for br in runs:
                if key in br.overall or f"{key}_partial" in br.overall:
                    cell, _ = _figure_cell(br, br.overall, key, f"{br.judge}, {title} {name}", notes)
                else:
                    cell = Cell(NOT_RUN, status="not measured")
                cells.append(cell)
            table.rows.append(Row([name, ""], cells, "sections"))
    subsets = sorted({s for br in runs for s in br.results.get("subsets", {})}, key=_subset_sort_key)
    for subset in subsets:
        figs = [br.results.get("subsets", {}).get(subset) for br in runs]
        cells = [_subset_value(f) if f is not None else Cell(NOT_RUN, status="not run") for f in figs]
        table.rows.append(Row([subset, _n_label(f.get("n_pairs") for f in figs if f)], cells, "subsets"))
    if bench == "rewardbench":
        notes.append(
            "Chat, Chat Hard, Safety, Reasoning: RewardBench's official section scores (one seeded order, "
            "a tie or no verdict = 0.5; Reasoning weights math-prm like the code subsets together)."
        )
    table.notes = _dedupe(notes) + [
        "Subset cells: the benchmark's J1 figure on that subset's pairs"
        + (" (section weights do not apply within a subset)." if bench == "rewardbench" else ".")
        + f" {NOT_RUN} = not run or not measured; pairs = pairs per judge"
        + " (several values when judges ran different slices)."
    ]
    return table


def _subset_sort_key(name: str) -> tuple[int, str]:
    known = ["knowledge", "reasoning", "math", "coding", "L1", "L2", "L3", "L4", "L5"]
    return (known.index(name) if name in known else len(known), name)


def _rmbench_cells(br: BenchRun) -> dict[str, dict[str, Any]]:
    """Per domain, easy/normal/hard figures: from subsets' keys, else from the pair table."""
    from j1eval.metrics import compute_figures

    out: dict[str, dict[str, Any]] = {}
    for domain, figs in br.results.get("subsets", {}).items():
        if all(level in figs for level, _ in RMBENCH_LEVELS):
            out[domain] = figs
    if out or br.table is None or br.benchmark is None:
        return out
    for domain, part in br.table.groupby("subset", sort=True):
        out[str(domain)] = compute_figures(part.reset_index(drop=True), br.benchmark, n_boot=0, check_required=False)
    return out


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
                    cells.append(_subset_value(figs, level))
            table.rows.append(Row([domain, level_title], cells, domain))
    partials: dict[str, list[str]] = {}
    for level, level_title in (*RMBENCH_LEVELS, ("j1", "mean (J1)")):
        cells = []
        for br in runs:
            if level in br.overall or f"{level}_partial" in br.overall:
                own: list[str] = []
                cell, ok = _figure_cell(br, br.overall, level, f"{br.judge}, RM-Bench", own)
                partial = br.overall.get(f"{level}_partial")
                if not ok and partial is not None:  # one footnote per judge below, not one per level
                    partials.setdefault(br.judge, []).append(f"{level_title} {_pct_text(partial)}")
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
    table.notes = _dedupe(notes) + [
        "Hard = chosen response plainer than the rejected one (upper triangle of the 3x3 style matrix), "
        "normal = same style, easy = chosen response richer. A domain's mean = mean of its three levels; "
        "overall = mean over the four domains (chat, code, math, safety)."
    ]
    return table


def stats_tables(report: Report) -> tuple[Table, Table, list[str]]:
    """Slot-preference binomial tests and pairwise McNemar tests, per benchmark."""
    slot = Table(
        "stats_slot",
        "Slot preference: decisive verdicts picking slot A (both orders pooled), binomial test against 50%",
        ["Benchmark", "Judge"],
        ["decisive verdicts", "slot A %", "95% CI", "p-value"],
    )
    mc = Table(
        "stats_mcnemar",
        "Paired comparison of judges (exact McNemar test on per-pair correctness, J1 protocol)",
        ["Benchmark", "Judge 1", "Judge 2"],
        ["protocol", "pairs", "acc 1 %", "acc 2 %", "n10", "n01", "p-value"],
    )
    notes: list[str] = []
    for bench in report.benches():
        title = BENCH_TITLES.get(bench, bench)
        for br in report.runs_of(bench):
            if br.verdicts is None:
                notes.append(f"{br.judge} / {bench}: no stored judgments; slot test skipped.")
                continue
            res: BinomialResult = slot_preference(br.verdicts["verdict"].tolist())
            ci = f"[{100 * res.ci[0]:.1f}, {100 * res.ci[1]:.1f}]" if res.ci else NOT_RUN
            cells = [
                Cell.number(res.n),
                Cell.pct(res.rate) if res.rate is not None else Cell(NOT_RUN, status="no decisive verdict"),
                Cell(ci, ci if res.ci else None),
                Cell(format_p(res.p_value), res.p_value) if res.n else Cell(NOT_RUN, status="no decisive verdict"),
            ]
            slot.rows.append(Row([title, br.judge], cells, title))
        with_tables = [br for br in report.runs_of(bench) if br.table is not None]
        for b1, b2 in itertools.combinations(with_tables, 2):
            protocol = b1.protocol
            if protocol == "single" and b1.seed != b2.seed:
                notes.append(
                    f"{title}: {b1.judge} (seed {b1.seed}) and {b2.judge} (seed {b2.seed}) were scored on "
                    "different single orders; the McNemar test compares them as they were scored."
                )
            r: McNemarResult = mcnemar(pair_correctness(b1.table, protocol), pair_correctness(b2.table, protocol))
            cells = [
                Cell(protocol, protocol),
                Cell.number(r.n),
                Cell.pct(r.acc_1),
                Cell.pct(r.acc_2),
                Cell.number(r.n10),
                Cell.number(r.n01),
                Cell(format_p(r.p_value), r.p_value),
            ]
            mc.rows.append(Row([title, b1.judge, b2.judge], cells, title))
    slot.notes = [
        "Exact two-sided binomial test of the slot-A share of decisive verdicts (ties and missing verdicts left out) "
        "against 0.5; 95% CI: Clopper-Pearson. Both orders pooled, so a judge that ignores position sits at 50%."
    ]
    mc.notes = [
        "Pairs both judges judged. protocol single: correct in the pair's seeded single order; consistent: correct "
        "in both orders. acc 1, acc 2: plain share of these pairs correct (no section or domain weights, so it "
        "can differ from the benchmark's J1 figure). n10 = judge 1 right and judge 2 wrong, n01 = the reverse; "
        "p-value: exact McNemar (two-sided binomial test of n10 among n10 + n01 against 0.5)."
    ]
    return slot, mc, _dedupe(notes)


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def build_tables(report: Report) -> list[Table]:
    """Every table of the report, in reading order."""
    tables = [main_table(report), position_bias_table(report)]
    for bench in report.benches():
        t = breakdown_table(report, bench)
        if t is not None:
            tables.append(t)
    slot, mc, notes = stats_tables(report)
    slot.notes = notes + slot.notes
    tables.extend([slot, mc])
    return tables


# --------------------------------------------------------------------------- output


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")  # into publish_dir's temporary folder


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
        from j1eval.plots import make_plots

        plot_files, plot_notes = make_plots(report, out / "plots")
        written.extend(plot_files)
    if fmt == "md":
        path = out / "report.md"
        _write(path, combined_markdown(report, tables, [p for p in plot_files if p.suffix == ".png"], out, plot_notes))
        written.append(path)
    return written, plot_notes


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


def render_all(tables: Sequence[Table], fmt: str) -> str:
    render = RENDERERS[fmt]
    if fmt == "csv":
        return "\n".join(f"# {t.title}\n{render(t)}" for t in tables)
    return "\n".join(render(t) for t in tables)


def main(args: Any) -> int:
    """``python -m j1eval report``: print the tables, or write tables and plots under ``--out``."""
    fmt = getattr(args, "format", "md") or "md"
    if fmt not in RENDERERS:
        raise InputError(f"--format must be one of {', '.join(RENDERERS)}, got {fmt!r}")
    data_dir = getattr(args, "data_dir", None)
    report = load_report(args.runs, data_dir=data_dir, with_paper=bool(getattr(args, "with_paper", False)))
    tables = build_tables(report)
    out = getattr(args, "out", None)
    if out is None:
        print(render_all(tables, fmt))
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    out = Path(out)
    plots = not getattr(args, "no_plots", False)
    # Everything is written into a temporary folder that then replaces `out` in one step: a killed
    # report leaves the previous set whole (files of other formats in `out` are kept).
    written, plot_notes = publish_dir(out, lambda tmp: write_report(report, tables, tmp, fmt, plots=plots))
    print(render_all(tables[:1], fmt))
    for note in [*report.notes, *plot_notes]:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {len(written)} files under {out}")
    return 0
