"""j1eval's side of the vLLM contract, against a stand-in ``vllm`` module.

A fake of the vLLM APIs the backend uses (``LLM``, ``LLM.enqueue_chat``, the engine's
``step``/``has_unfinished_requests``/``abort_request``, ``SamplingParams``, the platform's device),
for what a real engine cannot be made to do on demand: out-of-order completion, a request it
rejects, an engine that dies mid-run. It checks what j1eval sends and how it maps what comes back.
"""

from __future__ import annotations

import json
import math
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from j1eval.backends import Request, get_backend_class
from j1eval.errors import SetupError
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run
from j1eval.types import Pair, Prompt, Sampling


@dataclass
class FakeSamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    seed: int | None = None
    logprobs: int | None = None


class FakeTokenizer:
    """Whitespace tokens; the chat template joins the messages' contents."""

    def apply_chat_template(self, messages, add_generation_prompt=True, tokenize=False, continue_final_message=False):
        return " ".join(m["content"] for m in messages)

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}


def _outputs(request_id, messages, sampling_params, continue_final_message):
    text = " ".join(m["content"] for m in messages)
    words = text.split()
    slot = "A" if len(words) % 2 == 0 else "B"
    other = "B" if slot == "A" else "A"
    continued = continue_final_message and messages[-1]["role"] == "assistant"
    # First-step distribution as vLLM gives it: token id -> Logprob(logprob, rank, decoded_token).
    first = {
        1: types.SimpleNamespace(logprob=math.log(0.6), rank=1, decoded_token=slot),
        2: types.SimpleNamespace(logprob=math.log(0.1), rank=2, decoded_token=f" {slot}"),
        3: types.SimpleNamespace(logprob=math.log(0.2), rank=3, decoded_token=other),
        4: types.SimpleNamespace(logprob=math.log(0.1), rank=4, decoded_token="The"),
    }
    samples = [
        types.SimpleNamespace(
            index=k,
            text=f"{slot}]] </answer>" if continued else f"<think>sample {k}</think> <answer> [[{slot}]] </answer>",
            finish_reason="stop",
            token_ids=[0] * (5 + k),
            logprobs=[first] if sampling_params.logprobs else None,
        )
        for k in reversed(range(sampling_params.n))  # vLLM does not promise index order
    ]
    return types.SimpleNamespace(
        request_id=request_id, finished=True, prompt_token_ids=[0] * len(words), outputs=samples
    )


@dataclass
class FakeEngine:
    """Finishes the newest queued request first, one per step; ``die_after`` steps, it raises."""

    queue: list = field(default_factory=list)
    steps: int = 0
    die_after: int | None = None
    aborted: list = field(default_factory=list)
    model_config: object = None

    def has_unfinished_requests(self):
        return bool(self.queue)

    def step(self):
        self.steps += 1
        if self.die_after is not None and self.steps > self.die_after:
            raise RuntimeError("EngineDeadError: EngineCore encountered an issue")
        return [_outputs(*self.queue.pop())] if self.queue else []

    def abort_request(self, ids):
        self.aborted.extend(ids)
        self.queue.clear()


@dataclass
class FakeLLM:
    """Answers ``[[A]]`` or ``[[B]]`` by the prompt's word count; a prompt containing BOOM is refused when queued."""

    kwargs: dict
    calls: list = field(default_factory=list)  # (requests queued, n) per generate call
    modes: list = field(default_factory=list)  # (add_generation_prompt, continue_final_message, logprobs) per kind
    engine: FakeEngine = field(default_factory=FakeEngine)
    counter: int = 0

    def __post_init__(self):
        self.engine.model_config = types.SimpleNamespace(max_model_len=self.kwargs.get("max_model_len", 100_000))

    def get_tokenizer(self):
        return FakeTokenizer()

    @property
    def llm_engine(self):
        return self.engine

    def enqueue_chat(
        self, messages, sampling_params, use_tqdm=False, add_generation_prompt=True, continue_final_message=False
    ):
        mode = (add_generation_prompt, continue_final_message, sampling_params.logprobs)
        if mode not in self.modes:
            self.modes.append(mode)
        text = " ".join(m["content"] for m in messages)
        if "BOOM" in text:
            raise ValueError("the engine rejected a request")
        limit = self.engine.model_config.max_model_len
        if len(text.split()) >= limit:  # as vLLM checks when a request is queued
            raise ValueError(f"This model's maximum context length is {limit} tokens (max_model_len)")
        request_id = str(self.counter)
        self.counter += 1
        self.engine.queue.append((request_id, messages, sampling_params, continue_final_message))
        if not self.calls or self.calls[-1][2] is not sampling_params:
            self.calls.append([0, sampling_params.n, sampling_params])
        self.calls[-1][0] += 1
        return [f"{request_id}-1a2b3c4d"]


