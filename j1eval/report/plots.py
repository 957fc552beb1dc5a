"""Report plots (matplotlib, Agg backend), each written as PNG and PDF.

- ``accuracy_by_order``: accuracy in each answer order and position-consistent
  accuracy, per benchmark, one bar per judge (95% bootstrap intervals).
- ``slot_a_rate``: share of decisive verdicts picking slot A, with its interval and
  a 50% reference line.
- ``length_bias``: verdict-flip rate, and the share of verdicts picking the longer
  response, against the length difference of the two responses (characters).
- ``score_diff``: score formats only: distribution of chosen-minus-rejected scores.
- ``probability_by_order`` (:mod:`j1eval.report.probability_plot`, which uses this module): runs with model
  probabilities only: P(picks response 1) in each answer order.

Every plot reads the runs' figures (``results.json``) and per-pair tables (``pairs.parquet``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from j1eval.report.runs import bench_title  # noqa: E402

if TYPE_CHECKING:
    from j1eval.report.runs import BenchRun, Report

STYLE = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 10,
    "figure.titlesize": 13,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.parse_math": False,  # a "$" in a judge's name is a dollar sign, not mathtext
}
N_LENGTH_BINS = 5
MIN_PER_BIN = 5  # length-bias points resting on fewer pairs (or decisive verdicts) are not drawn


def _colors(names: Sequence[str]) -> dict[str, Any]:
    cmap = plt.get_cmap("tab10")
    return {name: cmap(i % 10) for i, name in enumerate(names)}


#: Where a drawn figure goes: ``save(figure, out_dir, stem)`` returns the files written (none when the
#: caller keeps the image in memory, as the dashboard does). It closes the figure.
Save = Callable[[Any, Path, str], list[Path]]


def save_files(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    """The report's way: ``stem``.png and ``stem``.pdf in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=150, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def _err(figs: dict[str, Any], key: str) -> tuple[float, float, float] | None:
    """(value, lower error, upper error) in percent, or None when the figure is absent."""
    value = figs.get(key)
    if value is None:
        return None
    lo, hi = figs.get("ci", {}).get(key, (value, value))
    return 100 * value, 100 * max(value - lo, 0.0), 100 * max(hi - value, 0.0)


def _legend_below(fig: plt.Figure, handles: list[Any], labels: list[str]) -> None:
    fig.legend(
        handles,
        labels,
        loc="lower center",
        ncol=min(len(labels), 4),
        frameon=False,
        bbox_to_anchor=(0.5, -0.02),
    )


def _value_labels(ax: plt.Axes, x: Sequence[float], y: Sequence[float], above: Sequence[float]) -> None:
    """Each bar's value (percent, no decimals) just above its error bar."""
    for xi, yi, hi in zip(x, y, above, strict=True):
        ax.text(xi, min(yi + hi + 1.5, 104), f"{yi:.0f}", ha="center", va="bottom", fontsize=8)


def plot_accuracy(report: Report, out_dir: Path, save: Save = save_files) -> list[Path]:
    """Grouped bars: acc (a,b), acc (b,a), consistent accuracy; a panel per benchmark, a bar per judge."""
    benches = report.benches()
    metrics = (("acc_ab", "(a,b)"), ("acc_ba", "(b,a)"), ("acc_consistent", "consistent"))
    judges = [j.name for j in report.judges]
    colors = _colors(judges)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 4.2), sharey=True, squeeze=False)
        width = 0.8 / max(len(judges), 1)
        for ax, bench in zip(axes[0], benches, strict=True):
            for j, judge in enumerate(report.judges):
                br = judge.benches.get(bench)
                if br is None:
                    continue
                x, y, lo, hi = [], [], [], []
                for m, (key, _) in enumerate(metrics):
                    e = _err(br.overall, key)
                    if e is not None:
                        x.append(m + (j - (len(judges) - 1) / 2) * width)
                        y.append(e[0])
                        lo.append(e[1])
                        hi.append(e[2])
                ax.bar(x, y, width * 0.95, yerr=[lo, hi], capsize=3, color=colors[judge.name], label=judge.name)
                _value_labels(ax, x, y, hi)
            ax.set_xticks(range(len(metrics)), [label for _, label in metrics])
            ax.set_title(bench_title(bench))
            ax.set_ylim(0, 110)
            ax.grid(axis="y", alpha=0.3)
            ax.set_axisbelow(True)
        axes[0][0].set_ylabel("accuracy (%)")
        fig.suptitle("Accuracy per answer order and position-consistent accuracy (95% CI)")
        handles = [plt.Rectangle((0, 0), 1, 1, color=colors[n]) for n in judges]
        _legend_below(fig, handles, judges)
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        return save(fig, out_dir, "accuracy_by_order")


