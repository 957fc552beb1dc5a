"""The paper's main layouts: Table 2 (:func:`main_table`) and the position-bias table (:func:`position_bias_table`).

Each cell is a figure of ``results.json``; :func:`figure_cell` marks an incomplete one (n/a†, with
a footnote giving the partial value), a slice of a benchmark (‡), rebuilt pairs (§) and a figure
over fewer than :data:`~j1eval.report.tables.MIN_PAIRS` pairs (¶). The layout follows the J1
version quoted (``--with-paper v1``, the default, or ``v3``): v1 Table 2 splits PPE into
preference and correctness, v3 Table 2 has one PPE column; the bias rows are v1 Table 5 or v3
Table 8. The published rows (:mod:`j1eval.report.paper_data`) follow the measured ones, labelled with
their source ("J1 v1, Table 2").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from j1eval.report import paper
from j1eval.report.runs import BENCH_ORDER, BenchRun, JudgeRuns, Report, bench_title
from j1eval.report.tables import (
    DAGGER,
    INCOMPLETE,
    NOT_RUN,
    REBUILT,
    SLICE,
    Cell,
    Row,
    Table,
    dedupe,
    small_mark,
    small_note,
)

#: J1 v1 Table 2: (column title, benchmark, figure key in results[bench]["overall"], paper key).
MAIN_COLUMNS = (
    ("PPE-Preference", "ppe", "preference", "ppe_preference"),
    ("PPE-Correctness", "ppe", "correctness", "ppe_correctness"),
    ("RewardBench", "rewardbench", "j1", "rewardbench"),
    ("JudgeBench", "judgebench", "j1", "judgebench"),
    ("RM-Bench", "rmbench", "j1", "rmbench"),
    ("FollowBenchEval", "followbencheval", "j1", "followbencheval"),
)
#: J1 v3 Table 2: PPE as one column (preference and correctness together), RM-Bench before JudgeBench.
MAIN_COLUMNS_V3 = (
    ("PPE", "ppe", "j1", "ppe"),
    ("RewardBench", "rewardbench", "j1", "rewardbench"),
    ("RM-Bench", "rmbench", "j1", "rmbench"),
    ("JudgeBench", "judgebench", "j1", "judgebench"),
    ("FollowBenchEval", "followbencheval", "j1", "followbencheval"),
)
LAYOUTS = {"v1": MAIN_COLUMNS, "v3": MAIN_COLUMNS_V3}
#: Columns after either layout for benchmarks the paper has not (shown when a run has them).
EXTRA_MAIN_COLUMNS = (("RewardBench 2", "rewardbench2", "j1", ""),)
#: Position-bias table: (column title, figure key).
BIAS_COLUMNS = (
    ("acc (a,b)", "acc_ab"),
    ("acc (b,a)", "acc_ba"),
    ("consistent acc", "acc_consistent"),
    ("inconsistency", "flip_rate"),
    ("slot A", "slot_a_rate"),
    ("position consistency", "position_consistency"),
    ("ties", "tie_rate"),
    ("no verdict", "parse_failure_rate"),
    ("truncated", "truncation_rate"),
)
#: Position bias in probability, where runs have the judge's P(slot A) (direct verdicts, baselines).
PROBABILITY_COLUMNS = (
    ("mean P(A)", "mean_p_a"),
    ("order shift", "order_shift"),
    ("acc (avg P)", "acc_prob_avg"),
)
#: Figures counted over pairs judged in both orders (their pair count is ``n_both_orders``).
TWO_ORDER_FIGURES = frozenset(
    {"acc_consistent", "flip_rate", "position_consistency", "order_shift", "acc_prob_avg", "j1_consistent"}
)
#: Figures of a benchmark's ``overall`` that count only part of its pairs: the pair-table column and value(s).
PART_FIGURES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("ppe", "preference"): ("group", ("preference",)),
    ("ppe", "correctness"): ("group", ("correctness",)),
    **{
        ("rewardbench", key): ("section", (section,))
        for keys, section in (
            (("chat", "j1_chat"), "Chat"),
            (("chat_hard", "j1_chat_hard"), "Chat Hard"),
            (("safety", "j1_safety"), "Safety"),
            (("reasoning", "j1_reasoning"), "Reasoning"),
        )
        for key in keys
    },
    **{("rmbench", level): ("cell", (level,)) for level in ("easy", "normal", "hard")},
}


def slice_text(br: BenchRun) -> str:
    """How a run's pairs were picked, when it covered only part of a benchmark."""
    run, total = br.slice or (0, 0)
    if br.run.manifest.get("sample"):
        return f"on a seeded sample of {run} of {total} pairs (--sample, seed {br.seed})"
    return f"on the first {run} of {total} pairs (--limit)"


