"""The dashboard (dashboard/app.py) through Streamlit's AppTest, on runs recorded here.

Runs are made in the test by j1eval itself on the real JudgeBench file (baselines `first`,
always slot A, so every pair flips; `longer`, the longer response in both orders, so none
does) and on a small `pairs` benchmark whose judgments are then rewritten into hostile
traces (HTML, Markdown images and links, 1 MB of text, invalid UTF-8) and rescored by
j1eval, so every results.json matches its judgments.jsonl.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_DATA, require

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dashboard.data import load_run  # noqa: E402
from dashboard.filters import Filters, filter_mask  # noqa: E402
from dashboard.runs import DashboardError, discover, parse_args, read_text  # noqa: E402
from dashboard.traces import MAX_SHOWN, split_output  # noqa: E402

pytest.importorskip("streamlit", reason="the dashboard extra is not installed (pip install -e '.[dashboard]')")
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = ROOT / "dashboard" / "app.py"
JUDGEBENCH_FILE = "judgebench/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"
LIMIT = 12
HOSTILE = (
    "<script>window.__pwned = 1</script> ![x](http://127.0.0.1:9/pixel.png) "
    "[link](javascript:alert(1)) <img src=x onerror=alert(1)>"
)
#: Strings that must never reach the page other than as text.
MARKERS = ("<script", "](http", "javascript:", "onerror")
BAD_BYTES_MARK = "@@BAD-BYTES@@"
MEGABYTE = 1 << 20


# --------------------------------------------------------------------------- recorded runs


def _run(judge: str, bench: str, out: Path, data_dir: Path, **kw: object) -> None:
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    run(RunConfig(judge=judge, benches=[bench], out=out, data_dir=data_dir, progress=False, n_boot=50, **kw))


def _hostile_run(runs: Path, data: Path) -> None:
    """A `random` run on six own pairs, its outputs replaced by hostile traces and its verdicts rescored."""
    data.mkdir(parents=True, exist_ok=True)
    pairs = [
        {
            "pair_id": f"h{i}",
            "prompt": f"Question {i}: which answer is right?" + (f" {HOSTILE}" if i == 0 else ""),
            "response_1": f"Answer one to question {i}.",
            "response_2": f"Answer two to question {i}." + (" ![img](http://127.0.0.1:9/r.png)" if i == 0 else ""),
            "label": 1 + i % 2,
            "subset": "even" if i % 2 == 0 else "odd",
        }
        for i in range(6)
    ]
    (data / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    out = runs / "hostile"
    _run("random", "pairs", out, data)
    lines = [json.loads(line) for line in (out / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    for rec in lines:
        where = (rec["pair_id"], rec["order"])
        if where == ("h0", "ab"):
            rec.update(raw=f"<think>{HOSTILE}</think> <answer> [[A]] </answer>", verdict="A", failure=None)
        elif where == ("h0", "ba"):
            rec.update(raw="lorem ipsum " * (MEGABYTE // 12), verdict=None, failure="truncated", finish_reason="length")
        elif where == ("h1", "ab"):
            rec.update(raw=f"bytes: {BAD_BYTES_MARK} end <answer> [[B]] </answer>", verdict="B", failure=None)
        elif where == ("h2", "ba"):
            rec.update(raw="I cannot decide.", verdict=None, failure="no_verdict")
        elif where == ("h3", "ab"):
            rec.update(raw="Equally good. <answer> [[C]] </answer>", verdict="tie", failure=None)
        elif rec["pair_id"] == "h4":  # slot A in both orders
            rec.update(verdict="A", raw="<answer> [[A]] </answer>", failure=None)
    (out / "judgments.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8"
    )
    _run("random", "pairs", out, data)  # nothing to generate: rescored from the edited store
    raw = (out / "judgments.jsonl").read_bytes()
    (out / "judgments.jsonl").write_bytes(raw.replace(BAD_BYTES_MARK.encode(), b"\xff\xfe\xc3"))


def _training_run(runs: Path) -> None:
    """A j1train-shaped output: log.jsonl and one TRL completion log (documented columns)."""
    out = runs / "train-toy"
    (out / "completions").mkdir(parents=True)
    (out / "log.jsonl").write_text(
        "".join(
            json.dumps({"step": s, "reward": 0.5 * s, "rewards/verdict_reward/mean": 0.25 * s}) + "\n" for s in (1, 2)
        ),
        encoding="utf-8",
    )
    rows = []
    for step in (1, 2):
        for order in ("ab", "ba"):
            for rollout in range(2):
                rows.append(
                    {
                        "step": step,
                        "prompt": [{"role": "user", "content": f"judge pair p7 in order {order}"}],
                        "completion": [{"role": "assistant", "content": f"step {step} {order} r{rollout} {HOSTILE}"}],
                        "verdict_reward": float(rollout),
                        "consistency_reward": 0.0,
                        "format_reward": 1.0,
                        "failure": None,
                        "order": order,
                        "pair_id": "p7",
                        "part": 0,
                        "process": 0,
                        "rollout": rollout,
                        "verdict": "A",
                        "advantage": rollout - 0.5,
                    }
                )
    pd.DataFrame(rows).to_parquet(out / "completions" / "completions_00001.parquet")


def build_runs(root: Path) -> Path:
    """``root/runs``: first-jb, longer-jb (JudgeBench, first 12 pairs), hostile (own pairs), train-toy."""
    require(SHARED_DATA / JUDGEBENCH_FILE)
    runs = root / "runs"
    for judge in ("first", "longer"):
        _run(judge, "judgebench", runs / f"{judge}-jb", SHARED_DATA, limit=LIMIT)
    _hostile_run(runs, root / "data")
    _training_run(runs)
    broken = runs / "broken"  # a run directory whose manifest is cut short
    broken.mkdir()
    (broken / "manifest.json").write_text('{"judge": "x", ', encoding="utf-8")
    (broken / "judgments.jsonl").write_text("not json\n", encoding="utf-8")
    return runs


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_runs(tmp_path_factory.mktemp("dash"))


@pytest.fixture(autouse=True)
def _fast_apptest(monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest scans every installed package for custom components on each instance; the app uses none."""
    from streamlit.components.v2 import manifest_scanner

    monkeypatch.setattr(manifest_scanner, "scan_component_manifests", lambda: [])


