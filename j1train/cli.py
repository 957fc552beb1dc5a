"""Command line: ``python -m j1train grpo --config FILE``, ``data ...`` and ``plot OUT``.

Errors follow j1eval's CLI: one line on stderr, exit 2 for bad input, 1 for a broken set-up.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from j1eval.errors import guarded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m j1train",
        description="Train LLM judges the way J1 does: GRPO on pairwise verdicts, both answer orders.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_grpo = sub.add_parser("grpo", help="train a judge with GRPO (TRL) from a YAML or TOML config")
    p_grpo.add_argument("--config", required=True, type=Path, help="config file (see j1train/configs/)")
    p_grpo.add_argument(
        "--check",
        action="store_true",
        help="run every check training runs before its first step (config, model folder, data, batch sizes, "
        "tokenizer, prompt lengths); load no model weights",
    )
    from j1train.pair_builder import add_arguments
    from j1train.plot import add_plot_arguments

    add_arguments(sub.add_parser("data", help="build training pairs (J1's synthetic preference pairs)"))

    p_plot = sub.add_parser("plot", help="draw reward, consistent accuracy and flip rate against steps")
    add_plot_arguments(p_plot)
    return parser


def cmd_grpo(args: argparse.Namespace) -> int:
    from j1train.config import load_config

    config = load_config(args.config)  # config values first: a bad one is named before model or data is looked at
    if args.check:
        from j1train.preflight import check

        checked = check(config)  # exactly the checks training runs before its first step (j1train.preflight)
        prepared = checked.prepared
        print(
            f"ok: {prepared.info['n_pairs']} pairs ({len(checked.train_dataset)} prompts within max_prompt_length), "
            f"format {config.format}, generation batch {prepared.args.generation_batch_size} completions"
        )
        return 0
    from j1train.trainer import train

    final = train(config)
    print(f"checkpoint: {final}")
    print(f"evaluate it: python -m j1eval run --judge hf:{final} --format {config.format} --bench all")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from j1eval.errors import check_seed
    from j1train.pair_builder import main as data_main

    check_seed(args.seed)  # a negative seed: one line, exit 2, before anything is written
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
