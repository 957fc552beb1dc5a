"""The plot of position bias in probability: P(judge picks response 1) in each answer order.

For every run whose judge gives P(slot A) from a model (direct verdicts), one panel per
(judge, benchmark): the distribution over pairs of P(picks response 1) when response 1
is shown first (order a,b: ``p_a``) and when it is shown second (order b,a: ``1 - p_a``).
A judge whose preference ignores order draws the same histogram twice; a slot-A bias
shifts the a,b histogram right and the b,a one left, by the order shift on average.
Baselines are left out: their probabilities are rules (1, 0 or 0.5), not distributions.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from j1eval.report.plots import STYLE, Save, plt, save_files
from j1eval.report.runs import bench_title

if TYPE_CHECKING:
    from j1eval.report.runs import BenchRun, Report

N_BINS = 20
ORDER_COLORS = {"ab": "#1f77b4", "ba": "#d62728"}


def probability_panels(report: Report) -> list[BenchRun]:
    """Runs with model probabilities in both orders, judge by judge, benchmarks in report order."""
    out = []
    for judge in report.judges:
        for bench in report.benches():
            br = judge.benches.get(bench)
            if br is None or br.table is None or "p_a_ab" not in br.table.columns:
                continue
            if (br.run.manifest.get("judge_identity") or {}).get("backend") == "baseline":
                continue
            both = br.table["p_a_ab"].notna() & br.table["p_a_ba"].notna()
            if both.any():
                out.append(br)
    return out


def plot_probability_by_order(report: Report, out_dir: Path, save: Save = save_files) -> tuple[list[Path], list[str]]:
    """Histograms of P(picks response 1) under each order, one panel per (judge, benchmark)."""
    panels = probability_panels(report)
    if not panels:
        return [], ["probability plot skipped: no run has model probabilities (p_a) in both orders"]
    cols = min(3, len(panels))
    rows = -(-len(panels) // cols)
    bins = np.linspace(0.0, 1.0, N_BINS + 1)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
        for ax, br in zip(axes.flat, panels, strict=False):
            t = br.table
            both = t["p_a_ab"].notna() & t["p_a_ba"].notna()
            p1 = {"ab": t.loc[both, "p_a_ab"].to_numpy(), "ba": 1.0 - t.loc[both, "p_a_ba"].to_numpy()}
            weights = np.full(int(both.sum()), 100.0 / max(int(both.sum()), 1))
            for order, label in (("ab", "response 1 shown first (a,b)"), ("ba", "response 1 shown second (b,a)")):
                ax.hist(p1[order], bins=bins, weights=weights, histtype="stepfilled", alpha=0.35,
                        color=ORDER_COLORS[order], label=label)  # fmt: skip
                ax.axvline(float(p1[order].mean()), color=ORDER_COLORS[order], linestyle="--", linewidth=1.2)
            ax.axvline(0.5, color="black", linewidth=0.8, alpha=0.5)
            shift = br.overall.get("order_shift")
            subtitle = f"order shift {100 * shift:.1f}%" if isinstance(shift, float) else ""
            judge = "\n".join(textwrap.wrap(br.judge, 42, break_on_hyphens=False))  # long hf:/path names
            ax.set_title(f"{bench_title(br.bench)}: {judge}\n{subtitle}, {int(both.sum())} pairs", fontsize=10)
            ax.set_xlim(0, 1)
            ax.set_xlabel("P(judge picks response 1)")
            ax.set_ylabel("pairs (%)")
        for ax in list(axes.flat)[len(panels) :]:
            ax.set_visible(False)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.02))
        fig.suptitle("Position bias in probability\nP(picks response 1) by answer order; dashed lines: means")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
        return save(fig, out_dir, "probability_by_order"), []
