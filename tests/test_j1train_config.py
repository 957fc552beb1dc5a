"""Config, data sources, the pair-aware sampler, and bad input ending in one line before any model loads."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import j1train.trainer
from j1eval.errors import InputError
from j1eval.formats import get_format
from j1train import cli
from j1train.config import J1GRPOConfig, config_from_dict, load_config
from j1train.data import build_rows, load_training_pairs
from j1train.sampler import BatchPlan, PairRepeatSampler, check_batch_sizes

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "j1train" / "configs"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_model import tiny_pairs, write_pairs_jsonl  # noqa: E402


@pytest.fixture
def pairs_file(tmp_path: Path) -> Path:
    return write_pairs_jsonl(tmp_path / "pairs.jsonl", tiny_pairs(4))


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")  # enough for the checks; loading it would fail
    return folder


def write_yaml(path: Path, **values: object) -> Path:
    path.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in values.items()) + "\n")
    return path


def test_defaults_are_the_j1_recipe() -> None:
    c = J1GRPOConfig(model="m", train_pairs="p.jsonl")
    assert (c.num_generations, c.temperature, c.learning_rate, c.beta) == (5, 1.0, 1e-6, 0.01)
    assert (c.max_prompt_length, c.max_completion_length) == (4096, 4096)
    assert c.rewards == {"verdict": 1.0, "consistency": 1.0, "format": 0.0}
    assert c.format == "pairwise-verdict" and c.consistency_match == "index"
    assert c.eval_benches == [] and c.eval_limit is None and c.eval_steps is None
    assert c.decontaminate_against is None and c.decontam_benches == []


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIGS.glob("*.*ml")))
def test_example_configs_parse(name: str) -> None:
    config = load_config(CONFIGS / name)
    assert config.model and config.train_pairs


@pytest.mark.parametrize("name", ["zero3.yaml", "fsdp.yaml"])
def test_accelerate_configs_parse(name: str) -> None:
    from accelerate.commands.config.config_args import ClusterConfig

    config = ClusterConfig.from_yaml_file(str(CONFIGS / "accelerate" / name))
    assert config.num_processes >= 2


def test_unknown_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="field 'learning_rat'"):
        config_from_dict({"model": "m", "train_pairs": "p", "learning_rat": 1.0})
    toml = tmp_path / "c.toml"
    toml.write_text('model = "m"\ntrain_pairs = "p"\nbogus = 1\n')
    with pytest.raises(InputError, match=r"c\.toml, field 'bogus': unknown key"):
        load_config(toml)
    with pytest.raises(InputError, match="lora.rank"):
        config_from_dict({"model": "m", "train_pairs": "p", "lora": {"rank": 8}})
    with pytest.raises(InputError, match="unknown reward 'style'"):
        config_from_dict({"model": "m", "train_pairs": "p", "rewards": ["verdict", "style"]})


def test_cpu_arguments_have_no_bf16(pairs_file: Path) -> None:
    from j1train.trainer import grpo_arguments

    c = J1GRPOConfig(model="m", train_pairs=str(pairs_file), output_dir="/tmp/x", precision="auto")
    args = grpo_arguments(c)
    assert not args.bf16 and not args.fp16 and args.beta == 0.01 and args.log_completions
    assert args.reward_weights == [1.0, 1.0, 0.0]
    with pytest.raises(InputError, match="trl.not_a_field"):
        grpo_arguments(J1GRPOConfig(model="m", train_pairs="p", trl={"not_a_field": 1}))


def test_file_sources(tmp_path: Path, pairs_file: Path) -> None:
    assert [p.label for p in load_training_pairs(str(pairs_file))] == [1, 2, 1, 2]
    cr = tmp_path / "cr.jsonl"
    cr.write_text(json.dumps({"prompt": "q", "chosen": "good", "rejected": "bad"}) + "\n")
    (pair,) = load_training_pairs(str(cr))
    assert (pair.response_1, pair.label, pair.pair_id) == ("good", 1, "row-0")
    import pandas as pd

    pq = tmp_path / "pairs.parquet"
    pd.DataFrame([{"prompt": "q", "response_1": "x", "response_2": "y", "label": 2}]).to_parquet(pq)
    assert load_training_pairs(str(pq))[0].label == 2


def test_bad_records_name_file_record_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "q", "response_1": "a", "label": 1}) + "\n")
    with pytest.raises(InputError, match=r"bad\.jsonl, record line 1, field 'response_2': missing"):
        load_training_pairs(str(bad))
    bad.write_text(json.dumps({"prompt": "q", "response_1": "a", "response_2": "b", "label": 3}) + "\n")
    with pytest.raises(InputError, match="field 'label'"):
        load_training_pairs(str(bad))


def test_bench_source_with_subset_filter(shared_data: Path) -> None:
    pairs = load_training_pairs("bench:judgebench", subsets=["math"], limit=3, data_dir=shared_data)
    assert len(pairs) == 3 and {p.subset for p in pairs} == {"math"}
    with pytest.raises(InputError, match="subset 'nope'"):
        load_training_pairs("bench:judgebench", subsets=["nope"], data_dir=shared_data)
    with pytest.raises(InputError, match="unknown benchmark"):
        load_training_pairs("bench:nonesuch")


def test_ste_source_is_delegated(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("j1train.ste") is None:
        pytest.skip("j1train.ste not written yet")
    import j1train.ste

    monkeypatch.setattr(j1train.ste, "load_ste_pairs", lambda path: tiny_pairs(2) if path == "x.jsonl" else [])
    assert len(load_training_pairs("ste:x.jsonl")) == 2


def test_rows_keep_both_orders_and_prefill() -> None:
    from j1eval.formats import get_format

    fmt = get_format("pairwise-verdict")
    rows, _ = build_rows(tiny_pairs(2), fmt, 16)
    assert [(r["pair_id"], r["order"]) for r in rows] == [("p0", "ab"), ("p0", "ba"), ("p1", "ab"), ("p1", "ba")]
    pointwise, _ = build_rows(tiny_pairs(1), get_format("pointwise"), 16)
    assert [r["part"] for r in pointwise] == [0, 1]
    dropped = build_rows(tiny_pairs(3), fmt, 16, prompt_length=lambda m: 10**6, max_prompt_length=4096)
    assert dropped == ([], 3)


def shard(indices: list[int], local: int, processes: int) -> list[list[list[int]]]:
    """What accelerate's BatchSamplerShard hands each process: local batches, round robin."""
    batches = [indices[i : i + local] for i in range(0, len(indices), local)]
    return [batches[p::processes] for p in range(processes)]


