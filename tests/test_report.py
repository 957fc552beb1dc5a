"""`report`: tables from recorded runs, incomplete markers, LaTeX structure, significance tests, plots."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES, SHARED_DATA, require

from j1eval.report import paper_data
from j1eval.score.stats import binomial, format_p, mcnemar, mcnemar_exact_p, slot_preference

JUDGEBENCH_FILE = "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"
LIMIT = 40


# --------------------------------------------------------------------------- statistics (no data needed)


def test_mcnemar_exact_matches_hand_computed_binomial():
    # 8 vs 2 discordant pairs: p = 2 * P(X <= 2 | n=10, 1/2) = 2 * (1 + 10 + 45) / 1024
    assert mcnemar_exact_p(8, 2) == pytest.approx(112 / 1024)
    assert mcnemar_exact_p(2, 8) == pytest.approx(112 / 1024)
    assert mcnemar_exact_p(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact_p(3, 3) == pytest.approx(1.0)
    assert mcnemar_exact_p(0, 0) == 1.0


def test_mcnemar_counts_only_pairs_both_judges_have():
    c1 = pd.Series({"p1": 1.0, "p2": 1.0, "p3": 0.0, "p4": 0.0, "p5": 1.0, "p6": np.nan})
    c2 = pd.Series({"p1": 1.0, "p2": 0.0, "p3": 1.0, "p4": 0.0, "p6": 1.0, "p7": 0.0})
    r = mcnemar(c1, c2)
    assert (r.n, r.n11, r.n10, r.n01, r.n00) == (4, 1, 1, 1, 1)  # p5 (judge 2 absent) and p6 (NaN) left out
    assert r.p_value == pytest.approx(1.0)
    assert r.acc_1 == pytest.approx(0.5) and r.acc_2 == pytest.approx(0.5)


def test_slot_preference_binomial_matches_hand_computed():
    # 15 of 20 decisive verdicts in slot A: P(X >= 15) = (15504 + 4845 + 1140 + 190 + 20 + 1) / 2**20, two-sided x2
    verdicts = ["A"] * 15 + ["B"] * 5 + ["tie", None, "tie"]
    res = slot_preference(verdicts)
    assert (res.k, res.n) == (15, 20)
    assert res.p_value == pytest.approx(2 * 21700 / 2**20)
    lo, hi = res.ci
    assert lo < 0.75 < hi
    assert binomial(0, 0).p_value == 1.0 and binomial(0, 0).ci is None


def test_p_value_formatting():
    assert format_p(0.5) == "0.500"
    assert format_p(0.0042) == "0.0042"
    assert format_p(3.4e-4) == "0.00034"
    assert format_p(1e-9) == "<1e-4"


def test_paper_rows_are_the_published_numbers():
    j1_8b = paper_data.paper_row("v1", "Table 2", "J1-Llama-8B")
    assert j1_8b.label == "J1-Llama-8B [paper, J1 v1, Table 2]"
    assert j1_8b.values["judgebench"] == 42.0 and j1_8b.values["overall"] == 61.5
    for row in paper_data.main_rows("v1"):  # Overall is the mean of the six columns, up to the paper's rounding
        parts = [v for k, v in row.values.items() if k != "overall"]
        assert sum(parts) / 6 == pytest.approx(row.values["overall"], abs=0.1)
    llama = paper_data.bias_rows("v1")[0]
    assert paper_data.bias_values(llama, "judgebench") == {
        "acc_ab": 67.4,
        "acc_ba": 42.3,
        "acc_consistent": 32.3,
        "inconsistency": 37.4,
    }


# --------------------------------------------------------------------------- table rendering (no data needed)


def _latex_rows(tex: str) -> tuple[str, list[list[str]]]:
    """The column spec and the cells of each row of the (single) tabular in ``tex``."""
    assert tex.count(r"\begin{tabular}") == 1 and tex.count(r"\end{tabular}") == 1
    body = tex[tex.index(r"\begin{tabular}") : tex.index(r"\end{tabular}")]
    spec = re.match(r"\\begin\{tabular\}\{([^}]*)\}", body).group(1)
    rows = []
    for line in body.splitlines()[1:]:
        line = line.strip()
        if not line or line in (r"\toprule", r"\midrule", r"\bottomrule"):
            continue
        assert line.endswith(r"\\"), line
        rows.append(re.split(r"(?<!\\)&", line[:-2]))
    return spec, rows


def _check_latex(tex: str) -> None:
    spec, rows = _latex_rows(tex)
    assert set(spec) <= set("lrc")
    for cells in rows:
        assert len(cells) == len(spec), cells
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    tabular = tex[tex.index(r"\begin{tabular}") : tex.index(r"\end{tabular}")]
    assert not re.search(r"(?<!\\)[_%#]", tabular.replace(r"\_", "").replace(r"\%", "").replace(r"\#", ""))
    assert tabular.count("{") == tabular.count("}")
    for ch in "—†‡·":
        assert ch not in tex


def test_latex_and_csv_rendering_of_a_table():
    from j1eval.report import Cell, Row, Table, render_csv, render_latex, render_markdown

    table = Table("t", "A title with 50% and an_underscore", ["Judge"], ["col_1", "100% col"], ci_line=True)
    table.rows.append(Row(["judge_a & co"], [Cell.pct(0.5, [0.4, 0.6]), Cell("n/a†", status="incomplete")], "x"))
    table.rows.append(Row(["paper #1"], [Cell.quoted(61.5), Cell.quoted(None)], "y"))
    table.notes = ["† judge_a: incomplete (data missing for math); 100% honest."]
    tex = render_latex(table)
    _check_latex(tex)
    assert r"judge\_a \& co" in tex and r"col\_1" in tex and r"100\% col" in tex and r"paper \#1" in tex
    assert r"{\footnotesize [40.0, 60.0]}" in tex
    md = render_markdown(table)
    assert "| judge_a & co | 50.0 | n/a† |" in md and "| *95% CI* | [40.0, 60.0] |  |" in md
    frame = pd.read_csv(__import__("io").StringIO(render_csv(table)))
    assert list(frame.columns) == [
        "Judge",
        "col_1",
        "col_1 ci_low",
        "col_1 ci_high",
        "col_1 status",
        "100% col",
        "100% col status",
    ]
    assert frame["col_1"].tolist()[0] == 50.0 and frame["100% col status"].tolist()[0] == "incomplete"
    assert frame["col_1 status"].tolist()[1] == "quoted"  # a paper cell says so (with its source, where known)


# --------------------------------------------------------------------------- reports from recorded runs


@pytest.fixture(scope="module")
def data_dir() -> Path:
    """The real data (module scope: the runs below are made once for all tests)."""
    require(SHARED_DATA / JUDGEBENCH_FILE)
    return SHARED_DATA


@pytest.fixture(scope="module")
def runs(tmp_path_factory, data_dir) -> dict[str, Path]:
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    out = {}
    for judge in ("first", "longer"):
        folder = tmp_path_factory.mktemp(judge)
        run(
            RunConfig(
                judge=judge,
                benches=["judgebench"],
                data_dir=data_dir,
                limit=LIMIT,
                out=folder,
                progress=False,
                n_boot=100,
            )
        )
        out[judge] = folder
    return out


@pytest.fixture(scope="module")
def judgebench_rows(data_dir) -> list[dict]:
    with open(data_dir / JUDGEBENCH_FILE, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh][:LIMIT]


def results_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "results.json").read_text())


def _row(table, label: str):
    return next(r for r in table.rows if r.labels[0] == label)


def test_main_table_cells_are_the_scorers_figures(runs):
    from j1eval.report import build_tables, load_report, render_markdown

    report = load_report([runs["first"], runs["longer"]])
    main = build_tables(report)[0]
    assert main.key == "main_table"
    assert main.columns[0] == "Overall" and len(main.columns) == 7
    for judge in ("first", "longer"):
        overall = results_of(runs[judge])["judgebench"]["overall"]
        row = _row(main, judge)
        cell = row.cells[main.columns.index("JudgeBench")]
        assert cell.text == f"{100 * overall['j1']:.1f}‡"  # ‡: a --limit slice of the benchmark
        assert cell.value == pytest.approx(100 * overall["j1"], abs=0.01)
        lo, hi = overall["ci"]["j1"]
        assert cell.ci == pytest.approx((100 * lo, 100 * hi))
        for title in ("PPE-Preference", "PPE-Correctness", "RewardBench", "RM-Bench", "FollowBenchEval"):
            assert row.cells[main.columns.index(title)].text == "—"
        assert row.cells[0].text == "n/a†"  # Overall needs all six
    md = render_markdown(main)
    assert "first 40 of 350 pairs" in md and "0 of 6 benchmark cells cover their whole benchmark" in md


def test_position_bias_table_and_breakdown(runs):
    from j1eval.report import BIAS_COLUMNS, build_tables, load_report

    report = load_report([runs["first"], runs["longer"]])
    tables = {t.key: t for t in build_tables(report)}
    bias = tables["position_bias"]
    overall = results_of(runs["first"])["judgebench"]["overall"]
    row = next(r for r in bias.rows if r.labels == ["JudgeBench", "first"])
    for i, (_, key) in enumerate(BIAS_COLUMNS):
        assert row.cells[i].value == pytest.approx(100 * overall[key], abs=0.01)
    assert row.cells[BIAS_COLUMNS.index(("inconsistency", "flip_rate"))].text == "100.0‡"
    assert any("flip rate" in n for n in bias.notes)
    breakdown = tables["breakdown_judgebench"]
    assert breakdown.columns == ["first", "longer"]
    subsets = results_of(runs["longer"])["judgebench"]["subsets"]
    for name, figs in subsets.items():
        cell = _row(breakdown, name).cells[1]
        assert cell.value == pytest.approx(100 * figs["j1"], abs=0.01)


def test_stats_against_direct_counts(runs, judgebench_rows):
    from j1eval.report import build_tables, load_report

    report = load_report([runs["first"], runs["longer"]])
    tables = {t.key: t for t in build_tables(report)}
    # `longer` is right in both orders exactly when the better response is strictly longer.
    longer_right = sum(
        len(r["response_A"]) != len(r["response_B"])
        and (len(r["response_A"]) > len(r["response_B"])) == (r["label"] == "A>B")
        for r in judgebench_rows
    )
    mc = tables["stats_mcnemar"].rows[0]
    assert mc.labels == ["JudgeBench", "first", "longer"]
    values = dict(zip(tables["stats_mcnemar"].columns, mc.cells, strict=True))
    assert values["protocol"].value == "consistent" and values["pairs"].value == LIMIT
    assert values["n10"].value == 0 and values["n01"].value == longer_right  # `first` is never right in both orders
    assert values["p-value"].value == pytest.approx(2 * 0.5**longer_right if longer_right else 1.0)
    slot_table = tables["stats_slot"]
    slot = {r.labels[1]: dict(zip(slot_table.columns, r.cells, strict=True)) for r in slot_table.rows}
    assert slot["first"]["decisive verdicts"].value == 2 * LIMIT and slot["first"]["slot A %"].value == 100.0
    assert slot["first"]["p-value"].value == pytest.approx(2 * 0.5 ** (2 * LIMIT))
    assert slot["longer"]["slot A %"].value == pytest.approx(
        100 * results_of(runs["longer"])["judgebench"]["overall"]["slot_a_rate"], abs=0.01
    )


def _fake_rows(run_dir: Path, *benches: str) -> None:
    """Rows in the run's pairs.parquet for benchmarks written into its results.json by hand (JudgeBench's rows)."""
    from j1eval.store.pairs_file import PAIRS_FILE, read_pairs, write_pairs

    rows = read_pairs(run_dir / PAIRS_FILE)["judgebench"]
    cells = [("easy", "normal", "hard")[i % 3] for i in range(len(rows))]
    own = {"rmbench": {"domain": "chat", "cell": cells}, "rewardbench": {"section": "chat"}}  # their own columns
    write_pairs(run_dir, {b: rows.assign(bench=b, **own.get(b, {})) for b in benches}, keep_others=True)


def _with_fake_benches(src: Path, dst: Path) -> Path:
    """A copy of a run dir whose results.json also holds an RM-Bench result without math."""
    shutil.copytree(src, dst)
    results = results_of(dst)
    jb = results["judgebench"]["overall"]
    rm = {k: v for k, v in jb.items() if k not in ("j1", "official")}
    rm.update({"j1": None, "j1_partial": 0.625, "official": None, "official_partial": 0.625, "missing": ["math"]})
    results["rmbench"] = {"overall": rm, "subsets": {}}
    (dst / "results.json").write_text(json.dumps(results))
    _fake_rows(dst, "rmbench")
    return dst


def test_incomplete_and_not_run_markers(runs, tmp_path):
    from j1eval.report import build_tables, load_report, render_latex, render_markdown

    fake = _with_fake_benches(runs["first"], tmp_path / "first_with_rmbench")
    report = load_report([fake, runs["longer"]])
    main = build_tables(report)[0]
    row = _row(main, "first")
    rm = row.cells[main.columns.index("RM-Bench")]
    assert rm.text == "n/a†" and rm.value is None and "math" in rm.status
    assert _row(main, "longer").cells[main.columns.index("RM-Bench")].text == "—"
    md = render_markdown(main)
    assert "first, RM-Bench: incomplete (data missing for math); value over the parts present: 62.5" in md
    assert "62.5 " not in md.split("###")[1].split("\n\n")[1]  # the partial value is in a footnote, not a cell
    _check_latex(render_latex(main))


def test_runs_of_one_judge_merge_into_one_row(runs, tmp_path):
    from j1eval.report import build_tables, load_report

    other = _with_fake_benches(runs["first"], tmp_path / "second_dir")
    results = results_of(other)
    del results["judgebench"]
    (other / "results.json").write_text(json.dumps(results))
    report = load_report([runs["first"], other])
    assert [j.name for j in report.judges] == ["first"]
    main = build_tables(report)[0]
    assert [r.labels[0] for r in main.rows] == ["first"]
    assert main.rows[0].cells[main.columns.index("RM-Bench")].text == "n/a†"
    assert main.rows[0].cells[main.columns.index("JudgeBench")].text.endswith("‡")


def test_with_paper_rows_are_quoted_and_marked(runs):
    from j1eval.report import build_tables, load_report, render_markdown

    report = load_report([runs["first"]], with_paper=True)
    tables = {t.key: t for t in build_tables(report)}
    main = tables["main_table"]
    j1 = _row(main, "J1-Llama-70B [paper, J1 v1, Table 2]")
    assert [c.text for c in j1.cells] == ["74.1", "66.3", "72.9", "93.3", "60.0", "82.7", "69.3"]
    assert "arXiv:2505.10320" in render_markdown(main)
    bias = tables["position_bias"]
    quoted = [r for r in bias.rows if r.labels[1] == "J1-Llama-8B (verdict consistency reward) [paper, J1 v1, Table 5]"]
    assert [r.labels[0] for r in quoted] == ["PPE-Correctness", "JudgeBench"]
    assert [c.text for c in quoted[1].cells[:4]] == ["56.9", "60.9", "44.3", "28.6"]


def test_all_tables_render_as_valid_latex_fragments(runs, tmp_path):
    from j1eval.report import build_tables, load_report, render_latex

    fake = _with_fake_benches(runs["first"], tmp_path / "f")
    report = load_report([fake, runs["longer"]], with_paper=True)
    for table in build_tables(report):
        tex = render_latex(table)
        _check_latex(tex)
        if shutil.which("pdflatex"):
            doc = tmp_path / f"{table.key}.tex"
            doc.write_text(
                "\\documentclass{article}\\usepackage{booktabs}\\usepackage[T1]{fontenc}"
                f"\\begin{{document}}\n{tex}\n\\end{{document}}\n"
            )
            proc = subprocess.run(
                ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path, capture_output=True
            )
            assert proc.returncode == 0, proc.stdout[-2000:]


def _assert_image(path: Path) -> None:
    import matplotlib.image as mpimg

    assert path.exists() and path.stat().st_size > 5000, path
    image = mpimg.imread(path)
    assert image.shape[0] > 200 and image.shape[1] > 200
    assert float(np.var(image[..., :3])) > 1e-3, f"{path} looks blank"


def test_cli_writes_tables_and_plots(runs, data_dir, tmp_path, capsys):
    from j1eval.cli import main

    out = tmp_path / "report"
    assert main(["report", str(runs["first"]), str(runs["longer"]), "--out", str(out)]) == 0
    for name in ("main_table.md", "position_bias.md", "breakdown_judgebench.md", "stats.md", "report.md"):
        assert (out / name).stat().st_size > 0, name
    for stem in ("accuracy_by_order", "slot_a_rate", "length_bias"):
        _assert_image(out / "plots" / f"{stem}.png")
        assert (out / "plots" / f"{stem}.pdf").read_bytes()[:5] == b"%PDF-"
    assert not (out / "plots" / "score_diff.png").exists()  # no score-format run
    stats = (out / "stats.md").read_text()
    assert "McNemar" in stats and "| JudgeBench | first | longer |" in stats
    captured = capsys.readouterr().out
    assert "J1 main table" in captured
    for fmt, ext in (("latex", "tex"), ("csv", "csv")):  # one report per folder (issue #22)
        assert main(["report", str(runs["first"]), "--out", str(out / fmt), "--format", fmt, "--no-plots"]) == 0
        assert (out / fmt / f"main_table.{ext}").stat().st_size > 0
    frame = pd.read_csv(out / "csv" / "main_table.csv")
    assert frame.loc[0, "Judge"] == "first" and frame.loc[0, "RewardBench status"] == "not run"
    _check_latex((out / "latex" / "main_table.tex").read_text())


def test_cli_without_out_prints_tables_only(runs, tmp_path, capsys, monkeypatch):
    from j1eval.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["report", str(runs["longer"])]) == 0
    printed = capsys.readouterr().out
    assert "### J1 main table" in printed and "### Position bias" in printed
    assert list(tmp_path.iterdir()) == []


def test_report_of_a_missing_run_dir_is_a_clear_error(tmp_path, capsys):
    from j1eval.cli import main

    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "not a directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_length_and_score_frames(runs):
    from j1eval.report import load_report
    from j1eval.report.plots import length_frame, score_frame

    report = load_report([runs["first"], runs["longer"]])
    first = report.judges[0].benches["judgebench"]
    longer = report.judges[1].benches["judgebench"]
    lf = length_frame(first)
    assert len(lf) == LIMIT and lf["flip"].eq(1.0).all()  # `first` always flips
    ll = length_frame(longer)
    assert (ll["longer_picks"] == ll["decisive"]).all()  # `longer` always picks the longer response
    assert score_frame(first) is None  # verdict format: no scores
    # A score-format judgment: chosen response in slot B under order "ab" for a label-2 pair.
    t = first.table
    at = int((t["label"] == 2).to_numpy().argmax())
    nothing = [None] * len(t)
    first.table = t.assign(score_a_ab=nothing, score_b_ab=nothing, score_a_ba=nothing, score_b_ba=nothing)
    first.table.at[at, "score_a_ab"], first.table.at[at, "score_b_ab"] = [3.0], [8.0]
    assert score_frame(first)["diff"].tolist() == [5.0]


def test_score_plot_is_drawn_for_score_records(runs, tmp_path):
    from j1eval.report import load_report
    from j1eval.report.plots import plot_score_diff

    report = load_report([runs["first"], runs["longer"]])
    rng = np.random.default_rng(0)
    for judge in report.judges:
        br = judge.benches["judgebench"]
        scores = {c: [[float(rng.integers(0, 11))] for _ in range(len(br.table))] for c in ("a_ab", "b_ab", "a_ba")}
        br.table = br.table.assign(**{f"score_{c}": v for c, v in scores.items()}, score_b_ba=scores["a_ab"])
    paths, notes = plot_score_diff(report, tmp_path)
    assert not notes
    _assert_image(tmp_path / "score_diff.png")


@pytest.fixture(scope="module")
def fixture_run(tmp_path_factory) -> Path:
    """`longer` on the PPE and FollowBenchEval fixtures (formats of the official files, a few pairs)."""
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    folder = tmp_path_factory.mktemp("longer_fixtures")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("J1EVAL_NO_HUB", "1")
        run(
            RunConfig(
                judge="longer",
                benches=["ppe", "followbencheval"],
                data_dir=FIXTURES,
                out=folder,
                progress=False,
                n_boot=100,
            )
        )
    return folder


def test_ppe_halves_and_overall_of_six(fixture_run, tmp_path, data_dir):
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run
    from j1eval.report import BIAS_COLUMNS, build_tables, load_report

    # JudgeBench in full (a --limit slice never enters Overall); RewardBench and RM-Bench
    # figures written in by hand, complete, so that all six cells are.
    full = tmp_path / "longer_full"
    run(RunConfig(judge="longer", benches=["judgebench"], data_dir=data_dir, out=full, progress=False, n_boot=100))
    extra = tmp_path / "longer_extra"
    shutil.copytree(full, extra)
    results = results_of(extra)
    template = {k: v for k, v in results["judgebench"]["overall"].items() if k not in ("j1", "official", "ci")}
    results = {
        "rewardbench": {"overall": {**template, "j1": 0.8, "ci": {"j1": [0.7, 0.9]}}, "subsets": {}},
        "rmbench": {"overall": {**template, "j1": 0.6, "ci": {"j1": [0.5, 0.7]}}, "subsets": {}},
    }
    (extra / "results.json").write_text(json.dumps(results))
    _fake_rows(extra, "rewardbench", "rmbench")
    report = load_report([full, fixture_run, extra])
    assert [j.name for j in report.judges] == ["longer"]
    tables = {t.key: t for t in build_tables(report)}
    main = tables["main_table"]
    row = main.rows[0]
    ppe = results_of(fixture_run)["ppe"]["overall"]
    fbe = results_of(fixture_run)["followbencheval"]["overall"]
    jb = results_of(full)["judgebench"]["overall"]
    expected = [ppe["preference"], ppe["correctness"], 0.8, jb["j1"], 0.6, fbe["j1"]]
    for cell, value in zip(row.cells[1:], expected, strict=True):
        assert cell.value == pytest.approx(100 * value, abs=0.01)
    assert row.cells[0].value == pytest.approx(100 * sum(expected) / 6, abs=0.01)  # Overall: all six complete
    bias = tables["position_bias"]
    pref = next(r for r in bias.rows if r.labels == ["PPE-Preference", "longer"])
    subset = results_of(fixture_run)["ppe"]["subsets"]["preference"]
    for i, (_, key) in enumerate(BIAS_COLUMNS):
        if key in subset:
            assert pref.cells[i].value == pytest.approx(100 * subset[key], abs=0.01)
    assert any(r.labels == ["PPE-Correctness", "longer"] for r in bias.rows)
    levels = [r.labels[0] for r in tables["breakdown_followbencheval"].rows]
    assert levels[-5:] == ["L1", "L2", "L3", "L4", "L5"]
    ppe_parts = [r.labels[0] for r in tables["breakdown_ppe"].rows]
    assert {"Preference", "Correctness", "preference", "mmlu-pro", "gpqa"} <= set(ppe_parts)


def test_ppe_missing_set_marks_only_correctness_incomplete(fixture_run, tmp_path):
    from j1eval.report import build_tables, load_report

    run_dir = tmp_path / "ppe_missing"
    shutil.copytree(fixture_run, run_dir)
    results = results_of(run_dir)
    overall = results["ppe"]["overall"]
    overall["correctness_partial"], overall["correctness"] = overall["correctness"], None
    overall["missing"] = ["gpqa"]
    (run_dir / "results.json").write_text(json.dumps(results))
    main = build_tables(load_report([run_dir]))[0]
    cells = dict(zip(main.columns, main.rows[0].cells, strict=True))
    assert cells["PPE-Preference"].value == pytest.approx(100 * overall["preference"], abs=0.01)
    assert cells["PPE-Correctness"].text == "n/a†" and "gpqa" in cells["PPE-Correctness"].status


def test_judge_without_decisive_verdicts_has_no_slot_p_value(runs, tmp_path, data_dir):
    from j1eval.cli import main
    from j1eval.report import build_tables, load_report

    silent = tmp_path / "silent"
    shutil.copytree(runs["first"], silent)
    rows = [json.loads(x) for x in (silent / "judgments.jsonl").read_text().splitlines() if x.strip()]
    lines = [json.dumps({**r, "verdict": None, "failure": "no_verdict"}) for r in rows]
    (silent / "judgments.jsonl").write_text("\n".join(lines) + "\n")
    argv = ["score", "--bench", "judgebench", "--judgments", str(silent / "judgments.jsonl"), "--out", str(silent)]
    assert main([*argv, "--data-dir", str(data_dir)]) == 0  # rescored: results.json and pairs.parquet
    tables = {t.key: t for t in build_tables(load_report([silent]))}
    cells = dict(zip(tables["stats_slot"].columns, tables["stats_slot"].rows[0].cells, strict=True))
    assert cells["decisive verdicts"].value == 0
    assert cells["slot A %"].text == "—" and cells["p-value"].text == "—"


def test_runs_in_another_format_get_their_own_row(runs, tmp_path, data_dir):
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run
    from j1eval.report import load_report

    other = tmp_path / "first_scores"
    run(
        RunConfig(
            judge="first",
            benches=["judgebench"],
            data_dir=data_dir,
            limit=5,
            out=other,
            format="plan-execute",  # a baseline answers a verdict: formats that need scores are refused
            progress=False,
            n_boot=50,
        )
    )
    report = load_report([runs["first"], other])
    assert [j.name for j in report.judges] == ["first", "first [plan-execute]"]
    # the same verdicts (always slot A) in its own row, read by the plan-execute parser
    other_run = report.judges[1].benches["judgebench"]
    assert other_run.overall["slot_a_rate"] == 1.0 and other_run.overall["parse_failure_rate"] == 0.0