def app(runs_dir: Path, monkeypatch: pytest.MonkeyPatch, **query: str | list[str]) -> AppTest:
    monkeypatch.setenv("J1EVAL_RUNS_DIR", str(runs_dir))
    at = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at.run()


def texts(at: AppTest) -> list[str]:
    return [e.value for e in at.text]


def codes(at: AppTest) -> list[str]:
    return [e.value for e in at.code]


def markdown(at: AppTest) -> str:
    return "\n".join(e.value for e in at.markdown)


def walk(node: object) -> Iterator[object]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


# --------------------------------------------------------------------------- units


def test_split_output_marks_thinking_and_verdict():
    seg = split_output(
        "<think>A is wrong. <answer> [[A]] </answer> if Assistant A is better</think> <answer>[[B]]</answer>"
    )
    assert seg.verdict == "<answer>[[B]]</answer>"
    assert seg.thinking.startswith("<think>A is wrong.") and "if Assistant A is better" in seg.thinking
    prefilled = split_output("B", prefill="<answer> [[")
    assert (prefilled.thinking, prefilled.verdict) == ("", "<answer> [[B")
    assert split_output("no tags at all") == split_output("no tags at all", "")
    assert split_output("no tags at all").verdict == ""


def test_args_env_and_default(monkeypatch: pytest.MonkeyPatch):
    assert parse_args(["--runs", "/x", "--data-dir=/d"], {}).runs_dir == Path("/x")
    assert parse_args([], {"J1EVAL_RUNS_DIR": "/e"}).runs_dir == Path("/e")
    opts = parse_args(["--bogus"], {})
    assert opts.runs_dir == Path("runs") and "unknown argument '--bogus'" in opts.problems[0]


def test_nothing_outside_the_runs_directory_is_opened(runs_dir: Path, tmp_path: Path):
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "manifest.json").write_text("{}", encoding="utf-8")
    link = runs_dir / "linked"
    link.symlink_to(outside, target_is_directory=True)
    try:
        assert "linked" not in {e.rel for e in discover(runs_dir)}
        with pytest.raises(DashboardError, match="outside the runs directory"):
            read_text(runs_dir, runs_dir / ".." / ".." / outside.name / "manifest.json")
        with pytest.raises(DashboardError, match="outside the runs directory"):
            read_text(runs_dir, link / "manifest.json")
    finally:
        link.unlink()


def test_pair_table_counts_equal_results_json(runs_dir: Path):
    for rel in ("first-jb", "longer-jb", "hostile"):
        entry = next(e for e in discover(runs_dir) if e.rel == rel)
        run = load_run(entry, runs_dir, None)
        for bench, view in run.benches.items():
            overall = run.results[bench]["overall"]
            t = view.table
            both = int((t["judged_ab"] & t["judged_ba"]).sum())
            assert len(t) == overall["n_pairs"] and both == overall["n_both_orders"]
            assert (t["outcome"] == "both").sum() == round(overall["acc_consistent"] * both)
            assert t["flip"].sum() == round(overall["flip_rate"] * both)


