"""The vLLM backend's TP x DP plan: sizes read from real model folders, plans on given device numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from j1eval.backends.vllm_parallel import (
    KV_SHARE,
    Devices,
    ModelSize,
    architecture_params,
    detect_devices,
    model_size,
    plan_for_model,
    plan_parallel,
)
from j1eval.errors import InputError

GIB = 1024**3

#: The architecture fields of Llama-3.1-8B-Instruct's config.json (8.03B parameters, bfloat16).
LLAMA_8B = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}
#: Llama-3.3-70B-Instruct's (70.6B parameters).
LLAMA_70B = {**LLAMA_8B, "hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64}
LLAMA_70B["num_hidden_layers"] = 80
A100_80 = Devices(8, 80 * GIB, "cuda")


def config_folder(tmp_path: Path, config: dict, name: str = "model") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_architecture_fields_give_the_published_parameter_counts():
    assert architecture_params(LLAMA_8B) == pytest.approx(8.03e9, rel=0.005)
    assert architecture_params(LLAMA_70B) == pytest.approx(70.55e9, rel=0.005)
    # Qwen2.5-7B-Instruct: 7.62B, with its untied embeddings and 28 heads / 4 KV heads.
    qwen = {
        "hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28, "num_hidden_layers": 28,
        "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False,
    }  # fmt: skip
    assert architecture_params(qwen) == pytest.approx(7.62e9, rel=0.01)


def test_safetensors_headers_count_every_parameter_of_the_tiny_model(tiny):
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32)
    stored = {name: t for name, t in model.state_dict().items()}
    size = model_size(tiny)
    assert size.source == "safetensors headers"
    assert size.n_params == sum(t.numel() for t in stored.values()) - _tied(model)
    assert size.bytes_per_param == 4  # the tiny model is saved in float32
    assert model_size(tiny, "bfloat16").bytes_per_param == 2  # loading it in bf16 halves it
    assert size.n_heads == model.config.num_attention_heads


def _tied(model) -> int:
    """Tied embeddings are stored once: the state dict lists the shared tensor twice."""
    return model.lm_head.weight.numel() if model.config.tie_word_embeddings else 0


def test_an_8b_judge_on_eight_80gb_gpus_is_eight_replicas(tmp_path):
    plan = plan_for_model(config_folder(tmp_path, LLAMA_8B), devices=A100_80)
    assert (plan.tp, plan.dp) == (1, 8)
    assert "8.03B parameters" in plan.explanation and "x 2 bytes" in plan.explanation
    assert "80.0 GiB" in plan.explanation and "\n" not in plan.explanation


def test_a_70b_judge_splits_four_ways_and_replicates_twice(tmp_path):
    # 141 GB of bf16 weights; each 80 GB device may hold 80 * 0.9 * 0.7 = 50.4 GiB of weights.
    folder = config_folder(tmp_path, LLAMA_70B)
    plan = plan_for_model(folder, devices=A100_80)
    assert (plan.tp, plan.dp) == (4, 2)
    assert plan_for_model(folder, dtype="float8_e4m3fn", devices=A100_80).tp == 2  # fp8 halves the weights
    assert plan_for_model(folder, data_parallel_size=1, devices=A100_80).as_dict()["data_parallel_size"] == 1
    with pytest.raises(InputError, match="do not fit the 2 cuda device"):
        plan_for_model(folder, devices=Devices(2, 80 * GIB, "cuda"))


def test_given_sizes_are_kept_and_checked():
    size = ModelSize(8_000_000_000, 2, "config.json architecture", n_heads=32)
    assert (plan_parallel(size, A100_80, tensor_parallel_size=2).tp, plan_parallel(size, A100_80, 2).dp) == (2, 4)
    assert plan_parallel(size, A100_80, data_parallel_size=3).as_dict() == {
        "tensor_parallel_size": 1,
        "data_parallel_size": 3,
        "explanation": plan_parallel(size, A100_80, data_parallel_size=3).explanation,
    }
    small = Devices(1, 16 * GIB, "cuda")  # 16 GB of weights on a 16 GB device: kept, with a warning
    assert "may not start" in plan_parallel(size, small, tensor_parallel_size=1).explanation


@pytest.mark.parametrize(
    ("tp", "dp", "message"),
    [
        (None, 9, "data_parallel_size 9: more replicas than devices \\(8 cuda devices visible\\)"),
        (2, 5, "tensor_parallel_size 2 x data_parallel_size 5 = 10 devices, over the 8 cuda device"),
        (16, None, "tensor_parallel_size 16 x data_parallel_size 1 = 16 devices, over the 8"),
        (3, None, "tensor_parallel_size 3 does not divide the model's 32 attention heads"),
        (0, None, "tensor_parallel_size: must be at least 1, got 0"),
    ],
)
def test_plans_that_cannot_work_are_one_line_input_errors(tp, dp, message):
    size = ModelSize(8_000_000_000, 2, "config.json architecture", n_heads=32)
    with pytest.raises(InputError, match=message) as info:
        plan_parallel(size, A100_80, tp, dp)
    assert "\n" not in str(info.value)


def test_the_cpu_is_one_device_and_two_replicas_are_refused_there(tiny):
    cpu = Devices(1, 8 * GIB, "cpu")
    assert (plan_for_model(tiny, devices=cpu).tp, plan_for_model(tiny, devices=cpu).dp) == (1, 1)
    with pytest.raises(InputError, match="more replicas than devices \\(1 cpu device visible\\)"):
        plan_for_model(tiny, data_parallel_size=2, devices=cpu)
    found = detect_devices()  # this machine: its GPUs, or else its CPU with a real memory figure
    assert found.count >= 1 and (found.kind == "cuda" or (found.count == 1 and found.memory_bytes))


def test_headroom_is_the_stated_share():
    budget = 80 * GIB * 0.9 * (1 - KV_SHARE)
    just_fits = ModelSize(int(budget / 2), 2, "safetensors headers")
    just_over = ModelSize(int(budget / 2) + 1000, 2, "safetensors headers")
    assert plan_parallel(just_fits, A100_80).tp == 1
    assert plan_parallel(just_over, A100_80).tp == 2


def test_sizes_without_headers_or_fields_come_from_file_sizes_and_bad_folders_are_named(tmp_path):
    folder = config_folder(tmp_path, {"architectures": ["X"], "torch_dtype": "float16"})
    (folder / "pytorch_model.bin").write_bytes(b"\0" * 2000)
    size = model_size(folder)
    assert (size.n_params, size.source) == (1000, "weight file sizes")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="empty: no config.json"):
        model_size(empty)
    broken = config_folder(tmp_path, {}, "broken")
    (broken / "model.safetensors").write_bytes(b"\x05")
    with pytest.raises(InputError, match="model.safetensors: not a readable safetensors file"):
        model_size(broken)
    with pytest.raises(InputError, match="unknown dtype 'float7'"):
        model_size(config_folder(tmp_path, LLAMA_8B, "llama"), "float7")