@pytest.mark.parametrize(("per_device", "steps", "processes"), [(4, 1, 1), (4, 2, 2), (8, 1, 2), (2, 4, 3)])
def test_sampler_keeps_pairs_whole_per_process(per_device: int, steps: int, processes: int) -> None:
    g = 2
    pair_ids = [f"p{i // 2}" for i in range(2 * 12)]  # 12 pairs, rows ab, ba
    plan = BatchPlan(per_device, steps, processes, g)
    check_batch_sizes(plan, 12)
    sampler = PairRepeatSampler(pair_ids, g, plan.pairs_per_generation, repeat_count=steps, seed=1)
    indices = list(sampler)
    assert len(indices) == len(sampler)
    for batches in shard(indices, plan.local_generation_batch, processes):
        for batch in batches:
            counts: dict[int, int] = {}
            for i in batch:
                counts[i] = counts.get(i, 0) + 1
            assert all(c == g for c in counts.values())
            assert all(counts.get(i ^ 1) == g for i in counts)  # the other order of the same pair is here too
    firsts = indices[:: plan.local_generation_batch * processes * steps]
    assert len(set(firsts)) == len(firsts)  # each generation batch brings new pairs


def test_eval_sampler_pads_with_whole_pairs() -> None:
    sampler = PairRepeatSampler([f"p{i // 2}" for i in range(10)], 3, pairs_per_batch=2, pad=True)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 6 * 2 * 3
    assert sorted(set(indices)) == list(range(10))