def calls(engine: FakeLLM) -> list[tuple[int, int]]:
    """(requests queued, n) per run of queueing with one set of sampling parameters."""
    return [(count, n) for count, n, _params in engine.calls]


@pytest.fixture
def fake_vllm(monkeypatch):
    engines: list[FakeLLM] = []

    def make_llm(**kwargs):
        engines.append(FakeLLM(kwargs))
        return engines[-1]

    module = types.SimpleNamespace(LLM=make_llm, SamplingParams=FakeSamplingParams)
    platforms = types.SimpleNamespace(current_platform=types.SimpleNamespace(device_type="cpu"))
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    return engines


@pytest.fixture
def model_dir(tmp_path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    return folder


def request(text: str) -> Request:
    pair = Pair("p", "b", "s", text, "r1", "r2", 1)
    return Request(Prompt.user(text), pair, "ab", 0)


def test_engine_is_built_with_prefix_caching_and_the_given_options(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir), tensor_parallel_size=4, max_model_len=8192)
    (engine,) = fake_vllm
    assert engine.kwargs["model"] == str(model_dir)
    assert engine.kwargs["tensor_parallel_size"] == 4 and engine.kwargs["max_model_len"] == 8192
    assert engine.kwargs["enable_prefix_caching"] is True
    assert backend.model_revision.startswith("sha256:")


def test_greedy_generates_once_and_sampling_asks_for_n(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir))
    greedy = backend.generate([request("one two"), request("one two three")], Sampling(temperature=0.0), n=3)
    assert calls(fake_vllm[0]) == [(2, 1)]
    assert [len(c) for c in greedy] == [3, 3] and len({c.text for c in greedy[0]}) == 1
    assert greedy[0][0].prompt_tokens == 2 and "[[A]]" in greedy[0][0].text and "[[B]]" in greedy[1][0].text
    sampled = backend.generate([request("one two")], Sampling(temperature=1.0), n=3)
    assert calls(fake_vllm[0])[-1] == (1, 3)
    assert [c.text.split("</think>")[0] for c in sampled[0]] == [f"<think>sample {k}" for k in range(3)]
    assert [c.completion_tokens for c in sampled[0]] == [5, 6, 7]


def test_over_long_prompt_and_failing_request_are_errors_the_rest_is_answered(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir), max_model_len=5)
    prompts = ["a b", "a b c d e f g", "a BOOM", "a b c"]
    out = backend.generate([request(p) for p in prompts], Sampling(temperature=0.0), n=1)
    assert [c[0].finish_reason for c in out] == ["stop", "error", "error", "stop"]
    assert "maximum context length is 5" in out[1][0].error and "rejected" in out[2][0].error
    assert calls(fake_vllm[0]) == [(2, 1)]  # the refused prompts never reached the engine


def test_a_run_through_the_vllm_backend(fake_vllm, model_dir, tmp_path, data_dir):
    config = RunConfig(
        judge=f"vllm:{model_dir}",
        benches=["judgebench"],
        data_dir=data_dir,
        limit=4,
        out=tmp_path / "run",
        progress=False,
    )
    outcome = run(config)
    rows = [json.loads(x) for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
    assert outcome.n_generated == 8 and len(rows) == 8
    assert all(r["verdict"] in ("A", "B") and r["failure"] is None for r in rows)
    assert calls(fake_vllm[0]) == [(8, 1)]  # every prompt queued at once
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["model_revision"].startswith("sha256:")


def test_prefilled_prompts_are_continued_and_return_first_token_probabilities(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir))
    pair = Pair("p", "b", "s", "q", "r1", "r2", 1)
    prefilled = Request(Prompt.user("one two").with_prefill("<answer> [["), pair, "ab", 0)
    out = backend.generate([request("one two three"), prefilled], Sampling(temperature=0.0, max_tokens=1), n=1)
    # A new assistant turn for the plain prompt, a continued one with logprobs for the other.
    assert fake_vllm[0].modes == [(True, False, None), (False, True, 20)]
    assert out[0][0].top_logprobs is None
    top = out[1][0].top_logprobs
    assert top is not None and top["A"] == pytest.approx(math.log(0.6)) and set(top) == {"A", " A", "B", "The"}


