"""Command line: ``python -m j1eval list | score | run | report``. Argument parsing only."""

from __future__ import annotations

import argparse
import errno
import gc
import sys
from pathlib import Path
from typing import Any

from j1eval.backends.base import parse_backend_options
from j1eval.errors import InputError, J1EvalError, SetupError, check_seed, guarded
from j1eval.flags import add_flags, values_from
from j1eval.judging.config import RunConfig
from j1eval.judging.executors import ExecutorConfig


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, RunConfig, only={"data_dir"})  # run's --data-dir, for the commands that read data too


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m j1eval",
        description="Evaluate LLM judges on pairwise benchmarks under both answer orders (J1's protocol).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="benchmarks (pair counts, where their data was found) and judges")
    _add_data_dir(p_list)

    p_score = sub.add_parser("score", help="score a JSONL file of verdicts from any tool")
    p_score.add_argument("--bench", default=None, help="benchmark name (with --import: the source's own by default)")
    p_score.add_argument("--judgments", required=True, type=Path, help="JSONL: pair_id, order, verdict[, sample]")
    p_score.add_argument(
        "--import",
        dest="import_from",
        default=None,
        metavar="SOURCE",
        help="--judgments is in another project's released layout: judgebench (its outputs/*.jsonl), "
        "rewardbench (reward-bench's eval-set-scores/*.json)",
    )
    p_score.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write OUT/results.json (default: print only); other benchmarks already in it are kept",
    )
    p_score.add_argument(
        "--seed", type=int, default=0, help="seed of the single-order choice and the bootstrap (0 to 2**32-1)"
    )
    p_score.add_argument("--scores", action="store_true", help="combine samples by Mean-Score@N (score formats)")
    _add_data_dir(p_score)

    p_run = sub.add_parser("run", help="run a judge on benchmarks under both orders (resumable)")
    add_flags(p_run, RunConfig)
    p_run.add_argument("--batch-size", type=int, default=None, help="transformers backend batch size")
    p_run.add_argument("--concurrency", type=int, default=None, help="HTTP backend: requests in flight")
    p_run.add_argument("--tensor-parallel-size", type=int, default=None, help="vLLM backend")
    add_flags(p_run, ExecutorConfig)
    p_run.add_argument(
        "--backend-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other backend option, e.g. timeout_s=60, max_retries=2 (repeatable; VALUE read as JSON if it parses)",
    )

    p_report = sub.add_parser("report", help="paper-style tables from run directories")
    p_report.add_argument("runs", nargs="+", type=Path)
    p_report.add_argument("--format", default="md", choices=["md", "latex", "csv"])
    p_report.add_argument("--out", type=Path, default=None)
    p_report.add_argument("--with-paper", nargs="?", const="v1", choices=["v1", "v3"], help="J1 rows: v1 (bare) or v3")
    p_report.add_argument("--no-plots", action="store_true")
    p_report.add_argument(
        "--force", action="store_true", help="write into an --out holding files no report wrote (they are kept)"
    )
    _add_data_dir(p_report)
    from j1eval.build.cli import add_build_parser  # build followbencheval: j1eval/build/cli.py

    add_build_parser(sub)
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    from j1eval.benchmarks import BENCHMARKS, get_benchmark, resolve_data_dir
    from j1eval.console import render_table
    from j1eval.judges import JUDGES

    data_dir = resolve_data_dir(args.data_dir)
    rows = []
    for name in BENCHMARKS.names():
        bench = get_benchmark(name)
        try:  # local files are counted; a hub dataset is never downloaded for this
            n_pairs, source, missing = bench.count(data_dir)
            found = source + (f" (missing: {', '.join(missing)})" if missing else "")
            rows.append([name, "unknown" if n_pairs is None else str(n_pairs), bench.j1_protocol, found])
        except J1EvalError as exc:
            rows.append([name, "-", bench.j1_protocol, f"not found: {exc}"])
    print(render_table(["benchmark", "pairs", "J1 protocol", "data"], rows))
    print()
    judges = [
        [name, JUDGES.get(name).backend, JUDGES.get(name).format, JUDGES.get(name).description] for name in JUDGES
    ]
    print(render_table(["judge", "backend", "format", "description"], judges))
    print("\nany other model: --judge hf:PATH_OR_ID | vllm:PATH_OR_ID | openai:MODEL@BASE_URL  [--format NAME]")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from j1eval.benchmarks import get_benchmark, resolve_data_dir
    from j1eval.console import results_table
    from j1eval.judging.checks import check_bench_data
    from j1eval.score.bench import score_bench
    from j1eval.store.judgments import RESULTS_FILE
    from j1eval.store.records import read_judgments

    check_seed(args.seed)
    if args.import_from:  # the benchmark the source's files judge (j1eval.importers)
        from j1eval.importers import import_bench

        args.bench = import_bench(args.import_from, args.bench)
    if not args.bench:
        raise InputError("score: give --bench NAME (or --import SOURCE)")
    bench = get_benchmark(args.bench)
    data = bench.load(resolve_data_dir(args.data_dir))
    check_bench_data(args.bench, data)
    known = [p.pair_id for p in data.pairs]
    if getattr(bench, "kway", None):  # a best-of-k benchmark: 4-way judgments name the prompt (j1eval.score.kway)
        known += [str(p.meta["prompt_id"]) for p in data.pairs]
    notes: list[str] = []
    if args.import_from:  # read in the source's own layout, every record mapped or named (j1eval.importers)
        from j1eval.importers import import_judgments

        by_id = {p.pair_id: p for p in data.pairs}
        frame, notes = import_judgments(args.import_from, args.judgments, by_id, bench=args.bench, seed=args.seed)
    else:
        frame = read_judgments(args.judgments, pair_ids=known, bench=args.bench)
    judged = set(frame["pair_id"].unique().tolist())  # unique first: one Python string per pair, not per line
    pairs = [p for p in data.pairs if p.pair_id in judged or str(p.meta.get("prompt_id")) in judged]
    rows: dict[str, Any] = {}  # the per-pair table behind the figures, for OUT/pairs.parquet
    results = {
        args.bench: score_bench(
            bench, pairs, frame, seed=args.seed, use_scores=args.scores, missing_parts=data.missing, rows=rows
        )
    }
    print(results_table(results))
    for note in notes:
        print(f"note: {note}")
    if args.out is None:
        print(f"\nnot written: pass --out DIR to write DIR/{RESULTS_FILE}")
        return 0
    print(f"\n{write_results(args.out, results, rows)}")
    return 0