def test_batch_sizes_that_split_pairs_are_rejected() -> None:
    with pytest.raises(InputError, match="cannot hold whole pairs.*multiple of 10"):
        check_batch_sizes(BatchPlan(per_device_batch=5, steps_per_generation=1, num_processes=1, num_generations=5))
    with pytest.raises(InputError, match="cannot fill one generation batch"):
        check_batch_sizes(BatchPlan(10, 1, 4, 5), n_pairs=3)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    import j1train.trainer

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model was about to load")

    monkeypatch.setattr(j1train.trainer, "build_trainer", no_model)
    code = cli.main(argv)
    return code, capsys.readouterr().err


BAD_INPUTS = {
    "unknown key": ({"learning_rat": 1e-6}, "field 'learning_rat': unknown key"),
    "missing model": ({"model": "./no/such/model"}, "field 'model': model folder './no/such/model' does not exist"),
    "bad data": ({"train_pairs": "BAD"}, "record line 1, field 'response_2': missing"),
    "split pairs": ({"per_device_train_batch_size": 6}, "cannot hold whole pairs"),
    "too few pairs": ({"per_device_train_batch_size": 100}, "cannot fill one generation batch"),
    "consistency pointwise": ({"format": "pointwise"}, "drop 'consistency'"),
    "consistency single order": ({"orders": "single"}, "the consistency reward needs both orders"),
    "unknown eval bench": ({"eval_benches": ["judgbench"]}, "unknown benchmark 'judgbench'"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2(
    case: str,
    tmp_path: Path,
    pairs_file: Path,
    model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "q", "response_1": "a", "label": 1}) + "\n")
    values: dict[str, object] = {"model": str(model_dir), "train_pairs": str(pairs_file), "num_generations": 2}
    values["per_device_train_batch_size"] = 4
    override, message = BAD_INPUTS[case]
    values.update({k: (str(bad) if v == "BAD" else v) for k, v in override.items()})
    code, err = run_cli(["grpo", "--config", str(write_yaml(tmp_path / "c.yaml", **values))], capsys, monkeypatch)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err


def test_check_mode_passes_without_loading_the_model(
    tmp_path: Path, pairs_file: Path, tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers

    def no_weights(*args: object, **kwargs: object) -> None:
        raise AssertionError("--check loaded the model")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_weights)
    cfg = write_yaml(
        tmp_path / "c.yaml", model=str(tiny), train_pairs=str(pairs_file), num_generations=2,
        per_device_train_batch_size=4,
    )  # fmt: skip
    assert cli.main(["grpo", "--config", str(cfg), "--check"]) == 0
    assert "ok: 4 pairs (8 prompts within max_prompt_length)" in capsys.readouterr().out  # the tokenizer measured them


