"""`transformers serve` (transformers' own OpenAI-compatible server) serving the small judge, judged through `run`.

A real server from a kept library, beside the project's fault-injecting one. In 5.17 it
ignores ``logprobs``, ``top_logprobs`` and ``n`` (one choice back whatever ``n`` asks) and
refuses ``continue_final_message`` (HTTP 422). So this tests the degraded paths: direct
verdicts prefilled through ``/v1/completions`` with the chat template rendered here and no
``p_a``, and SC@N by one request per sample.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from j1eval import local_models
from j1eval.cli import main
from j1eval.formats import get_format

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_judge(tmp_path_factory):
    pytest.importorskip("fastapi", reason="transformers[serving] is not installed")
    try:
        folder = local_models.smollm2_path()
    except Exception as exc:  # the package is installed by the README's set-up
        pytest.skip(f"small judge not available: {exc}")
    exe = shutil.which("transformers", path=str(Path(sys.executable).parent)) or shutil.which("transformers")
    if exe is None:
        pytest.skip("the transformers command is not installed")
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    # Its /v1/models scans the hub cache and answers 500 when there is none: give it an empty one.
    hub_cache = tmp_path_factory.mktemp("hub-cache")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_CACHE": str(hub_cache)}
    with open(log, "w") as fh:
        proc = subprocess.Popen(
            [exe, "serve", str(folder), "--port", str(port), "--device", "cpu", "--host", "127.0.0.1"],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not start in 120 s: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield str(folder), f"{base}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_rows(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "judgments.jsonl").read_text().splitlines() if x.strip()]


def judge(served_judge, out: Path, data_dir: Path, *extra: str) -> int:
    folder, url = served_judge
    return main(
        ["run", "--judge", f"openai:{folder}@{url}", "--bench", "rewardbench", "--limit", "1",
         "--data-dir", str(data_dir), "--out", str(out), "--no-progress", *extra]
    )  # fmt: skip


def test_direct_verdicts_through_the_completions_endpoint_without_p_a(served_judge, tmp_path, data_dir, capsys):
    assert judge(served_judge, tmp_path, data_dir, "--format", "direct-verdict", "--max-tokens", "3") == 0
    rows = run_rows(tmp_path)
    assert sorted(r["order"] for r in rows) == ["ab", "ba"]
    fmt = get_format("direct-verdict")
    for r in rows:
        assert r["failure"] != "backend_error", r["error"]
        assert r["p_a"] is None and "top_logprobs" not in r  # the server gave no log-probabilities
        assert (r["verdict"], r["failure"]) == (fmt.parse(r["raw"]).verdict, fmt.parse(r["raw"]).failure)
    out = capsys.readouterr().out
    assert "2 judgments have no p_a" in out and out.count("have no p_a") == 1


def test_thinking_format_and_sc_at_n_by_separate_requests(served_judge, tmp_path, data_dir):
    code = judge(
        served_judge, tmp_path, data_dir, "--format", "pairwise-verdict", "--max-tokens", "12", "--samples", "2"
    )
    assert code == 0
    rows = run_rows(tmp_path)
    assert sorted((r["order"], r["sample"]) for r in rows) == [("ab", 0), ("ab", 1), ("ba", 0), ("ba", 1)]
    # The server answers one choice for n=2; without the backend's fallback to one request per sample
    # (seeds seed, seed + 1) every judgment here would be a backend_error ("1 choices for n=2").
    assert all(r["failure"] != "backend_error" and r["raw"].strip() for r in rows)  # real generations
