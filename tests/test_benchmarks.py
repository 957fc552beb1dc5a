"""Benchmark loaders (real files and fixtures), their input errors, and their scoring rules."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import require

from j1eval.benchmarks import BENCHMARKS, Figure, _sources, get_benchmark, judgebench, rewardbench
from j1eval.errors import DataNotFoundError, InputError
from j1eval.score.metrics import compute_figures, pair_table
from j1eval.types import Pair

JB_FILE = "dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl"
RM_FILES = ("chat", "code", "safety-refuse", "safety-response")


# --------------------------------------------------------------------------- helpers


def evaluate(fig: Figure) -> tuple[float | None, list[str]]:
    """A Figure's value as defined: weighted mean over present groups of per-group means; missing groups."""
    values = fig.values.astype(float)
    groups = fig.groups if fig.groups is not None else pd.Series("all", index=values.index)
    ok = values.notna()
    means = {g: values[ok & (groups == g)].mean() for g in groups[ok].unique()}
    weights = dict(fig.weights) if fig.weights is not None else {g: 1.0 for g in means}
    used = {g: w for g, w in weights.items() if g in means}
    value = sum(w * means[g] for g, w in used.items()) / sum(used.values()) if used else None
    return value, sorted(set(fig.required) - set(means))


def make_table(rows: list[dict]) -> pd.DataFrame:
    """A scoring table as the scorer builds it, from rows with pair_id, subset, label, verdicts and extras.

    ``ab``/``ba``: the verdict per order ("A", "B", "tie", None), or absent = not judged;
    ``single``: the single order (default "ab").
    """
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in ("ab", "ba", "single")}
        for o in ("ab", "ba"):
            judged = o in r
            verdict = r.get(o)
            good = "A" if (r["label"] == 1) == (o == "ab") else "B"
            bad = "B" if good == "A" else "A"
            row[f"judged_{o}"] = judged
            row[f"verdict_{o}"] = verdict
            row[f"correct_{o}"] = float(verdict == good) if judged else np.nan
            row[f"points_{o}"] = (1.0 if verdict == good else -1.0 if verdict == bad else 0.0) if judged else np.nan
        single = r.get("single", "ab")
        row["single_order"] = single
        row["correct_single"] = row[f"correct_{single}"]
        row["halfcredit_single"] = (row[f"points_{single}"] + 1) / 2
        both = row["judged_ab"] and row["judged_ba"]
        row["correct_both"] = row["correct_ab"] * row["correct_ba"] if both else np.nan
        out.append(row)
    return pd.DataFrame(out)


def right(label: int) -> str:
    """The correct slot under order ab."""
    return "A" if label == 1 else "B"


def wrong(label: int) -> str:
    return "B" if label == 1 else "A"


def write_jsonl(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def sha256sums(shared: Path) -> dict[str, str]:
    lines = (shared / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())}


# --------------------------------------------------------------------------- registry


def test_all_five_registered_with_protocols():
    expected = {
        "judgebench": "consistent",
        "rewardbench": "single",
        "rmbench": "single",
        "ppe": "single",
        "followbencheval": "consistent",
    }
    assert set(BENCHMARKS.names()) >= set(expected)
    for name, protocol in expected.items():
        bench = get_benchmark(name)
        assert bench.name == name and bench.title and bench.folder == name
        assert bench.j1_protocol == protocol


# --------------------------------------------------------------------------- JudgeBench


def test_judgebench_real_file(shared_data):
    path = require(shared_data / "judgebench" / JB_FILE)
    data = get_benchmark("judgebench").load(shared_data)
    assert len(data.pairs) == 350
    assert sum(p.label == 1 for p in data.pairs) == 193
    assert Counter(p.subset for p in data.pairs) == {"knowledge": 154, "reasoning": 98, "math": 56, "coding": 42}
    assert data.source == str(shared_data / "judgebench")
    assert data.files == {str(path): sha256sums(shared_data)[f"judgebench/{JB_FILE}"]}
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    p = data.pairs[0]
    assert p.pair_id == first["pair_id"] and p.prompt == first["question"]
    assert (p.response_1, p.response_2) == (first["response_A"], first["response_B"])
    assert p.meta["source"] == first["source"] and p.meta["response_model"] == "gpt-4o-2024-05-13"
    assert len({p.pair_id for p in data.pairs}) == 350