def write_results(out: Path, results: dict[str, Any], rows: dict[str, Any] | None = None) -> str:
    """Put ``results`` into ``out/results.json``, keeping the other benchmarks it holds; what was done, in words.

    A run directory (one with a manifest) is locked while it is written, like ``run`` does.
    """
    from contextlib import nullcontext

    from j1eval.judging.checks import check_results
    from j1eval.judging.lock import LOCK_FILE, RunLock
    from j1eval.safe_io import read_json_object
    from j1eval.store.judgments import MANIFEST_FILE, RESULTS_FILE, write_json
    from j1eval.store.pairs_file import write_pairs

    if out.exists() and not out.is_dir():
        raise InputError("--out names an existing file, not a folder", path=out)
    is_run = (out / MANIFEST_FILE).exists() or (out / LOCK_FILE).exists()
    with RunLock(out, "j1eval score") if is_run else nullcontext():
        path = out / RESULTS_FILE
        kept: dict[str, Any] = {}
        if path.exists():
            kept = check_results(read_json_object(path, "results"), path)
        merged = {**kept, **results}
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupError(f"cannot create {out} ({exc.strerror or exc})") from None
        if rows is not None:  # OUT/pairs.parquet, other benchmarks' rows kept (j1eval.store.pairs_file)
            write_pairs(out, rows, keep_others=True)
        write_json(path, merged)
    others = sorted(set(kept) - set(results))
    replaced = sorted(set(kept) & set(results))
    done = f"wrote {path}" + (f" (replaced {', '.join(replaced)})" if replaced else "")
    return done + (f"; kept {', '.join(others)}" if others else "")


def cmd_run(args: argparse.Namespace) -> int:
    from j1eval.console import results_table
    from j1eval.judging.runner import run

    options = parse_backend_options(args.backend_option)
    for shortcut in ("batch_size", "concurrency", "tensor_parallel_size"):  # flags for common backend options
        if getattr(args, shortcut) is not None:
            options[shortcut] = getattr(args, shortcut)
    config = RunConfig(
        **values_from(args, RunConfig),
        backend_options=options,
        executor=ExecutorConfig(**values_from(args, ExecutorConfig)),
        command=["python", "-m", "j1eval", *sys.argv[1:]],
    )
    outcome = run(config)
    print(results_table(outcome.results))
    print(
        f"\n{outcome.n_generated} judgments generated, {outcome.n_cached} reused from the store; "
        f"results in {outcome.out_dir / 'results.json'}"
    )
    if outcome.n_without_p_a:
        print(
            f"note: {outcome.n_without_p_a} judgments have no p_a: the backend returned no token log-probabilities "
            "(the server does not give them), so their verdicts were read from the text and the probability "
            "figures leave them out"
        )
    if outcome.n_backend_errors:
        print(
            f"error: {outcome.n_backend_errors} judgments failed at the backend ({outcome.backend_error}); "
            "they count as backend_error failures above: rerun the same command to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from j1eval.build.cli import cmd_build as build_main

    return build_main(args)


def cmd_report(args: argparse.Namespace) -> int:
    from j1eval.report import main as report_main

    return report_main(args)


COMMANDS = {"list": cmd_list, "score": cmd_score, "run": cmd_run, "report": cmd_report, "build": cmd_build}


def check_data_dir(path: Path | None) -> None:
    """A ``--data-dir`` that is a symlink loop is named as one (not "data not found")."""
    if path is None:
        return
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            message = "a symlink loop (too many levels of symbolic links)"
            raise InputError(message, path=path, field="--data-dir") from None


#: Allocations between two young-generation collections in a command's process (Python's default is
#: 700): a command builds ~10 objects per pair and per judgment, nearly all alive until it ends, and
#: at 700 the collector scans them over and over (a third of loading a benchmark's 125,000 pairs).
GC_YOUNG_THRESHOLD = 10_000


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), *older)

    def command() -> int:
        check_data_dir(getattr(args, "data_dir", None))
        return COMMANDS[args.command](args)

    return guarded(
        command,
        "finished judgments are kept; rerun the same command to resume",
        brief_bugs=True,
    )
