"""End to end on CPU: a tiny model built here trains a few GRPO steps, saves, and j1eval runs the checkpoint."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from j1eval.formats import FORMATS, get_format
from j1train import cli
from j1train.trainer import J1GRPOTrainer, chat_ids

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_model import tiny_pairs, write_pairs_jsonl  # noqa: E402

G = 2


def config(tmp_path: Path, model: Path, **extra: object) -> Path:
    values = {
        "model": str(model),
        "train_pairs": str(write_pairs_jsonl(tmp_path / "pairs.jsonl", tiny_pairs(4))),
        "output_dir": str(tmp_path / "out"),
        "num_generations": G,
        "per_device_train_batch_size": 4,  # one pair: 2 orders x 2 rollouts
        "max_completion_length": 8,
        "max_steps": 2,
        "save_steps": 1,
        "rewards": {"verdict": 1.0, "consistency": 1.0, "format": 0.1},
        **extra,
    }
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in values.items()) + "\n")
    return path


def check_whole_pairs(completions: pd.DataFrame) -> None:
    """Every pair scored in a step has both orders, G rollouts each, all on one process, all rewarded."""
    for (_step, _pair), rows in completions.groupby(["step", "pair_id"]):
        assert sorted(rows["order"]) == ["ab"] * G + ["ba"] * G
        assert rows["process"].nunique() == 1
        assert rows[["verdict_reward", "consistency_reward", "format_reward"]].notna().all().all()


@pytest.mark.slow
def test_train_save_and_evaluate(tmp_path: Path, tiny: Path, data_dir: Path) -> None:
    assert cli.main(["grpo", "--config", str(config(tmp_path, tiny))]) == 0
    out = tmp_path / "out"
    files = sorted((out / "completions").glob("completions_*.parquet"))
    assert len(files) == 2  # one table per step, every rollout kept
    table = pd.concat([pd.read_parquet(f) for f in files])
    check_whole_pairs(table)
    assert table.groupby("step")["pair_id"].nunique().tolist() == [1, 1]

    logs = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    steps = [e for e in logs if "loss" in e]
    assert [e["step"] for e in steps] == [1, 2]
    for key in ("rewards/verdict_reward/mean", "rewards/consistency_reward/mean", "rewards/format_reward/mean"):
        assert all(key in e for e in steps)
    for key in ("j1/consistent_correct", "j1/parse_failure_rate", "completions/mean_length"):
        assert all(key in e for e in steps)

    final = out / "final"
    card = json.loads((final / "j1train_card.json").read_text())
    assert card["steps"] == 2 and card["base_model"] == str(tiny) and card["data"]["n_pairs"] == 4
    assert "consistency" in card["rewards"] and (final / "README.md").is_file()
    assert json.loads((out / "checkpoint-1" / "j1train_card.json").read_text())["steps"] == 1

    from j1eval.cli import main as j1eval_main

    argv = ["run", "--judge", f"hf:{final}", "--bench", "judgebench", "--limit", "1", "--data-dir", str(data_dir)]
    assert j1eval_main([*argv, "--max-tokens", "8", "--out", str(tmp_path / "eval"), "--no-progress"]) == 0
    assert (tmp_path / "eval" / "results.json").is_file()


@pytest.mark.slow
@pytest.mark.skipif("direct-verdict" not in FORMATS.names(), reason="direct-verdict format not in j1eval yet")
def test_prefill_format_with_lora(tmp_path: Path, tiny: Path) -> None:
    cfg = config(
        tmp_path, tiny, format="direct-verdict", max_steps=1, save_steps=100, max_completion_length=4,
        rewards={"verdict": 1.0, "consistency": 1.0}, lora={"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
        learning_rate=1e-3,
    )  # fmt: skip
    assert cli.main(["grpo", "--config", str(cfg)]) == 0
    table = pd.read_parquet(next((tmp_path / "out" / "completions").glob("*.parquet")))
    assert all(p[-1]["role"] == "assistant" and p[-1]["content"] == "<answer> [[" for p in table["prompt"])
    final = tmp_path / "out" / "final"
    assert (final / "config.json").is_file() and not (final / "adapter_config.json").exists()  # merged


def test_prefill_prompt_continues_the_assistant_turn(tiny: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny)
    prompt = get_format("pairwise-verdict").prompts(tiny_pairs(1)[0], "ab")[0].with_prefill("<answer> [[")
    messages = [dict(m) for m in prompt.messages]
    stub = SimpleNamespace(processing_class=tokenizer, chat_template=None, chat_template_kwargs={})
    ids, images, fields = J1GRPOTrainer._tokenize_prompts(stub, [messages, messages])  # type: ignore[arg-type]
    text = tokenizer.decode(ids[0])
    assert text.endswith("<|end|><|assistant|><answer> [[") and images is None and fields == {}
    plain = chat_ids(tokenizer, [dict(m) for m in prompt.conversation])
    assert tokenizer.decode(plain).endswith("<|end|><|assistant|>")
