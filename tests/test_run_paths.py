"""Run paths that had no test: Ctrl-C and resume, Retry-After, --samples N, pointwise, a changed model
revision, --bench all, and `list` without downloading."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer

from j1eval.backends import Request, get_backend_class
from j1eval.backends.baseline import BaselineBackend
from j1eval.benchmarks import get_benchmark, standard_benchmarks
from j1eval.cli import main
from j1eval.formats import get_format
from j1eval.formats._parsing import compare
from j1eval.types import Pair, Prompt, Sampling

FAST_RETRIES = ["--backend-option", "backoff_s=0.01", "--backend-option", "backoff_max_s=0.05"]


def read_rows(run_dir: Path) -> list[dict]:
    lines = (run_dir / "judgments.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def http_run(server: FakeOpenAIServer, data_dir: Path, out: Path, *flags: str) -> list[str]:
    return [
        "run", "--judge", f"openai:judge@{server.url}", "--bench", "judgebench", "--data-dir", str(data_dir),
        "--out", str(out), "--no-progress", *FAST_RETRIES, *flags,
    ]  # fmt: skip


# ----------------------------------------------------------------------------- Ctrl-C


def test_ctrl_c_stops_at_once_keeps_judgments_and_prints_the_resume_command(tmp_path, data_dir):
    limit = 20  # 40 requests, 2 in flight
    out = tmp_path / "run"
    env = {**os.environ, "J1EVAL_NO_HUB": "1"}
    with FakeOpenAIServer(model="judge", delay_s=0.2) as server:
        http_run_argv = http_run(server, data_dir, out, "--limit", str(limit), "--concurrency", "2")
        argv = [sys.executable, "-m", "j1eval", *http_run_argv]
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 120
            jsonl = out / "judgments.jsonl"
            while time.monotonic() < deadline and proc.poll() is None:
                if jsonl.exists() and jsonl.read_bytes().count(b"\n") >= 4:
                    break
                time.sleep(0.02)
            assert proc.poll() is None, proc.communicate()
            server.delay_s = 60.0  # the requests now in flight would take a minute: they must not be waited for
            time.sleep(0.5)
            assert server.in_flight >= 1
            sent = time.monotonic()
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=30)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 130, stderr
        assert took < 10, f"Ctrl-C took {took:.1f} s: in-flight requests were waited for"
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("interrupted: "), stderr
        assert "Traceback" not in stderr
        kept = read_rows(out)  # every line written is a whole judgment
        assert 4 <= len(kept) < 2 * limit
        assert f"{len(kept)} of {2 * limit} judgments are kept in {out / 'judgments.jsonl'}" in lines[0]
        resume = lines[0].split("resume with: ", 1)[1]
        command = shlex.split(resume)
        assert command[:3] == ["python", "-m", "j1eval"] and command[3:] == http_run_argv

        server.delay_s = 0.0
        rerun = subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        assert f"{2 * limit - len(kept)} judgments generated, {len(kept)} reused" in rerun.stdout
    rows = read_rows(out)
    assert len(rows) == 2 * limit and len({(r["pair_id"], r["order"]) for r in rows}) == 2 * limit


# ----------------------------------------------------------------------------- Retry-After


def one_request() -> Request:
    pair = Pair("p1", "toy", "s", "question?", "first", "second", 1)
    return Request(Prompt.user("judge this"), pair, "ab")


@pytest.mark.parametrize("retry_after", [None, "1.5"])
def test_retry_after_is_honoured(retry_after):
    with FakeOpenAIServer(model="judge") as server:
        server.faults["judge this"] = ["429"]
        server.retry_after = retry_after
        backend = get_backend_class("openai")("judge", base_url=server.url, backoff_s=0.01, backoff_max_s=5.0)
        try:
            (completions,) = backend.generate([one_request()], Sampling(max_tokens=32, temperature=0.0))
        finally:
            backend.close()
        assert completions[0].finish_reason == "stop" and server.calls["judge this"] == 2
        waited = server.call_times[-1] - server.call_times[-2]
    if retry_after is None:
        assert waited < 0.5  # the backoff alone: 10 ms
    else:
        assert waited >= 1.4  # the server said 1.5 s: the backoff waits at least that


# ----------------------------------------------------------------------------- --samples N


def by_sample(prompt: str, sample: int, body: dict) -> str:
    """Samples 0 and 2 say slot A, sample 1 says B: SC@3 gives A, sample 1 alone would give B."""
    return f"<answer> [[{'B' if sample == 1 else 'A'}]] </answer>"


def test_samples_three_are_stored_and_decided_by_majority(tmp_path, data_dir, capsys):
    out = tmp_path / "run"
    with FakeOpenAIServer(by_sample, model="judge") as server:
        assert main(http_run(server, data_dir, out, "--limit", "4", "--samples", "3")) == 0
        assert all(body["n"] == 3 and body["temperature"] == 1.0 for body in server.bodies)  # one request, n=3
    rows = read_rows(out)
    assert sorted((r["pair_id"], r["order"], r["sample"]) for r in rows) == sorted(
        (r["pair_id"], r["order"], k) for r in rows if r["sample"] == 0 for k in range(3)
    )
    assert len(rows) == 4 * 2 * 3
    assert {r["sample"]: r["verdict"] for r in rows} == {0: "A", 1: "B", 2: "A"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["samples"] == 3 and manifest["aggregation"] == "SC@N (majority verdict)"
    overall = json.loads((out / "results.json").read_text())["judgebench"]["overall"]
    assert overall["n_judgments"] == 8  # one per (pair, order): the three samples are one judgment
    assert overall["slot_a_rate"] == 1.0


# ----------------------------------------------------------------------------- pointwise


def hashed_score(prompt: str, sample: int, body: dict) -> str:
    return f"<think>reading</think> <score> {pointwise_score(prompt)} </score>"


def pointwise_score(prompt: str) -> int:
    return hashlib.sha256(prompt.encode()).digest()[0] % 11


def test_pointwise_run_end_to_end(tmp_path, data_dir, capsys):
    limit = 5
    out = tmp_path / "run"
    with FakeOpenAIServer(hashed_score, model="judge") as server:
        assert main(http_run(server, data_dir, out, "--limit", str(limit), "--format", "pointwise")) == 0
        # One prompt per response, each sent once whatever the order: 2 per pair.
        assert len(server.bodies) == 2 * limit
    fmt = get_format("pointwise")
    pairs = {p.pair_id: p for p in get_benchmark("judgebench").load(data_dir).pairs[:limit]}
    rows = read_rows(out)
    assert len(rows) == 2 * limit
    for row in rows:
        prompts = [p.messages[-1]["content"] for p in fmt.prompts(pairs[row["pair_id"]], row["order"])]
        score_a, score_b = (float(pointwise_score(p)) for p in prompts)
        assert isinstance(row["raw"], list) and len(row["raw"]) == 2 and len(row["prompt_hash"]) == 2
        assert row["scores"] == {"A": score_a, "B": score_b}
        assert row["verdict"] == compare(score_a, score_b)
    results = json.loads((out / "results.json").read_text())
    assert results["judgebench"]["overall"]["n_pairs"] == limit
    assert json.loads((out / "manifest.json").read_text())["format"] == "pointwise"


# ----------------------------------------------------------------------------- model revision


def test_a_changed_model_revision_is_refused_before_any_judgment(tmp_path, data_dir, capsys, monkeypatch):
    out = tmp_path / "run"
    argv = ["run", "--judge", "first", "--bench", "judgebench", "--data-dir", str(data_dir), "--out", str(out)]
    assert main([*argv, "--limit", "2", "--no-progress"]) == 0
    before = (out / "judgments.jsonl").read_bytes()
    capsys.readouterr()
    monkeypatch.setattr(BaselineBackend, "model_revision", property(lambda self: "weights-v2"))
    assert main([*argv, "--limit", "3", "--no-progress"]) == 2  # new pairs to judge, by other weights
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds judgments of model revision baseline:first:v1, now weights-v2" in err[0], err
    assert (out / "judgments.jsonl").read_bytes() == before


# ----------------------------------------------------------------------------- --bench all


@pytest.fixture
def all_data(tmp_path, data_dir, fixtures_dir) -> Path:
    """A data dir with every standard benchmark: the real files, PPE and FollowBenchEval fixtures."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("judgebench", "rewardbench", "rmbench"):
        (folder / name).symlink_to(data_dir / name)
    for name in ("ppe", "followbencheval"):
        (folder / name).symlink_to(fixtures_dir / name)
    return folder


