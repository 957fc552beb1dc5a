"""`run` against a real local OpenAI-compatible server: faults, retries, and a SIGKILL midway."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from openai_server import FakeOpenAIServer

from j1eval.benchmarks import get_benchmark
from j1eval.cli import main
from j1eval.formats import get_format

FAST_RETRIES = ["--backend-option", "backoff_s=0.01", "--backend-option", "backoff_max_s=0.05"]


def hashed_answer(prompt: str, sample: int, body: dict) -> str:
    """A deterministic judge: the verdict follows from the prompt's hash."""
    slot = "A" if hashlib.sha256(prompt.encode()).digest()[0] % 2 == 0 else "B"
    return f"<think>weighing {len(prompt)} characters</think> <answer> [[{slot}]] </answer>"


def expected_verdict(prompt: str) -> str:
    return "A" if hashlib.sha256(prompt.encode()).digest()[0] % 2 == 0 else "B"


def judge_prompts(data_dir: Path, limit: int) -> dict[tuple[str, str], str]:
    """The user message the server sees for each (pair_id, order) of the first ``limit`` pairs."""
    pairs = get_benchmark("judgebench").load(data_dir).pairs[:limit]
    fmt = get_format("pairwise-verdict")
    out = {}
    for pair in pairs:
        for order in ("ab", "ba"):
            (prompt,) = fmt.prompts(pair, order)
            out[pair.pair_id, order] = prompt.messages[-1]["content"]
    return out


def read_rows(run_dir: Path) -> list[dict]:
    lines = (run_dir / "judgments.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def test_http_run_survives_faults_and_a_rerun_retries_only_failures(tmp_path, data_dir, capsys):
    limit = 6
    prompts = judge_prompts(data_dir, limit)
    keys = sorted(prompts)
    with FakeOpenAIServer(hashed_answer, model="judge", slow_s=1.5) as server:
        server.faults[prompts[keys[0]]] = ["500", "429"]  # retried, then answered
        server.faults[prompts[keys[1]]] = ["bad_json", "no_choices"]
        server.faults[prompts[keys[2]]] = ["drop"]
        server.faults[prompts[keys[3]]] = ["slow"]  # longer than timeout_s: a timeout, then answered
        server.permanent[prompts[keys[4]]] = "400"  # a client error: not retried, recorded as backend_error
        out = tmp_path / "run"
        args = ["run", "--judge", f"openai:judge@{server.url}", "--bench", "judgebench", "--limit", str(limit)]
        args += ["--data-dir", str(data_dir), "--out", str(out), "--no-progress", "--concurrency", "3"]
        args += [*FAST_RETRIES, "--backend-option", "timeout_s=0.5"]

        assert main(args) == 1
        err = capsys.readouterr().err
        assert "1 judgments failed at the backend" in err and "HTTP 400" in err and "rerun" in err
        rows = read_rows(out)
        assert len(rows) == 2 * limit
        by_key = {(r["pair_id"], r["order"]): r for r in rows}
        failed = by_key[keys[4]]
        assert failed["verdict"] is None and failed["failure"] == "backend_error" and "HTTP 400" in failed["error"]
        for key in keys[:4] + keys[5:]:
            assert by_key[key]["verdict"] == expected_verdict(prompts[key]), key
            assert by_key[key]["failure"] is None and by_key[key]["error"] is None
        assert server.calls[prompts[keys[0]]] == 3
        assert server.calls[prompts[keys[1]]] == 3
        assert server.calls[prompts[keys[2]]] == 2
        assert server.calls[prompts[keys[3]]] >= 2
        assert server.calls[prompts[keys[4]]] == 1
        assert server.max_in_flight <= 3
        results = json.loads((out / "results.json").read_text())
        assert results["judgebench"]["overall"]["n_pairs"] == limit

        # The server recovers; the same command retries the failed judgment and nothing else.
        del server.permanent[prompts[keys[4]]]
        calls_before = dict(server.calls)
        assert main(args) == 0
        assert server.calls[prompts[keys[4]]] == 2
        assert {p: c for p, c in server.calls.items() if p != prompts[keys[4]]} == {
            p: c for p, c in calls_before.items() if p != prompts[keys[4]]
        }
    rows = read_rows(out)
    assert len(rows) == 2 * limit + 1  # the failed line is kept; the retry supersedes it
    assert rows[-1]["pair_id"] == keys[4][0] and rows[-1]["verdict"] == expected_verdict(prompts[keys[4]])
    # `score` reads the same file and takes the last line of each judgment.
    scored = tmp_path / "scored"
    code = main(
        ["score", "--bench", "judgebench", "--judgments", str(out / "judgments.jsonl")]
        + ["--data-dir", str(data_dir), "--out", str(scored)]
    )
    assert code == 0
    rescored = json.loads((scored / "results.json").read_text())["judgebench"]["overall"]
    final = json.loads((out / "results.json").read_text())["judgebench"]["overall"]
    assert rescored["n_pairs"] == limit
    for name in ("acc_ab", "acc_ba", "acc_consistent", "official", "parse_failure_rate"):
        assert rescored[name] == final[name], name


def test_run_killed_with_sigkill_resumes_without_recomputing(tmp_path, data_dir):
    limit = 20
    prompts = judge_prompts(data_dir, limit)
    env = {**os.environ, "J1EVAL_NO_HUB": "1"}

    def command(server: FakeOpenAIServer, out: Path) -> list[str]:
        return [sys.executable, "-m", "j1eval", "run", "--judge", f"openai:judge@{server.url}"] + [
            "--bench", "judgebench", "--limit", str(limit), "--data-dir", str(data_dir),
            "--out", str(out), "--no-progress", "--concurrency", "2",
        ]  # fmt: skip

    # An uninterrupted run, for reference.
    with FakeOpenAIServer(hashed_answer, model="judge") as server:
        reference = tmp_path / "reference"
        subprocess.run(command(server, reference), env=env, check=True, capture_output=True)
    ref_rows = {(r["pair_id"], r["order"]): r for r in read_rows(reference)}
    assert len(ref_rows) == 2 * limit

    out = tmp_path / "killed"
    with FakeOpenAIServer(hashed_answer, model="judge", delay_s=0.15) as server:
        proc = subprocess.Popen(command(server, out), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        path = out / "judgments.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if path.exists() and path.read_bytes().count(b"\n") >= 12:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL
        finished = read_rows(out)  # complete lines only (the store cuts a partial tail on its next open)
        done_prompts = {prompts[r["pair_id"], r["order"]] for r in finished}
        assert 12 <= len(finished) < 2 * limit
        calls_at_kill = dict(server.calls)

        server.delay_s = 0.0
        rerun = subprocess.run(command(server, out), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert f"{2 * limit - len(finished)} judgments generated, {len(finished)} reused" in rerun.stdout
        for prompt in done_prompts:  # finished judgments were never asked for again
            assert server.calls[prompt] == calls_at_kill[prompt]
        for key, prompt in prompts.items():
            assert server.calls[prompt] >= 1, key

    rows = read_rows(out)
    assert len(rows) == 2 * limit  # no duplicates, nothing lost
    got = {(r["pair_id"], r["order"]): r for r in rows}
    assert got.keys() == ref_rows.keys()
    for key, ref in ref_rows.items():
        for field in ("key", "verdict", "failure", "raw", "prompt_hash", "finish_reason", "template_hash"):
            assert got[key][field] == ref[field], (key, field)
    ref_results = json.loads((reference / "results.json").read_text())
    assert json.loads((out / "results.json").read_text()) == ref_results