def test_judgebench_loads_every_file_in_name_order(shared_data, tmp_path):
    rows = [json.loads(x) for x in require(shared_data / "judgebench" / JB_FILE).read_text().splitlines()][:5]
    claude = [{**r, "pair_id": r["pair_id"] + "-c", "response_model": "claude-3-5-sonnet"} for r in rows]
    write_jsonl(tmp_path / "judgebench" / "dataset=judgebench,response_model=gpt-4o.jsonl", rows)
    write_jsonl(tmp_path / "judgebench" / "dataset=judgebench,response_model=claude-3-5-sonnet.jsonl", claude)
    data = get_benchmark("judgebench").load(tmp_path)
    assert [p.pair_id for p in data.pairs] == [r["pair_id"] for r in claude + rows]
    assert len(data.files) == 2


def test_judgebench_hub_fallback(shared_data, tmp_path, monkeypatch):
    rows = [json.loads(x) for x in require(shared_data / "judgebench" / JB_FILE).read_text().splitlines()]
    calls = []

    def fake_hub(dataset_id, split, revision):
        calls.append((dataset_id, split, revision))
        return [(f"row {i}", r) for i, r in enumerate(rows)]

    monkeypatch.setattr(_sources, "load_hub", fake_hub)  # Benchmark.load_hub reads it there
    data = get_benchmark("judgebench").load(tmp_path)  # no local folder
    assert calls == [("ScalerLab/JudgeBench", "gpt", judgebench.HF_REVISION)]
    assert data.source == f"hf:ScalerLab/JudgeBench@{judgebench.HF_REVISION}" and data.files == {}
    assert len(data.pairs) == 350


# --------------------------------------------------------------------------- RewardBench


def test_rewardbench_real_parquet(shared_data):
    require(shared_data / "rewardbench" / "rewardbench_filtered.parquet")
    bench = get_benchmark("rewardbench")
    start = time.perf_counter()
    data = bench.load(shared_data)
    assert time.perf_counter() - start < 2.0
    assert len(data.pairs) == 2985
    sections = Counter(p.meta["section"] for p in data.pairs)
    assert sections == {"Chat": 358, "Chat Hard": 456, "Safety": 740, "Reasoning": 1431}
    assert Counter(p.subset for p in data.pairs) == rewardbench.EXAMPLE_COUNTS
    ids = {p.pair_id for p in data.pairs}
    assert len(ids) == 2985
    assert {"donotanswer:3692", "hep-python:3692"} <= ids
    assert all(p.label == 1 for p in data.pairs)
    frame = pd.read_parquet(shared_data / "rewardbench" / "rewardbench_filtered.parquet")
    row = frame.iloc[100]
    p = data.pairs[100]
    assert p.pair_id == f"{row['subset']}:{row['id']}"
    assert (p.prompt, p.response_1, p.response_2) == (row["question"], row["response_A"], row["response_B"])
    assert bench.pair_columns(p) == {"section": p.meta["section"]}


def test_rewardbench_official_schema_jsonl(shared_data, tmp_path):
    frame = pd.read_parquet(require(shared_data / "rewardbench" / "rewardbench_filtered.parquet")).iloc[:40]
    official = [
        {
            "prompt": r.question,
            "chosen": r.response_A,
            "chosen_model": r.chosen_model,
            "rejected": r.response_B,
            "rejected_model": r.rejected_model,
            "subset": r.subset,
            "id": int(r.id),
        }
        for r in frame.itertuples()
    ]
    write_jsonl(tmp_path / "rewardbench" / "filtered.jsonl", official)
    data = get_benchmark("rewardbench").load(tmp_path)
    assert [p.pair_id for p in data.pairs] == [f"{r['subset']}:{r['id']}" for r in official]
    assert [p.response_1 for p in data.pairs] == [r["chosen"] for r in official]
    assert data.pairs[0].meta["chosen_model"] == official[0]["chosen_model"]


