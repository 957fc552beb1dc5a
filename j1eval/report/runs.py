"""Loading runs for a report: ``manifest.json``, ``results.json`` and ``pairs.parquet`` of each run directory.

Run directories are merged by judge (``manifest["judge"]``, with its format and SC@N when they
are not the judge's own): one row per judge. The figures come from each run's ``results.json``;
everything per pair (significance tests, RM-Bench cells, length bias, score and probability
distributions) from the per-pair table the scorer wrote beside it (:mod:`j1eval.store.pairs_file`).
Nothing is scored again and no benchmark data is read.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval import escape
from j1eval.errors import InputError
from j1eval.judging.checks import check_results
from j1eval.safe_io import read_json_object
from j1eval.store.judgments import JUDGMENTS_FILE, RESULTS_FILE, read_manifest
from j1eval.store.pairs_file import PAIRS_FILE, read_pairs

#: Benchmarks in the paper's column order; unknown ones follow, sorted.
BENCH_ORDER = ("ppe", "rewardbench", "judgebench", "rmbench", "followbencheval")


def bench_title(bench: str) -> str:
    """A benchmark's title from the registry (its class's ``title``); an unknown name as it is."""
    from j1eval.benchmarks import BENCHMARKS

    return (BENCHMARKS.get(bench).title or bench) if bench in BENCHMARKS else bench


def _titles() -> dict[str, str]:
    from j1eval.benchmarks import BENCHMARKS

    return {name: bench_title(name) for name in BENCHMARKS.names()}


#: Every registered benchmark's title (read from the registry, for the dashboard).
BENCH_TITLES: Mapping[str, str] = _titles()


@dataclass
class RunDir:
    path: Path
    manifest: dict[str, Any]
    results: dict[str, Any]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # per benchmark, its rows of pairs.parquet


@dataclass
class BenchRun:
    """One judge's run of one benchmark: its scored figures and the per-pair table they were computed from."""

    judge: str
    bench: str
    run: RunDir
    results: dict[str, Any]
    table: pd.DataFrame | None = None  # the run's rows of pairs.parquet (j1eval.store.pairs_file)
    benchmark: Any = None  # the registered Benchmark (None for an unknown name)

    @property
    def verdicts(self) -> list[str | None]:
        """One verdict per judged (pair, order), samples combined: both orders' columns of the table."""
        t = self.table
        if t is None:
            return []
        return t.loc[t["judged_ab"], "verdict_ab"].tolist() + t.loc[t["judged_ba"], "verdict_ba"].tolist()

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
    #: 4-way runs of best-of-4 benchmarks (j1eval.score.kway): their own figures (results.json alone).
    kway: dict[str, BenchRun] = field(default_factory=dict)


@dataclass
class Report:
    judges: list[JudgeRuns]
    notes: list[str]
    with_paper: str | None = None  # the J1 version quoted ("v1", "v3"), None for no paper rows

    @property
    def paper_version(self) -> str:
        """The version whose layouts the tables follow (v1 when no paper rows are asked for)."""
        return self.with_paper or "v1"

    def benches(self) -> list[str]:
        present = {b for j in self.judges for b in j.benches}
        return [b for b in BENCH_ORDER if b in present] + sorted(present - set(BENCH_ORDER))

    def runs_of(self, bench: str) -> list[BenchRun]:
        return [j.benches[bench] for j in self.judges if bench in j.benches]

    def kway_runs(self) -> list[BenchRun]:
        """Every 4-way run, judge by judge."""
        return [br for j in self.judges for br in j.kway.values()]


def read_run_dir(path: Path) -> RunDir:
    """A run directory's manifest, results and per-pair tables; a clear error when one is absent or corrupt."""
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
    return RunDir(path, manifest, results, _read_tables(path, manifest, results))


