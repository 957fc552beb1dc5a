"""The transcribed J1 figures (j1eval/paper_rows.csv) checked against the paper's own arithmetic.

Every figure is printed to 0.1. A mean of printed parts is then within 0.05 of the mean of the
true parts, and the printed total within 0.05 of the true total: the two agree when they differ
by at most 0.1 (``ROUNDING``). A printed gain (value minus base, each within 0.05, the gain
itself rounded) agrees with the printed values within 0.15. A transcription typo breaks these
checks; where the paper itself breaks one, the row is listed in ``KNOWN`` with the reason, and the
test also fails if a listed row starts to agree (a stale entry).
"""

from __future__ import annotations

import dataclasses
import math
from statistics import fmean

import pytest

from j1eval.report import paper_data
from j1eval.report.paper_data import PPE_SETS, REWARDBENCH_SECTIONS, paper_row, paper_rows

ROUNDING = 0.1 + 1e-9
GAIN_ROUNDING = 0.15 + 1e-9

#: (version, table, row, check) -> why the paper itself fails that check.
KNOWN: dict[tuple[str, str, str, str], str] = {
    ("v3", "Table 2", "J1-Qwen-32B-MultiTask", "gain:ppe"): (
        "printed +5.1, but 71.8 - 66.5 (Qwen3-32B) = 5.3; 66.5 is also Qwen3-32B's PPE Correctness in Table 1"
    ),
    ("v3", "Table 4", "+ Negative Reward for Incorrect Verdict", "overall"): (
        "printed 60.4 (v1's six-column Overall), mean of the five v3 columns is 60.54"
    ),
    ("v3", "Table 4", "+ Format Reward", "overall"): "printed 61.0, mean of its five columns is 61.26",
    ("v3", "Table 4", "Plan & Execution", "overall"): "printed 62.1, mean of its five columns is 62.22",
    ("v3", "Table 7", "w/ Verdict", "overall"): "printed 63.9, mean of its five columns is 61.84 (Table 4: 61.8)",
    ("v3", "Table 7", "w/ Scores", "overall"): "printed 63.4, mean of its five columns is 61.26",
    ("v3", "Table 7", "w/ Scores&Verdict", "overall"): "printed 61.7, mean of its five columns is 59.70",
    ("v3", "Table 10", "w/ KL Penalty", "overall"): "printed 63.9 (as Table 7), mean of its five columns is 61.84",
    ("v3", "Table 10", "w/o Entropy Bonus", "overall"): "printed 63.9 (as Table 7), mean of its five columns is 61.84",
    ("v3", "Table 10", "w/ Entropy Bonus", "overall"): (
        "printed 58.3, mean of its five columns is 59.34 (v1 Table 7 prints 59.3 for this model)"
    ),
    ("v3", "Table 12", "J1-Llama-70B - Sampling", "ppe_correctness"): ("printed 64.9, mean of its five sets is 65.46"),
    ("v3", "Table 12", "J1-Llama-70B (Mean-Score@32)", "ppe_correctness"): (
        "printed 74.8, mean of its five sets is 77.76"
    ),
    ("v1", "Table 1", "EvalPlanner-Llama-8B", "same:ppe_correctness"): (
        "v1 Table 1 prints PPE Correctness 52.8 (the mean of its sets, and the value in v3), Table 2 prints 53.0"
    ),
}

#: (version, table): the columns whose mean is the table's "overall" column.
OVERALL_PARTS = {
    ("v1", "Table 2"): paper_data.V1_TABLE2_COLUMNS[1:],
    ("v1", "Table 3"): paper_data.V1_TABLE2_COLUMNS[1:],
    ("v1", "Table 4"): paper_data.V1_TABLE2_COLUMNS[1:],
    ("v1", "Table 7"): paper_data.V1_TABLE2_COLUMNS[1:],
    ("v3", "Table 2"): paper_data.V3_TABLE2_COLUMNS[1:],
    ("v3", "Table 4"): paper_data.V3_TABLE2_COLUMNS[1:],
    ("v3", "Table 7"): paper_data.V3_TABLE2_COLUMNS[1:],
    ("v3", "Table 10"): paper_data.V3_TABLE2_COLUMNS[1:],
    ("v3", "Table 11"): paper_data.V3_TABLE2_COLUMNS[1:],
    ("v1", "Table 6"): REWARDBENCH_SECTIONS,
    ("v3", "Table 6"): REWARDBENCH_SECTIONS,
}
#: Tables whose PPE and PPE Correctness columns are means of their parts.
PPE_TABLES = [("v1", "Table 1"), ("v1", "Table 8"), ("v3", "Table 1"), ("v3", "Table 12"), ("v3", "Table 13")]


def _all() -> list[paper_data.PaperRow]:
    return [r for v in paper_data.VERSIONS for r in paper_rows(v)]


