"""A rerun with nothing new reuses results.json; anything that could change a figure takes the full path."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import j1eval.judging.runner as runner
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run


@pytest.fixture
def counted(monkeypatch):
    """How often the full path made jobs (rendered and hashed every prompt)."""
    calls = []
    real = runner.make_jobs

    def make_jobs(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "make_jobs", make_jobs)
    return calls


def config(data_dir: Path, out: Path, **kw) -> RunConfig:
    return RunConfig(judge="longer", benches=["judgebench", "rmbench"], data_dir=data_dir, out=out, limit=30,
                     progress=False, n_boot=50, **kw)  # fmt: skip


def test_rerun_reuses_results(tmp_path, data_dir, counted):
    cfg = config(data_dir, tmp_path / "run")
    first = run(cfg)
    results = (tmp_path / "run" / "results.json").read_bytes()
    again = run(cfg)
    assert len(counted) == 1  # the rerun rendered nothing
    assert again.n_generated == 0 and again.n_cached == first.n_generated == 120
    assert again.results == first.results
    assert (tmp_path / "run" / "results.json").read_bytes() == results
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert [i["generated"] for i in manifest["invocations"]] == [120, 0]


@pytest.mark.parametrize("change", ["judgments edited", "bootstrap size", "pairs file gone", "more pairs"])
def test_a_change_takes_the_full_path(tmp_path, data_dir, counted, change):
    cfg = config(data_dir, tmp_path / "run")
    first = run(cfg)
    judgments = tmp_path / "run" / "judgments.jsonl"
    if change == "judgments edited":  # the same size, another verdict and time: rescored
        text = judgments.read_text()
        judgments.write_text(text.replace('"verdict": "A"', '"verdict": "B"', 1))
        os.utime(judgments, ns=(1, 1))
    elif change == "bootstrap size":
        cfg = replace(cfg, n_boot=60)
    elif change == "pairs file gone":
        (tmp_path / "run" / "pairs.parquet").unlink()
    else:
        cfg = replace(cfg, limit=31)
    again = run(cfg)
    assert len(counted) == 2
    if change == "judgments edited":
        assert again.results != first.results
    if change == "more pairs":
        assert again.n_generated == 4


def test_data_changed_takes_the_full_path(tmp_path, data_dir, counted):
    data = tmp_path / "data"
    shutil.copytree(data_dir / "judgebench", data / "judgebench")
    cfg = RunConfig(judge="longer", benches=["judgebench"], data_dir=data, out=tmp_path / "run", limit=5,
                    progress=False, n_boot=0)  # fmt: skip
    run(cfg)
    path = next((data / "judgebench").glob("*.jsonl"))
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:5] + lines[6:]))  # pair 6 gone: the data's hash changes
    run(cfg)
    assert len(counted) == 2


def test_backend_errors_are_retried_not_reused(tmp_path, data_dir, counted):
    cfg = config(data_dir, tmp_path / "run")
    run(cfg)
    manifest_path = tmp_path / "run" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["counts"]["backend_errors"] = 2  # as a run whose server failed twice leaves it
    manifest_path.write_text(json.dumps(manifest))
    run(cfg)
    assert len(counted) == 2


def test_a_4_way_run_without_its_items_file_is_rescored(tmp_path, counted):
    from test_rewardbench2 import official_rows, write_data

    data = write_data(tmp_path / "data", official_rows())
    cfg = RunConfig(judge="first", benches=["rewardbench2"], format="rank-4", data_dir=data, out=tmp_path / "run",
                    progress=False, n_boot=50)  # fmt: skip
    run(cfg)
    run(cfg)
    assert len(counted) == 1  # nothing changed: reused
    (tmp_path / "run" / "items.parquet").unlink()
    again = run(cfg)
    assert len(counted) == 2 and again.n_generated == 0  # rescored from the stored judgments
    assert (tmp_path / "run" / "items.parquet").is_file()


def test_the_code_hash_covers_every_module_of_the_package(tmp_path: Path) -> None:
    """A change anywhere in j1eval (not only beside reuse.py) means no reuse of old figures."""
    import importlib.util
    import shutil

    import j1eval

    copy = tmp_path / "j1eval"
    shutil.copytree(Path(j1eval.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("reuse_copy", copy / "judging" / "reuse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen = {module.code_hash()}
    for part in ("score/metrics.py", "formats/base.py", "cli.py"):
        with open(copy / part, "a", encoding="utf-8") as fh:
            fh.write("\n# changed\n")
        module.code_hash.cache_clear()  # computed once per process otherwise
        seen.add(module.code_hash())
    assert len(seen) == 4