def test_bench_all_runs_every_published_benchmark_and_not_the_users_pairs(tmp_path, all_data, capsys):
    out = tmp_path / "run"
    argv = ["run", "--judge", "first", "--bench", "all", "--limit", "2", "--data-dir", str(all_data)]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    expected = {"judgebench", "rewardbench", "rmbench", "ppe", "followbencheval"}
    assert set(standard_benchmarks()) == expected
    assert set(json.loads((out / "results.json").read_text())) == expected
    manifest = json.loads((out / "manifest.json").read_text())
    assert {name: b["n_pairs_run"] for name, b in manifest["benchmarks"].items()} == dict.fromkeys(expected, 2)
    rows = read_rows(out)
    assert {r["bench"] for r in rows} == expected and len(rows) == 5 * 2 * 2


# ----------------------------------------------------------------------------- list


def test_list_counts_local_pairs_and_never_downloads_from_the_hub(tmp_path, data_dir, capsys, monkeypatch):
    from j1eval.benchmarks import _sources

    def no_download(*args, **kwargs):
        raise AssertionError("list must not download a dataset")

    monkeypatch.setattr(_sources, "load_hub", no_download)
    monkeypatch.setattr(_sources, "hub_unreachable", lambda: None)  # as if online
    monkeypatch.setattr(
        _sources, "hub_rows", lambda dataset_id, split, revision: 2985 if "reward" in dataset_id else None
    )
    local = tmp_path / "data"
    local.mkdir()
    (local / "judgebench").symlink_to(data_dir / "judgebench")
    assert main(["list", "--data-dir", str(local)]) == 0
    table = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert table["judgebench"][1] == "350"  # local: counted
    assert table["rewardbench"][1] == "2985"  # hub: from the dataset's metadata
    assert "not downloaded" in " ".join(table["rewardbench"])
    assert table["rmbench"][1] == "unknown"  # hub rows are prompts, not pairs: unknown rather than a download
    assert table["ppe"][1] == "unknown"


def test_hub_row_counts_come_from_the_dataset_card(monkeypatch):
    import types

    import huggingface_hub

    from j1eval.benchmarks import _sources

    card = {"dataset_info": [{"config_name": "default", "splits": [{"name": "filtered", "num_examples": 2985}]}]}

    class FakeApi:
        def dataset_info(self, dataset_id, revision=None):
            return types.SimpleNamespace(sha="0" * 40, card_data=types.SimpleNamespace(to_dict=lambda: card))

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    monkeypatch.setattr(_sources, "hub_unreachable", lambda: None)
    monkeypatch.setattr(_sources, "_resolved", {})  # the commit the fake hub names stays in this test
    assert _sources.hub_rows("allenai/reward-bench", "filtered", "main") == 2985
    assert _sources.hub_rows("allenai/reward-bench", "raw", "main") is None  # a split the card does not list
