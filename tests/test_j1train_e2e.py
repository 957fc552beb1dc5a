"""The whole loop on CPU: build pairs, train GRPO with j1eval in the loop, plot, and report the evaluations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer
from test_j1train_builder import PROMPTS, generator, read_pairs, write_prompts
from tiny_model import build_tiny_model

from j1eval.cli import main as j1eval_main
from j1train.cli import main as j1train_main


def test_build_train_evaluate_plot_report(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 1. pairs from a generator behind an OpenAI-compatible server, decontaminated against the eval benchmark
    source = write_prompts(tmp_path / "prompts.jsonl", PROMPTS[:3])
    built = tmp_path / "built"
    with FakeOpenAIServer(generator, model="gen") as server:
        argv = ["data", "--prompts", str(source), "--generator", f"openai:gen@{server.url}", "--out", str(built)]
        assert j1train_main([*argv, "--decontaminate", "judgebench", "--data-dir", str(data_dir), "--no-progress"]) == 0
    assert len(read_pairs(built)) == 3

    # 2. two GRPO steps, judged by j1eval after each (JudgeBench slice, both orders)
    out = tmp_path / "out"
    values = {
        "model": str(build_tiny_model(tmp_path / "model")),
        "train_pairs": str(built / "pairs.jsonl"),
        "output_dir": str(out),
        "num_generations": 2,
        "per_device_train_batch_size": 4,  # one pair: 2 orders x 2 rollouts
        "max_completion_length": 6,
        "max_steps": 2,
        "save_steps": 100,
        "eval_benches": ["judgebench"],
        "eval_limit": 2,
        "eval_steps": 1,
        "eval_data_dir": str(data_dir),
    }
    cfg = tmp_path / "config.yaml"
    cfg.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in values.items()) + "\n")
    capsys.readouterr()
    assert j1train_main(["grpo", "--config", str(cfg)]) == 0
    assert "decontamination against judgebench: dropped 0 of 3 training pairs" in capsys.readouterr().out

    history = [json.loads(x) for x in (out / "eval" / "history.jsonl").read_text().splitlines()]
    assert [h["step"] for h in history] == [1, 2]
    for h in history:
        figs = h["benches"]["judgebench"]
        assert figs["n_pairs"] == 2 and figs["n_judgments"] == 4
        assert 0.0 <= figs["acc_consistent"] <= 1.0 and 0.0 <= figs["flip_rate"] <= 1.0
        assert h["rewards"]["reward_step"] == h["step"]  # the step's own rewards beside its figures
        assert {"reward", "rewards/verdict_reward/mean", "rewards/consistency_reward/mean"} <= set(h["rewards"])
    logged = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in logged if "j1eval/judgebench/acc_consistent" in e] == [1, 2]  # through the trainer
    assert (out / "eval" / "training_curves.png").stat().st_size > 0
    assert (out / "eval" / "training_curves.pdf").is_file()
    card = json.loads((out / "final" / "j1train_card.json").read_text())
    assert card["data"]["n_dropped_contaminated"] == 0 and card["data"]["eval_benches"] == ["judgebench"]

    # 3. the plot redrawn from the command line, and the evaluation runs read by `j1eval report`
    (out / "eval" / "training_curves.png").unlink()
    assert j1train_main(["plot", str(out)]) == 0
    assert (out / "eval" / "training_curves.png").is_file()
    runs = sorted(str(p) for p in (out / "eval").glob("step-*"))
    assert len(runs) == 2
    capsys.readouterr()
    assert j1eval_main(["report", *runs, "--out", str(tmp_path / "report")]) == 0
    assert "step-2" in capsys.readouterr().out