def test_rewardbench_hub_snapshot_skips_raw_split(shared_data, tmp_path):
    src = require(shared_data / "rewardbench" / "rewardbench_filtered.parquet")
    (tmp_path / "rewardbench" / "data").mkdir(parents=True)
    shutil.copy(src, tmp_path / "rewardbench" / "data" / "filtered-00000-of-00001.parquet")
    shutil.copy(src, tmp_path / "rewardbench" / "data" / "raw-00000-of-00001.parquet")
    data = get_benchmark("rewardbench").load(tmp_path)
    assert len(data.pairs) == 2985 and [Path(f).name for f in data.files] == ["filtered-00000-of-00001.parquet"]


def test_rewardbench_converted_label_two_puts_chosen_first(tmp_path):
    rec = {"question": "q", "response_A": "worse", "response_B": "better", "subset": "hep-go", "id": 7, "label": 2}
    write_jsonl(tmp_path / "rewardbench" / "x.jsonl", [rec])
    (p,) = get_benchmark("rewardbench").load(tmp_path).pairs
    assert (p.response_1, p.response_2, p.label, p.meta["section"]) == ("better", "worse", 1, "Reasoning")


def test_rewardbench_unknown_subset(tmp_path):
    rec = {"prompt": "q", "chosen": "a", "rejected": "b", "subset": "nope", "id": 1}
    write_jsonl(tmp_path / "rewardbench" / "x.jsonl", [rec])
    with pytest.raises(InputError, match=r"x\.jsonl, record line 1, field 'subset'"):
        get_benchmark("rewardbench").load(tmp_path)


# --------------------------------------------------------------------------- RM-Bench


def test_rmbench_real_files(shared_data):
    for part in RM_FILES:
        require(shared_data / "rmbench" / f"{part}_filtered.json")
    bench = get_benchmark("rmbench")
    start = time.perf_counter()
    data = bench.load(shared_data)
    assert time.perf_counter() - start < 2.0
    assert len(data.pairs) == 7182
    assert len({(p.subset, p.meta["id"]) for p in data.pairs}) == 798
    assert data.missing == ["math"]
    assert len({p.pair_id for p in data.pairs}) == 7182
    assert Counter(p.subset for p in data.pairs) == {"chat": 129 * 9, "code": 228 * 9, "safety": (284 + 157) * 9}
    assert Counter(bench.pair_columns(p)["cell"] for p in data.pairs) == {"hard": 2394, "normal": 2394, "easy": 2394}
    sums = sha256sums(shared_data)
    assert {Path(f).name: h for f, h in data.files.items()} == {
        f"{part}_filtered.json": sums[f"rmbench/{part}_filtered.json"] for part in RM_FILES
    }
    first = json.loads((shared_data / "rmbench" / "chat_filtered.json").read_text())[0]
    pairs = {p.pair_id: p for p in data.pairs}
    p = pairs[f"chat:{first['id']}:0:2"]
    assert (p.response_1, p.response_2, p.label) == (first["chosen"][0], first["rejected"][2], 1)
    assert bench.pair_columns(p) == {"domain": "chat", "cell": "hard"}
    assert bench.pair_columns(pairs[f"chat:{first['id']}:2:0"])["cell"] == "easy"
    assert bench.pair_columns(pairs[f"chat:{first['id']}:1:1"])["cell"] == "normal"


def test_rmbench_total_dataset(shared_data, tmp_path):
    records = []
    for part in ("chat", "safety-response"):
        recs = json.loads(require(shared_data / "rmbench" / f"{part}_filtered.json").read_text())
        records += [{**r, "domain": part} for r in recs[:3]]
    (tmp_path / "rmbench").mkdir()
    (tmp_path / "rmbench" / "total_dataset.json").write_text(json.dumps(records))
    data = get_benchmark("rmbench").load(tmp_path)
    assert len(data.pairs) == 6 * 9
    assert data.missing == ["code", "math", "safety-refuse"]
    assert data.pairs[0].pair_id == f"chat:{records[0]['id']}:0:0"
    assert data.pairs[-1].pair_id == f"safety:{records[-1]['id']}:2:2"


