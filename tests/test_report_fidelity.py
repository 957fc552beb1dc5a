"""Issue #15 on the report side: versioned paper rows, the paper's layouts, PPE per-set means, few-pair marks, SC@k.

Every figure checked here is recomputed by hand from the run's own files (judgments.jsonl,
pairs.parquet) on the small PPE fixtures (tests/fixtures/ppe: 15 pairs over six parts).
"""

from __future__ import annotations

import ast
import json
import random
from collections import Counter
from pathlib import Path
from statistics import fmean

import pandas as pd
import pytest
from conftest import FIXTURES

from j1eval.benchmarks.ppe import CORRECTNESS_SETS
from j1eval.report import build_tables, load_report, paper, paper_data
from j1eval.report.tables import SMALL


def _run(out: Path, judge: str = "random", samples: int = 1) -> Path:
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    run(
        RunConfig(judge=judge, benches=["ppe"], data_dir=FIXTURES, out=out, samples=samples, progress=False, n_boot=100)
    )
    return out


def _rescore(run_dir: Path, rng: random.Random) -> list[dict]:
    """Give every stored judgment a seeded random verdict (some ties), then score the run again (`score --out`)."""
    from j1eval.cli import main

    path = run_dir / "judgments.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for r in rows:
        r["verdict"] = rng.choice(["A", "A", "B", "tie"])
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    argv = ["score", "--bench", "ppe", "--judgments", str(path), "--out", str(run_dir), "--data-dir", str(FIXTURES)]
    assert main(argv) == 0
    return rows


@pytest.fixture(scope="module")
def ppe_run(tmp_path_factory) -> Path:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("J1EVAL_NO_HUB", "1")
        out = _run(tmp_path_factory.mktemp("ppe_random"))
        _rescore(out, random.Random(7))
    return out


@pytest.fixture(scope="module")
def sampled_run(tmp_path_factory) -> tuple[Path, list[dict]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("J1EVAL_NO_HUB", "1")
        out = _run(tmp_path_factory.mktemp("ppe_sampled"), samples=4)
        rows = _rescore(out, random.Random(11))
    return out, rows


def _tables(*runs: Path, with_paper: bool | str = False) -> dict:
    return {t.key: t for t in build_tables(load_report(list(runs), with_paper=with_paper))}


def _row(table, *labels: str):
    return next(r for r in table.rows if r.labels[: len(labels)] == list(labels))


# --------------------------------------------------------------------------- paper rows, versions


def test_paper_py_writes_no_number() -> None:
    """paper.py is a layer over paper_rows.csv: no numeric literal in it, and its lookups are paper_data's."""
    tree = ast.parse(Path(paper.__file__).read_text())
    numbers = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, int | float)]
    assert not [n for n in numbers if not isinstance(n, bool)]
    assert paper.main_rows is paper_data.main_rows and paper.bias_rows is paper_data.bias_rows
    assert paper.url("v1") == "https://arxiv.org/abs/2505.10320v1"
    with pytest.raises(ValueError, match="v2"):
        paper.url("v2")


def test_with_paper_flag_takes_a_version() -> None:
    from j1eval.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["report", "r", "--with-paper"]).with_paper == "v1"
    assert parser.parse_args(["report", "r", "--with-paper", "v3"]).with_paper == "v3"
    assert parser.parse_args(["report", "r"]).with_paper is None
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "r", "--with-paper", "v2"])