def plot_slot_rate(report: Report, out_dir: Path, save: Save = save_files) -> list[Path]:
    """Slot-A share of decisive verdicts per benchmark and judge, with 95% intervals and a 50% line."""
    benches = report.benches()
    judges = [j.name for j in report.judges]
    colors = _colors(judges)
    width = 0.8 / max(len(judges), 1)
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(max(5.0, 1.8 * len(benches) + 1.5), 4.2))
        handles: list[Any] = []
        labels: list[str] = []
        for j, judge in enumerate(report.judges):
            x, y, lo, hi = [], [], [], []
            for b, bench in enumerate(benches):
                br = judge.benches.get(bench)
                e = _err(br.overall, "slot_a_rate") if br is not None else None
                if e is not None:
                    x.append(b + (j - (len(judges) - 1) / 2) * width)
                    y.append(e[0])
                    lo.append(e[1])
                    hi.append(e[2])
            handles.append(plt.Rectangle((0, 0), 1, 1, color=colors[judge.name]))
            # A judge without a single decisive verdict is named in the legend, not drawn.
            labels.append(judge.name if x else f"{judge.name} (no decisive verdict)")
            if x:
                ax.bar(x, y, width * 0.95, yerr=[lo, hi], capsize=3, color=colors[judge.name])
                _value_labels(ax, x, y, hi)
        handles.insert(0, ax.axhline(50, color="black", linestyle="--", linewidth=1.2))
        labels.insert(0, "no preference (50%)")
        ax.set_xticks(range(len(benches)), [bench_title(b) for b in benches])
        ax.set_ylim(0, 110)
        ax.set_ylabel("verdicts picking slot A (%)")
        ax.set_title("Slot preference: decisive verdicts, both orders pooled (95% CI)")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        fig.tight_layout()
        return save(fig, out_dir, "slot_a_rate")


def _picked(verdict: pd.Series, order: str) -> np.ndarray:
    """Response (1 or 2) a slot verdict picks; NaN for a tie or no verdict."""
    first, second = (1.0, 2.0) if order == "ab" else (2.0, 1.0)
    return np.select([verdict.to_numpy() == "A", verdict.to_numpy() == "B"], [first, second], np.nan)


def length_frame(br: BenchRun) -> pd.DataFrame | None:
    """Per judged pair: length difference, whether the verdicts flipped, picks of the longer response."""
    t = br.table
    if t is None or not {"len_1", "len_2"} <= set(t.columns):
        return None
    len1 = t["len_1"].to_numpy(dtype=float)
    len2 = t["len_2"].to_numpy(dtype=float)
    pick_ab, pick_ba = _picked(t["verdict_ab"], "ab"), _picked(t["verdict_ba"], "ba")
    both = (t["judged_ab"] & t["judged_ba"]).to_numpy()
    decisive_both = ~np.isnan(pick_ab) & ~np.isnan(pick_ba)
    # Over pairs with a decisive verdict in both orders: a judge that rarely decides is not "consistent".
    flip = np.where(both & decisive_both, (pick_ab != pick_ba).astype(float), np.nan)
    longer = np.where(len1 > len2, 1.0, np.where(len2 > len1, 2.0, np.nan))
    longer_picks = np.zeros(len(t))
    decisive = np.zeros(len(t))
    for pick in (pick_ab, pick_ba):
        ok = ~np.isnan(pick) & ~np.isnan(longer)
        decisive += ok
        longer_picks += ok & (pick == longer)
    return pd.DataFrame(
        {
            "pair_id": t["pair_id"].to_numpy(),
            "abs_diff": np.abs(len1 - len2),
            "flip": flip,
            "longer_picks": longer_picks,
            "decisive": decisive,
        }
    )


def _bin_edges(values: np.ndarray) -> np.ndarray:
    edges = np.unique(np.quantile(values, np.linspace(0, 1, N_LENGTH_BINS + 1)))
    if len(edges) < 2:
        edges = np.array([values.min(), values.max() + 1])
    return edges


def _chars(x: float) -> str:
    return f"{x / 1000:.1f}k" if x >= 1000 else f"{x:.0f}"