def _read_tables(path: Path, manifest: Mapping[str, Any], results: Mapping[str, Any]) -> dict[str, pd.DataFrame]:
    """Each benchmark's rows of ``pairs.parquet``; one clear line, with the command that writes it, when absent."""
    pairs_path = path / PAIRS_FILE
    tables = read_pairs(pairs_path) if pairs_path.exists() else {}
    results = {b: r for b, r in results.items() if not is_kway(r)}  # 4-way runs: items.parquet, not read here
    missing = [bench for bench in results if bench not in tables]
    if missing:
        what = (
            f"no {PAIRS_FILE} (the per-pair table a report reads; runs scored by an older j1eval lack it)"
            if not pairs_path.exists()
            else f"{PAIRS_FILE} has no rows of {', '.join(missing)}"
        )
        raise InputError(f"{what}; {_rewrite_hint(path, manifest, missing)}", path=path)
    for bench, figures in results.items():
        n_scored = (figures.get("overall") or {}).get("n_pairs")
        if isinstance(n_scored, int) and n_scored != len(tables[bench]):
            raise InputError(
                f"{PAIRS_FILE} holds {len(tables[bench])} {bench} pairs but results.json scores {n_scored} "
                f"(a writer stopped between the two); {_rewrite_hint(path, manifest, [bench])}",
                path=path,
            )
    return {bench: tables[bench] for bench in results}


def is_kway(results: Mapping[str, Any]) -> bool:
    """Whether a benchmark's results come from a 4-way run (j1eval.score.kway)."""
    return isinstance(results, Mapping) and results.get("protocol") == "k-way"


def _rewrite_hint(path: Path, manifest: Mapping[str, Any], benches: Sequence[str]) -> str:
    """How to (re)write a run's per-pair table: its own command, else ``score`` once per benchmark."""
    command = [str(c) for c in manifest.get("command") or []] if isinstance(manifest.get("command"), list) else []
    out = command[command.index("--out") + 1] if "--out" in command[:-1] else None
    if command[1:4] == ["-m", "j1eval", "run"] and out and Path(out).resolve() == path.resolve():
        return f"rerun the command that made it, which reuses every stored judgment: {shlex.join(command)}"
    scores = " --scores" if _uses_scores(manifest.get("format")) else ""
    judgments = shlex.quote(str(path / JUDGMENTS_FILE))
    source = str((manifest.get("benchmarks", {}).get(benches[0]) or {}).get("source") or "")
    data_dir = shlex.quote(str(Path(source).parent)) if source and Path(source).is_dir() else "DIR"
    return (
        f"write it with: python -m j1eval score --bench {benches[0]} --judgments {judgments} "
        f"--seed {manifest.get('seed', 0)}{scores} --data-dir {data_dir} --out {shlex.quote(str(path))}"
        + (f" (once per benchmark: {', '.join(benches)})" if len(benches) > 1 else "")
    )


def _uses_scores(fmt: object) -> bool:
    try:
        from j1eval.formats import get_format

        return bool(get_format(str(fmt)).uses_scores) if fmt else False
    except Exception:  # an unknown or unimportable format: verdicts only
        return False


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


def paper_version(with_paper: bool | str | None) -> str | None:
    """``--with-paper`` as a version: True (the bare flag) is v1, a false value none, else v1 or v3."""
    from j1eval.report.paper_data import VERSIONS

    if with_paper is True:
        return "v1"
    if not with_paper:
        return None
    if with_paper not in VERSIONS:
        raise InputError(f"--with-paper takes {' or '.join(VERSIONS)}, got {with_paper!r}")
    return str(with_paper)


def load_report(paths: Iterable[Path], with_paper: bool | str | None = False) -> Report:
    """Read run directories (results.json, pairs.parquet, manifest.json) and merge them by judge.

    ``with_paper``: the J1 version whose published rows are quoted (True = "v1"; False: none).
    """
    from j1eval.benchmarks import BENCHMARKS, get_benchmark

    version = paper_version(with_paper)

    judges: dict[str, JudgeRuns] = {}
    notes: list[str] = []
    for path in paths:
        run = read_run_dir(Path(path))
        name = _row_name(run.manifest, Path(path))
        jr = judges.setdefault(name, JudgeRuns(name))
        jr.runs.append(run)
        if not run.results:
            notes.append(f"{path}: results.json holds no benchmark")
        for bench in run.results:
            benchmark = get_benchmark(bench) if bench in BENCHMARKS else None
            if is_kway(run.results[bench]):
                jr.kway[bench] = BenchRun(name, bench, run, run.results[bench], None, benchmark)
                continue
            br = BenchRun(name, bench, run, run.results[bench], run.tables[bench], benchmark)
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
    return Report(list(judges.values()), notes, version)