def test_filters_are_masks_over_the_table(runs_dir: Path):
    entry = next(e for e in discover(runs_dir) if e.rel == "hostile")
    t = load_run(entry, runs_dir, None).benches["pairs"].table
    assert filter_mask(t, Filters()).all()
    assert t["pair_id"][filter_mask(t, Filters(failures=("truncated",)))].tolist() == ["h0"]
    assert t["pair_id"][filter_mask(t, Filters(text="LOREM IPSUM"))].tolist() == ["h0"]  # case-insensitive
    assert set(t["pair_id"][filter_mask(t, Filters(subsets=("odd",)))]) == {"h1", "h3", "h5"}
    assert t["pair_id"][filter_mask(t, Filters(tie="a tie"))].tolist() == ["h3"]
    assert "h3" not in set(t["pair_id"][filter_mask(t, Filters(tie="no tie"))])
    both_a = t["pair_id"][(t["verdict_ab"] == "A") & (t["verdict_ba"] == "A")]
    assert "h4" in set(both_a) and t["pair_id"][filter_mask(t, Filters(slot_a=("both",)))].tolist() == both_a.tolist()
    one_or_none = filter_mask(t, Filters(slot_a=("one", "neither")))
    assert not set(t["pair_id"][one_or_none]) & set(both_a) and one_or_none.sum() == len(t) - len(both_a)


# --------------------------------------------------------------------------- the app


def test_missing_runs_directory_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(tmp_path / "nowhere", monkeypatch)
    assert not at.exception
    assert len(at.error) == 1 and "does not exist" in at.error[0].value and "--runs DIR" in at.error[0].value


def test_a_corrupt_run_is_one_clear_line(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["broken", "first-jb"])
    assert not at.exception
    assert len(at.error) == 1 and "broken/manifest.json: not valid JSON" in at.error[0].value
    assert "### Pairs" in markdown(at)  # the other run is still shown


