"""Direct verdicts over HTTP against the local OpenAI-compatible test server: prefill, logprobs, fallbacks."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer

from j1eval.backends import Request, get_backend_class
from j1eval.cli import main
from j1eval.errors import SetupError
from j1eval.formats import get_format
from j1eval.formats.direct_verdict import PREFILL
from j1eval.types import Pair, Prompt, Sampling

FMT = get_format("direct-verdict")


def p_a_of(prompt: str) -> float:
    """The test judge's P(A): a number from the prompt's hash, away from 0.5."""
    byte = hashlib.sha256(prompt.encode()).digest()[0]
    return 0.1 + 0.8 * byte / 255 if byte != 127 else 0.3


def first_logprobs(prompt: str) -> dict[str, float]:
    """Top tokens as a model gives them: A's mass split over two tokenisations, 10% on neither."""
    p = p_a_of(prompt) * 0.9
    q = 0.9 - p
    return {"A": math.log(p * 0.8), " A": math.log(p * 0.2), "B": math.log(q), "The": math.log(0.1)}


def continuation(prompt: str, sample: int, body: dict) -> str:
    return ("A" if p_a_of(prompt) > 0.5 else "B") + "]] </answer>"


def rows_of(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text().splitlines() if x.strip()]


def make_tokenizer(folder: Path) -> Path:
    """A small word-level tokenizer with a chat template, saved as a transformers folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "<|im_start|>": 1, "<|im_end|>": 2}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="<|im_end|>")
    fast.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
        "{% if not loop.last or m['role'] != 'assistant' %}<|im_end|>\n{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    fast.save_pretrained(folder)
    return folder


def run_cli(judge: str, out: Path, data_dir: Path, *extra: str) -> int:
    return main(
        ["run", "--judge", judge, "--bench", "judgebench", "--limit", "3", "--data-dir", str(data_dir),
         "--out", str(out), "--no-progress", *extra]
    )  # fmt: skip


def test_vllm_like_server_continues_the_prefill_and_gives_p_a(tmp_path, data_dir, capsys):
    server = FakeOpenAIServer(continuation, model="judge", owned_by="vllm", first_logprobs=first_logprobs)
    with server:
        assert run_cli(f"openai:judge@{server.url}", tmp_path, data_dir, "--format", "direct-verdict") == 0
    body = server.bodies[0]
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["max_tokens"] == 1
    assert body["messages"][-1] == {"role": "assistant", "content": PREFILL}
    rows = rows_of(tmp_path)
    assert len(rows) == 6
    for r in rows:
        assert 0 < r["p_a"] < 1 and r["verdict"] == ("A" if r["p_a"] > 0.5 else "B")
        assert r["verdict"] == max(r["choice_probs"], key=r["choice_probs"].get)  # argmax of what is stored
    # The server's P(A) comes back exactly: A's two tokens add up, "The" is left out.
    sent = {FakeOpenAIServer.prompt_of(b) for b in server.bodies}
    assert sorted(round(r["p_a"], 9) for r in rows) == sorted(round(p_a_of(p), 9) for p in sent)
    assert "order shift" in capsys.readouterr().out


def test_completions_route_renders_the_chat_template_here(tmp_path, data_dir):
    tokenizer = make_tokenizer(tmp_path / "tok")
    server = FakeOpenAIServer(continuation, model="judge", first_logprobs=first_logprobs)  # not vLLM, not SGLang
    with server:
        code = run_cli(
            f"openai:judge@{server.url}", tmp_path / "run", data_dir, "--format", "direct-verdict",
            "--backend-option", f"tokenizer={tokenizer}",
        )  # fmt: skip
    assert code == 0
    body = server.bodies[0]
    assert "messages" not in body and body["logprobs"] == 20
    assert body["prompt"].endswith("<|im_start|>assistant\n" + PREFILL)  # the opened turn, not a new one
    assert all(0 < r["p_a"] < 1 for r in rows_of(tmp_path / "run"))


def test_server_that_cannot_prefill_is_one_line_before_any_request(tmp_path, data_dir, capsys):
    with FakeOpenAIServer(continuation, model="judge") as server:
        code = run_cli(f"openai:judge@{server.url}", tmp_path, data_dir, "--format", "direct-verdict")
    assert code == 1 and not server.bodies
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tokenizer=PATH" in err[0] and "prefill=chat" in err[0]


def test_server_without_logprobs_gives_text_verdicts_said_once(tmp_path, data_dir, capsys):
    with FakeOpenAIServer(continuation, model="judge", owned_by="sglang") as server:  # no first_logprobs
        assert run_cli(f"openai:judge@{server.url}", tmp_path, data_dir, "--format", "direct-verdict") == 0
    rows = rows_of(tmp_path)
    assert all(r["p_a"] is None and r["verdict"] in ("A", "B") for r in rows)
    out = capsys.readouterr().out
    assert out.count("have no p_a") == 1 and "6 judgments have no p_a" in out
    assert "order shift" not in out  # no probability figures without probabilities


def test_a_server_that_ignores_n_gets_one_request_per_sample():
    with FakeOpenAIServer(lambda p, k, b: f"<answer> [[{'AB'[b['seed'] % 2]}]] </answer>", honour_n=False) as server:
        backend = get_backend_class("openai")("judge", base_url=server.url, backoff_s=0.01)
        pair = Pair("p", "b", "s", "q", "r1", "r2", 1)
        request = Request(Prompt.user("which?"), pair, "ab", 0)
        out = backend.generate([request], Sampling(temperature=1.0, seed=10), n=3)
        backend.close()
    assert [c.text for c in out[0]] == [
        "<answer> [[A]] </answer>",
        "<answer> [[B]] </answer>",
        "<answer> [[A]] </answer>",
    ]
    assert [b["n"] for b in server.bodies] == [3, 1, 1, 1]  # asked once for 3, then one by one
    assert [b["seed"] for b in server.bodies[1:]] == [10, 11, 12]


def test_bad_prefill_option_is_a_setup_error():
    with pytest.raises(SetupError, match="prefill must be one of"):
        get_backend_class("openai")("judge", base_url="http://127.0.0.1:9/v1", prefill="sometimes")