def test_v1_and_v3_main_tables_name_their_source(ppe_run: Path) -> None:
    v1 = _tables(ppe_run, with_paper=True)["main_table"]
    assert v1.columns[:3] == ["Overall", "PPE-Preference", "PPE-Correctness"]
    j1 = _row(v1, "J1-Llama-70B [paper, J1 v1, Table 2]")
    assert [c.text for c in j1.cells] == ["74.1", "66.3", "72.9", "93.3", "60.0", "82.7", "69.3"]
    assert any("https://arxiv.org/abs/2505.10320v1" in n for n in v1.notes)
    v3 = _tables(ppe_run, with_paper="v3")["main_table"]
    assert v3.columns == ["Overall", "PPE", "RewardBench", "RM-Bench", "JudgeBench", "FollowBenchEval"]
    labels = [r.labels[0] for r in v3.rows]
    for added in ("Qwen3-32B", "J1-Qwen-32B-MultiTask", "OpenAI-o3"):
        assert f"{added} [paper, J1 v3, Table 2]" in labels
    mt = _row(v3, "J1-Qwen-32B-MultiTask [paper, J1 v3, Table 2]")
    assert mt.cells[0].text == "80.8 (+3.5)" and mt.cells[0].value == 80.8
    # The measured PPE cell of v3 is the run's J1 figure (preference and correctness together).
    ppe = json.loads((ppe_run / "results.json").read_text())["ppe"]["overall"]
    assert _row(v3, "random").cells[1].value == pytest.approx(100 * ppe["j1"], abs=0.01)
    bias = _tables(ppe_run, with_paper="v3")["position_bias"]
    assert "Table 8" in bias.title and any(r.labels[1].endswith("[paper, J1 v3, Table 8]") for r in bias.rows)


def test_missing_v1_rows_appear_in_their_layouts(ppe_run: Path) -> None:
    tables = _tables(ppe_run, with_paper=True)
    ppe = tables["ppe_table"]
    assert ppe.columns == [
        "PPE",
        "PPE-Preference",
        "PPE-Correctness",
        "MMLU-Pro",
        "MATH",
        "GPQA",
        "MBPP-Plus",
        "IFEval",
    ]
    sc = _row(ppe, "J1-Llama-70B (SC@32) [paper, J1 v1, Table 1]")
    assert [c.text for c in sc.cells] == ["70.4", "67.0", "73.7", "79.9", "88.1", "66.5", "66.5", "67.2"]
    assert _row(ppe, "Mean-Score@32 [paper, J1 v1, Table 8]").cells[2].text == "59.1"
    formats = tables["formats_table"]
    assert _row(formats, "pointwise", "Pointwise w/ Score [paper, J1 v1, Table 3]").cells[0].text == "64.6"
    recipes = [r.labels[1] for r in formats.rows if r.labels[0] == "(training recipe)"]
    assert "+ Negative Reward for Incorrect Verdict [paper, J1 v1, Table 4]" in recipes
    assert "+ Format Reward [paper, J1 v1, Table 4]" in recipes
    assert _row(formats, "plan-execute").labels[1] == "Plan & Execution (EvalPlanner-style) [paper, J1 v1, Table 4]"
    assert _row(formats, "pairwise-verdict", "random")  # the run, grouped under its format
    rb = tables["rewardbench_sections"]
    assert rb.columns == ["Overall", "Chat", "Chat Hard", "Safety", "Reasoning"]
    assert [c.text for c in _row(rb, "J1-Llama-8B [paper, J1 v1, Table 6]").cells] == [
        "85.7",
        "92.9",
        "80.3",
        "85.6",
        "83.9",
    ]
    bias = tables["position_bias"]
    pointwise = _row(bias, "PPE-Correctness", "J1-Llama-8B (pointwise) [paper, J1 v1, Table 5]")
    assert [c.text for c in pointwise.cells[:4]] == ["—", "—", "60.1", "—"]


# --------------------------------------------------------------------------- PPE per-set means, measured rows


def test_ppe_bias_row_averages_the_five_sets(ppe_run: Path) -> None:
    table = pd.read_parquet(ppe_run / "pairs.parquet")
    corr = table[table["subset"].isin(CORRECTNESS_SETS)]
    by_set = {s: corr[corr["subset"] == s] for s in CORRECTNESS_SETS}
    assert all(len(part) for part in by_set.values())
    expected = {
        "acc (a,b)": fmean(p["correct_ab"].mean() for p in by_set.values()),
        "acc (b,a)": fmean(p["correct_ba"].mean() for p in by_set.values()),
        "consistent acc": fmean((p["correct_ab"] * p["correct_ba"]).mean() for p in by_set.values()),
    }
    pooled = corr["correct_ab"].mean()
    bias = _tables(ppe_run)["position_bias"]
    row = _row(bias, "PPE-Correctness", "random")
    for column, value in expected.items():
        assert row.cells[bias.columns.index(column)].value == pytest.approx(100 * value, abs=0.01), column
    assert expected["acc (a,b)"] != pytest.approx(pooled)  # the sets differ in size: pooling would differ
    # every cell rests on fewer than 30 pairs: marked, with a note
    assert row.cells[0].text.endswith(SMALL) and any(n.startswith(SMALL) for n in bias.notes)
    ppe = _tables(ppe_run)["ppe_table"]
    measured = _row(ppe, "random")
    for title, subset in (("MMLU-Pro", "mmlu-pro"), ("IFEval", "ifeval")):
        part = table[table["subset"] == subset]
        single = [r[f"correct_{o}"] for r, o in zip(part.to_dict("records"), part["single_order"], strict=True)]
        assert measured.cells[ppe.columns.index(title)].value == pytest.approx(100 * fmean(single), abs=0.01)