def test_rmbench_bad_records(tmp_path):
    folder = tmp_path / "rmbench"
    folder.mkdir()
    good = {"id": 1, "prompt": "p", "chosen": ["a", "b", "c"], "rejected": ["d", "e", "f"]}
    (folder / "total_dataset.json").write_text(json.dumps([{**good, "domain": "chat"}, good]))
    with pytest.raises(InputError, match=r"total_dataset\.json, record row 1, field 'domain': missing"):
        get_benchmark("rmbench").load(tmp_path)
    (folder / "code_filtered.json").write_text(json.dumps([{**good, "chosen": ["a", "b"]}]))
    with pytest.raises(InputError, match=r"code_filtered\.json, record row 0, field 'chosen'"):
        get_benchmark("rmbench").load(tmp_path)
    (folder / "code_filtered.json").write_text("[{")
    with pytest.raises(InputError, match=r"code_filtered\.json: not valid JSON"):
        get_benchmark("rmbench").load(tmp_path)


# --------------------------------------------------------------------------- PPE


def test_ppe_fixture(fixtures_dir):
    data = get_benchmark("ppe").load(fixtures_dir)
    assert data.missing == []
    assert data.notes["ties_dropped"] == 2
    assert data.notes["tie_values"] == {"tie": 1, "tie (bothbad)": 1}
    assert data.notes["duplicate_conflict_pairs_dropped"] == 1
    assert len(data.files) == 6
    got = {p.pair_id: p for p in data.pairs}
    assert [p.pair_id for p in data.pairs if p.subset == "preference"] == ["hp001", "hp002", "hp005", "hp006"]
    assert [got[k].label for k in ("hp001", "hp002", "hp005", "hp006")] == [1, 2, 1, 2]
    assert got["hp002"].response_2 == "hp002 response_2 (model_b)"
    # 0-based indices: pair [k1, k2] shows response_{k1+1} then response_{k2+1}; label names the correct one.
    expected = {
        "mmlu-pro:mmlu-1:0:1": (1, "response_1 (correct)", "response_2 (wrong)"),
        "mmlu-pro:mmlu-1:3:2": (2, "response_4 (wrong)", "response_3 (correct)"),
        "mmlu-pro:mmlu-1:5:31": (1, "response_6 (correct)", "response_32 (wrong)"),
        "mmlu-pro:mmlu-2:31:0": (1, "response_32 (correct)", "response_1 (wrong)"),
        "mmlu-pro:mmlu-2:4:31": (2, "response_5 (wrong)", "response_32 (correct)"),
        "math:math-1@gpt-4o-mini:1:0": (1, "response_2 (correct)", "response_1 (wrong)"),
        "math:math-1@llama-3-8b:1:0": (2, "response_2 (wrong)", "response_1 (correct)"),
        "math:math-2:6:7": (2, "response_7 (wrong)", "response_8 (correct)"),
        "gpqa:gpqa-1:0:1": (1, "response_1 (correct)", "response_2 (wrong)"),
        "mbpp-plus:mbpp-1:10:20": (1, "response_11 (correct)", "response_21 (wrong)"),
        "ifeval:ifeval-1:30:0": (2, "response_31 (wrong)", "response_1 (correct)"),
    }
    correctness = [p for p in data.pairs if p.subset != "preference"]
    assert [p.pair_id for p in correctness] == list(expected)
    for pid, (label, r1, r2) in expected.items():
        p = got[pid]
        assert p.label == label and p.response_1.endswith(r1) and p.response_2.endswith(r2), pid
        assert p.subset == pid.split(":")[0]
        assert get_benchmark("ppe").pair_columns(p) == {"group": "correctness"}
    assert get_benchmark("ppe").pair_columns(got["hp001"]) == {"group": "preference"}
    assert data.notes["model_qualified_rows"] == 2


def test_ppe_partial_and_jsonl(fixtures_dir, tmp_path):
    shutil.copytree(fixtures_dir / "ppe", tmp_path / "ppe")
    shutil.rmtree(tmp_path / "ppe" / "PPE-GPQA-Best-of-K")
    math_dir = tmp_path / "ppe" / "PPE-MATH-Best-of-K"
    rows = pq.read_table(math_dir / "data" / "train-00000-of-00001.parquet").to_pylist()
    shutil.rmtree(math_dir / "data")
    write_jsonl(math_dir / "train.jsonl", rows)
    data = get_benchmark("ppe").load(tmp_path)
    assert data.missing == ["gpqa"]
    assert sum(p.subset == "math" for p in data.pairs) == 3
    assert str(math_dir / "train.jsonl") in data.files


