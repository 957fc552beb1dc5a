"""`run` end to end with the baseline judges on the real JudgeBench file: figures, resume, bad input."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from j1eval.cli import main
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run


def read_rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text().splitlines() if x.strip()]


def test_first_baseline_gives_the_figures_that_follow_from_the_data(tmp_path, data_dir):
    outcome = run(RunConfig(judge="first", benches=["judgebench"], data_dir=data_dir, out=tmp_path, progress=False))
    fig = outcome.results["judgebench"]["overall"]
    assert fig["n_pairs"] == 350 and fig["n_judgments"] == 700
    assert fig["acc_ab"] == pytest.approx(193 / 350)
    assert fig["acc_ba"] == pytest.approx(157 / 350)
    assert fig["acc_consistent"] == 0.0 and fig["j1"] == 0.0
    assert fig["official"] == 0.0  # +1 and -1 sum to 0 on every pair
    assert fig["flip_rate"] == 1.0 and fig["slot_a_rate"] == 1.0 and fig["position_consistency"] == 0.0
    assert fig["parse_failure_rate"] == 0.0 and fig["truncation_rate"] == 0.0
    lo, hi = fig["ci"]["acc_ab"]
    assert lo < 193 / 350 < hi


def test_longer_baseline_matches_a_direct_count(tmp_path, data_dir, judgebench_rows):
    outcome = run(RunConfig(judge="longer", benches=["judgebench"], data_dir=data_dir, out=tmp_path, progress=False))
    fig = outcome.results["judgebench"]["overall"]
    longer_right = sum(
        (len(r["response_A"]) > len(r["response_B"])) == (r["label"] == "A>B")
        and len(r["response_A"]) != len(r["response_B"])
        for r in judgebench_rows
    )
    ties = sum(len(r["response_A"]) == len(r["response_B"]) for r in judgebench_rows)
    assert fig["acc_ab"] == pytest.approx(longer_right / 350)
    assert fig["acc_ba"] == pytest.approx(longer_right / 350)
    assert fig["acc_consistent"] == pytest.approx(longer_right / 350)
    assert fig["flip_rate"] == 0.0  # a length rule cannot depend on the order
    assert fig["tie_rate"] == pytest.approx(ties / 350)
    per_subset = outcome.results["judgebench"]["subsets"]
    assert sum(s["n_pairs"] for s in per_subset.values()) == 350


def test_random_baseline_is_seeded(tmp_path, data_dir):
    a = run(RunConfig(judge="random", benches=["judgebench"], data_dir=data_dir, out=tmp_path / "a", progress=False))
    b = run(RunConfig(judge="random", benches=["judgebench"], data_dir=data_dir, out=tmp_path / "b", progress=False))
    c = run(
        RunConfig(judge="random", benches=["judgebench"], data_dir=data_dir, out=tmp_path / "c", seed=1, progress=False)
    )
    verdicts = [[r["verdict"] for r in read_rows(x.out_dir)] for x in (a, b, c)]
    assert verdicts[0] == verdicts[1] != verdicts[2]
    assert 0.4 < a.results["judgebench"]["overall"]["slot_a_rate"] < 0.6


def test_rerun_resumes_and_repairs_a_partial_last_line(tmp_path, data_dir):
    config = RunConfig(
        judge="longer", benches=["judgebench"], data_dir=data_dir, out=tmp_path, limit=20, progress=False
    )
    first = run(config)
    assert (first.n_generated, first.n_cached) == (40, 0)
    full = (tmp_path / "judgments.jsonl").read_text().splitlines(keepends=True)
    # Simulate a kill mid-write: 30 whole lines and half of the next.
    (tmp_path / "judgments.jsonl").write_text("".join(full[:30]) + full[30][:17])
    again = run(config)
    assert (again.n_generated, again.n_cached) == (10, 30)
    rows = read_rows(tmp_path)
    assert len(rows) == 40
    strip = lambda rs: sorted((r["pair_id"], r["order"], r["verdict"], r["key"]) for r in rs)  # noqa: E731
    assert strip(rows) == strip(json.loads(x) for x in full)
    assert again.results == first.results
    third = run(config)
    assert third.n_generated == 0 and third.n_cached == 40
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [(i["generated"], i["cached"]) for i in manifest["invocations"]] == [(40, 0), (10, 30), (0, 40)]


def test_order_modes(tmp_path, data_dir):
    single = run(
        RunConfig(
            judge="first",
            benches=["judgebench"],
            data_dir=data_dir,
            out=tmp_path / "s",
            order="single",
            limit=30,
            progress=False,
        )
    )
    fig = single.results["judgebench"]["overall"]
    assert fig["n_judgments"] == 30
    for name in ("acc_consistent", "flip_rate", "position_consistency", "official"):
        assert name not in fig  # two-order figures are absent, not zero
    assert "acc_single" in fig
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["order"] == "single" and "sha256" in manifest["order_rule"]
    assert manifest["benchmarks"]["judgebench"]["files"]  # data file hashes recorded


def test_manifest_records_the_run(tmp_path, data_dir):
    run(RunConfig(judge="first", benches=["judgebench"], data_dir=data_dir, out=tmp_path, limit=5, progress=False))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["judge"] == "first" and manifest["seed"] == 0
    assert len(manifest["template_hash"]) == 16
    assert manifest["versions"]["python"]
    rows = read_rows(tmp_path)
    assert {r["template_hash"] for r in rows} == {manifest["template_hash"]}
    assert all(r["raw"].startswith("<answer>") and r["finish_reason"] == "stop" for r in rows)


def test_another_judge_in_the_same_out_dir_is_refused(tmp_path, data_dir):
    run(RunConfig(judge="first", benches=["judgebench"], data_dir=data_dir, out=tmp_path, limit=3, progress=False))
    code = main(
        ["run", "--judge", "longer", "--bench", "judgebench", "--limit", "3", "--out", str(tmp_path)]
        + ["--data-dir", str(data_dir)]
    )
    assert code == 2
    assert len(read_rows(tmp_path)) == 6


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "j1eval", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--judge", "no-such-judge", "--bench", "judgebench"], 2, "unknown judge 'no-such-judge'"),
        (["--judge", "first", "--bench", "judgebnch"], 2, "did you mean 'judgebench'"),
        (["--judge", "hf:/no/such/model/dir", "--bench", "judgebench", "--limit", "1"], 1, "/no/such/model/dir"),
        (["--judge", "openai:m@http://127.0.0.1:9/v1", "--bench", "judgebench", "--limit", "1"], 1, "cannot reach"),
        (["--judge", "j1-8b", "--bench", "judgebench", "--limit", "1"], 1, "not public"),
    ],
)
def test_bad_run_arguments_give_one_clear_line(tmp_path, data_dir, args, code, needle):
    env = {"J1EVAL_J1_8B_MODEL": ""}
    proc = run_cli("run", *args, "--data-dir", str(data_dir), "--out", str(tmp_path / "out"), "--no-progress", env=env)
    assert proc.returncode == code, proc.stderr
    lines = [x for x in proc.stderr.strip().splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_data_says_what_to_download(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = run_cli(
        "run",
        "--judge",
        "first",
        "--bench",
        "judgebench",
        "--data-dir",
        str(tmp_path / "empty"),
        "--no-progress",
        env={"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"},
    )
    assert proc.returncode == 2
    assert "judgebench" in proc.stderr.lower() and "Traceback" not in proc.stderr


def test_full_disk_keeps_what_was_written(tmp_path, data_dir, monkeypatch, capsys):
    config = RunConfig(judge="first", benches=["judgebench"], data_dir=data_dir, out=tmp_path, limit=5, progress=False)
    run(config)
    before = (tmp_path / "judgments.jsonl").read_bytes()
    results_before = (tmp_path / "results.json").read_bytes()

    def no_space(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)  # fault injection: the disk fills at the next write
    code = main(
        ["run", "--judge", "first", "--bench", "judgebench", "--limit", "10", "--out", str(tmp_path)]
        + ["--data-dir", str(data_dir), "--no-progress"]
    )
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "disk full" in err[0] and "rerun" in err[0]
    after = (tmp_path / "judgments.jsonl").read_bytes()
    assert after.startswith(before)  # nothing already written is lost
    assert (tmp_path / "results.json").read_bytes() == results_before
    monkeypatch.undo()
    resumed = run(RunConfig(**{**config.__dict__, "limit": 10}))
    assert resumed.results["judgebench"]["overall"]["n_pairs"] == 10


def test_a_judge_that_fails_to_start_leaves_the_directory_free(tmp_path, data_dir):
    out = tmp_path / "out"
    bad = run_cli(
        "run", "--judge", "hf:/no/such/model/dir", "--bench", "judgebench", "--limit", "1",
        "--data-dir", str(data_dir), "--out", str(out), "--no-progress",
    )  # fmt: skip
    assert bad.returncode == 1 and "/no/such/model/dir" in bad.stderr
    assert not (out / "manifest.json").exists()
    code = main(["run", "--judge", "first", "--bench", "judgebench", "--limit", "2", "--out", str(out)]
                + ["--data-dir", str(data_dir), "--no-progress"])  # fmt: skip
    assert code == 0 and len(read_rows(out)) == 4