def _failures() -> dict[tuple[str, str, str, str], str]:
    """Every arithmetic check the paper's printed figures fail: key -> what was found."""
    bad: dict[tuple[str, str, str, str], str] = {}

    def check(row: paper_data.PaperRow, name: str, printed: float, parts: list[float]) -> None:
        mean = fmean(parts)
        if abs(printed - mean) > ROUNDING:
            bad[(row.version, row.table, row.row, name)] = f"printed {printed}, mean of parts {mean:.3f}"

    for (version, table), parts in OVERALL_PARTS.items():
        for row in paper_rows(version, table):
            assert set(parts) <= set(row.values), (row.label, set(parts) - set(row.values))
            check(row, "overall", row.values["overall"], [row.values[c] for c in parts])
    for version, table in PPE_TABLES:
        for row in paper_rows(version, table):
            v = row.values
            if "ppe" in v:
                check(row, "ppe", v["ppe"], [v["ppe_preference"], v["ppe_correctness"]])
            if all(s in v for s in PPE_SETS):
                check(row, "ppe_correctness", v["ppe_correctness"], [v[s] for s in PPE_SETS])
    for row in _all():
        for column, gain in row.gains.items():
            base = paper_row(row.version, row.table, row.base or "")
            diff = row.values[column] - base.values[column]
            if abs(gain - diff) > GAIN_ROUNDING:
                bad[(row.version, row.table, row.row, f"gain:{column}")] = f"printed +{gain}, difference {diff:.2f}"
    # The same model in two v1 tables: PPE Preference and Correctness of Table 1 are Table 2's.
    t2 = {r.row: r for r in paper_rows("v1", "Table 2")}
    for row in paper_rows("v1", "Table 1"):
        if row.row in t2:
            for column in ("ppe_preference", "ppe_correctness"):
                if row.values[column] != t2[row.row].values[column]:
                    bad[("v1", "Table 1", row.row, f"same:{column}")] = (
                        f"{row.values[column]} here, {t2[row.row].values[column]} in Table 2"
                    )
    return bad


def test_failures_are_exactly_the_known_exceptions() -> None:
    bad = _failures()
    unexplained = {k: v for k, v in bad.items() if k not in KNOWN}
    stale = [k for k in KNOWN if k not in bad]
    assert not unexplained, "\n".join(f"{k}: {v}" for k, v in unexplained.items())
    assert not stale, f"listed as known but the paper agrees: {stale}"


def test_rows_are_well_formed() -> None:
    rows = _all()
    assert len({(r.version, r.table, r.row) for r in rows}) == len(rows)
    for r in rows:
        assert r.source == f"J1 {r.version}, {r.table}"
        assert r.url == paper_data.URLS[r.version]
        assert r.values, r.label
        for value in r.values.values():
            assert 0.0 <= value <= 100.0 and math.isclose(round(value, 1), value), (r.label, value)
        assert (r.base is None) == (not r.gains), r.label
    assert paper_data.tables("v1") == [f"Table {i}" for i in range(1, 9)]
    assert paper_data.tables("v3") == [f"Table {i}" for i in (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13)]


def test_rewardbench_sections_give_table2_rewardbench() -> None:
    """Table 6's Overall (mean of its sections, checked above) is Table 2's RewardBench column."""
    names = {
        "v1": {
            "Llama3.1-8B-Instruct": "Llama-3.1-8B-Instruct",
            "Llama3.3-70B-Instruct": "Llama-3.3-70B-Instruct",
            "OpenAI-o1-mini": "OpenAI-o1-mini",
            "DeepSeek-R1": "DeepSeek-R1-671B",
            "EvalPlanner-Llama-8B": "EvalPlanner-Llama-8B",
            "EvalPlanner-Llama-70B": "EvalPlanner-Llama-70B",
            "J1-Llama-8B": "J1-Llama-8B",
            "J1-Llama-70B": "J1-Llama-70B",
        },
        "v3": {
            "Llama3.1-8B-Instruct": "Llama-3.1-8B-Instruct",
            "Llama3.3-70B-Instruct": "Llama-3.3-70B-Instruct",
            "OpenAI-o1-mini": "OpenAI-o1-mini",
            "OpenAI-o3": "OpenAI-o3",
            "DeepSeek-R1": "DeepSeek-R1-671B",
            "J1-Qwen-32B-MultiTask": "J1-Qwen-32B-MultiTask",
        },
    }
    for version, mapping in names.items():
        t6 = {r.row: r for r in paper_rows(version, "Table 6")}
        t2 = {r.row: r for r in paper_data.main_rows(version)}
        for name6, name2 in mapping.items():
            sections = fmean(t6[name6].values[s] for s in REWARDBENCH_SECTIONS)
            assert abs(sections - t2[name2].values["rewardbench"]) <= ROUNDING, (version, name6)
            assert t6[name6].values["overall"] == t2[name2].values["rewardbench"], (version, name6)