def _write_ppe_set(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    path = tmp_path / "ppe" / name / "data" / "train-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_ppe_bad_conflict_pairs(fixtures_dir, tmp_path):
    src = fixtures_dir / "ppe" / "PPE-IFEval-Best-of-K" / "data" / "train-00000-of-00001.parquet"
    (row,) = pq.read_table(src).to_pylist()
    _write_ppe_set(tmp_path, "PPE-IFEval-Best-of-K", [{**row, "sampled_conflict_pairs": [[1, 2]]}])
    with pytest.raises(InputError, match=r"record row 0, field 'sampled_conflict_pairs': pair 0 \[1, 2\] is not a"):
        get_benchmark("ppe").load(tmp_path)
    shutil.rmtree(tmp_path / "ppe")
    _write_ppe_set(tmp_path, "PPE-IFEval-Best-of-K", [{**row, "sampled_conflict_pairs": [[0, 32]]}])
    with pytest.raises(InputError, match=r"field 'sampled_conflict_pairs': pair 0 \[0, 32\]: expected two distinct"):
        get_benchmark("ppe").load(tmp_path)
    shutil.rmtree(tmp_path / "ppe")
    row.pop("scores")
    _write_ppe_set(tmp_path, "PPE-IFEval-Best-of-K", [row])
    with pytest.raises(InputError, match=r"train-00000-of-00001\.parquet, record row 0, field 'scores': missing"):
        get_benchmark("ppe").load(tmp_path)


# --------------------------------------------------------------------------- FollowBenchEval


def test_followbencheval_fixture(fixtures_dir):
    bench = get_benchmark("followbencheval")
    data = bench.load(fixtures_dir)
    assert [p.pair_id for p in data.pairs] == [f"fbe-000{i}" for i in range(1, 7)]
    assert [p.subset for p in data.pairs] == ["L1", "L2", "L3", "L4", "L5", "L5"]
    assert [p.label for p in data.pairs] == [1, 2, 1, 2, 1, 2]
    assert data.pairs[1].meta == {"example_id": "situation_3", "category": "situation", "level": 2}
    assert "meeting all" in data.pairs[1].response_2
    assert bench.pair_columns(data.pairs[0]) == {"category": "content"}
    assert data.missing == [] and len(data.files) == 1


# --------------------------------------------------------------------------- malformed input


def _copy_with(tmp_path: Path, lines: list[str], n: int, new: str | None) -> Path:
    changed = list(lines)
    changed[n] = new if new is not None else changed[n]
    return write_jsonl(tmp_path / "judgebench" / "bad.jsonl", changed)


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda r: r.pop("question") and json.dumps(r), r"bad\.jsonl, record line 3, field 'question': missing"),
        (lambda r: json.dumps({**r, "label": "A=B"}), r"bad\.jsonl, record line 3, field 'label': expected 'A>B'"),
        (lambda r: json.dumps(r)[:-5], r"bad\.jsonl, record line 3: not valid JSON"),
        (lambda r: json.dumps({**r, "source": "mmlu"}), r"record line 3, field 'source': unknown source"),
        (lambda r: json.dumps({**r, "response_A": 3}), r"record line 3, field 'response_A': expected str, got int"),
    ],
)
def test_judgebench_malformed_record(shared_data, tmp_path, change, pattern):
    lines = require(shared_data / "judgebench" / JB_FILE).read_text(encoding="utf-8").splitlines()[:5]
    _copy_with(tmp_path, lines, 2, change(json.loads(lines[2])))
    with pytest.raises(InputError, match=pattern) as info:
        get_benchmark("judgebench").load(tmp_path)
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_duplicate_pair_id(tmp_path, fixtures_dir):
    lines = (fixtures_dir / "followbencheval" / "followbencheval.jsonl").read_text().splitlines()
    write_jsonl(tmp_path / "followbencheval" / "followbencheval.jsonl", lines + [lines[0]])
    with pytest.raises(InputError, match=r"record line 7, field 'pair_id': duplicate pair id 'fbe-0001'.*line 1"):
        get_benchmark("followbencheval").load(tmp_path)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("level", 7, "expected 1 to 5"), ("level", "2", "expected int"), ("category", "tone", "expected one of")],
)
def test_followbencheval_bad_values(tmp_path, fixtures_dir, field, value, message):
    lines = (fixtures_dir / "followbencheval" / "followbencheval.jsonl").read_text().splitlines()
    rec = {**json.loads(lines[3]), field: value}
    write_jsonl(tmp_path / "followbencheval" / "followbencheval.jsonl", lines[:3] + [json.dumps(rec)])
    with pytest.raises(InputError, match=rf"record line 4, field '{field}': {message}"):
        get_benchmark("followbencheval").load(tmp_path)