# --------------------------------------------------------------------------- SC@k from one run's samples


def test_scaling_table_recomputes_sc_at_k_from_stored_samples(sampled_run) -> None:
    run_dir, rows = sampled_run
    table = _tables(run_dir)["test_time_scaling"]
    labels = [r.labels[2] for r in table.rows]
    assert labels == ["SC@1", "SC@2", "SC@4"]
    labels_of = {p["pair_id"]: p["label"] for p in pd.read_parquet(run_dir / "pairs.parquet").to_dict("records")}
    by = {}
    for r in rows:
        by.setdefault((r["pair_id"], r["order"]), {})[r["sample"]] = r["verdict"]

    def right(pair_id: str, order: str, verdict: str) -> float:
        good = "A" if (labels_of[pair_id] == 1) == (order == "ab") else "B"
        return float(verdict == good)

    def sc(verdicts: list[str]) -> str:
        c = Counter(v for v in verdicts if v in ("A", "B"))
        return "tie" if c["A"] == c["B"] else max(c, key=c.__getitem__)

    # k = 1: the mean over the four samples of each sample's accuracy in order (a,b)
    ab = [(pid, s) for (pid, o), s in by.items() if o == "ab"]
    k1 = fmean(fmean(right(pid, "ab", s[i]) for pid, s in ab) for i in range(4))
    # k = 4: the majority of all four samples (a level count is a tie, i.e. wrong)
    k4 = fmean(right(pid, "ab", sc(list(s.values()))) for pid, s in ab)
    col = table.columns.index("acc (a,b)")
    assert table.rows[0].cells[col].value == pytest.approx(100 * k1, abs=0.01)
    assert table.rows[2].cells[col].value == pytest.approx(100 * k4, abs=0.01)
    # k = 4 is the run itself, scored with SC@4
    overall = json.loads((run_dir / "results.json").read_text())["ppe"]["overall"]
    assert table.rows[2].cells[col].value == pytest.approx(100 * overall["acc_ab"], abs=0.01)
    assert table.rows[1].cells[-1].text == "6 (all)"  # the six 2-subsets of four samples


def test_scaling_table_and_plot_with_paper_rows(sampled_run, tmp_path) -> None:
    from j1eval.report.scaling_table import plot_scaling

    run_dir, _ = sampled_run
    report = load_report([run_dir], with_paper=True)
    table = {t.key: t for t in build_tables(report)}["test_time_scaling"]
    quoted = [r for r in table.rows if "[paper" in r.labels[1]]
    assert [r.labels[2] for r in quoted] == ["greedy", "SC@32", "greedy", "SC@32", "greedy", "Mean-Score@32"]
    sc70 = _row(table, "PPE", "J1-Llama-70B (SC@32) [paper, J1 v1, Table 1]")
    assert sc70.cells[1].text == "73.7"  # PPE-Correctness
    paths, notes = plot_scaling(report, tmp_path)
    assert not notes and (tmp_path / "test_time_scaling.png").stat().st_size > 5000


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_every_new_table_renders_in_every_format(sampled_run, ppe_run, version) -> None:
    from test_report import _check_latex

    from j1eval.report import render_csv, render_latex, render_markdown

    run_dir, _ = sampled_run
    tables = build_tables(load_report([ppe_run, run_dir], with_paper=version))
    keys = {t.key for t in tables}
    assert {"ppe_table", "formats_table", "rewardbench_sections", "test_time_scaling"} <= keys
    for table in tables:
        _check_latex(render_latex(table))
        assert render_markdown(table).startswith("### ")
        assert render_csv(table).count("\n") >= len(table.rows)
