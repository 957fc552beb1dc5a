"""j1train with TRL's vLLM generation: what a CPU machine can and cannot do (see the README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tiny_model import build_tiny_model

from j1train.cli import main


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without a GPU")
def test_colocated_vllm_on_a_cpu_is_one_line_before_any_model_loads(tmp_path: Path, capsys) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"prompt": f"{i}+{i}?", "chosen": str(2 * i), "rejected": "0"}) + "\n"
                             for i in range(1, 4)))  # fmt: skip
    values = {
        "model": str(build_tiny_model(tmp_path / "model")),
        "train_pairs": str(pairs),
        "output_dir": str(tmp_path / "out"),
        "num_generations": 2,
        "per_device_train_batch_size": 4,
        "max_steps": 1,
        "use_vllm": True,
        "vllm_mode": "colocate",
    }
    config = tmp_path / "config.yaml"
    config.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items()))
    for extra in (["--check"], []):
        capsys.readouterr()
        assert main(["grpo", "--config", str(config), *extra]) == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and "use_vllm" in lines[0] and "needs a CUDA GPU" in lines[0], err
    assert not (tmp_path / "out").exists()
    values["vllm_mode"] = "server"  # a CPU trainer may talk to `trl vllm-serve` on GPUs elsewhere
    config.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in values.items()))
    assert main(["grpo", "--config", str(config), "--check"]) == 0