# --------------------------------------------------------------------------- not found


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("judgebench", "dataset=judgebench,response_model=*.jsonl"),
        ("rewardbench", "allenai/reward-bench"),
        ("rmbench", "chat,code,math,safety-refuse,safety-response"),
        ("ppe", "lmarena-ai/PPE-Human-Preference-V1"),
        ("followbencheval", "followbencheval.jsonl"),
    ],
)
def test_missing_data_says_what_to_download(tmp_path, name, what):
    with pytest.raises(DataNotFoundError) as info:
        get_benchmark(name).load(tmp_path)
    msg = str(info.value)
    assert "\n" not in msg and what in msg and f"{tmp_path / name}/" in msg
    assert info.value.exit_code == 2
    if name != "followbencheval":
        assert "J1EVAL_NO_HUB" in msg  # the hub's reason is given
    with pytest.raises(DataNotFoundError, match="--data-dir"):
        get_benchmark(name).load(None)


def test_hub_probe_fails_fast(monkeypatch):
    monkeypatch.delenv("J1EVAL_NO_HUB", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(_sources, "_hub_probe", {})
    start = time.perf_counter()
    with pytest.raises(_sources.HubError, match="unreachable"):
        _sources.load_hub("ScalerLab/JudgeBench", "gpt", "main")
    assert time.perf_counter() - start < _sources.HUB_PROBE_TIMEOUT_S + 1


# --------------------------------------------------------------------------- figures by hand


def test_judgebench_figures():
    table = make_table(
        [
            {"pair_id": "p1", "subset": "math", "label": 1, "ab": "A", "ba": "B"},  # right, right
            {"pair_id": "p2", "subset": "math", "label": 1, "ab": "A", "ba": "tie"},  # right + tie: official yes
            {"pair_id": "p3", "subset": "math", "label": 2, "ab": "A", "ba": "A"},  # wrong + right: sum 0
            {"pair_id": "p4", "subset": "math", "label": 2, "ab": "B"},  # one order only: not counted
        ]
    )
    figs = get_benchmark("judgebench").figures(table)
    assert evaluate(figs["official"]) == (pytest.approx(2 / 3), [])
    assert evaluate(figs["j1"]) == (pytest.approx(1 / 3), [])
    assert math.isnan(figs["official"].values[3])


def _rb(pid: str, subset: str, verdict: str | None) -> dict:
    return {"pair_id": pid, "subset": subset, "label": 1, "ab": verdict}


def test_rewardbench_figures():
    rows = [
        _rb("c1", "alpacaeval-easy", "A"),  # Chat: 1 / 1
        _rb("c2", "mt-bench-med", "tie"),  # Chat: 0.5 / 0
        _rb("h1", "llmbar-natural", "B"),  # Chat Hard: 0 / 0
        _rb("s1", "donotanswer", None),  # Safety: 0.5 / 0
        _rb("s2", "xstest-should-respond", "A"),  # Safety: 1 / 1
        _rb("m1", "math-prm", "A"),  # Reasoning/math-prm: 1
        _rb("x1", "hep-python", "B"),  # Reasoning/code: 0
        _rb("x2", "hep-go", "A"),  # Reasoning/code: 1
    ]
    figs = get_benchmark("rewardbench").figures(make_table(rows))
    # official: 1/4 (0.75 + 0 + 0.75) + 1/8 * 1 + 1/8 * 0.5
    assert evaluate(figs["official"]) == (pytest.approx(0.5625), [])
    assert evaluate(figs["j1"]) == (pytest.approx(0.25 * (0.5 + 0 + 0.5) + 0.125 * 1 + 0.125 * 0.5), [])
    assert evaluate(figs["chat"])[0] == pytest.approx(0.75)
    assert evaluate(figs["chat_hard"])[0] == pytest.approx(0.0)
    assert evaluate(figs["safety"])[0] == pytest.approx(0.75)
    assert evaluate(figs["reasoning"])[0] == pytest.approx(0.5 * 1 + 0.5 * 0.5)
    figs = get_benchmark("rewardbench").figures(make_table([r for r in rows if r["pair_id"] != "h1"]))
    assert evaluate(figs["official"])[1] == ["Chat Hard"]
    figs = get_benchmark("rewardbench").figures(make_table([r for r in rows if r["pair_id"] != "m1"]))
    assert evaluate(figs["reasoning"])[1] == ["Reasoning/math-prm"]


def _rm_rows(domain: str, prompt: str, correct) -> list[dict]:
    cell = {True: "hard", False: "easy"}
    rows = []
    for i in range(3):
        for j in range(3):
            rows.append(
                {
                    "pair_id": f"{domain}:{prompt}:{i}:{j}",
                    "subset": domain,
                    "label": 1,
                    "domain": domain,
                    "cell": "normal" if i == j else cell[i < j],
                    "ab": "A" if correct(i, j) else "B",
                }
            )
    return rows


def test_rmbench_figures():
    rows = (
        _rm_rows("chat", "1", lambda i, j: True)  # cells 1, 1, 1
        + _rm_rows("code", "1", lambda i, j: i >= j)  # hard 0, normal 1, easy 1
        + _rm_rows("math", "1", lambda i, j: i == j)  # hard 0, normal 1, easy 0
        + _rm_rows("safety", "1", lambda i, j: True)  # with the next: 0.5 per cell
        + _rm_rows("safety", "2", lambda i, j: False)
    )
    bench = get_benchmark("rmbench")
    figs = bench.figures(make_table(rows))
    assert evaluate(figs["official"]) == (pytest.approx(7.5 / 12), [])
    assert evaluate(figs["j1"]) == (pytest.approx(7.5 / 12), [])
    assert evaluate(figs["easy"]) == (pytest.approx((1 + 1 + 0 + 0.5) / 4), [])
    assert evaluate(figs["normal"]) == (pytest.approx((1 + 1 + 1 + 0.5) / 4), [])
    assert evaluate(figs["hard"]) == (pytest.approx((1 + 0 + 0 + 0.5) / 4), [])
    figs = bench.figures(make_table([r for r in rows if r["domain"] != "math"]))
    value, missing = evaluate(figs["official"])
    assert value == pytest.approx(6.5 / 9) and missing == ["math/easy", "math/hard", "math/normal"]
    assert evaluate(figs["hard"])[1] == ["math"]


def test_ppe_figures():
    def row(pid, subset, ok):
        return {"pair_id": pid, "subset": subset, "label": 2, "ab": right(2) if ok else wrong(2)}

    rows = [row(f"h{n}", "preference", ok) for n, ok in enumerate([True, True, True, False])]
    rows += [row("a1", "mmlu-pro", True), row("a2", "mmlu-pro", False), row("b1", "math", True)]
    rows += [row("c1", "gpqa", False), row("d1", "mbpp-plus", True), row("e1", "ifeval", True)]
    rows += [row("e2", "ifeval", False)]
    figs = get_benchmark("ppe").figures(make_table(rows))
    assert evaluate(figs["preference"])[0] == pytest.approx(0.75)
    correctness = (0.5 + 1 + 0 + 1 + 0.5) / 5
    assert evaluate(figs["correctness"]) == (pytest.approx(correctness), [])
    assert evaluate(figs["official"]) == (pytest.approx((0.75 + correctness) / 2), [])
    assert evaluate(figs["j1"])[0] == pytest.approx((0.75 + correctness) / 2)
    figs = get_benchmark("ppe").figures(make_table([r for r in rows if r["subset"] != "gpqa"]))
    assert evaluate(figs["official"])[1] == ["gpqa"]
    assert evaluate(figs["correctness"])[1] == ["gpqa"]


def test_followbencheval_figures():
    table = make_table(
        [
            {"pair_id": "a", "subset": "L1", "label": 1, "ab": "A", "ba": "B"},  # consistent and right
            {"pair_id": "b", "subset": "L2", "label": 2, "ab": "B", "ba": "B"},  # right, then wrong
            {"pair_id": "c", "subset": "L3", "label": 1, "ab": "A"},  # one order only
            {"pair_id": "d", "subset": "L5", "label": 1, "ab": "tie", "ba": "A"},  # tie, wrong
        ]
    )
    figs = get_benchmark("followbencheval").figures(table)
    assert evaluate(figs["official"]) == (pytest.approx(1 / 3), [])
    assert evaluate(figs["j1"]) == (pytest.approx(1 / 3), [])


# --------------------------------------------------------------------------- with the real scorer


def _verdicts(pairs: list[Pair]) -> pd.DataFrame:
    """Deterministic mixed verdicts for both orders (some pairs judged in one order only)."""
    cycle = ["A", "B", "tie", None, "A", "A", "B"]
    rows = []
    for n, p in enumerate(pairs):
        rows.append({"pair_id": p.pair_id, "order": "ab", "verdict": cycle[n % 7]})
        if n % 11:
            rows.append({"pair_id": p.pair_id, "order": "ba", "verdict": cycle[(n * 3 + 1) % 7]})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["judgebench", "rewardbench", "rmbench", "ppe", "followbencheval"])
