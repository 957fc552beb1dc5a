"""Significance: slot preference (binomial test against 50%) and paired comparisons of judges (exact McNemar).

Both read the per-pair tables: each judged order's verdict, and each pair's correctness under the
benchmark's J1 protocol.
"""

from __future__ import annotations

import itertools

from j1eval.report.runs import Report, bench_title
from j1eval.report.tables import MIN_PAIRS, NOT_RUN, SMALL, Cell, Row, Table, dedupe, small_mark
from j1eval.score.stats import BinomialResult, McNemarResult, format_p, mcnemar, pair_correctness, slot_preference


def stats_tables(report: Report) -> tuple[Table, Table, list[str]]:
    """Slot-preference binomial tests and pairwise McNemar tests, per benchmark."""
    slot = Table(
        "stats_slot",
        "Slot preference: decisive verdicts picking slot A (both orders pooled), binomial test against 50%",
        ["Benchmark", "Judge"],
        ["decisive verdicts", "slot A %", "95% CI", "p-value"],
    )
    mc = Table(
        "stats_mcnemar",
        "Paired comparison of judges (exact McNemar test on per-pair correctness, J1 protocol)",
        ["Benchmark", "Judge 1", "Judge 2"],
        ["protocol", "pairs", "acc 1 %", "acc 2 %", "n10", "n01", "p-value"],
    )
    notes: list[str] = []
    for bench in report.benches():
        title = bench_title(bench)
        for br in report.runs_of(bench):
            if br.table is None or br.table.empty:
                notes.append(f"{br.judge} / {bench}: no stored judgments; slot test skipped.")
                continue
            res: BinomialResult = slot_preference(br.verdicts)
            ci = f"[{100 * res.ci[0]:.1f}, {100 * res.ci[1]:.1f}]" if res.ci else NOT_RUN
            cells = [
                Cell.number(res.n),
                Cell.pct(res.rate, mark=small_mark(res.n))
                if res.rate is not None
                else Cell(NOT_RUN, status="no decisive verdict"),
                Cell(ci, ci if res.ci else None),
                Cell(format_p(res.p_value), res.p_value) if res.n else Cell(NOT_RUN, status="no decisive verdict"),
            ]
            slot.rows.append(Row([title, br.judge], cells, title))
        with_tables = [br for br in report.runs_of(bench) if br.table is not None]
        for b1, b2 in itertools.combinations(with_tables, 2):
            protocol = b1.protocol
            if protocol == "single" and b1.seed != b2.seed:
                notes.append(
                    f"{title}: {b1.judge} (seed {b1.seed}) and {b2.judge} (seed {b2.seed}) were scored on "
                    "different single orders; the McNemar test compares them as they were scored."
                )
            r: McNemarResult = mcnemar(pair_correctness(b1.table, protocol), pair_correctness(b2.table, protocol))
            cells = [
                Cell(protocol, protocol),
                Cell.number(r.n),
                Cell.pct(r.acc_1, mark=small_mark(r.n)),
                Cell.pct(r.acc_2, mark=small_mark(r.n)),
                Cell.number(r.n10),
                Cell.number(r.n01),
                Cell(format_p(r.p_value), r.p_value),
            ]
            mc.rows.append(Row([title, b1.judge, b2.judge], cells, title))
    slot.notes = [
        "Exact two-sided binomial test of the slot-A share of decisive verdicts (ties and missing verdicts left out) "
        "against 0.5; 95% CI: Clopper-Pearson. Both orders pooled, so a judge that ignores position sits at 50%. "
        f"{SMALL} = fewer than {MIN_PAIRS} decisive verdicts."
    ]
    mc.notes = [
        "Pairs both judges judged. protocol single: correct in the pair's seeded single order; consistent: correct "
        "in both orders. acc 1, acc 2: plain share of these pairs correct (no section or domain weights, so it "
        "can differ from the benchmark's J1 figure). n10 = judge 1 right and judge 2 wrong, n01 = the reverse; "
        "p-value: exact McNemar (two-sided binomial test of n10 among n10 + n01 against 0.5). "
        f"{SMALL} = fewer than {MIN_PAIRS} pairs."
    ]
    return slot, mc, dedupe(notes)
