"""Evaluation in the loop: a real tiny Trainer whose checkpoints j1eval judges on JudgeBench, both orders."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from tiny_model import build_tiny_model

from j1eval.cli import main as j1eval_main
from j1eval.errors import InputError, SetupError
from j1train.config import J1GRPOConfig, config_from_dict, load_config
from j1train.eval_loop import (
    EvalCallback,
    figures_of,
    mean_figures,
    plot_main,
    plot_training,
    reward_means,
    validate_eval_benches,
)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def config(out: Path, data_dir: Path | None, **over) -> J1GRPOConfig:
    base = dict(
        model="tiny",
        train_pairs="pairs.jsonl",
        output_dir=str(out),
        eval_benches=["judgebench"],
        eval_limit=2,
        eval_steps=2,
        eval_data_dir=str(data_dir) if data_dir else None,
        max_completion_length=4,
        seed=0,
    )
    return config_from_dict({**base, **over})


class Tokens(torch.utils.data.Dataset):
    def __init__(self, tokenizer, n: int = 8) -> None:
        self.rows = [tokenizer(f"the judge reads answer {i} [[A]]")["input_ids"][:8] for i in range(n)]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        ids = torch.tensor((self.rows[i] + [0] * 8)[:8])
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}


def test_trainer_checkpoints_are_judged_in_both_orders_and_plotted(tmp_path, data_dir, tiny_model_dir, capsys):
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    class RewardTrainer(Trainer):
        """Logs a reward beside the loss, as GRPO does."""

        def log(self, logs, start_time=None):
            if "loss" in logs:
                logs["reward"] = 0.1 * self.state.global_step
                logs["rewards/verdict/mean"] = 0.1 * self.state.global_step
            super().log(logs, start_time)

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    out = tmp_path / "train"
    callback = EvalCallback(config(out, data_dir))
    args = TrainingArguments(
        output_dir=str(out),
        max_steps=3,
        per_device_train_batch_size=2,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = RewardTrainer(
        model=model, args=args, train_dataset=Tokens(tokenizer), processing_class=tokenizer, callbacks=[callback]
    )
    callback.attach(trainer)
    trainer.train()

    history = [json.loads(x) for x in (out / "eval" / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [2, 3]  # every 2 steps, and at the end
    for h in history:
        figs = h["benches"]["judgebench"]
        assert figs["n_pairs"] == 2 and figs["n_judgments"] == 4  # 2 pairs x both orders
        for key in ("acc_ab", "acc_ba", "acc_consistent", "flip_rate"):
            assert 0.0 <= figs[key] <= 1.0 and len(figs["ci"][key]) == 2
        assert h["rewards"]["reward"] == pytest.approx(0.1 * h["step"])  # logged at the evaluated step
        assert h["rewards"]["reward_step"] == h["step"]
        run_dir = Path(h["run_dir"])
        rows = [json.loads(x) for x in (run_dir / "judgments.jsonl").read_text().splitlines()]
        assert sorted(r["order"] for r in rows) == ["ab", "ab", "ba", "ba"]
        assert all(r["completion_tokens"] <= 4 for r in rows)
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["order"] == "both" and manifest["judge"].endswith(f"step-{h['step']}/model")
        assert not (run_dir / "model").exists()  # the weights are deleted once judged
    logged = [e for e in trainer.state.log_history if "j1eval/acc_consistent" in e]
    assert [e["step"] for e in logged] == [2, 3] and "j1eval/judgebench/flip_rate" in logged[0]
    assert [e["step"] for e in trainer.state.log_history if "loss" in e] == [1, 2, 3]  # no training log lost
    rewards = [json.loads(x) for x in (out / "eval" / "rewards.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rewards] == [1, 2, 3]
    assert (out / "eval" / "training_curves.png").stat().st_size > 0 and (out / "eval" / "training_curves.pdf").exists()

    # the evaluation runs are ordinary run directories for `j1eval report`
    capsys.readouterr()
    assert j1eval_main(["report", str(out / "eval" / "step-2"), str(out / "eval" / "step-3")]) == 0
    assert "step-3" in capsys.readouterr().out

    # a resumed training does not evaluate a step twice
    again = EvalCallback(config(out, data_dir))
    assert again.evaluated == {2, 3}


def test_missing_or_unknown_eval_benchmark_fails_before_training(tmp_path):
    state, control = SimpleNamespace(global_step=0), SimpleNamespace()
    callback = EvalCallback(config(tmp_path, tmp_path / "no-data", eval_benches=["ppe"]))
    with pytest.raises(SetupError) as err:
        callback.on_train_begin(None, state, control)
    assert str(err.value).startswith("evaluation benchmark 'ppe' is not installed:") and "\n" not in str(err.value)
    with pytest.raises(InputError, match="unknown benchmark 'judgebnch'"):
        validate_eval_benches(["judgebnch"], None)
    assert validate_eval_benches([], None) == []


def test_figures_rewards_and_plot_from_a_written_history(tmp_path, capsys):
    results = {
        "judgebench": {
            "overall": {
                "n_pairs": 4,
                "acc_ab": 0.5,
                "acc_ba": 0.25,
                "acc_consistent": 0.25,
                "flip_rate": 0.5,
                "slot_a_rate": 0.75,
                "order_shift": 0.3,
                "mean_p_a": None,
                "ci": {"acc_ab": [0.1, 0.9], "order_shift": [0.1, 0.5]},
            }
        },
        "rewardbench": {"overall": {"acc_consistent": 0.75, "flip_rate": 0.0, "ci": {}}},
    }
    figs = figures_of(results)
    assert figs["judgebench"]["order_shift"] == 0.3 and "mean_p_a" not in figs["judgebench"]
    assert figs["judgebench"]["ci"] == {"acc_ab": [0.1, 0.9], "order_shift": [0.1, 0.5]}
    assert mean_figures(figs)["acc_consistent"] == pytest.approx(0.5)
    history = [{"loss": 1.0, "step": 1}, {"reward": 0.2, "rewards/a/mean": 0.2, "step": 2}, {"loss": 0.9, "step": 3}]
    assert reward_means(history) == {"reward": 0.2, "rewards/a/mean": 0.2, "reward_step": 2}

    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    with open(eval_dir / "history.jsonl", "w") as fh:
        for step, acc in [(10, 0.2), (20, 0.4), (20, 0.45)]:  # step 20 twice: the latest row counts
            row = {"step": step, "benches": {"judgebench": {"acc_consistent": acc, "flip_rate": 0.3, "ci": {}}}}
            fh.write(json.dumps({**row, "rewards": {"reward": acc}}) + "\n")
    png = plot_training(tmp_path)
    assert png == eval_dir / "training_curves.png" and png.stat().st_size > 0
    assert plot_main(SimpleNamespace(output_dir=tmp_path)) == 0
    assert plot_main(SimpleNamespace(output_dir=tmp_path / "empty")) == 2
    assert "nothing to plot" in capsys.readouterr().err


def test_a_lora_model_is_saved_merged_and_loadable(tmp_path, tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj"], task_type="CAUSAL_LM"))
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    folder = EvalCallback(config(tmp_path, None)).save_model(lora, tokenizer, tmp_path / "saved")
    assert not (folder / "adapter_config.json").exists() and (folder / "config.json").exists()
    reloaded = AutoModelForCausalLM.from_pretrained(folder)
    assert not any("lora" in name for name, _ in reloaded.named_parameters())
    assert hasattr(lora, "peft_config")  # the training model is left as it was


def write_yaml(path: Path, extra: str) -> Path:
    path.write_text(f"model: tiny\ntrain_pairs: pairs.jsonl\noutput_dir: {path.parent / 'out'}\n{extra}", "utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "attribute", "expected"),
    [
        ("eval_backend: vllm\n", "backend", "vllm"),
        ("eval_backend_options: {batch_size: 8, device: cpu}\n", "backend_options", {"batch_size": 8, "device": "cpu"}),
        ("eval_keep_models: true\n", "keep_models", True),
        ("format: direct-verdict\n", "format", "direct-verdict"),
    ],
)
def test_each_eval_key_of_a_yaml_config_reaches_the_callback(tmp_path, text, attribute, expected):
    callback = EvalCallback(load_config(write_yaml(tmp_path / "train.yaml", text)))
    assert getattr(callback, attribute) == expected


def test_the_eval_backend_defaults_to_hf_without_options(tmp_path):
    callback = EvalCallback(load_config(write_yaml(tmp_path / "train.yaml", "")))
    assert (callback.backend, callback.backend_options, callback.keep_models) == ("hf", {}, False)


def test_vllm_options_in_the_config_are_checked_in_their_types(tmp_path):
    text = "eval_backend: vllm\neval_backend_options:\n  max_model_len: 2048\n  gpu_memory_utilization: 1\n"
    loaded = load_config(write_yaml(tmp_path / "train.yaml", text))
    assert loaded.eval_backend_options == {"max_model_len": 2048, "gpu_memory_utilization": 1.0}
    assert isinstance(loaded.eval_backend_options["gpu_memory_utilization"], float)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eval_backend: hff\n", "field 'eval_backend': expected one of hf, vllm, got 'hff'"),
        ("eval_backend: openai\n", "field 'eval_backend': expected one of hf, vllm, got 'openai'"),
        ("eval_backend_options: {batch_sise: 2}\n", "field 'eval_backend_options.batch_sise': the hf backend has no"),
        ("eval_backend_options: {batch_size: 0}\n", "field 'eval_backend_options.batch_size': must be at least 1"),
        ("eval_backend: vllm\neval_backend_options: {batch_size: 2}\n", "'eval_backend_options.batch_size'"),
        ("eval_backend_options: [batch_size]\n", "field 'eval_backend_options': expected a mapping"),
    ],
)
def test_a_bad_eval_backend_key_is_one_line_naming_file_and_field(tmp_path, text, message):
    path = write_yaml(tmp_path / "train.yaml", text)
    with pytest.raises(InputError) as caught:
        load_config(path)
    line = str(caught.value)
    assert "\n" not in line and line.startswith(str(path)) and message in line


def test_the_callback_runs_j1eval_with_the_configured_backend_and_options(tmp_path, tiny_model_dir, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import j1train.eval_loop as eval_loop
    from j1eval.judging.runner import RunOutcome

    seen: list[Any] = []

    def fake_run(run_config):
        seen.append(run_config)
        return RunOutcome(out_dir=run_config.out, results={}, n_generated=0, n_cached=0)

    monkeypatch.setattr(eval_loop, "run", fake_run)
    cfg = config(tmp_path, None, eval_backend_options={"batch_size": 3}, format="direct-verdict")
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    EvalCallback(cfg).evaluate(SimpleNamespace(global_step=2, log_history=[]), model, tokenizer)
    (run_config,) = seen
    assert run_config.judge.startswith("hf:") and run_config.judge.endswith("step-2/model")
    assert run_config.backend_options == {"batch_size": 3}
    assert (run_config.format, run_config.max_tokens) == ("direct-verdict", 4)
    assert not (tmp_path / "eval" / "step-2" / "model").exists()  # eval_keep_models: false
