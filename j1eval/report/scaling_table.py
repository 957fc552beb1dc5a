"""Test-time scaling from one run's samples: SC@k / Mean-Score@k for k = 1, 2, 4, ..., N, a table and a plot.

A run made with ``--samples N`` (N > 1) stores N judgments per (pair, order). For each k,
:func:`j1eval.score.scaling.scaling_curve` combines k of them (majority verdict, SC@k; or, in a score
format, the higher mean score, Mean-Score@k) and averages each figure over seeded subsets of the
sample ids. The per-sample verdicts are in the run's ``judgments.jsonl`` (``pairs.parquet`` keeps
the combined verdict only), which is read for this table alone; the pairs' subsets, labels and
benchmark columns come from ``pairs.parquet``. With ``--with-paper``, the paper's SC@32 and
Mean-Score@32 rows follow, each with its greedy row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from j1eval.report import paper
from j1eval.report.runs import BenchRun, Report, bench_title
from j1eval.report.tables import MIN_PAIRS, NOT_RUN, SMALL, Cell, Row, Table, dedupe, small_mark

if TYPE_CHECKING:
    from j1eval.score.scaling import ScalingPoint

#: (column title, figure key); "PPE-Correctness" only for PPE runs.
SCALING_COLUMNS = (
    ("J1 figure", "j1"),
    ("PPE-Correctness", "correctness"),
    ("acc (a,b)", "acc_ab"),
    ("acc (b,a)", "acc_ba"),
    ("consistent acc", "acc_consistent"),
    ("inconsistency", "flip_rate"),
    ("ties", "tie_rate"),
    ("no verdict", "parse_failure_rate"),
)
#: Paper key of each column, for the quoted rows (their PPE columns).
PAPER_KEYS = {"j1": "ppe", "correctness": "ppe_correctness"}
N_SUBSETS = 16
_STANDARD = ("bench", "pair_id", "subset", "label")


def sampled_runs(report: Report) -> list[BenchRun]:
    """Every (judge, benchmark) run made with more than one sample per judgment."""
    return [
        br for bench in report.benches() for br in report.runs_of(bench) if (br.run.manifest.get("samples") or 1) > 1
    ]


def _uses_scores(br: BenchRun) -> bool:
    try:
        from j1eval.formats import get_format

        return bool(get_format(str(br.run.manifest.get("format"))).uses_scores)
    except Exception:  # an unknown format: verdicts
        return False


def curve(br: BenchRun) -> list[ScalingPoint]:
    """SC@k or Mean-Score@k for k = 1, 2, 4, ..., N from the run's stored samples (cached on the run)."""
    cached = getattr(br, "_scaling", None)
    if cached is not None:
        return cached
    from j1eval.score.scaling import SCALING_FIGURES, scaling_curve
    from j1eval.store.judgments import JUDGMENTS_FILE
    from j1eval.store.records import read_judgments
    from j1eval.types import Pair

    table = br.table
    if table is None:
        return []
    extra = [c for c in table.columns if c not in _STANDARD]
    pairs = [
        Pair(str(r["pair_id"]), br.bench, str(r["subset"]), "", "", "", int(r["label"]), {c: r[c] for c in extra})
        for r in table.to_dict("records")
    ]
    judgments = read_judgments(Path(br.run.path) / JUDGMENTS_FILE, bench=br.bench)
    judgments = judgments[judgments["pair_id"].isin(set(table["pair_id"]))]
    figures = SCALING_FIGURES + (("correctness",) if br.bench == "ppe" else ())
    points = scaling_curve(
        judgments,
        pairs,
        br.benchmark,
        use_scores=_uses_scores(br),
        n_subsets=N_SUBSETS,
        seed=br.seed,
        subset_seed=br.seed,
        figures=figures,
    )
    br._scaling = points  # type: ignore[attr-defined]
    return points