def plot_length_bias(report: Report, out_dir: Path, save: Save = save_files) -> tuple[list[Path], list[str]]:
    """Flip rate and longer-response picks against |len(response_1) - len(response_2)|, binned by quantiles."""
    notes: list[str] = []
    frames: dict[str, dict[str, pd.DataFrame]] = {}
    for bench in report.benches():
        for br in report.runs_of(bench):
            frame = length_frame(br)
            if frame is None:
                notes.append(f"length-bias plot: {br.judge} / {bench} skipped (no response lengths in its pair table)")
                continue
            frames.setdefault(bench, {})[br.judge] = frame
    if not frames:
        notes.append("length-bias plot skipped: no run's pair table has response lengths")
        return [], notes
    judges = [j.name for j in report.judges]
    colors = _colors(judges)
    benches = list(frames)
    drawn: set[str] = set()
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(benches), figsize=(4.4 * len(benches), 7.2), squeeze=False, sharey="row")
        for b, bench in enumerate(benches):
            judged = pd.concat(list(frames[bench].values())).drop_duplicates("pair_id")
            all_diffs = judged["abs_diff"].to_numpy()  # bins: quantiles over the pairs any judge judged
            edges = _bin_edges(all_diffs)
            centers = np.arange(len(edges) - 1)
            labels = [f"{_chars(edges[i])}–{_chars(edges[i + 1])}" for i in range(len(edges) - 1)]
            for judge, frame in frames[bench].items():
                bins = np.clip(
                    np.searchsorted(edges, frame["abs_diff"].to_numpy(), side="right") - 1, 0, len(centers) - 1
                )
                grouped = frame.assign(bin=bins).groupby("bin")
                # NaN flips (not decisive in both orders) are left out by mean() and count(); thin bins are not drawn.
                flip = grouped["flip"].mean().where(grouped["flip"].count() >= MIN_PER_BIN).reindex(centers)
                decisive = grouped["decisive"].sum()
                longer = (grouped["longer_picks"].sum() / decisive).where(decisive >= MIN_PER_BIN).reindex(centers)
                style = {"marker": "o", "color": colors[judge], "label": judge, "linewidth": 1.8}
                axes[0][b].plot(centers, 100 * flip.to_numpy(), **style)
                axes[1][b].plot(centers, 100 * longer.to_numpy(), **style)
                if flip.notna().any() or longer.notna().any():
                    drawn.add(judge)
            for row in (0, 1):
                ax = axes[row][b]
                ax.set_xticks(centers, labels, rotation=30, ha="right")
                ax.set_ylim(-3, 103)
                ax.grid(alpha=0.3)
            axes[1][b].axhline(50, color="black", linestyle="--", linewidth=1)
            axes[0][b].set_title(f"{bench_title(bench)}")
            axes[1][b].set_xlabel("|length difference| (characters, quantile bins)")
        axes[0][0].set_ylabel("verdict flip rate (%)")
        axes[1][0].set_ylabel("verdicts picking the longer response (%)")
        fig.suptitle("Length bias: flips between orders and preference for the longer response")
        handles = [plt.Line2D([], [], color=colors[n], marker="o") for n in judges]
        labels = [n if n in drawn else f"{n} (too few decisive verdicts)" for n in judges]
        _legend_below(fig, handles, labels)
        fig.text(
            0.5,
            -0.05,
            "Flip rate over pairs with a decisive verdict in both orders; longer picks over decisive verdicts, "
            "unequal lengths. "
            f"Points resting on fewer than {MIN_PER_BIN} pairs / verdicts are not drawn.",
            ha="center",
            fontsize=9,
            color="0.3",
        )
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        return save(fig, out_dir, "length_bias"), notes


def score_frame(br: BenchRun) -> pd.DataFrame | None:
    """Per judgment (sample) with both scores: chosen-response score minus rejected-response score."""
    t = br.table
    if t is None:
        return None
    rows = []
    for order in ("ab", "ba"):
        if f"score_a_{order}" not in t.columns:
            continue
        lists = zip(t["label"].tolist(), t[f"score_a_{order}"].tolist(), t[f"score_b_{order}"].tolist(), strict=True)
        for label, scores_a, scores_b in lists:
            for a, b in zip(scores_a or [], scores_b or [], strict=True):
                if a is None or b is None:
                    continue
                chosen_in_a = (label == 1) == (order == "ab")
                rows.append(a - b if chosen_in_a else b - a)
    return pd.DataFrame({"diff": rows}) if rows else None


def plot_score_diff(report: Report, out_dir: Path, save: Save = save_files) -> tuple[list[Path], list[str]]:
    """Histogram of chosen-minus-rejected scores per benchmark, one outline per judge (score formats)."""
    data: dict[str, dict[str, pd.DataFrame]] = {}
    for bench in report.benches():
        for br in report.runs_of(bench):
            frame = score_frame(br)
            if frame is not None:
                data.setdefault(bench, {})[br.judge] = frame
    if not data:
        return [], ["score-difference plot skipped: no run in a score format (pairwise-scores, pointwise...)"]
    judges = [j.name for j in report.judges]
    colors = _colors(judges)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, len(data), figsize=(4.6 * len(data), 4.2), squeeze=False)
        for ax, (bench, per_judge) in zip(axes[0], data.items(), strict=True):
            values = np.concatenate([f["diff"].to_numpy() for f in per_judge.values()])
            lo, hi = float(np.floor(values.min())), float(np.ceil(values.max()))
            bins = np.arange(lo - 0.5, hi + 1.5, 1.0) if hi - lo <= 40 else 30
            for judge, frame in per_judge.items():
                d = frame["diff"].to_numpy()
                ax.hist(
                    d, bins=bins, histtype="step", linewidth=1.8, color=colors[judge], label=f"{judge} (n={len(d)})"
                )
            ax.axvline(0, color="black", linestyle="--", linewidth=1)
            ax.set_title(bench_title(bench))
            ax.set_xlabel("score(chosen) - score(rejected)")
            ax.legend(frameon=False)
            ax.grid(alpha=0.3)
        axes[0][0].set_ylabel("judgments")
        fig.suptitle("Score differences: right of 0 = the better response scored higher")
        fig.tight_layout()
        return save(fig, out_dir, "score_diff"), []