def test_overview_shows_manifest_and_results_json_exactly(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(runs_dir, monkeypatch, view="Overview", runs=["longer-jb"])
    assert not at.exception and not at.error
    results = json.loads((runs_dir / "longer-jb" / "results.json").read_text(encoding="utf-8"))["judgebench"]
    manifest = json.loads((runs_dir / "longer-jb" / "manifest.json").read_text(encoding="utf-8"))
    frames = [d.value for d in at.dataframe]
    fields = next(f for f in frames if list(f.columns) == ["field", "value"]).set_index("field")["value"]
    assert fields["judge"] == "longer" and fields["format"] == manifest["format"] and fields["seed"] == "0"
    assert fields["command"] == " ".join(manifest["command"])
    digest = next(iter(manifest["benchmarks"]["judgebench"]["files"].values()))
    assert digest in fields.tolist()
    figs = next(f for f in frames if "scope" in f.columns and "acc_ab" in f.columns).set_index("scope")
    for scope, expected in [("overall", results["overall"])] + [
        (f"subset {k}", v) for k, v in results["subsets"].items()
    ]:
        for key, value in expected.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert figs.loc[scope, key] == value, (scope, key)  # the very numbers, not rounded
    captions = [c for img in at.get("image") for c in img.captions]
    assert "accuracy by order" in captions and "slot a rate" in captions  # the report's plots


def test_filters_change_the_table(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["longer-jb"])
    assert not at.exception and not at.error
    table = (
        load_run(next(e for e in discover(runs_dir) if e.rel == "longer-jb"), runs_dir, None)
        .benches["judgebench"]
        .table
    )
    assert len(at.dataframe[0].value) == LIMIT
    at.sidebar.multiselect(key="f_outcome").set_value(["both"]).run()
    grid = at.dataframe[0].value
    assert set(grid["correct in"]) == {"both"} and len(grid) == (table["outcome"] == "both").sum()
    at.sidebar.multiselect(key="f_outcome").set_value([]).run()
    at.sidebar.radio(key="f_flip").set_value("flipped").run()
    assert len(at.dataframe[0].value) == table["flip"].sum() < LIMIT
    at.sidebar.radio(key="f_flip").set_value("any").run()
    word = table["prompt"].iloc[3].split()[5]
    at.sidebar.text_input(key="f_text").input(word).run()
    expected = table["pair_id"][filter_mask(table, Filters(text=word))].tolist()
    assert at.dataframe[0].value["pair_id"].tolist() == expected and 0 < len(expected) < LIMIT
    assert "long" not in "".join(at.dataframe[0].value.columns)  # no full texts in the grid
    assert at.dataframe[0].value["prompt"].str.len().max() <= 80


def test_pair_url_shows_both_orders_and_marks_the_flip(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    first = [json.loads(line) for line in (runs_dir / "first-jb" / "judgments.jsonl").open(encoding="utf-8")]
    pid = first[0]["pair_id"]
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["first-jb"], bench="judgebench", pair=pid)
    assert not at.exception and not at.error
    md = markdown(at)
    assert "order (a,b): response 1 in slot A" in md and "order (b,a): response 2 in slot A" in md
    assert "verdict flip" in md and "picks response 1 in order (a,b), response 2 in order (b,a)" in md
    assert sum(c == "<answer> [[A]] </answer>" for c in codes(at)) == 2  # each order's own output
    pair = json.loads((SHARED_DATA / JUDGEBENCH_FILE).read_text(encoding="utf-8").splitlines()[0])
    assert pair["pair_id"] == pid and pair["question"] in codes(at)
    assert md.count(":green-badge[✓ better]") == 1


def test_several_runs_on_one_pair_side_by_side(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    longer = load_run(next(e for e in discover(runs_dir) if e.rel == "longer-jb"), runs_dir, None)
    t = longer.benches["judgebench"].table
    pid = t["pair_id"][(~t["flip"]) & t["verdict_ab"].isin(["A", "B"])].iloc[0]
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["first-jb", "longer-jb"], bench="judgebench", pair=pid)
    assert not at.exception and not at.error
    summary = next(d.value for d in at.dataframe if "run" in d.value.columns)
    assert summary["run"].tolist() == ["first-jb", "longer-jb"]
    assert summary["flip"].tolist() == [True, False]
    md = markdown(at)
    assert md.count("**⇄ verdict flip**") == 1 and "no flip" in md  # first flips, longer does not
    assert md.count("order (a,b): response 1 in slot A") == 2
    at.segmented_control(key="layout").set_value("runs side by side").run()
    assert not at.exception and markdown(at).count("order (b,a): response 2 in slot A") == 2


def test_hostile_trace_is_shown_as_text_and_nothing_else(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["hostile"], bench="pairs", pair="h0")
    assert not at.exception and not at.error
    assert any(HOSTILE in c for c in codes(at))  # the trace, the prompt: verbatim, as code
    for node in walk(at._tree):
        if getattr(node, "type", None) in ("code", "text", "dataframe"):  # grid cells are drawn as text
            continue
        shown = str(getattr(node, "proto", ""))
        assert not any(m in shown for m in MARKERS), (getattr(node, "type", None), shown[:300])
    big = next(c for c in codes(at) if c.startswith("lorem ipsum"))
    assert len(big) == MAX_SHOWN
    assert any("more characters not shown" in c.value for c in at.caption)
    assert "failure: :orange-badge[truncated]" in markdown(at)
    at.text_input(key="pair").input("h1").run()
    assert any("bytes: \ufffd\ufffd\ufffd end" in c for c in codes(at))  # invalid UTF-8 replaced on read


def test_paths_in_the_url_open_nothing(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["../hostile", "first-jb/../longer-jb"], pair="../../etc")
    assert not at.exception and not at.error
    assert at.sidebar.multiselect(key="runs").value == []  # unknown names are dropped, never joined to a path
    at = app(runs_dir, monkeypatch, view="Pairs", runs=["hostile"], bench="pairs", pair="../hostile/h0")
    assert not at.exception and "No selected run judged a pair with this id" in at.warning[0].value


def test_training_view_shows_rollouts_with_rewards(runs_dir: Path, monkeypatch: pytest.MonkeyPatch):
    at = app(runs_dir, monkeypatch, view="Training", train="train-toy")
    assert not at.exception and not at.error
    assert "**4 rollouts at step 2**" in markdown(at)
    grid = next(d.value for d in at.dataframe if "rollout" in d.value.columns)
    assert grid["verdict_reward"].tolist() == [0.0, 1.0, 0.0, 1.0] and set(grid["order"]) == {"ab", "ba"}
    assert "rollout 1: consistency 0.00 · format 1.00 · verdict 1.00 · advantage +0.500" in texts(at)
    assert sum(HOSTILE in c for c in codes(at)) == 4  # both orders' rollouts, as text
    at.select_slider(key="t_step").set_value(1).run()
    assert any(c.endswith(f"step 1 ba r1 {HOSTILE}") for c in codes(at))