@pytest.mark.parametrize("check", [False, True])
def test_uninstalled_eval_benchmark_is_one_line_before_any_model(
    check: bool,
    tmp_path: Path,
    pairs_file: Path,
    model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = write_yaml(
        tmp_path / "c.yaml", model=str(model_dir), train_pairs=str(pairs_file), num_generations=2,
        per_device_train_batch_size=4, eval_benches=["ppe"], eval_data_dir=str(tmp_path / "no-data"),
    )  # fmt: skip
    code, err = run_cli(["grpo", "--config", str(cfg), *(["--check"] if check else [])], capsys, monkeypatch)
    assert code == 1  # a broken set-up (SetupError), not bad syntax
    assert err.count("\n") == 1 and err.startswith("error: evaluation benchmark 'ppe' is not installed: ")


def test_training_pairs_are_decontaminated_against_the_eval_benches(
    tmp_path: Path, tiny: Path, judgebench_rows: list[dict], data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    leaked = tiny_pairs(5)
    leaked[2] = dataclasses.replace(leaked[2], prompt="  " + judgebench_rows[7]["question"].upper())
    cfg = write_yaml(
        tmp_path / "c.yaml", model=str(tiny), train_pairs=str(write_pairs_jsonl(tmp_path / "p.jsonl", leaked)),
        num_generations=2, per_device_train_batch_size=4, eval_benches=["judgebench"], eval_data_dir=str(data_dir),
    )  # fmt: skip
    assert cli.main(["grpo", "--config", str(cfg), "--check"]) == 0
    out = capsys.readouterr().out
    assert "decontamination against judgebench: dropped 1 of 5 training pairs" in out and "ok: 4 pairs" in out
    prepared = j1train.trainer.prepare(load_config(cfg))
    assert "p2" not in {p.pair_id for p in prepared.pairs} and prepared.info["n_dropped_contaminated"] == 1


def test_single_order_keeps_one_seeded_order_per_pair() -> None:
    fmt = get_format("direct-verdict")
    rows, _ = build_rows(tiny_pairs(40), fmt, 1, orders="single", seed=3)
    assert len(rows) == 40 and len({r["pair_id"] for r in rows}) == 40
    assert 10 < sum(r["order"] == "ab" for r in rows) < 30  # both orders occur, one per pair
    assert rows == build_rows(tiny_pairs(40), fmt, 1, orders="single", seed=3)[0]  # seeded
    assert rows != build_rows(tiny_pairs(40), fmt, 1, orders="single", seed=4)[0]
    plan = BatchPlan(per_device_batch=4, steps_per_generation=1, num_processes=1, num_generations=2, rows_per_pair=1)
    check_batch_sizes(plan, 40)
    indices = list(PairRepeatSampler([r["pair_id"] for r in rows], 2, plan.pairs_per_generation, seed=0))
    assert len(indices) == 80 and all(indices[i] == indices[i + 1] for i in range(0, 80, 2))
    config = config_from_dict({"model": "m", "train_pairs": "p.jsonl", "orders": "single", "rewards": ["verdict"]})
    assert config.reward_weights == {"verdict": 1.0, "format": 0.0}  # no consistency reward to compute


def test_module_entry_point_exit_code(tmp_path: Path) -> None:
    cfg = write_yaml(tmp_path / "c.yaml", model="m", train_pairs="p.jsonl", typo=1)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "j1train", "grpo", "--config", str(cfg)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2
    expected = f"error: {cfg}, field 'typo': unknown key (see j1train/configs/ for the known ones)"
    assert proc.stderr.strip().splitlines() == [expected]


def test_j1_8b_judge_uses_the_env_checkpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from j1eval.judges import JUDGES

    monkeypatch.setenv("J1EVAL_J1_8B_MODEL", str(tmp_path))
    spec = JUDGES.get("j1-8b").resolved()
    assert spec.model == str(tmp_path) and spec.format == "pairwise-verdict"


def test_every_field_shared_with_grpo_config_reaches_it_by_name(pairs_file: Path) -> None:
    import dataclasses

    from trl import GRPOConfig

    from j1train.trainer import grpo_arguments

    known = {f.name for f in dataclasses.fields(GRPOConfig)}
    shared = [f.name for f in dataclasses.fields(J1GRPOConfig) if f.name in known]
    assert {"learning_rate", "beta", "num_generations", "max_steps", "use_vllm", "report_to"} <= set(shared)
    base = J1GRPOConfig(model="m", train_pairs=str(pairs_file), output_dir="/tmp/x", eval_steps=7)
    changed = {  # a value TRL accepts and that differs from the default, per shared field
        "output_dir": "/tmp/y", "num_generations": 2, "temperature": 0.7, "top_p": 0.9, "learning_rate": 3e-6,
        "beta": 0.02, "max_completion_length": 64, "per_device_train_batch_size": 15,
        "gradient_accumulation_steps": 3, "steps_per_generation": 2, "per_device_eval_batch_size": 15,
        "num_train_epochs": 2.0, "max_steps": 11, "logging_steps": 3, "save_steps": 9, "save_total_limit": 5,
        "seed": 5, "gradient_checkpointing": not base.gradient_checkpointing, "use_vllm": not base.use_vllm,
        "vllm_mode": "server" if base.vllm_mode == "colocate" else "colocate",
        "vllm_server_base_url": "http://127.0.0.1:9", "vllm_gpu_memory_utilization": 0.5,
        "vllm_tensor_parallel_size": 2, "log_completions": not base.log_completions, "report_to": "tensorboard",
        "eval_steps": 7,
    }  # fmt: skip
    assert set(shared) == set(changed)  # a new shared field needs a line here
    for name, value in changed.items():
        assert getattr(base, name) != value or name == "eval_steps", name
    for name, value in changed.items():
        args = grpo_arguments(dataclasses.replace(base, **{name: value}), has_eval=True)
        got = getattr(args, name)
        assert got == value or (name == "report_to" and got == [value]), name
