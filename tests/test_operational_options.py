"""Operational backend options (``Option(operational=True)``) stay out of a judge's identity, so a run resumes.

Every other option is part of the identity: changing it makes the run folder refuse to resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openai_server import FakeOpenAIServer
from tiny_model import build_tiny_model

from j1eval.backends import BACKENDS, Option, get_backend_class, operational_options
from j1eval.errors import InputError
from j1eval.judges import resolve_judge
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run

#: An ad hoc judge of each backend that takes options (no model is loaded to build its identity).
ADHOC = {
    "hf": "hf:org/model",
    "vllm": "vllm:/models/judge",
    "openai": "openai:judge@http://127.0.0.1:9/v1",
    "rm": "rm:org/reward-model",
}


def two_values(key: str, option: Option) -> tuple[Any, Any]:
    """Two different values that ``option`` accepts."""
    if option.kind is bool:
        return True, False
    if option.kind is str:
        if option.url:
            return "http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"
        if option.choices:
            return option.choices[0], option.choices[-1]
        return f"{key}-a", f"{key}-b"
    low = max(option.minimum or 0, option.above or 0)
    if option.maximum is not None:
        return low + (option.maximum - low) / 4, low + (option.maximum - low) / 2
    return option.kind(low + 1), option.kind(low + 2)


def identity(judge: str, options: dict[str, Any]) -> dict[str, Any]:
    return resolve_judge(judge, options=options).identity()


def every_option() -> list[tuple[str, str]]:
    return [(name, key) for name in BACKENDS.names() for key in get_backend_class(name).OPTIONS]


def test_every_backend_with_options_has_an_adhoc_judge_here():
    with_options = {name for name in BACKENDS.names() if get_backend_class(name).OPTIONS}
    assert with_options == set(ADHOC)


@pytest.mark.parametrize(("name", "key"), every_option())
def test_an_option_is_in_the_identity_unless_operational(name, key):
    option = get_backend_class(name).OPTIONS[key]
    first, second = two_values(key, option)
    assert first != second
    base = identity(ADHOC[name], {})
    one, other = identity(ADHOC[name], {key: first}), identity(ADHOC[name], {key: second})
    if option.operational:
        assert one == other == base
        assert key not in one["options"]
    else:
        assert one != other and one != base and other != base
        assert one["options"][key] == first


def test_the_vllm_options_that_change_answers_are_exactly_dtype_max_model_len_and_seed():
    judge = "vllm:/models/judge"
    base = identity(judge, {})
    assert identity(judge, {"keep_engine": True, "data_parallel_size": 4, "tensor_parallel_size": 2}) == base
    for key, value in [("dtype", "bfloat16"), ("max_model_len", 2048), ("seed", 7)]:
        assert identity(judge, {key: value}) != base, key
    assert set(get_backend_class("vllm").OPTIONS) - operational_options("vllm") == {"dtype", "max_model_len", "seed"}


def test_the_identity_keeps_the_keys_runs_were_written_with():
    """The identity of existing run folders, byte for byte: only non-operational options are under ``options``."""
    spec = resolve_judge("vllm:/models/judge", options={"dtype": "bfloat16", "tensor_parallel_size": 2})
    assert spec.identity() == {
        "name": "vllm:/models/judge",
        "backend": "vllm",
        "model": "/models/judge",
        "format": "pairwise-verdict",
        "sampling": spec.sampling.as_dict(),
        "options": {"dtype": "bfloat16"},
    }
    assert resolve_judge("j1-8b", model="/ckpt").identity()["options"] == {}  # tensor_parallel_size: 1
    assert resolve_judge("smollm2-135m").identity()["options"] == {}  # batch_size: 4
    assert identity(ADHOC["openai"], {})["options"] == {}  # base_url, from the judge name


def config(judge: str, data_dir: Path, out: Path, options: dict[str, Any], **kw: Any) -> RunConfig:
    return RunConfig(judge=judge, benches=["judgebench"], data_dir=data_dir, out=out, limit=2, progress=False,
                     n_boot=20, backend_options=options, **kw)  # fmt: skip


def test_an_openai_run_resumes_after_every_operational_option_changes(tmp_path, data_dir):
    out = tmp_path / "run"
    with FakeOpenAIServer(model="judge") as server:
        judge = f"openai:judge@{server.url}"
        first = run(config(judge, data_dir, out, {}))
        assert first.n_generated == 4
        calls = sum(server.calls.values())
        changed: dict[str, Any] = {}
        for key, option in get_backend_class("openai").OPTIONS.items():
            assert option.operational, key
            changed[key] = two_values(key, option)[1]  # base_url: a port where nothing listens
            again = run(config(judge, data_dir, out, {key: changed[key]}))
            assert (again.n_generated, again.n_cached) == (0, 4), key
        again = run(config(judge, data_dir, out, changed))
        assert (again.n_generated, again.n_cached) == (0, 4)
        assert again.results == first.results
        assert sum(server.calls.values()) == calls  # nothing was sent again


def test_an_hf_run_resumes_after_batch_size_and_refuses_after_dtype_or_device(tmp_path, data_dir):
    model = build_tiny_model(tmp_path / "model")
    judge, out = f"hf:{model}", tmp_path / "run"
    first = run(config(judge, data_dir, out, {"batch_size": 2}, max_tokens=4))
    assert first.n_generated == 4
    assert operational_options("hf") == {"batch_size"}
    again = run(config(judge, data_dir, out, {"batch_size": 1}, max_tokens=4))
    assert (again.n_generated, again.n_cached) == (0, 4)
    for key, value in [("dtype", "bfloat16"), ("device", "cpu")]:
        with pytest.raises(InputError, match="another set-up"):
            run(config(judge, data_dir, out, {"batch_size": 2, key: value}, max_tokens=4))
