"""pairs.parquet: the scorer's per-pair table, written by `run` and `score --out`, read by `report`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import JUDGEBENCH_FILE, SHARED_DATA, require

from j1eval.cli import main
from j1eval.store.pairs_file import PAIRS_FILE, pair_details, read_pairs, write_pairs

LIMIT = 12
REWARDBENCH_FILE = "rewardbench"


def _run(out: Path, data: Path, judge: str = "longer", bench: str = "judgebench", limit: int = LIMIT) -> None:
    argv = ["run", "--judge", judge, "--bench", bench, "--limit", str(limit), "--data-dir", str(data)]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    require(SHARED_DATA / JUDGEBENCH_FILE)
    out = tmp_path_factory.mktemp("pairs") / "run"
    _run(out, SHARED_DATA)
    return out


def _results(run: Path) -> dict:
    return json.loads((run / "results.json").read_text())


def _judgments(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "judgments.jsonl").read_text().splitlines() if line.strip()]


def test_run_writes_the_scorers_table_beside_results(run_dir):
    from j1eval.benchmarks import get_benchmark

    tables = read_pairs(run_dir / PAIRS_FILE)
    assert list(tables) == ["judgebench"]
    rows = tables["judgebench"]
    assert len(rows) == LIMIT == _results(run_dir)["judgebench"]["overall"]["n_pairs"]
    assert (rows["bench"] == "judgebench").all()
    for column in ("pair_id", "subset", "label", "verdict_ab", "verdict_ba", "failure_ab", "p_a_ab", "len_1"):
        assert column in rows.columns, column
    pairs = {p.pair_id: p for p in get_benchmark("judgebench").load(SHARED_DATA).pairs}
    for row in rows.itertuples():
        pair = pairs[row.pair_id]
        assert (row.len_1, row.len_2, row.label, row.subset) == (
            len(pair.response_1),
            len(pair.response_2),
            pair.label,
            pair.subset,
        )
    verdicts = {(j["pair_id"], j["order"]): j["verdict"] for j in _judgments(run_dir)}
    for row in rows.itertuples():
        assert row.verdict_ab == verdicts[(row.pair_id, "ab")] and row.verdict_ba == verdicts[(row.pair_id, "ba")]
    # the figures of results.json are those of this table
    assert rows["correct_ab"].mean() == pytest.approx(_results(run_dir)["judgebench"]["overall"]["acc_ab"])
    assert not any(p.name.endswith(".tmp") for p in run_dir.iterdir())  # written through a rename


def test_the_table_reads_back_as_the_scorer_made_it(run_dir):
    from j1eval.benchmarks import get_benchmark
    from j1eval.judging.jobs import select_pairs
    from j1eval.score.bench import score_bench
    from j1eval.store.records import SCORING_COLUMNS, read_judgments

    bench = get_benchmark("judgebench")
    pairs = select_pairs(bench.load(SHARED_DATA).pairs, LIMIT, None, 0)
    rows: dict[str, pd.DataFrame] = {}
    score_bench(bench, pairs, read_judgments(run_dir / "judgments.jsonl")[SCORING_COLUMNS], rows=rows, n_boot=10)
    pd.testing.assert_frame_equal(read_pairs(run_dir / PAIRS_FILE)["judgebench"], rows["judgebench"])


def test_score_out_keeps_other_benchmarks_rows(run_dir, tmp_path):
    require(SHARED_DATA / REWARDBENCH_FILE)
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    other = tmp_path / "other"
    _run(other, SHARED_DATA, judge="first", bench="rewardbench", limit=5)
    before = read_pairs(run / PAIRS_FILE)["judgebench"]
    argv = ["score", "--bench", "rewardbench", "--judgments", str(other / "judgments.jsonl")]
    assert main([*argv, "--data-dir", str(SHARED_DATA), "--out", str(run)]) == 0
    tables = read_pairs(run / PAIRS_FILE)
    assert list(tables) == ["judgebench", "rewardbench"] and list(_results(run)) == ["judgebench", "rewardbench"]
    pd.testing.assert_frame_equal(tables["judgebench"], before)  # kept as it was, dtypes included
    assert len(tables["rewardbench"]) == 5 and "section" in tables["rewardbench"].columns
    assert "section" not in tables["judgebench"].columns  # each benchmark keeps its own columns
    # scoring judgebench again replaces its rows only
    argv = ["score", "--bench", "judgebench", "--judgments", str(run / "judgments.jsonl")]
    assert main([*argv, "--data-dir", str(SHARED_DATA), "--out", str(run)]) == 0
    again = read_pairs(run / PAIRS_FILE)
    pd.testing.assert_frame_equal(again["judgebench"], before)
    pd.testing.assert_frame_equal(again["rewardbench"], tables["rewardbench"])


def test_report_needs_no_data_directory(tmp_path, monkeypatch, capsys):
    """A run made from a copy of the data, the copy then deleted: the report is made from the run alone."""
    require(SHARED_DATA / JUDGEBENCH_FILE)
    data = tmp_path / "data"
    (data / "judgebench").mkdir(parents=True)
    shutil.copy(SHARED_DATA / JUDGEBENCH_FILE, data / JUDGEBENCH_FILE)
    run = tmp_path / "run"
    _run(run, data)
    shutil.rmtree(data)
    monkeypatch.delenv("J1EVAL_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "report"
    assert main(["report", str(run), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "--data-dir" not in err and "skipped (" not in err, err  # nothing left out for want of data
    for stem in ("accuracy_by_order", "slot_a_rate", "length_bias"):  # length bias: lengths from the table
        assert (out / "plots" / f"{stem}.png").stat().st_size > 5000, stem
    assert "| JudgeBench | longer |" in (out / "stats.md").read_text()


def test_old_run_without_pairs_file_is_one_line_with_the_command(run_dir, tmp_path, capsys):
    run = tmp_path / "old"
    shutil.copytree(run_dir, run)
    (run / PAIRS_FILE).unlink()
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["command"] = ["python", "-m", "j1eval", "run", "--judge", "longer", "--out", str(run)]
    (run / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "report"
    assert main(["report", str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and f"no {PAIRS_FILE}" in err[0], err
    assert err[0].endswith(f"python -m j1eval run --judge longer --out {run}")  # its own command
    assert not out.exists()
    # made elsewhere (an evaluation loop, or a run directory moved since): the `score` command that writes it
    for command in (["j1train", "eval-in-the-loop", "step 4"], ["python", "-m", "j1eval", "run", "--out", "x"]):
        manifest["command"] = command
        (run / "manifest.json").write_text(json.dumps(manifest))
        assert main(["report", str(run)]) == 2
        line = capsys.readouterr().err.strip()
        assert "python -m j1eval score --bench judgebench" in line and line.endswith(f"--out {run}"), line
    # following the advice makes the report
    argv = ["score", "--bench", "judgebench", "--judgments", str(run / "judgments.jsonl"), "--seed", "0"]
    assert main([*argv, "--data-dir", str(SHARED_DATA), "--out", str(run)]) == 0
    assert main(["report", str(run), "--out", str(out), "--no-plots"]) == 0


def test_pairs_file_and_results_out_of_step_is_an_error(run_dir, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    rows = read_pairs(run / PAIRS_FILE)["judgebench"]
    write_pairs(run, {"judgebench": rows.iloc[:-1]})
    assert main(["report", str(run), "--no-plots"]) == 2
    line = capsys.readouterr().err
    assert f"{PAIRS_FILE} holds {LIMIT - 1} judgebench pairs but results.json scores {LIMIT}" in line


def test_per_sample_scores_are_kept_in_sample_order():
    from j1eval.types import Pair

    pairs = [Pair("p1", "b", "s", "q", "short", "longer one", 2), Pair("p2", "b", "s", "q", "aa", "b", 1)]
    table = pd.DataFrame({"pair_id": ["p1", "p2"], "label": [2, 1]})
    judgments = pd.DataFrame(
        {
            "pair_id": ["p1", "p1", "p1", "p2"],
            "order": ["ab", "ab", "ba", "ab"],
            "sample": [1, 0, 0, 0],
            "score_a": [3.0, 2.0, None, 7.0],
            "score_b": [8.0, 9.0, 4.0, None],
        }
    )
    out = pair_details(table, pairs, judgments)
    assert out["len_1"].tolist() == [5, 2] and out["len_2"].tolist() == [10, 1]
    assert out["score_a_ab"].tolist() == [[2.0, 3.0], [7.0]]
    assert out["score_b_ab"].tolist() == [[9.0, 8.0], [None]]
    assert out["score_a_ba"].tolist() == [[None], None] and out["score_b_ba"].tolist() == [[4.0], None]
    verdicts_only = pair_details(table, pairs, judgments.assign(score_a=None, score_b=None))
    assert not any(c.startswith("score_") for c in verdicts_only.columns)
