"""A run's stored judgments read as one table: column-wise and line by line give the same rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from j1eval.errors import InputError
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run
from j1eval.store.records import latest_rows
from j1eval.store.stored import _read_exactly, read_stored


def norm(frame) -> list[tuple]:
    cols = ["pair_id", "order", "sample", "verdict", "failure", "p_a", "line", "key", "bench"]
    return [tuple(None if x != x or x is None else x for x in row) for row in frame[cols].itertuples(index=False)]


def test_fast_and_exact_agree_and_take_the_latest_line(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "run"
    run(RunConfig(judge="random", benches=["judgebench", "rmbench"], data_dir=data_dir, out=out, limit=12,
                  samples=2, progress=False, n_boot=0))  # fmt: skip
    path = out / "judgments.jsonl"
    lines = path.read_text().splitlines()
    retried = json.loads(lines[0]) | {"verdict": "tie"}  # a later line of the same key supersedes it
    path.write_text("\n".join([*lines, json.dumps(retried)]) + "\n")
    keys = {json.loads(line)["key"] for line in lines}
    fast = read_stored(path, keys, {"judgebench", "rmbench"})
    slow = latest_rows(_read_exactly(path, keys, {"judgebench", "rmbench"}))
    assert norm(fast.frame) == norm(slow)
    assert len(fast.frame) == 12 * 2 * 2 * 2
    assert fast.frame.iloc[0]["verdict"] == "tie" and fast.frame.iloc[0]["line"] == len(lines) + 1


def test_a_wanted_line_naming_another_benchmark_is_one_error(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "run"
    run(RunConfig(judge="first", benches=["judgebench"], data_dir=data_dir, out=out, limit=3, progress=False, n_boot=0))
    path = out / "judgments.jsonl"
    lines = path.read_text().splitlines()
    bad = json.loads(lines[1]) | {"bench": "rewardbench"}
    path.write_text("\n".join([lines[0], json.dumps(bad), *lines[2:]]) + "\n")
    keys = {json.loads(line)["key"] for line in lines}
    with pytest.raises(InputError, match="line 2.*must name one of this run's benchmarks"):
        read_stored(path, keys, {"judgebench"})