def pct_text(value: float) -> str:
    return f"{100 * value:.1f}"


def compact_missing(missing: Iterable[str]) -> list[str]:
    """Missing parts without their sub-groups: ["math", "math/easy"] -> ["math"]."""
    items = list(dict.fromkeys(str(m) for m in missing))
    return [m for m in items if not ("/" in m and m.split("/")[0] in items)]


#: Parts of a benchmark that a figure does not depend on (a missing one leaves the figure complete).
UNRELATED_PARTS = {
    ("ppe", "preference"): lambda part: part != "preference",
    ("ppe", "correctness"): lambda part: part == "preference",
}


def figure_pairs(br: BenchRun | None, figs: Mapping[str, Any], key: str) -> int | None:
    """How many pairs a figure counts: the pairs of its part of the benchmark, both orders where it needs them."""
    count = figs.get("n_both_orders") if key in TWO_ORDER_FIGURES else figs.get("n_pairs")
    part = PART_FIGURES.get((br.bench, key)) if br is not None else None
    table = br.table if br is not None else None
    if part is not None and table is not None and part[0] in table.columns and figs is br.overall:
        inside = table[part[0]].isin(part[1])
        if key in TWO_ORDER_FIGURES:
            inside &= table["judged_ab"] & table["judged_ba"]
        return int(inside.sum())
    return int(count) if isinstance(count, int) else None


def figure_cell(br: BenchRun, figs: Mapping[str, Any], key: str, where: str, notes: list[str]) -> tuple[Cell, bool]:
    """A figure's cell and whether it is complete; incomplete or unmeasured cells get a footnote."""
    unrelated = UNRELATED_PARTS.get((br.bench, key), lambda part: False)
    missing = [m for m in compact_missing(figs.get("missing") or []) if not unrelated(m.split("/")[0])]
    if key not in figs:
        notes.append(f"{DAGGER} {where}: not measured by this run (e.g. one answer order only).")
        return Cell(INCOMPLETE, status="not measured"), False
    value = figs[key]
    if value is None or missing:
        partial = figs.get(f"{key}_partial", value)
        detail = f"data missing for {', '.join(missing)}" if missing else "incomplete data"
        part = f"; value over the parts present: {pct_text(partial)}" if partial is not None else ""
        notes.append(f"{DAGGER} {where}: incomplete ({detail}){part}. Not a score for the whole benchmark.")
        status = f"incomplete: {detail}" + (f"; partial {100 * partial:.2f}" if partial is not None else "")
        return Cell(INCOMPLETE, status=status), False
    mark = ""
    if br.slice:
        mark = SLICE
        notes.append(f"{SLICE} {where}: {slice_text(br)}.")
    rebuilt = br.results.get("rebuilt") or (br.info.get("notes") or {}).get("rebuilt")
    if rebuilt:
        mark += REBUILT
        gens, checkers = ", ".join(rebuilt.get("generators", [])), ", ".join(rebuilt.get("checkers", []))
        made = f"j1eval build: generator {gens}; checker {checkers}"
        notes.append(f"{REBUILT} {where}: rebuilt pairs ({made}), not the paper's; not comparable to its row.")
    n = figure_pairs(br, figs, key)
    if small_mark(n):
        mark += small_mark(n)
        notes.append(small_note(where, n))
    cell = Cell.pct(value, figs.get("ci", {}).get(key), mark)
    if br.slice:
        cell.status = f"slice: {br.slice[0]} of {br.slice[1]} pairs"
    return cell, True


