"""Command line: ``python -m j1eval list | score | run | report``. Argument parsing only."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from j1eval.errors import InputError, J1EvalError


def _add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with one subfolder per benchmark (default: $J1EVAL_DATA_DIR, else the official sources)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m j1eval",
        description="Evaluate LLM judges on pairwise benchmarks under both answer orders (J1's protocol).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="benchmarks (pair counts, where their data was found) and judges")
    _add_data_dir(p_list)

    p_score = sub.add_parser("score", help="score a JSONL file of verdicts from any tool")
    p_score.add_argument("--bench", required=True, help="benchmark name")
    p_score.add_argument("--judgments", required=True, type=Path, help="JSONL: pair_id, order, verdict[, sample]")
    p_score.add_argument("--out", type=Path, default=None, help="write OUT/results.json (default: the file's folder)")
    p_score.add_argument("--seed", type=int, default=0, help="seed of the single-order choice and the bootstrap")
    p_score.add_argument("--scores", action="store_true", help="combine samples by Mean-Score@N (score formats)")
    _add_data_dir(p_score)

    p_run = sub.add_parser("run", help="run a judge on benchmarks under both orders (resumable)")
    p_run.add_argument(
        "--judge", required=True, help="a judge name (see `list`), hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@URL"
    )
    p_run.add_argument("--bench", required=True, help="NAME[,NAME...] or all")
    p_run.add_argument("--limit", type=int, default=None, help="the first N pairs of each benchmark (stable order)")
    p_run.add_argument(
        "--sample",
        type=int,
        default=None,
        help="a seeded sample of N pairs of each benchmark, across all its subsets (stable; grows by adding pairs)",
    )
    p_run.add_argument("--seed", type=int, default=0)
    p_run.add_argument("--order", default="both", choices=["both", "single", "ab", "ba"])
    p_run.add_argument("--samples", type=int, default=1, help="N samples per judgment: SC@N or Mean-Score@N")
    p_run.add_argument("--out", type=Path, default=None, help="run directory (default: runs/<judge>__<benches>)")
    p_run.add_argument("--format", default=None, help="prompt format (default: the judge's)")
    p_run.add_argument("--model", default=None, help="model path or id overriding the judge's")
    p_run.add_argument("--max-tokens", type=int, default=None)
    p_run.add_argument("--temperature", type=float, default=None)
    p_run.add_argument("--top-p", type=float, default=None)
    p_run.add_argument("--batch-size", type=int, default=None, help="transformers backend batch size")
    p_run.add_argument("--concurrency", type=int, default=None, help="HTTP backend: requests in flight")
    p_run.add_argument("--tensor-parallel-size", type=int, default=None, help="vLLM backend")
    p_run.add_argument(
        "--backend-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other backend option, e.g. timeout_s=60, max_retries=2 (repeatable; VALUE read as JSON if it parses)",
    )
    p_run.add_argument("--no-progress", action="store_true")
    _add_data_dir(p_run)

    p_report = sub.add_parser("report", help="paper-style tables from run directories")
    p_report.add_argument("runs", nargs="+", type=Path)
    p_report.add_argument("--format", default="md", choices=["md", "latex", "csv"])
    p_report.add_argument("--out", type=Path, default=None)
    p_report.add_argument("--with-paper", action="store_true", help="add the J1 paper's published rows")
    p_report.add_argument("--no-plots", action="store_true")
    _add_data_dir(p_report)
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    from j1eval.benchmarks import BENCHMARKS, get_benchmark, resolve_data_dir
    from j1eval.console import render_table
    from j1eval.judges import JUDGES

    data_dir = resolve_data_dir(args.data_dir)
    rows = []
    for name in BENCHMARKS.names():
        bench = get_benchmark(name)
        try:
            data = bench.load(data_dir)
            found = data.source + (f" (missing: {', '.join(data.missing)})" if data.missing else "")
            rows.append([name, str(len(data.pairs)), bench.j1_protocol, found])
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
    from j1eval.scoring import read_judgments, score_bench
    from j1eval.store import RESULTS_FILE, write_json

    bench = get_benchmark(args.bench)
    data = bench.load(resolve_data_dir(args.data_dir))
    frame = read_judgments(args.judgments, pair_ids=[p.pair_id for p in data.pairs], bench=args.bench)
    judged = set(frame["pair_id"])
    pairs = [p for p in data.pairs if p.pair_id in judged]
    results = {
        args.bench: score_bench(bench, pairs, frame, seed=args.seed, use_scores=args.scores, missing_parts=data.missing)
    }
    out = args.out or args.judgments.parent
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / RESULTS_FILE, results)
    print(results_table(results))
    print(f"\nwrote {out / RESULTS_FILE}")
    return 0


def parse_backend_options(items: list[str]) -> dict[str, Any]:
    """``--backend-option KEY=VALUE`` pairs; a value is read as JSON when it parses (numbers, booleans)."""
    options: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise InputError(f"--backend-option {item!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def guarded(command: Callable[[], int], interrupted: str) -> int:
    """Run a command: a J1EvalError ends it with one line and its exit code; Ctrl-C with ``interrupted``, 130."""
    try:
        return command()
    except J1EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"interrupted: {interrupted}", file=sys.stderr)
        return 130


def cmd_run(args: argparse.Namespace) -> int:
    from j1eval.console import results_table
    from j1eval.runner import RunConfig, run

    options = parse_backend_options(args.backend_option)
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    if args.concurrency is not None:
        options["concurrency"] = args.concurrency
    if args.tensor_parallel_size is not None:
        options["tensor_parallel_size"] = args.tensor_parallel_size
    config = RunConfig(
        judge=args.judge,
        benches=[args.bench],
        out=args.out,
        data_dir=args.data_dir,
        limit=args.limit,
        sample=args.sample,
        seed=args.seed,
        order=args.order,
        samples=args.samples,
        format=args.format,
        model=args.model,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        backend_options=options,
        progress=not args.no_progress,
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


def cmd_report(args: argparse.Namespace) -> int:
    from j1eval.report import main as report_main

    return report_main(args)


COMMANDS = {"list": cmd_list, "score": cmd_score, "run": cmd_run, "report": cmd_report}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(
        lambda: COMMANDS[args.command](args), "finished judgments are kept; rerun the same command to resume"
    )
