"""The multi-node ZeRO-3 accelerate file: accelerate's own launcher reads it as 4 nodes x 8 GPUs, and
`j1train grpo --check` passes at the world size it gives (and refuses data too small for it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_j1train_train import config  # noqa: E402
from tiny_model import tiny_pairs, write_pairs_jsonl  # noqa: E402

from j1eval.errors import InputError  # noqa: E402
from j1train import cli  # noqa: E402
from j1train.sampler import BatchPlan, check_batch_sizes  # noqa: E402

MULTINODE = Path(__file__).resolve().parents[1] / "j1train" / "configs" / "accelerate" / "zero3-multinode.yaml"


def launch_args(*extra: str):
    """What ``accelerate launch --config_file MULTINODE EXTRA -m j1train grpo ...`` resolves to, and its env."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env

    argv = ["--config_file", str(MULTINODE), *extra, "-m", "j1train", "grpo", "--config", "train.yaml"]
    args, defaults, _ = _validate_launch_command(launch_command_parser().parse_args(argv))
    # as accelerate's launch_command does before it hands a DeepSpeed run to its launcher
    args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)
    _, env = prepare_deepspeed_cmd_env(args)
    return args, env


def test_accelerate_reads_the_file_as_zero3_across_four_nodes():
    args, env = launch_args("--machine_rank", "2", "--main_process_ip", "10.1.2.3")
    assert (args.num_machines, args.num_processes, args.machine_rank) == (4, 32, 2)
    assert args.use_deepspeed and args.deepspeed_multinode_launcher == "standard"
    assert (args.main_process_ip, args.main_process_port, args.rdzv_backend) == ("10.1.2.3", 29500, "static")
    assert env["ACCELERATE_USE_DEEPSPEED"] == "true" and env["ACCELERATE_DEEPSPEED_ZERO_STAGE"] == "3"
    assert env["ACCELERATE_MIXED_PRECISION"] == "bf16"
    two, _ = launch_args("--num_machines", "2", "--num_processes", "16")  # other sizes: flags override the file
    assert (two.num_machines, two.num_processes) == (2, 16)


def test_grpo_check_passes_and_the_files_world_size_takes_the_data(tmp_path, tiny, capsys):
    """`--check` passes on the config; the batch plan at the file's 32 processes is the one `--check` applies
    inside a launch (each process sees WORLD_SIZE=32). Outside a launcher, WORLD_SIZE=32 makes TRL's
    arguments open a 32-process group, so the plan is checked here through the same function."""
    from j1train.config import load_config
    from j1train.trainer import prepare

    args, _ = launch_args("--machine_rank", "0")
    cfg = config(tmp_path, tiny)  # one pair (2 orders x 2 rollouts) per process per step
    write_pairs_jsonl(tmp_path / "pairs.jsonl", tiny_pairs(40))
    assert cli.main(["grpo", "--config", str(cfg), "--check"]) == 0
    assert "ok: 40 pairs" in capsys.readouterr().out
    prepared = prepare(load_config(cfg))
    plan = BatchPlan(
        prepared.config.per_device_train_batch_size,
        prepared.args.steps_per_generation,
        args.num_processes,
        prepared.config.num_generations,
    )
    check_batch_sizes(plan, 40)  # 32 processes x 1 pair: 40 pairs fill a generation batch
    with pytest.raises(InputError, match="16 training pairs cannot fill one generation batch of 32 pairs"):
        check_batch_sizes(plan, 16)


@pytest.mark.parametrize("name", ["zero3.yaml", "fsdp.yaml", "zero3-multinode.yaml"])
def test_every_accelerate_file_loads(name):
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = load_config_from_file(str(MULTINODE.parent / name))
    assert loaded.num_processes >= 8 and loaded.mixed_precision == "bf16"
