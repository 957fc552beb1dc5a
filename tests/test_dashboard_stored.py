"""The dashboard shows a finished run's pairs.parquet (never rescoring it) and rebuilds tables only for a run
judged since, with the scorer's steps; a pairs.parquet it cannot use is one note, not a failure."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_DATA

from dashboard import data as dashboard_data
from dashboard.runs import discover
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run
from j1eval.store.pairs_file import read_pairs


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    config = RunConfig(judge="random", benches=["judgebench"], out=runs / "r", data_dir=SHARED_DATA, limit=6)
    run(replace(config, progress=False))
    return runs


def _load(runs: Path, data_dir: Path | None = SHARED_DATA) -> dashboard_data.LoadedRun:
    (entry,) = [e for e in discover(runs) if e.kind == "eval"]
    return dashboard_data.load_run(entry, runs, data_dir)


def _rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = dashboard_data.pair_table

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dashboard_data, "pair_table", counted)
    return calls


def test_a_finished_run_is_shown_from_pairs_parquet(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _rebuilds(monkeypatch)
    view = _load(finished).benches["judgebench"]
    assert calls == []  # nothing rescored
    stored = read_pairs(finished / "r" / "pairs.parquet")["judgebench"]
    shown = view.table[[c for c in stored.columns if c != "bench"]]
    pd.testing.assert_frame_equal(shown, stored.drop(columns="bench").reset_index(drop=True))
    assert view.table["prompt"].str.len().gt(0).all()  # texts still come from the benchmark data


def test_without_benchmark_data_correctness_still_shows(finished: Path, tmp_path: Path) -> None:
    # The manifest names the data folder it read; a run whose data is gone still has pairs.parquet.
    manifest = json.loads((finished / "r" / "manifest.json").read_text())
    copy = tmp_path / "data-copy"
    shutil.copytree(SHARED_DATA / "judgebench", copy / "judgebench")
    for info in manifest["benchmarks"].values():
        info["source"] = str(copy / "judgebench")
    (finished / "r" / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(copy)
    view = _load(finished, data_dir=None).benches["judgebench"]
    assert view.note and "unavailable" in view.note
    assert not (view.table["outcome"] == "unknown").any()  # from pairs.parquet, not a bare table
    stored = read_pairs(finished / "r" / "pairs.parquet")["judgebench"]
    assert view.table["correct_ab"].tolist() == stored["correct_ab"].tolist()


def test_a_run_judged_since_is_rebuilt_from_its_judgments(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    judgments = finished / "r" / "judgments.jsonl"
    lines = judgments.read_text().splitlines()
    first = json.loads(lines[0])
    first["verdict"] = "B" if first["verdict"] == "A" else "A"  # a retried judgment: the last line of its key wins
    judgments.write_text("\n".join([*lines, json.dumps(first)]) + "\n")
    later = (finished / "r" / "pairs.parquet").stat().st_mtime_ns + 10**9
    os.utime(judgments, ns=(later, later))
    calls = _rebuilds(monkeypatch)
    view = _load(finished).benches["judgebench"]
    assert calls == [1]
    row = view.table.set_index("pair_id").loc[first["pair_id"]]
    assert row[f"verdict_{first['order']}"] == first["verdict"]


def test_an_unreadable_pairs_parquet_is_one_note(finished: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = finished / "r" / "pairs.parquet"
    stamp = path.stat().st_mtime_ns
    path.write_bytes(b"not parquet at all")
    os.utime(path, ns=(stamp, stamp))
    calls = _rebuilds(monkeypatch)
    loaded = _load(finished)
    assert calls == [1] and any("pairs.parquet unreadable" in n for n in loaded.notes)
    assert len(loaded.benches["judgebench"].table) == 6
