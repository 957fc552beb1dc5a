"""Command line: ``python -m j1train grpo --config FILE``, ``data ...`` and ``plot OUT``.

Errors follow j1eval's CLI: one line on stderr, exit 2 for bad input, 1 for a broken set-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from j1eval.cli import guarded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m j1train",
        description="Train LLM judges the way J1 does: GRPO on pairwise verdicts, both answer orders.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_grpo = sub.add_parser("grpo", help="train a judge with GRPO (TRL) from a YAML or TOML config")
    p_grpo.add_argument("--config", required=True, type=Path, help="config file (see j1train/configs/)")
    p_grpo.add_argument("--check", action="store_true", help="check config, data and batch sizes; load no model")
    from j1train.pair_builder import add_arguments
    from j1train.plot import add_plot_arguments

    add_arguments(sub.add_parser("data", help="build training pairs (J1's synthetic preference pairs)"))

    p_plot = sub.add_parser("plot", help="draw reward, consistent accuracy and flip rate against steps")
    add_plot_arguments(p_plot)
    return parser


def cmd_grpo(args: argparse.Namespace) -> int:
    from j1train.config import load_config

    config = load_config(args.config)
    from j1train.trainer import prepare, train

    if args.check:
        prepared = prepare(config)
        print(
            f"ok: {prepared.info['n_pairs']} pairs, format {config.format}, "
            f"generation batch {prepared.args.generation_batch_size} completions"
        )
        return 0
    final = train(config)
    print(f"checkpoint: {final}")
    print(f"evaluate it: python -m j1eval run --judge hf:{final} --format {config.format} --bench all")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from j1train.pair_builder import main as data_main

    return int(data_main(args) or 0)


def cmd_plot(args: argparse.Namespace) -> int:
    from j1train.plot import plot_main

    return plot_main(args)


COMMANDS = {"grpo": cmd_grpo, "data": cmd_data, "plot": cmd_plot}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(
        lambda: COMMANDS[args.command](args), "saved checkpoints are kept under the output dir", brief_bugs=True
    )