def test_a_direct_verdict_run_through_the_vllm_backend_stores_p_a(fake_vllm, model_dir, tmp_path, data_dir):
    config = RunConfig(
        judge=f"vllm:{model_dir}",
        benches=["judgebench"],
        data_dir=data_dir,
        limit=3,
        out=tmp_path / "run",
        format="direct-verdict",
        progress=False,
    )
    outcome = run(config)
    rows = [json.loads(x) for x in (tmp_path / "run" / "judgments.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and fake_vllm[0].modes == [(False, True, 20)]
    for r in rows:
        # the fake gives the winner 0.6 + 0.1 and the other 0.2: p = 0.7 / 0.9
        expected = 0.7 / 0.9 if r["verdict"] == "A" else 0.2 / 0.9
        assert r["p_a"] == pytest.approx(expected) and r["raw"].endswith("]] </answer>")
    assert "order_shift" in outcome.results["judgebench"]["overall"]


def test_every_pending_prompt_goes_to_the_engine_in_one_call(fake_vllm, model_dir, tmp_path, data_dir):
    """Not in chunks of 256: the engine schedules the whole run, so no chunk waits for its longest generation."""
    config = RunConfig(
        judge=f"vllm:{model_dir}", benches=["judgebench"], data_dir=data_dir, limit=150, out=tmp_path, progress=False
    )
    assert run(config).n_generated == 300
    assert calls(fake_vllm[0]) == [(300, 1)]


def test_each_request_is_handed_on_as_it_finishes_in_the_order_the_engine_finishes(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir))
    seen: list[tuple[int, int]] = []
    texts = ["a b", "a b c", "a b c d"]
    backend.generate(
        [request(t) for t in texts],
        Sampling(temperature=0.0),
        on_done=lambda i, comps: seen.append((i, fake_vllm[0].engine.steps)),
    )
    assert seen == [(2, 1), (1, 2), (0, 3)]  # one per engine step, newest first as the fake finishes them


def test_an_engine_that_dies_stores_what_finished_and_stops_the_run(fake_vllm, model_dir, tmp_path, data_dir):
    import j1eval.backends.vllm_backend as vllm_backend

    real = vllm_backend.VLLMBackend.__init__

    def dying(self, *args, **kwargs):
        real(self, *args, **kwargs)
        self.llm.engine.die_after = 3

    vllm_backend.VLLMBackend.__init__ = dying
    try:
        config = RunConfig(
            judge=f"vllm:{model_dir}", benches=["judgebench"], data_dir=data_dir, limit=4, out=tmp_path, progress=False
        )
        with pytest.raises(SetupError, match=r"engine .* died: .*3 of 8 judgments are stored .*resume with"):
            run(config)
    finally:
        vllm_backend.VLLMBackend.__init__ = real
    rows = [json.loads(x) for x in (tmp_path / "judgments.jsonl").read_text().splitlines()]
    assert len(rows) == 8
    assert sum(r["failure"] is None for r in rows) == 3
    assert all("vLLM engine died" in r["error"] for r in rows if r["failure"] is not None)
    outcome = run(config)  # the rerun retries exactly the failed ones on a fresh engine
    assert outcome.n_generated == 5 and calls(fake_vllm[-1]) == [(5, 1)]


def test_cpu_defaults_fit_a_small_machine_and_options_override_them(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir))
    kwargs = fake_vllm[0].kwargs
    assert kwargs["dtype"] == "float32" and kwargs["enable_chunked_prefill"] is False
    assert kwargs["kv_cache_memory_bytes"] == 2 * 2**30 and "gpu_memory_utilization" not in kwargs
    assert backend.engine_info["env"]["VLLM_ENABLE_V1_MULTIPROCESSING"] == "0"
    get_backend_class("vllm")(str(model_dir), dtype="bfloat16", kv_cache_gib=0.5, engine_process=True)
    kwargs = fake_vllm[1].kwargs
    assert kwargs["dtype"] == "bfloat16" and kwargs["kv_cache_memory_bytes"] == 2**29


def test_an_engine_that_cannot_start_is_one_line_naming_the_model(monkeypatch, model_dir):
    def refuse(**kwargs):
        try:
            raise ValueError("KV cache is too small for max_model_len")
        except ValueError as exc:
            raise RuntimeError("Engine core initialization failed") from exc

    module = types.SimpleNamespace(LLM=refuse, SamplingParams=FakeSamplingParams)
    platforms = types.SimpleNamespace(current_platform=types.SimpleNamespace(device_type="cpu"))
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.platforms", platforms)
    with pytest.raises(SetupError, match=r"vLLM could not start model .*model.*KV cache is too small"):
        get_backend_class("vllm")(str(model_dir))
