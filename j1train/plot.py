"""The training curves: mean reward, consistent accuracy and flip rate against steps.

Reads what :mod:`j1train.eval_loop` writes under ``OUT/eval``: ``history.jsonl`` (one row
per evaluation: figures per benchmark with their bootstrap intervals, and the reward
means beside them) and ``rewards.jsonl`` (every logged reward). ``python -m j1train plot
OUT`` redraws ``OUT/eval/training_curves.{png,pdf}``; this module imports no torch.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from j1eval.errors import InputError, J1EvalError
from j1eval.safe_io import iter_jsonl

EVAL_DIR = "eval"
HISTORY_FILE = "history.jsonl"
REWARDS_FILE = "rewards.jsonl"
PLOT_STEM = "training_curves"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSONL file (none when it does not exist yet); a bad line is an InputError."""
    return [rec for _, rec in iter_jsonl(path)] if path.is_file() else []


def _reward_series(eval_dir: Path, history: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """(steps, mean reward): every logged reward when rewards.jsonl exists, else those beside each evaluation."""
    rows = read_jsonl(eval_dir / REWARDS_FILE)
    points = [(r["step"], r["reward"]) for r in rows if isinstance(r.get("reward"), int | float)]
    if not points:
        points = [(h["step"], h["rewards"]["reward"]) for h in history if "reward" in h.get("rewards", {})]
    last: dict[float, float] = dict(points)  # a resumed run may log a step twice: keep the latest
    steps = sorted(last)
    return steps, [last[s] for s in steps]


def plot_training(output_dir: str | Path) -> Path:
    """Draw reward, consistent accuracy and flip rate against steps; returns the PNG (a PDF lies beside it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from j1eval.report.plots import STYLE

    eval_dir = Path(output_dir) / EVAL_DIR
    history = {int(h["step"]): h for h in read_jsonl(eval_dir / HISTORY_FILE)}  # latest row per step
    rows = [history[s] for s in sorted(history)]
    r_steps, r_values = _reward_series(eval_dir, rows)
    if not rows and not r_steps:
        raise InputError(f"nothing to plot: no {HISTORY_FILE} or {REWARDS_FILE}", path=eval_dir)
    benches = sorted({b for r in rows for b in r.get("benches", {})})
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True)
        axes[0].plot(r_steps, r_values, color="black", marker="." if len(r_steps) < 30 else None)
        axes[0].set_ylabel("mean reward")
        for ax, key, label in (
            (axes[1], "acc_consistent", "consistent accuracy (%)"),
            (axes[2], "flip_rate", "flip rate (%)"),
        ):
            for k, bench in enumerate(benches):
                pts = [(r["step"], r["benches"][bench]) for r in rows if key in r["benches"].get(bench, {})]
                if not pts:
                    continue
                xs = [s for s, _ in pts]
                ys = [100 * f[key] for _, f in pts]
                lo = [100 * f["ci"].get(key, (f[key], f[key]))[0] for _, f in pts]
                hi = [100 * f["ci"].get(key, (f[key], f[key]))[1] for _, f in pts]
                color = plt.get_cmap("tab10")(k % 10)
                ax.plot(xs, ys, marker="o", color=color, label=bench)
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
            ax.set_ylabel(label)
            ax.set_ylim(-2, 102)
        axes[2].set_xlabel("training step")
        axes[2].xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
        if benches:
            axes[1].legend(loc="best", frameon=False)
        axes[0].set_title("J1 training: reward and judge figures (both orders, 95% bootstrap intervals)")
        eval_dir.mkdir(parents=True, exist_ok=True)
        png, pdf = eval_dir / f"{PLOT_STEM}.png", eval_dir / f"{PLOT_STEM}.pdf"
        fig.savefig(png, dpi=150, bbox_inches="tight")
        fig.savefig(pdf, bbox_inches="tight")
        plt.close(fig)
    return png


def add_plot_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of a ``plot`` command: the training output folder."""
    parser.add_argument("output_dir", type=Path, help="the training run's output folder (holds eval/history.jsonl)")


def plot_main(args: argparse.Namespace) -> int:
    """CLI entry: draw the curves of ``args.output_dir``; one line on error."""
    try:
        png = plot_training(args.output_dir)
    except J1EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(f"wrote {png} and {png.with_suffix('.pdf')}")
    return 0


if __name__ == "__main__":
    _parser = argparse.ArgumentParser(prog="python -m j1train.plot", description="draw training curves")
    add_plot_arguments(_parser)
    sys.exit(plot_main(_parser.parse_args()))
