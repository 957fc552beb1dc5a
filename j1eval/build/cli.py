"""``python -m j1eval build followbencheval ...``: the flags, and the handler that runs a build."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

MODEL_HELP = "a model as --judge takes it: smollm2-135m, hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@URL"


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _levels(text: str) -> list[int]:
    try:
        return [int(part) for part in _names(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected levels such as 1,2,3, got {text!r}") from None


def add_build_parser(sub: Any) -> None:
    """Register ``build`` (and its one benchmark, ``followbencheval``) on the top-level subparsers."""
    p_build = sub.add_parser("build", help="build a benchmark that was never released (followbencheval), resumably")
    which = p_build.add_subparsers(dest="benchmark", required=True)
    p = which.add_parser(
        "followbencheval",
        help="FollowBenchEval's pairs rebuilt from FollowBench with a generator and a constraint checker",
        description="Rebuild FollowBenchEval (EvalPlanner's unreleased pairs) from FollowBench's instructions: "
        "responses from --generator, constraints checked by rule or by --checker, one pair per instruction. "
        "Output: OUT/followbencheval/ (followbencheval.jsonl, README.md, manifest.json), so that "
        "`run --bench followbencheval --data-dir OUT` scores it.",
    )
    p.add_argument("--generator", required=True, metavar="JUDGE_OR_MODEL", help=f"the response model: {MODEL_HELP}")
    p.add_argument("--checker", required=True, metavar="JUDGE_OR_MODEL", help=f"the constraint checker: {MODEL_HELP}")
    p.add_argument("--per-level", type=int, default=None, help="pairs per level (default: one try per instruction)")
    p.add_argument("--limit", type=int, default=None, help="instructions tried per level, at most")
    p.add_argument(
        "--out", type=Path, default=None, metavar="DIR", help="data folder to write DIR/followbencheval/ into "
        "(default: --data-dir)"
    )  # fmt: skip
    p.add_argument(
        "--data-dir", type=Path, default=None, help="data folder holding followbench/ (default: $J1EVAL_DATA_DIR)"
    )
    p.add_argument(
        "--instructions", type=Path, default=None, metavar="PATH", help="FollowBench's files (a folder or one "
        "*_constraints.json) instead of DATA_DIR/followbench"
    )  # fmt: skip
    p.add_argument(
        "--categories", type=_names, default=None, help="subset of content,situation,style,format,example,mixed (all)"
    )
    p.add_argument("--levels", type=_levels, default=[1, 2, 3, 4, 5], help="subset of 1,2,3,4,5")
    p.add_argument("--samples", type=int, default=4, help="responses sampled per instruction (default 4)")
    p.add_argument("--max-tokens", type=int, default=1024, help="new tokens per response (default 1024)")
    p.add_argument("--temperature", type=float, default=0.7, help="response sampling temperature (default 0.7)")
    p.add_argument("--checker-max-tokens", type=int, default=512, help="new tokens per check (default 512)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed, try order and slot of the better response")
    p.add_argument(
        "--allow-truncated", action="store_true", help="let responses cut at --max-tokens into pairs (smoke tests)"
    )
    p.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE", help="generator backend")
    p.add_argument("--checker-option", action="append", default=[], metavar="KEY=VALUE", help="checker backend")
    p.add_argument("--no-progress", action="store_true")


def cmd_build(args: argparse.Namespace) -> int:
    """Run the build; errors end it with one line and a non-zero exit code."""
    from j1eval.errors import guarded

    return guarded(lambda: _build(args), "finished generations and checks are kept; rerun the same command to resume")


def _build(args: argparse.Namespace) -> int:
    from j1eval.backends.base import parse_backend_options
    from j1eval.build.followbench import PAIRS_FILE, BuildConfig, build
    from j1eval.build.instructions import CATEGORIES

    config = BuildConfig(
        generator=args.generator,
        checker=args.checker,
        data_dir=args.data_dir,
        out=args.out,
        instructions=args.instructions,
        per_level=args.per_level,
        limit=args.limit,
        categories=args.categories or CATEGORIES,
        levels=args.levels,
        samples=args.samples,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        checker_max_tokens=args.checker_max_tokens,
        seed=args.seed,
        allow_truncated=args.allow_truncated,
        generator_options=parse_backend_options(args.backend_option),
        checker_options=parse_backend_options(args.checker_option),
        progress=not args.no_progress,
        command=["python", "-m", "j1eval", *sys.argv[1:]],
    )
    out = build(config)
    levels = ", ".join(f"L{lv} {out.pairs.get(lv, 0)}" for lv in config.levels)
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(out.skipped.items()))
    print(
        f"{sum(out.pairs.values())} pairs ({levels}) from {out.tried} instructions; "
        f"{out.n_generated} generations made, {out.n_reused} reused" + (f"; no pair: {why}" if why else "")
    )
    if out.failed:
        print(
            f"error: {len(out.failed)} generations failed at the backend ({out.failed[0].get('error')}); "
            f"{out.folder / PAIRS_FILE} not written (finished generations are kept): rerun the same command to retry",
            file=sys.stderr,
        )
        return 1
    if not out.written:
        print(f"error: no instruction gave a pair; {out.folder / PAIRS_FILE} not written", file=sys.stderr)
        return 1
    print(f"wrote {out.folder / PAIRS_FILE} (rebuilt pairs; data card: {out.folder / 'README.md'})")
    return 0