def test_rows_repeated_across_tables_agree() -> None:
    j1 = paper_row("v1", "Table 2", "J1-Llama-8B").values
    for table, row in [
        ("Table 3", "Pairwise w/ Verdict (default)"),
        ("Table 4", "Thinking (default)"),
        ("Table 4", "Positive Reward for Correct Verdict (default)"),
        ("Table 7", "w/ KL Penalty"),
        ("Table 7", "w/o Entropy Bonus"),
    ]:
        assert dict(paper_row("v1", table, row).values) == dict(j1), (table, row)
    greedy = paper_row("v1", "Table 8", "Greedy").values
    scores = paper_row("v1", "Table 3", "Pairwise w/ Scores").values
    assert (greedy["ppe_preference"], greedy["ppe_correctness"]) == (
        scores["ppe_preference"],
        scores["ppe_correctness"],
    )
    # v3 keeps v1's rows: its PPE is the mean of v1's preference and correctness, other columns equal.
    v1_main = {r.row: r.values for r in paper_data.main_rows("v1")}
    for row in paper_data.main_rows("v3"):
        if row.row in v1_main:
            old = v1_main[row.row]
            assert abs(row.values["ppe"] - fmean([old["ppe_preference"], old["ppe_correctness"]])) <= ROUNDING, row.row
            for column in ("rewardbench", "rmbench", "judgebench", "followbencheval"):
                assert row.values[column] == old[column], (row.row, column)
    v1_t1 = {r.row: r.values for r in paper_rows("v1", "Table 1")}
    for row in paper_rows("v3", "Table 1"):
        if row.row in v1_t1:
            for column in ("ppe_correctness", *PPE_SETS):
                assert row.values[column] == v1_t1[row.row][column], (row.row, column)
    sc = v1_t1["J1-Llama-70B (SC@32)"]
    assert dict(paper_row("v3", "Table 13", "J1-Llama-70B (SC@32)").values) == {
        c: sc[c] for c in ("ppe_correctness", *PPE_SETS)
    }
    v1_bias = paper_data.bias_rows("v1")
    v3_bias = paper_data.bias_rows("v3")
    for old, new in zip(v1_bias[:1] + v1_bias[2:4], v3_bias[:3], strict=True):
        assert dict(old.values) == dict(new.values), (old.row, new.row)


def test_bias_rows_within_the_bounds_of_their_accuracies() -> None:
    """Consistent accuracy lies between max(0, ab + ba - 100) and min(ab, ba); flips leave room for it."""
    for version in paper_data.VERSIONS:
        for table in (paper_data.BIAS_TABLE[version], *(["Table 3"] if version == "v3" else [])):
            for row in paper_rows(version, table):
                for bench in ("ppe_correctness", "judgebench"):
                    m = paper_data.bias_values(row, bench)
                    if "acc_ab" not in m:
                        continue
                    ab, ba, cons = m["acc_ab"], m["acc_ba"], m["acc_consistent"]
                    assert max(0.0, ab + ba - 100) - ROUNDING <= cons <= min(ab, ba) + ROUNDING, (row.label, bench)
                    assert cons + m["inconsistency"] <= 100 + ROUNDING, (row.label, bench)


def test_lookups() -> None:
    assert paper_data.format_row("pairwise-scores").values["overall"] == 60.7
    assert paper_data.format_row("direct-verdict") is None
    assert paper_data.column_values("v1", "Table 5", "judgebench.acc_consistent")["J1-Llama-8B (pointwise)"] == 56.9
    mt = paper_row("v3", "Table 2", "J1-Qwen-32B-MultiTask")
    assert mt.base == "Qwen3-32B" and mt.gains["overall"] == 3.5
    assert mt.label == "J1-Qwen-32B-MultiTask [paper, J1 v3, Table 2]"
    with pytest.raises(ValueError, match="v2"):
        paper_rows("v2")
    with pytest.raises(ValueError, match="Table 5"):
        paper_rows("v3", "Table 5")
    with pytest.raises(KeyError, match="rows:"):
        paper_row("v1", "Table 2", "GPT-5")


def test_a_typo_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong units digit in one cell breaks the Overall check (RM-Bench of J1-Llama-70B, v1 Table 2).

    A mean over six columns moves by a sixth of the error, so the Overall check alone sees errors of
    0.7 and more; cells printed in two tables (v1 and v3 Table 2, Tables 3, 4, 7) are also compared
    for equality above.
    """
    rows = list(paper_data._all_rows())
    i = next(j for j, r in enumerate(rows) if (r.version, r.table, r.row) == ("v1", "Table 2", "J1-Llama-70B"))
    values = dict(rows[i].values)
    values["rmbench"] = round(values["rmbench"] + 1.0, 1)
    rows[i] = dataclasses.replace(rows[i], values=values)
    monkeypatch.setattr(paper_data, "_all_rows", lambda: tuple(rows))
    assert ("v1", "Table 2", "J1-Llama-70B", "overall") in _failures()


def test_scaling_rows() -> None:
    v1 = paper_data.scaling_rows("v1")
    assert [(s.rule, s.n) for s in v1] == [("SC", 32), ("SC", 32), ("Mean-Score", 32)]
    assert v1[1].scaled.values["ppe_correctness"] == 73.7 and v1[1].greedy.values["ppe_correctness"] == 72.9
    v3 = paper_data.scaling_rows("v3")
    assert {s.scaled.table for s in v3} == {"Table 12", "Table 13"}
    for s in v1 + v3:
        assert s.greedy.values.keys() == s.scaled.values.keys()