def interval_note() -> str:
    """What the second line of a figure means."""
    return (
        "Intervals (95%): Clopper-Pearson (exact) for a plain share of pairs (or of judgments in a one-order "
        "run); a percentile bootstrap over pairs (1,000 Poisson resamples) for figures weighted over groups "
        "(sections, domains, sets) or counted over both orders' judgments."
    )


def paper_source(prow: paper.PaperRow) -> str:
    """Where a quoted row is printed: "J1 v1, Table 2, https://arxiv.org/abs/2505.10320v1"."""
    return f"{prow.source}, {prow.url}"


def quoted_cell(prow: paper.PaperRow, key: str) -> Cell:
    """A published cell, with the gain the paper prints beside it."""
    cell = Cell.quoted(prow.get(key), paper_source(prow))
    gain = prow.gains.get(key)
    if gain is not None:
        cell.text += f" (+{gain:.1f})"
    return cell


def judge_cells(judge: JudgeRuns, layout: Sequence[tuple[str, str, str, str]], notes: list[str]) -> list[Cell]:
    """One judge's row of a Table 2 layout: Overall (the mean, only when every cell is complete), then each column."""
    cells: list[Cell] = []
    complete: list[float] = []
    for col_title, bench, key, _ in layout:
        br = judge.benches.get(bench)
        if br is None:
            cells.append(Cell(NOT_RUN, status="not run"))
            continue
        cell, ok = figure_cell(br, br.overall, key, f"{judge.name}, {col_title}", notes)
        cells.append(cell)
        if ok and not br.slice:  # a slice is shown (marked) but never averaged into Overall
            complete.append(float(cell.value) / 100)  # type: ignore[arg-type]
    if len(complete) == len(layout):
        return [Cell.pct(sum(complete) / len(complete)), *cells]
    notes.append(
        f"{DAGGER} {judge.name}, Overall: {len(complete)} of {len(layout)} benchmark cells cover "
        f"their whole benchmark; the mean over {len(layout)} is not shown."
    )
    return [Cell(INCOMPLETE, status=f"incomplete: {len(complete)} of {len(layout)} cells"), *cells]


def main_table(report: Report) -> Table:
    """J1 Table 2 of the version quoted: Overall, then the ``j1`` figure per benchmark column."""
    version = report.paper_version
    layout = LAYOUTS[version]
    columns = ["Overall"] + [c[0] for c in layout]
    # Benchmarks beyond the paper's (RewardBench 2): their own columns after its layout, never in Overall.
    extra = [c for c in EXTRA_MAIN_COLUMNS if any(c[1] in j.benches or c[1] in j.kway for j in report.judges)]
    columns += [c[0] for c in extra]
    title = f"J1 main table (J1 {version}, {paper.MAIN_TABLE[version]} layout): J1 protocol accuracy, %"
    table = Table("main_table", title, ["Judge"], columns)
    table.ci_line = True
    notes: list[str] = []
    for judge in report.judges:
        cells = judge_cells(judge, layout, notes)
        for col_title, bench, key, _ in extra:
            br = judge.benches.get(bench) or judge.kway.get(bench)
            cells.append(
                figure_cell(br, br.overall, key, f"{judge.name}, {col_title}", notes)[0]
                if br is not None
                else Cell(NOT_RUN, status="not run")
            )
        table.rows.append(Row([judge.name], cells, "runs"))
    quoted = paper.main_rows(version) if report.with_paper else []
    for prow in quoted:
        cells = [quoted_cell(prow, "overall")] + [quoted_cell(prow, c[3]) for c in layout]
        cells += [Cell(NOT_RUN, status="not in the paper") for _ in extra]
        table.rows.append(Row([prow.label], cells, "paper"))
    ppe_rule = (
        "PPE-Preference and PPE-Correctness: accuracy in the dataset's own order (PPE randomises it), correctness "
        "the mean of its five sets"
        if version == "v1"
        else "PPE: mean of preference and correctness (mean of five sets), in the dataset's own order"
    )
    table.notes = dedupe(notes) + [
        f"{NOT_RUN} = benchmark not run. Cells: the J1 protocol figure ({ppe_rule}; RewardBench, RM-Bench: one "
        "seeded random order per pair; JudgeBench, FollowBenchEval: correct in both orders). A tie or no verdict "
        f"is wrong. Overall = mean of the {len(layout)} cells, only when all are complete. " + interval_note()
    ]
    if extra:
        table.notes.append(
            "RewardBench 2 (not in the J1 paper, not in Overall): best-of-4 in J1's consistent reading, the chosen "
            "response preferred over all three rejected ones in both orders of every pair (pairwise formats) or "
            "picked in all four rotations (4-way formats); its official score is in the RewardBench 2 tables."
        )
    if quoted:
        gains = any(p.gains for p in quoted)
        extra = "(+x): the gain the paper prints, relative to the row it names." if gains else ""
        table.notes.append(paper.quote_note(quoted, extra))
    return table


