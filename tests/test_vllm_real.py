"""The vLLM backend and `vllm serve` on the real engine (vLLM's CPU build), with the small judge.

One in-process engine serves the whole session (``keep_engine``); the kill, start-failure and
server tests start their own in subprocesses. Settings fit a 2-core machine: float32, eager,
``max_model_len`` 4096, the backend's CPU defaults (2 GiB KV cache, chunked prefill off).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import JUDGEBENCH_FILE

from j1eval import local_models
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run

pytestmark = pytest.mark.slow

MAX_MODEL_LEN = 4096
OPTIONS = {"enforce_eager": True, "max_model_len": MAX_MODEL_LEN}


@pytest.fixture(scope="module")
def judge_path() -> Path:
    try:
        import vllm  # noqa: F401
    except ImportError as exc:  # CI sets J1EVAL_REQUIRE_VLLM: there a missing engine fails, never skips
        if os.environ.get("J1EVAL_REQUIRE_VLLM"):
            pytest.fail(f"vLLM is not installed ({exc}); the README's set-up installs its CPU build")
        pytest.skip(f"vLLM is not installed ({exc}); the README's set-up installs its CPU build")
    return local_models.smollm2_path()


def _write_pairs(folder: Path, pairs: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    return folder


def _short_pairs(n: int) -> list[dict]:
    return [
        {
            "pair_id": f"p{i}",
            "prompt": f"What is {i} + {i}? Answer with the number.",
            "response_1": str(2 * i),
            "response_2": str(2 * i + 1),
            "label": 1,
        }
        for i in range(n)
    ]


@pytest.fixture
def short_judgebench(tmp_path, data_dir) -> Path:
    """A data dir with the two shortest real JudgeBench pairs (both orders: 4 prompts of ~400 tokens)."""
    lines = (data_dir / JUDGEBENCH_FILE).read_text(encoding="utf-8").splitlines()
    size = {line: sum(len(json.loads(line)[k]) for k in ("question", "response_A", "response_B")) for line in lines}
    folder = tmp_path / "data" / "judgebench"
    folder.mkdir(parents=True)
    (folder / "short.jsonl").write_text("\n".join(sorted(lines, key=size.__getitem__)[:2]) + "\n", encoding="utf-8")
    return tmp_path / "data"


def _config(judge_path: Path, out: Path, **kwargs) -> RunConfig:
    options = {**OPTIONS, "keep_engine": True, **kwargs.pop("backend_options", {})}
    return RunConfig(judge=f"vllm:{judge_path}", out=out, progress=False, backend_options=options, **kwargs)


def _rows(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text().splitlines()]


def test_direct_verdicts_equal_the_transformers_backend(judge_path, short_judgebench, tmp_path):
    common = {"benches": ["judgebench"], "data_dir": short_judgebench, "format": "direct-verdict"}
    outcome = run(_config(judge_path, tmp_path / "vllm", **common))
    assert outcome.n_generated == 4 and outcome.n_backend_errors == 0
    hf = run(RunConfig(judge=f"hf:{judge_path}", out=tmp_path / "hf", progress=False, **common))
    assert hf.n_generated == 4
    by_key = {(r["pair_id"], r["order"]): r for r in _rows(tmp_path / "hf")}
    for row in _rows(tmp_path / "vllm"):
        other = by_key[(row["pair_id"], row["order"])]
        assert row["verdict"] == other["verdict"]
        assert row["p_a"] == pytest.approx(other["p_a"], abs=1e-4)
    manifest = json.loads((tmp_path / "vllm" / "manifest.json").read_text())
    assert manifest["engine"]["device"] == "cpu" and manifest["engine"]["dtype"] == "float32"
    assert manifest["versions"]["vllm"].startswith("0.")


def test_pairwise_text_sampled_votes_and_an_over_long_prompt(judge_path, tmp_path):
    pairs = _short_pairs(2)
    pairs.append({**pairs[0], "pair_id": "long", "response_1": "word " * (MAX_MODEL_LEN + 200)})
    data = _write_pairs(tmp_path / "data", pairs)
    text = run(_config(judge_path, tmp_path / "text", benches=["pairs"], data_dir=data, max_tokens=16))
    rows = _rows(tmp_path / "text")
    assert len(rows) == 6 and text.n_generated == 6
    long_rows = [r for r in rows if r["pair_id"] == "long"]
    assert long_rows and all(r["failure"] == "backend_error" for r in long_rows)
    assert all(f"maximum context length is {MAX_MODEL_LEN} tokens" in r["error"] for r in long_rows)  # vLLM's check
    short = [r for r in rows if r["pair_id"] != "long"]
    assert all(r["error"] is None and r["completion_tokens"] >= 1 and r["raw"] for r in short)
    sampled = run(
        _config(
            judge_path,
            tmp_path / "sc3",
            benches=["pairs"],
            data_dir=_write_pairs(tmp_path / "data3", _short_pairs(2)),
            format="direct-verdict",
            samples=3,
            temperature=1.0,
        )
    )
    rows = _rows(tmp_path / "sc3")
    assert sampled.n_backend_errors == 0 and sorted({r["sample"] for r in rows}) == [0, 1, 2] and len(rows) == 12
    # Sampled first tokens need not be a slot letter; P(A) is the same distribution's for every sample.
    assert all(r["verdict"] in ("A", "B") or r["failure"] == "no_verdict" for r in rows)
    for key in {(r["pair_id"], r["order"]) for r in rows}:
        p_a = [r["p_a"] for r in rows if (r["pair_id"], r["order"]) == key]
        assert p_a[0] is not None and max(p_a) - min(p_a) < 1e-5


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "j1eval", "run", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "VLLM_LOGGING_LEVEL": "WARNING"}


def _wait_for_judgments(proc: subprocess.Popen, out: Path, count: int, timeout_s: float, then: str) -> None:
    """Wait until the running ``proc`` has stored ``count`` judgments in ``out`` (it must still be running)."""
    store = out / "judgments.jsonl"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        if store.exists() and store.read_text().count("\n") >= count:
            break
        time.sleep(0.1)
    assert proc.poll() is None, f"the run ended before it could be {then}"


def test_a_killed_run_keeps_what_it_wrote_and_resumes(judge_path, tmp_path):
    data = _write_pairs(tmp_path / "data", _short_pairs(30))
    out = tmp_path / "run"
    command = _cli(
        "--judge", f"vllm:{judge_path}", "--bench", "pairs", "--data-dir", str(data), "--out", str(out),
        "--max-tokens", "64", "--samples", "2", "--temperature", "1",
        "--backend-option", "enforce_eager=true", "--backend-option", f"max_model_len={MAX_MODEL_LEN}",
    )  # fmt: skip
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_judgments(proc, out, 2, 400, "killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _rows(out)
    assert 2 <= len(before) < 120  # written as they finished, not at the end
    outcome = run(_config(judge_path, out, benches=["pairs"], data_dir=data, max_tokens=64, samples=2, temperature=1.0))
    after = _rows(out)
    keys = [r["key"] for r in after]
    assert len(keys) == len(set(keys)) == 120 and outcome.n_generated == 120 - len(before)
    assert after[: len(before)] == before


def test_ctrl_c_stops_the_engine_and_prints_the_resume_command(judge_path, tmp_path):
    data = _write_pairs(tmp_path / "data", _short_pairs(30))
    out = tmp_path / "run"
    command = _cli(
        "--judge", f"vllm:{judge_path}", "--bench", "pairs", "--data-dir", str(data), "--out", str(out),
        "--max-tokens", "64", "--samples", "2", "--temperature", "1",
        "--backend-option", "enforce_eager=true", "--backend-option", f"max_model_len={MAX_MODEL_LEN}",
    )  # fmt: skip
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_for_judgments(proc, out, 2, 400, "interrupted")
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130 and time.monotonic() - start < 30
    lines = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert len(lines) == 1 and "resume with:" in lines[0] and "Traceback" not in stderr
    kept = len(_rows(out))
    assert f"{kept} of 120 judgments are kept" in lines[0]


def test_two_replicas_judge_as_one_engine_die_with_a_killed_driver_and_resume(judge_path, tmp_path):
    """data_parallel_size=2 on the CPU: two real engines (one core each) in worker processes."""
    import psutil

    data = _write_pairs(tmp_path / "data", _short_pairs(40))
    out = tmp_path / "dp2"
    command = _cli(
        "--judge", f"vllm:{judge_path}", "--bench", "pairs", "--data-dir", str(data), "--out", str(out),
        "--format", "direct-verdict", "--backend-option", "data_parallel_size=2",
        "--backend-option", "kv_cache_gib=1", "--backend-option", "enforce_eager=true",
        "--backend-option", f"max_model_len={MAX_MODEL_LEN}",
    )  # fmt: skip
    proc = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_judgments(proc, out, 2, 600, "killed")
    workers = psutil.Process(proc.pid).children(recursive=True)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"replicas outlived the killed driver: {[p.pid for p in alive]}"
    before = _rows(out)
    assert 2 <= len(before) < 80

    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "2 replicas started" in done.stderr
    after = _rows(out)
    keys = [r["key"] for r in after]
    assert len(keys) == len(set(keys)) == 80 and after[: len(before)] == before
    engine = json.loads((out / "manifest.json").read_text())["engine"]
    assert engine["data_parallel_size"] == 2
    assert sorted(r["env"]["VLLM_CPU_OMP_THREADS_BIND"] for r in engine["replicas"]) == ["0", "1"]

    one = tmp_path / "one"
    run(_config(judge_path, one, benches=["pairs"], data_dir=data, format="direct-verdict"))
    reference = {r["key"]: r for r in _rows(one)}
    assert set(reference) == set(keys)  # data_parallel_size is operational: the same judgments' keys
    for row in after:
        assert row["verdict"] == reference[row["key"]]["verdict"]
        assert row["p_a"] == pytest.approx(reference[row["key"]]["p_a"], abs=1e-4)


def test_engines_that_cannot_start_are_one_line(judge_path, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"architectures": ["NoSuchModelForCausalLM"], "model_type": "nosuch"}')
    data = _write_pairs(tmp_path / "data", _short_pairs(1))
    cases = [
        (broken, []),
        (judge_path, ["--backend-option", "kv_cache_gib=0.001"]),  # no room for one 4,096-token request
    ]
    for model, extra in cases:
        out = tmp_path / f"out-{model.name}"
        result = subprocess.run(
            _cli("--judge", f"vllm:{model}", "--bench", "pairs", "--data-dir", str(data), "--out", str(out),
                 "--format", "direct-verdict", "--backend-option", f"max_model_len={MAX_MODEL_LEN}",
                 "--backend-option", "enforce_eager=true", *extra),
            env=_env(), capture_output=True, text=True, timeout=400,
        )  # fmt: skip
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert result.returncode == 1, result.stderr[-2000:]
        assert len(errors) == 1 and "vLLM could not start model" in errors[0] and str(model) in errors[0]
        assert "Traceback" not in result.stderr
        assert not (out / "manifest.json").exists()


def test_more_replicas_than_cores_is_one_line_before_any_engine_starts(judge_path, tmp_path):
    data = _write_pairs(tmp_path / "data", _short_pairs(1))
    out = tmp_path / "out"
    cores = len(os.sched_getaffinity(0))
    result = subprocess.run(
        _cli("--judge", f"vllm:{judge_path}", "--bench", "pairs", "--data-dir", str(data), "--out", str(out),
             "--backend-option", f"data_parallel_size={cores + 1}"),
        env=_env(), capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(errors) == 1 and f"data_parallel_size {cores + 1}: more replicas than the {cores} CPU core" in errors[0]
    assert "replicas started" not in result.stderr and "Traceback" not in result.stderr
    assert not (out / "manifest.json").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def vllm_server(judge_path):
    """`vllm serve` of the small judge on 127.0.0.1 (the CPU build's console script is missing: its module)."""
    port = _free_port()
    from j1eval.backends._vllm_engine import cpu_cores

    env = {**_env(), "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CPU_OMP_THREADS_BIND": cpu_cores()}
    command = [
        sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(judge_path),
        "--served-model-name", "smollm2", "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
        "--enforce-eager", "--max-model-len", str(MAX_MODEL_LEN),
    ]  # fmt: skip
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"vllm-serve-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 420
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vllm serve exited {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    else:
        proc.kill()
        pytest.fail(f"vllm serve did not answer in 420 s; see {log.name}")
    yield f"http://127.0.0.1:{port}/v1"
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.mark.parametrize("route", ["chat", "completions"])
def test_vllm_serve_gives_the_offline_engines_verdicts_and_p_a(
    judge_path, vllm_server, short_judgebench, tmp_path, route
):
    common = {"benches": ["judgebench"], "data_dir": short_judgebench, "format": "direct-verdict"}
    run(_config(judge_path, tmp_path / "offline", **common))
    options = {"prefill": route, **({"tokenizer": str(judge_path)} if route == "completions" else {})}
    outcome = run(
        RunConfig(judge=f"openai:smollm2@{vllm_server}", out=tmp_path / "http", progress=False,
                  backend_options=options, **common)
    )  # fmt: skip
    assert outcome.n_generated == 4 and outcome.n_backend_errors == 0
    offline = {(r["pair_id"], r["order"]): r for r in _rows(tmp_path / "offline")}
    for row in _rows(tmp_path / "http"):
        other = offline[(row["pair_id"], row["order"])]
        assert row["verdict"] == other["verdict"] and row["p_a"] == pytest.approx(other["p_a"], abs=1e-4)


def test_vllm_serve_gives_n_samples_in_one_request(vllm_server, tmp_path):
    data = _write_pairs(tmp_path / "data", _short_pairs(1))
    outcome = run(
        RunConfig(judge=f"openai:smollm2@{vllm_server}", benches=["pairs"], data_dir=data, out=tmp_path / "run",
                  progress=False, format="direct-verdict", samples=3, temperature=1.0)
    )  # fmt: skip
    rows = _rows(tmp_path / "run")
    assert outcome.n_backend_errors == 0 and len(rows) == 6 and sorted({r["sample"] for r in rows}) == [0, 1, 2]
    assert all(r["verdict"] in ("A", "B") or r["failure"] == "no_verdict" for r in rows)
    for order in ("ab", "ba"):  # one distribution per prompt: every sample's P(A) is the same
        p_a = [r["p_a"] for r in rows if r["order"] == order]
        assert p_a[0] is not None and max(p_a) - min(p_a) < 1e-5
