"""Hostile conditions, second round (issue #22), dashboard: one bad run folder never breaks the app,
data opens only from folders whose every file the manifest hashed, and a FIFO is never waited on.

Runs: a real `first` run on three JudgeBench pairs, and copies of it made hostile: a manifest of
100,000 nested ``[``, a manifest whose source is a folder outside the runs dir with no files
named (or with one unhashed file beside the hashed one), and a FIFO as ``judgments.jsonl``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path

import pytest
from conftest import JUDGEBENCH_FILE, SHARED_DATA, require

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.data import load_bench_data, load_run  # noqa: E402
from dashboard.runs import DashboardError, discover  # noqa: E402

pytest.importorskip("streamlit", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
MARK = "OUTSIDE-PROMPT-MARK"


def _manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text())


SECRET = "sk-old-manifest-7c1d"  # in a manifest written before j1eval redacted keys


def build_hostile_runs(root: Path) -> Path:
    """``root/runs``: a good run and its hostile copies (see the module docstring; ``secret``: an old
    manifest holding an API key in its command, invocations and judge's URL)."""
    require(SHARED_DATA / JUDGEBENCH_FILE)
    from j1eval.cli import main

    runs = root / "runs"
    argv = ["run", "--judge", "first", "--bench", "judgebench", "--limit", "3", "--data-dir", str(SHARED_DATA)]
    assert main([*argv, "--out", str(runs / "good"), "--no-progress"]) == 0
    nested = runs / "nested"
    shutil.copytree(runs / "good", nested)
    (nested / "manifest.json").write_text("[" * 100_000)
    outside = root / "outside" / "judgebench"  # a folder outside the runs dir, its prompts marked
    outside.mkdir(parents=True)
    lines = (SHARED_DATA / JUDGEBENCH_FILE).read_text().splitlines(keepends=True)
    marked = [json.dumps({**json.loads(line), "question": MARK}) + "\n" for line in lines]
    (outside / Path(JUDGEBENCH_FILE).name).write_text("".join(marked))
    for name, files in (("outside-none", {}), ("outside-extra", None)):
        run = runs / name
        shutil.copytree(runs / "good", run)
        manifest = _manifest(run)
        info = manifest["benchmarks"]["judgebench"]
        if files is None:  # the real file, hashed, and an unhashed one beside it
            extra = root / "extra" / "judgebench"
            extra.mkdir(parents=True)
            shutil.copy(SHARED_DATA / JUDGEBENCH_FILE, extra / Path(JUDGEBENCH_FILE).name)
            (extra / "more.jsonl").write_text("".join(marked))
            info["source"] = str(extra)
        else:
            info["source"], info["files"] = str(outside), files
        (run / "manifest.json").write_text(json.dumps(manifest))
    fifo = runs / "fifo"
    shutil.copytree(runs / "good", fifo)
    (fifo / "judgments.jsonl").unlink()
    os.mkfifo(fifo / "judgments.jsonl")
    secret = runs / "secret"
    shutil.copytree(runs / "good", secret)
    manifest = _manifest(secret)
    leak = ["--backend-option", f"api_key={SECRET}", "--judge", f"openai:judge@http://user:{SECRET}@host/v1"]
    manifest["command"] = [*manifest["command"], *leak]
    manifest["invocations"] = [{**i, "command": [*i["command"], *leak]} for i in manifest["invocations"]]
    manifest["judge_identity"] = {**manifest["judge_identity"], "model": f"judge@http://user:{SECRET}@host/v1"}
    manifest["backend_options"] = {"api_key": SECRET}
    (secret / "manifest.json").write_text(json.dumps(manifest))
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_hostile_runs(tmp_path_factory.mktemp("dash2"))


def entry(runs: Path, rel: str):
    return next(e for e in discover(runs) if e.rel == rel)


def test_discovery_survives_every_bad_folder(runs: Path) -> None:
    found = {e.rel: e for e in discover(runs)}
    assert {"good", "nested", "outside-none", "outside-extra", "fifo", "secret"} <= set(found)
    assert found["good"].error is None


def test_a_deeply_nested_manifest_is_one_line_for_that_run(runs: Path) -> None:
    e = entry(runs, "nested")
    if e.error is None:
        with pytest.raises(DashboardError, match="nested too deeply"):
            load_run(e, runs, None)
    else:
        assert "\n" not in e.error


@pytest.mark.parametrize("rel", ["outside-none", "outside-extra"])
def test_data_opens_only_from_folders_the_manifest_hashed_whole(runs: Path, rel: str, monkeypatch) -> None:
    monkeypatch.delenv("J1EVAL_DATA_DIR", raising=False)
    view = load_run(entry(runs, rel), runs, None).benches["judgebench"]
    assert view.pairs is None and view.note and "unavailable" in view.note
    assert MARK not in json.dumps(view.table.astype(str).to_dict())
    good = load_run(entry(runs, "good"), runs, None).benches["judgebench"]
    assert good.pairs is not None  # the run's own hashed folder opens


def test_no_files_named_opens_nothing() -> None:
    data, why = load_bench_data("judgebench", {"source": str(SHARED_DATA / "judgebench"), "files": {}}, SHARED_DATA)
    assert data is None and "names no data files" in why


def test_a_fifo_as_judgments_is_refused_not_waited_on(runs: Path) -> None:
    result: list[object] = []

    def load() -> None:
        try:
            result.append(load_run(entry(runs, "fifo"), runs, None))
        except DashboardError as exc:
            result.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "the dashboard blocked on a FIFO"
    assert isinstance(result[0], DashboardError) and "FIFO" in str(result[0])


@pytest.fixture(autouse=True)
def _fast_apptest(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.components.v2 import manifest_scanner

    monkeypatch.setattr(manifest_scanner, "scan_component_manifests", lambda: [])


@pytest.mark.parametrize("view", ["Overview", "Pairs"])
def test_the_app_shows_every_bad_run_as_one_line(runs: Path, view: str, monkeypatch) -> None:
    monkeypatch.setenv("J1EVAL_RUNS_DIR", str(runs))
    monkeypatch.delenv("J1EVAL_DATA_DIR", raising=False)
    landing = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not landing.exception
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["view"] = view
    at.query_params["runs"] = ["good", "nested", "fifo", "outside-none"]
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("nested" in e for e in errors) and any("FIFO" in e for e in errors), errors
    assert all("\n" not in e for e in errors)
    page = "\n".join(str(e.value) for e in [*at.markdown, *at.text, *at.code])
    assert MARK not in page


def test_an_api_key_in_an_old_manifest_is_never_shown(runs: Path, monkeypatch) -> None:
    loaded = load_run(entry(runs, "secret"), runs, None)
    assert SECRET not in json.dumps(loaded.manifest)
    assert "api_key=***" in loaded.manifest["command"]
    monkeypatch.setenv("J1EVAL_RUNS_DIR", str(runs))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.query_params["view"] = "Overview"
    at.query_params["runs"] = ["secret"]
    at.run()
    assert not at.exception
    panel = "\n".join(df.value.astype(str).to_csv() for df in at.dataframe)
    assert "api_key=***" in panel and "user:***@host" in panel  # the manifest panel is there, redacted
    page = "\n".join(str(e.value) for e in [*at.markdown, *at.text, *at.code, *at.error]) + panel
    assert SECRET not in page