def scaling_table(report: Report) -> Table | None:
    """SC@k / Mean-Score@k per k for each sampled run, then the paper's @32 rows with their greedy rows."""
    runs = sampled_runs(report)
    quoted = paper.scaling_rows(report.paper_version) if report.with_paper else []
    if not runs:
        return None
    table = Table(
        "test_time_scaling",
        "Test-time scaling from one run's samples: SC@k (verdicts) or Mean-Score@k (scores), %",
        ["Benchmark", "Judge", "k"],
        [c[0] for c in SCALING_COLUMNS] + ["subsets"],
    )
    notes: list[str] = []
    for br in runs:
        rule = "Mean-Score" if _uses_scores(br) else "SC"
        title = bench_title(br.bench)
        n_pairs = int(br.overall.get("n_pairs", 0))
        mark = small_mark(n_pairs)
        if mark:
            notes.append(f"{SMALL} {br.judge}, {title}: over {n_pairs} pairs, fewer than {MIN_PAIRS}.")
        for point in curve(br):
            cells = [
                Cell.pct(point.mean[key], mark=mark) if key in point.mean else Cell(NOT_RUN, status="not measured")
                for _, key in SCALING_COLUMNS
            ]
            how = "all" if point.exhaustive else "seeded"
            cells.append(Cell(f"{point.n_subsets} ({how})", point.n_subsets))
            table.rows.append(Row([title, br.judge, f"{rule}@{point.k}"], cells, f"{br.judge}/{br.bench}"))
    for item in quoted:
        for prow, k in ((item.greedy, "greedy"), (item.scaled, f"{item.rule}@{item.n}")):
            source = f"{prow.source}, {prow.url}"
            cells = [Cell.quoted(prow.get(PAPER_KEYS.get(key, "")), source) for _, key in SCALING_COLUMNS]
            cells.append(Cell.quoted(None))
            table.rows.append(Row(["PPE", prow.label, k], cells, f"paper/{item.scaled.source}"))
    table.notes = dedupe(notes) + [
        "Each k: the figures of the run re-scored with k of its N samples per (pair, order), combined by the "
        "project's rule (SC: majority of decisive verdicts, level = tie; Mean-Score: the slot with the higher mean "
        "score), averaged over subsets of sample ids: every k-subset where there are at most "
        f"{N_SUBSETS}, else {N_SUBSETS} distinct ones drawn with a generator seeded by the run's seed and k; the same "
        "subset for every (pair, order). J1 figure: the benchmark's J1 protocol figure (PPE: mean of preference "
        "and correctness). No intervals: the subsets share their samples."
    ]
    if quoted:
        table.notes.append(
            paper.quote_note(
                [r for q in quoted for r in (q.greedy, q.scaled)],
                "Their J1 figure is PPE and PPE-Correctness (v1 Table 1, Table 8); their other columns are in "
                "the PPE table.",
            )
        )
    return table


def plot_scaling(report: Report, out_dir: Path) -> tuple[list[Path], list[str]]:
    """J1 figure and consistent accuracy against k (log scale), one line per sampled run, ±1 s.d. over subsets."""
    runs = sampled_runs(report)
    if not runs:
        return [], ["test_time_scaling plot skipped: no run with --samples above 1"]
    import matplotlib.pyplot as plt

    from j1eval.report.plots import STYLE, _colors, save_files

    labels = [f"{br.judge} / {bench_title(br.bench)}" for br in runs]
    colors = _colors(labels)
    panels = (("j1", "J1 figure"), ("acc_consistent", "consistent accuracy"))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
        for ax, (key, name) in zip(axes, panels, strict=True):
            for br, label in zip(runs, labels, strict=True):
                pts: list[Any] = [p for p in curve(br) if key in p.mean]
                if not pts:
                    continue
                ks = [p.k for p in pts]
                mean = [100 * p.mean[key] for p in pts]
                sd = [100 * p.std[key] for p in pts]
                ax.plot(ks, mean, marker="o", color=colors[label], label=label)
                ax.fill_between(
                    ks,
                    [max(m - s, 0.0) for m, s in zip(mean, sd, strict=True)],
                    [min(m + s, 100.0) for m, s in zip(mean, sd, strict=True)],
                    color=colors[label],
                    alpha=0.15,
                    linewidth=0,
                )
            ax.set_xscale("log", base=2)
            ticks = sorted({p.k for br in runs for p in curve(br)})
            ax.set_xticks(ticks, [str(k) for k in ticks])  # plain numbers (mathtext is off in STYLE)
            ax.minorticks_off()
            ax.set_ylim(0, 100)
            ax.set_xlabel("samples k")
            ax.set_title(name)
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("accuracy (%)")
        axes[0].legend(loc="best", frameon=False)
        fig.suptitle("Test-time scaling from one run's samples (SC@k / Mean-Score@k; band: ±1 s.d. over subsets)")
        fig.tight_layout()
        return save_files(fig, out_dir, "test_time_scaling"), []
