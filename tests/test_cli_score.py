"""`python -m j1eval score` and `list` on the real JudgeBench file; bad judgments files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from j1eval.cli import main


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_score_writes_results_for_verdicts_from_another_tool(tmp_path, data_dir, judgebench_rows, capsys):
    # A "tool" that is right on every pair in order ab and always says "tie" in order ba.
    rows = []
    for rec in judgebench_rows:
        rows.append({"pair_id": rec["pair_id"], "order": "ab", "verdict": rec["label"][0]})
        rows.append({"pair_id": rec["pair_id"], "order": "ba", "verdict": "tie"})
    path = write_jsonl(tmp_path / "verdicts.jsonl", rows)
    out = tmp_path / "scored"
    code = main(
        ["score", "--bench", "judgebench", "--judgments", str(path), "--data-dir", str(data_dir), "--out", str(out)]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    overall = results["judgebench"]["overall"]
    assert overall["n_pairs"] == 350
    assert overall["acc_ab"] == 1.0 and overall["acc_ba"] == 0.0
    assert overall["acc_consistent"] == 0.0 and overall["j1"] == 0.0
    assert overall["official"] == 1.0  # +1 and 0 sum above zero: JudgeBench counts correct + tie
    assert overall["tie_rate"] == 0.5
    assert set(results["judgebench"]["subsets"]) == {"knowledge", "reasoning", "math", "coding"}
    assert "judgebench" in capsys.readouterr().out


BAD_CASES = [
    ("{not json", "line 2", "not valid JSON"),
    ({"order": "ab", "verdict": "A"}, "field 'pair_id'", "missing field"),
    ({"pair_id": "PID", "order": "ab", "verdict": "C"}, "field 'verdict'", "'C'"),
    ({"pair_id": "no-such-pair", "order": "ab", "verdict": "A"}, "field 'pair_id'", "unknown pair id"),
    ({"pair_id": "PID", "order": "ab", "verdict": "A", "sample": -1}, "field 'sample'", "non-negative"),
    ({"pair_id": "PID", "order": "xy", "verdict": "A"}, "field 'order'", "'xy'"),
]


@pytest.mark.parametrize(("bad", "where", "what"), BAD_CASES)
def test_bad_judgments_file_one_line_exit_2_nothing_written(tmp_path, data_dir, judgebench_rows, bad, where, what):
    pid = judgebench_rows[0]["pair_id"]
    if isinstance(bad, dict):
        bad = {k: (pid if v == "PID" else v) for k, v in bad.items()}
    path = write_jsonl(tmp_path / "v.jsonl", [{"pair_id": pid, "order": "ba", "verdict": "A"}, bad])
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "j1eval", "score", "--bench", "judgebench", "--judgments", str(path)]
        + ["--data-dir", str(data_dir), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(path) in lines[0] and "line 2" in lines[0] and where in lines[0] and what in lines[0]
    assert not out.exists()


def test_duplicate_judgment_is_rejected(tmp_path, data_dir, judgebench_rows):
    pid = judgebench_rows[0]["pair_id"]
    row = {"pair_id": pid, "order": "ab", "verdict": "A"}
    path = write_jsonl(tmp_path / "v.jsonl", [row, row])
    out = tmp_path / "out"
    args = ["score", "--bench", "judgebench", "--judgments", str(path), "--data-dir", str(data_dir)]
    assert main([*args, "--out", str(out)]) == 2
    assert not out.exists()


def test_score_writes_only_when_told_where(tmp_path, data_dir, judgebench_rows, capsys):
    pid = judgebench_rows[0]["pair_id"]
    path = write_jsonl(tmp_path / "v.jsonl", [{"pair_id": pid, "order": "ab", "verdict": "A"}])
    args = ["score", "--bench", "judgebench", "--judgments", str(path), "--data-dir", str(data_dir)]
    assert main(args) == 0
    assert "not written: pass --out" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.jsonl"]  # nothing beside the input
    assert main([*args, "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["judgebench"]["overall"]["n_pairs"] == 1


def test_list_shows_benchmarks_and_judges(data_dir, capsys):
    assert main(["list", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    for name in ("judgebench", "rewardbench", "rmbench", "ppe", "followbencheval", "smollm2-135m", "j1-8b", "longer"):
        assert name in out
    assert "350" in out and "2985" in out and "7182" in out
