"""Two CPU processes (torchrun, gloo): both orders of every pair, with all rollouts, on one process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_j1train_train import G, check_whole_pairs, config  # noqa: E402
from tiny_model import build_tiny_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_two_processes_keep_pairs_whole(tmp_path: Path) -> None:
    model = build_tiny_model(tmp_path / "model")
    cfg = config(tmp_path, model, max_steps=2, save_steps=100)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "OMP_NUM_THREADS": "1"}
    # accelerate launch runs several CPU processes only through mpirun; torchrun needs nothing else
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517"]
    proc = subprocess.run(
        [*torchrun, "-m", "j1train", "grpo", "--config", str(cfg)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=540,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.concat(pd.read_parquet(f) for f in sorted((tmp_path / "out" / "completions").glob("*.parquet")))
    check_whole_pairs(table)
    per_step = table.groupby("step")
    assert per_step["process"].nunique().tolist() == [2, 2]  # both processes scored rollouts in each step
    assert per_step["pair_id"].nunique().tolist() == [2, 2]  # one pair per process per step
    assert per_step.size().tolist() == [2 * 2 * G] * 2
    assert (tmp_path / "out" / "final" / "config.json").is_file()