def test_figures_agree_with_metrics(name, fixtures_dir):
    data_dir = (
        fixtures_dir
        if name in ("ppe", "followbencheval")
        else require(Path(__file__).resolve().parents[2] / "shared" / "data" / name).parent
    )
    bench = get_benchmark(name)
    pairs = bench.load(data_dir).pairs
    table = pair_table(pairs, _verdicts(pairs), bench, seed=3)
    result = compute_figures(table, bench, n_boot=0)
    figs = bench.figures(table)
    assert {"official", "j1"} <= set(figs)
    for fig_name, fig in figs.items():
        value, missing = evaluate(fig)
        assert len(fig.values) == len(table)
        if missing:
            assert result[fig_name] is None and result[f"{fig_name}_partial"] == pytest.approx(value)
        else:
            assert result[fig_name] == pytest.approx(value), fig_name
    if name == "rmbench":
        assert result["official"] is None and "math/hard" in result["missing"]


def test_hub_branch_is_recorded_as_the_commit_it_resolves_to(monkeypatch):
    """A run names the exact hub commit it read, not just "main" (hub answers faked: no hub here)."""
    import huggingface_hub

    monkeypatch.delenv("J1EVAL_NO_HUB", raising=False)
    monkeypatch.setattr(_sources, "_hub_probe", {"http://hub.invalid": None})
    monkeypatch.setenv("HF_ENDPOINT", "http://hub.invalid")
    monkeypatch.setattr(_sources, "_resolved", {})
    asked = []

    class FakeApi:
        def dataset_info(self, dataset_id, revision=None):
            asked.append((dataset_id, revision))
            return type("Info", (), {"sha": "0123456789abcdef0123456789abcdef01234567"})()

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert _sources.hub_revision("ScalerLab/JudgeBench", "main") == sha
    assert _sources.hub_revision("ScalerLab/JudgeBench", "main") == sha  # asked once
    assert _sources.hub_revision("ScalerLab/JudgeBench", sha) == sha  # a commit is not looked up
    assert _sources.hub_source("ScalerLab/JudgeBench", "main") == f"hf:ScalerLab/JudgeBench@{sha}"
    assert asked == [("ScalerLab/JudgeBench", "main")]

    class DownApi:
        def dataset_info(self, dataset_id, revision=None):
            raise OSError("connection reset")

    monkeypatch.setattr(huggingface_hub, "HfApi", DownApi)
    assert _sources.hub_revision("allenai/reward-bench", "main") == "main"  # no answer: the branch name


def test_deeply_nested_data_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    from j1eval.benchmarks._sources import read_json_list, read_jsonl
    from j1eval.errors import InputError

    nested = "[" * 200_000 + "]" * 200_000
    for reader, name in ((read_jsonl, "deep.jsonl"), (read_json_list, "deep.json")):
        path = tmp_path / name
        path.write_text(nested + "\n")
        with pytest.raises(InputError) as err:
            reader(path)
        assert "nested too deeply" in str(err.value) and name in str(err.value)
