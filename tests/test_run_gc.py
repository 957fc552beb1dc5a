"""A run keeps its long-lived objects out of the collector's scans, and gives them back when it ends."""

from __future__ import annotations

import gc
import json

from j1eval.judging import runner
from j1eval.judging.config import RunConfig


def _pairs(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for i in range(6):
            rec = {"pair_id": f"p{i}", "prompt": "q", "response_1": "a", "response_2": "bb", "label": 1 + i % 2}
            fh.write(json.dumps(rec) + "\n")
    return data


def test_a_run_freezes_its_objects_while_it_judges_and_unfreezes_them_after(tmp_path, monkeypatch):
    data = _pairs(tmp_path)
    assert gc.get_freeze_count() == 0
    frozen_while_judging: list[int] = []
    judge_and_score = runner._judge_and_score

    def spy(*args, **kwargs):
        frozen_while_judging.append(gc.get_freeze_count())
        return judge_and_score(*args, **kwargs)

    monkeypatch.setattr(runner, "_judge_and_score", spy)
    outcome = runner.run(
        RunConfig(judge="longer", benches=["pairs"], data_dir=data, out=tmp_path / "out", progress=False)
    )
    assert outcome.n_generated == 12 and outcome.results["pairs"]["overall"]["n_pairs"] == 6
    assert frozen_while_judging and frozen_while_judging[0] > 1000  # the pairs, jobs, modules...
    assert gc.get_freeze_count() == 0


def test_a_callers_own_freeze_is_left_alone(tmp_path):
    data = _pairs(tmp_path)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        runner.run(RunConfig(judge="first", benches=["pairs"], data_dir=data, out=tmp_path / "out", progress=False))
        assert frozen * 0.99 < gc.get_freeze_count() <= frozen  # not unfrozen, not grown (a few died meanwhile)
    finally:
        gc.unfreeze()
