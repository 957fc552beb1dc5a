"""`run --executor ray` on a local Ray cluster (2 CPUs, this machine): the same judgments and results.json
as a plain run, 2 replicas as 1, both orders of a pair on one replica, a SIGKILLed driver resumed
without re-sending finished requests, and bad executor input refused in one line before any model loads."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer
from test_run_http import hashed_answer, judge_prompts
from tiny_model import tiny_pairs, write_pairs_jsonl

from j1eval.cli import main
from j1eval.errors import InputError
from j1eval.judging.config import RunConfig
from j1eval.judging.executors import ExecutorConfig
from j1eval.judging.executors.ray_actors import bundles, parse_address
from j1eval.judging.runner import run

COMPARED = ("key", "verdict", "failure", "raw", "prompt_hash", "finish_reason", "template_hash", "p_a")


@pytest.fixture(scope="session")
def ray_cluster() -> str:
    """A Ray cluster of 2 CPUs on this machine, started once; its GCS address on 127.0.0.1."""
    import ray

    context = ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024**2, log_to_driver=False)
    port = parse_address(context.address_info["gcs_address"])[1]
    yield f"127.0.0.1:{port}"
    ray.shutdown()


def rows_of(out: Path) -> dict[tuple[str, str], dict]:
    lines = (out / "judgments.jsonl").read_text().splitlines()
    return {(r["pair_id"], r["order"]): r for r in map(json.loads, lines)}


def same_run(a: Path, b: Path) -> None:
    """The two run folders hold the same judgments and the same results.json."""
    ra, rb = rows_of(a), rows_of(b)
    assert ra.keys() == rb.keys()
    for key in ra:
        for name in COMPARED:
            assert ra[key].get(name) == rb[key].get(name), (key, name)
    assert json.loads((a / "results.json").read_text()) == json.loads((b / "results.json").read_text())


def test_ray_run_gives_the_plain_runs_judgments_and_results(tmp_path, data_dir, ray_cluster, monkeypatch):
    import j1eval.judging.executors.ray_actors as ray_actors

    opened: list[ray_actors.RayReplicas] = []
    real = ray_actors.RayReplicas.__init__

    def keep(self, *args, **kwargs):  # remember the backend the runner opened, to read where pairs went
        real(self, *args, **kwargs)
        opened.append(self)

    monkeypatch.setattr(ray_actors.RayReplicas, "__init__", keep)
    common = dict(judge="random", benches=["judgebench"], data_dir=data_dir, limit=30, progress=False)
    plain = run(RunConfig(**common, out=tmp_path / "plain"))
    spread = ExecutorConfig("ray", replicas=2, bundle_size=6)
    outcome = run(RunConfig(**common, out=tmp_path / "ray", executor=spread))
    assert (plain.n_generated, outcome.n_generated) == (60, 60)
    same_run(tmp_path / "plain", tmp_path / "ray")
    (backend,) = opened
    assert sum(backend.judged) == 60 and min(backend.judged) > 0  # both replicas judged
    # Each bundle holds whole pairs, so both orders of every pair went to one replica.
    assert len(backend.placements) == 30
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["executor"]["name"] == "ray" and manifest["executor"]["replicas"] == 2
    again = run(RunConfig(**common, out=tmp_path / "ray", executor=spread))  # resumable: nothing recomputed
    assert (again.n_generated, again.n_cached) == (0, 60)


def test_bundles_keep_a_pairs_requests_together():
    class P:
        def __init__(self, pair_id):
            self.pair, self.order = type("Pair", (), {"bench": "b", "pair_id": pair_id})(), "ab"

    requests = [P(p) for p in ["x", "y", "x", "z", "y", "z", "w"]]  # both orders, interleaved
    groups = bundles(requests, 3)
    assert sorted(i for g in groups for i in g) == list(range(7))
    for group in groups:
        ids = {requests[i].pair.pair_id for i in group}
        for other in groups:
            if other is not group:
                assert not ids & {requests[i].pair.pair_id for i in other}


@pytest.mark.slow
def test_two_transformers_replicas_judge_as_one(tmp_path, tiny, ray_cluster):
    write_pairs_jsonl(tmp_path / "pairs.jsonl", tiny_pairs(6))
    common = dict(judge=f"hf:{tiny}", benches=["pairs"], data_dir=tmp_path, max_tokens=6, progress=False)
    one = run(RunConfig(**common, out=tmp_path / "one", executor=ExecutorConfig("ray", replicas=1, bundle_size=4)))
    two = run(RunConfig(**common, out=tmp_path / "two", executor=ExecutorConfig("ray", replicas=2, bundle_size=4)))
    assert (one.n_generated, two.n_generated) == (12, 12)
    same_run(tmp_path / "one", tmp_path / "two")
    for row in rows_of(tmp_path / "two").values():  # real generations of the random tiny model
        assert row["prompt_tokens"] > 50 and row["completion_tokens"] == 6 and row["finish_reason"] == "length"


def test_a_killed_ray_driver_resumes_without_resending_finished_requests(tmp_path, data_dir, ray_cluster):
    limit = 20
    prompts = judge_prompts(data_dir, limit)
    env = {**os.environ, "J1EVAL_NO_HUB": "1"}

    def command(server: FakeOpenAIServer, out: Path, *executor: str) -> list[str]:
        return [sys.executable, "-m", "j1eval", "run", "--judge", f"openai:judge@{server.url}"] + [
            "--bench", "judgebench", "--limit", str(limit), "--data-dir", str(data_dir),
            "--out", str(out), "--no-progress", "--concurrency", "1", *executor,
        ]  # fmt: skip

    ray_flags = ("--executor", "ray", "--ray-address", ray_cluster, "--replicas", "2")
    with FakeOpenAIServer(hashed_answer, model="judge") as server:
        subprocess.run(command(server, tmp_path / "reference"), env=env, check=True, capture_output=True)

    out = tmp_path / "killed"
    with FakeOpenAIServer(hashed_answer, model="judge", delay_s=0.2) as server:
        proc = subprocess.Popen(
            command(server, out, *ray_flags), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        path = out / "judgments.jsonl"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and proc.poll() is None:
            if path.exists() and path.read_bytes().count(b"\n") >= 8:
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        assert b"ray: 2 replicas of openai:judge" in stderr
        finished = rows_of(out)
        assert 8 <= len(finished) < 2 * limit
        done = {prompts[key] for key in finished}
        calls_at_kill = {p: server.calls[p] for p in done}

        server.delay_s = 0.0
        rerun = subprocess.run(command(server, out, *ray_flags), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert f"{2 * limit - len(finished)} judgments generated, {len(finished)} reused" in rerun.stdout
        assert {p: server.calls[p] for p in done} == calls_at_kill  # finished requests never sent again
        assert all(server.calls[p] >= 1 for p in prompts.values())
    assert len((out / "judgments.jsonl").read_text().splitlines()) == 2 * limit  # no duplicates, none lost
    same_run(tmp_path / "reference", out)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--ray-address", "127.0.0.1:9"], "--ray-address 127.0.0.1:9: nothing answers at 127.0.0.1:9"),
        (["--ray-address", "head:port"], "--ray-address 'head:port': expected HOST:PORT"),
        (["--replicas", "3"], "--replicas 3 x \\(1 CPU, 0 GPU\\) each: more than the Ray cluster's 2 CPUs"),
        (["--replicas", "0"], "--replicas must be at least 1, got 0"),
    ],
)
def test_bad_executor_input_is_one_line_before_any_model_loads(tmp_path, data_dir, ray_cluster, capsys, flags, message):
    out = tmp_path / "run"
    args = ["run", "--judge", "hf:/nonexistent/model", "--bench", "judgebench", "--limit", "2"]
    code = main([*args, "--data-dir", str(data_dir), "--out", str(out), "--no-progress", "--executor", "ray", *flags])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and re.search(message, err), err
    assert not (out / "manifest.json").exists()  # no claim on the folder, no judgment
    assert not (out / "judgments.jsonl").exists() or not (out / "judgments.jsonl").read_bytes()


def test_ray_flags_need_the_ray_executor():
    with pytest.raises(InputError, match="--ray-address, --replicas: only with --executor ray"):
        ExecutorConfig("local", ray_address="h:1", replicas=2).check()