def _ppe_parts(br: BenchRun) -> dict[str, dict[str, Any]]:
    """PPE position-bias figures per half: preference over its pairs, correctness the mean of its five sets."""
    from j1eval.report.set_means import set_mean_figures

    if br.table is None or br.benchmark is None or "group" not in br.table.columns:
        return {}
    out = {}
    pref = br.table[br.table["group"] == "preference"].reset_index(drop=True)
    if len(pref):
        from j1eval.score.metrics import compute_figures

        out["preference"] = compute_figures(pref, None, seed=br.seed)
    corr = br.table[br.table["group"] == "correctness"].reset_index(drop=True)
    if len(corr):
        from j1eval.benchmarks.ppe import CORRECTNESS_SETS

        out["correctness"] = set_mean_figures(corr, "subset", CORRECTNESS_SETS, seed=br.seed)
    return out


def position_bias_table(report: Report) -> Table:
    """J1's position-bias layout (v1 Table 5, v3 Table 8), one row per (benchmark, judge), extended."""
    version = report.paper_version
    with_probs = any("mean_p_a" in br.overall for bench in report.benches() for br in report.runs_of(bench))
    columns = BIAS_COLUMNS + (PROBABILITY_COLUMNS if with_probs else ())
    table = Table(
        "position_bias",
        f"Position bias (J1 {version}, {paper.BIAS_TABLE[version]} layout, extended), %",
        ["Benchmark", "Judge"],
        [c[0] for c in columns] + ["pairs"],
    )
    notes: list[str] = []

    def row(title: str, judge: str, figs: Mapping[str, Any], br: BenchRun | None) -> Row:
        cells = []
        for _, key in columns:
            if key in figs and figs[key] is not None:
                mark = SLICE if br is not None and br.slice else ""
                n = figure_pairs(None, figs, key)
                mark += small_mark(n)
                if small_mark(n):
                    notes.append(small_note(f"{judge}, {title}", n))
                cells.append(Cell.pct(figs[key], figs.get("ci", {}).get(key), mark))
            elif figs.get(f"{key}_partial") is not None:
                cells.append(Cell(INCOMPLETE, status=f"incomplete: partial {100 * figs[f'{key}_partial']:.2f}"))
                notes.append(f"{DAGGER} {judge}, {title}: {key} incomplete (sets missing: {figs.get('missing')}).")
            else:
                cells.append(Cell(NOT_RUN, status="not measured"))
        cells.append(Cell.number(figs.get("n_pairs")))
        if br is not None and br.slice:
            notes.append(f"{SLICE} {judge}, {title}: {slice_text(br)}.")
        return Row([title, judge], cells, title)

    quoted = paper.bias_rows(version) if report.with_paper else []
    groups = [("PPE", "ppe") if b == "ppe" else (bench_title(b), b) for b in report.benches()]
    if quoted and "ppe" not in report.benches():
        groups.insert(0, ("PPE-Correctness", "ppe_correctness"))
    if quoted and "judgebench" not in report.benches():
        groups.append(("JudgeBench", "judgebench"))
    for title, key in groups:
        if key == "ppe":
            for br in report.runs_of("ppe"):
                parts = _ppe_parts(br)
                for part, figs in parts.items():
                    table.rows.append(row(f"PPE-{part.capitalize()}", br.judge, figs, br))
                if not parts:
                    table.rows.append(row("PPE (both halves)", br.judge, br.overall, br))
            key, title = "ppe_correctness", "PPE-Correctness"
        else:
            for br in report.runs_of(key):
                table.rows.append(row(title, br.judge, br.overall, br))
        for prow in quoted:
            if paper.bias_values(prow, key):
                table.rows.append(_paper_bias_row(title, prow, key, columns))
    table.rows.sort(key=lambda r: _group_rank(r.labels[0]))
    table.notes = dedupe(notes) + [
        "inconsistency = flip rate: share of pairs judged in both orders whose two verdicts are decisive and pick "
        "different responses (J1 reports inconsistency; this harness measures it as the flip rate). "
        "consistent acc = correct in both orders; in every accuracy a tie or no verdict is wrong. "
        "slot A = share of decisive verdicts (both orders pooled) that "
        "pick slot A. position consistency = consistent / (consistent + primacy + recency) over pairs with both "
        "verdicts readable (Shi et al., 2024). ties, no verdict, truncated = shares of all judgments. "
        "PPE-Correctness: each figure is the mean of its value on the five sets (MMLU-Pro, MATH, GPQA, "
        f"MBPP-Plus, IFEval), as the paper averages them. {NOT_RUN} = not measured (one order only) or not "
        "reported. " + interval_note()
    ]
    if with_probs:
        table.notes.append(
            "In probability, where the judge gives P(slot A) (direct verdicts read it from the first answer token; "
            "baselines give 1, 0 or 0.5): mean P(A) = mean P(slot A) over judgments, both orders pooled (50 = no slot "
            "preference); order shift = mean over pairs of |P(picks response 1 | order a,b) - P(picks response 1 | "
            "order b,a)| (0 for a judge whose preference ignores order, 100 for one that always picks slot A); "
            "acc (avg P) = share of pairs where the mean of the two orders' P(picks the better response) is above "
            "50 (exactly 50 counts as wrong)."
        )
    if quoted:
        table.notes.append(
            paper.quote_note(
                quoted,
                "PPE Correctness and JudgeBench, four columns only; the paper's pointwise row has consistent "
                "accuracy only (a pointwise judge is consistent by design).",
            )
        )
    return table


def _group_rank(title: str) -> int:
    order = ["PPE", "PPE-Preference", "PPE-Correctness", "PPE (both halves)"] + [
        bench_title(b) for b in BENCH_ORDER[1:]
    ]
    return order.index(title) if title in order else len(order)


def _paper_bias_row(
    title: str, prow: paper.PaperRow, key: str, columns: Sequence[tuple[str, str]] = BIAS_COLUMNS
) -> Row:
    values = paper.bias_values(prow, key)
    paper_key = {
        "acc_ab": "acc_ab",
        "acc_ba": "acc_ba",
        "acc_consistent": "acc_consistent",
        "flip_rate": "inconsistency",
        "tie_rate": "ties",
    }
    source = paper_source(prow)
    cells = [Cell.quoted(values.get(paper_key[k]) if k in paper_key else None, source) for _, k in columns]
    cells.append(Cell.quoted(None))
    return Row([title, prow.label], cells, title)
