"""j1eval's side of the vLLM contract, against a stand-in ``vllm`` module.

The real engine needs a CUDA GPU, which CI machines do not have; ``scripts/gpu_check.sh``
runs the real path on a GPU machine. These tests inject a small fake of the three vLLM
APIs the backend uses (``LLM``, ``LLM.chat``, ``SamplingParams``) to check what j1eval sends
and how it maps what comes back: greedy samples, n samples, over-long prompts, a failing
request isolated from the rest, and a whole run through the runner.
"""

from __future__ import annotations

import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from j1eval.backends import Request, get_backend_class
from j1eval.runner import RunConfig, run
from j1eval.types import Pair, Prompt, Sampling


@dataclass
class FakeSamplingParams:
    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 16
    seed: int | None = None


class FakeTokenizer:
    """Whitespace tokens; the chat template joins the messages' contents."""

    def apply_chat_template(self, messages, add_generation_prompt=True, tokenize=False):
        return " ".join(m["content"] for m in messages)

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": text.split()}


@dataclass
class FakeLLM:
    """Answers ``[[A]]`` or ``[[B]]`` by the prompt's word count; a prompt containing BOOM fails the call."""

    kwargs: dict
    calls: list = field(default_factory=list)

    def get_tokenizer(self):
        return FakeTokenizer()

    @property
    def llm_engine(self):
        config = types.SimpleNamespace(max_model_len=self.kwargs.get("max_model_len", 100_000))
        return types.SimpleNamespace(model_config=config)

    def chat(self, conversations, sampling_params, use_tqdm=False):
        self.calls.append((len(conversations), sampling_params.n))
        outputs = []
        for messages in conversations:
            text = " ".join(m["content"] for m in messages)
            if "BOOM" in text:
                raise ValueError("the engine rejected a request")
            words = text.split()
            slot = "A" if len(words) % 2 == 0 else "B"
            samples = [
                types.SimpleNamespace(
                    index=k,
                    text=f"<think>sample {k}</think> <answer> [[{slot}]] </answer>",
                    finish_reason="stop",
                    token_ids=[0] * (5 + k),
                )
                for k in reversed(range(sampling_params.n))  # vLLM does not promise index order
            ]
            outputs.append(types.SimpleNamespace(prompt_token_ids=[0] * len(words), outputs=samples))
        return outputs


@pytest.fixture
def fake_vllm(monkeypatch):
    engines: list[FakeLLM] = []

    def make_llm(**kwargs):
        engines.append(FakeLLM(kwargs))
        return engines[-1]

    module = types.SimpleNamespace(LLM=make_llm, SamplingParams=FakeSamplingParams)
    monkeypatch.setitem(sys.modules, "vllm", module)
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
    assert fake_vllm[0].calls == [(2, 1)]
    assert [len(c) for c in greedy] == [3, 3] and len({c.text for c in greedy[0]}) == 1
    assert greedy[0][0].prompt_tokens == 2 and "[[A]]" in greedy[0][0].text and "[[B]]" in greedy[1][0].text
    sampled = backend.generate([request("one two")], Sampling(temperature=1.0), n=3)
    assert fake_vllm[0].calls[-1] == (1, 3)
    assert [c.text.split("</think>")[0] for c in sampled[0]] == [f"<think>sample {k}" for k in range(3)]
    assert [c.completion_tokens for c in sampled[0]] == [5, 6, 7]


def test_over_long_prompt_and_failing_request_are_errors_the_rest_is_answered(fake_vllm, model_dir):
    backend = get_backend_class("vllm")(str(model_dir), max_model_len=5)
    prompts = ["a b", "a b c d e f g", "a BOOM", "a b c"]
    out = backend.generate([request(p) for p in prompts], Sampling(temperature=0.0), n=1)
    assert [c[0].finish_reason for c in out] == ["stop", "error", "error", "stop"]
    assert "max_model_len is 5" in out[1][0].error and "rejected" in out[2][0].error
    assert all(n == 1 for _, n in fake_vllm[0].calls)  # the over-long prompt was never sent


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
    assert fake_vllm[0].calls == [(8, 1)]  # every prompt in one engine call
    assert json.loads((tmp_path / "run" / "manifest.json").read_text())["model_revision"].startswith("sha256:")
