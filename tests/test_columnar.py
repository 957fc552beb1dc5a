"""The column-wise judgments reader gives exactly the line-by-line reader's rows, or hands the file back."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from j1eval.errors import InputError
from j1eval.safe_io import iter_jsonl
from j1eval.store.columnar import read_rows
from j1eval.store.records import validate_row

COLUMNS = ["pair_id", "order", "sample", "verdict", "failure", "score_a", "score_b", "p_a", "line"]


def exact_rows(path: Path, known=None, bench=None) -> pd.DataFrame:
    rows = []
    for lineno, rec in iter_jsonl(path):
        if bench is not None and rec.get("bench") not in (None, bench):
            continue
        rows.append(
            validate_row(rec, set(known) if known is not None else None, {"path": path, "record": f"line {lineno}"})
        )
    return pd.DataFrame(rows)


def same(fast: pd.DataFrame, exact: pd.DataFrame) -> bool:
    def norm(frame: pd.DataFrame) -> list[tuple]:
        return [tuple(None if pd.isna(x) else x for x in row) for row in frame[COLUMNS].itertuples(index=False)]

    return norm(fast) == norm(exact)


def write(path: Path, records: list, raw: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + raw, encoding="utf-8")
    return path


def random_records(rng: random.Random, n: int) -> list[dict]:
    out = []
    for i in range(n):
        rec = {
            "pair_id": f"p{i // 4}",
            "order": rng.choice(["ab", "ba"]),
            "verdict": rng.choice(["A", "B", "tie", None]),
        }
        if rng.random() < 0.7:
            rec["sample"] = i % 4
        if rng.random() < 0.5:
            rec["p_a"] = rng.choice([0, 1, 0.25, rng.random(), None])
        if rng.random() < 0.5:
            rec["scores"] = {"A": rng.choice([1, 2.5, 10]), "B": rng.choice([3, 4.5])}
        if rec["verdict"] is None and rng.random() < 0.5:
            rec["failure"] = rng.choice(["truncated", "no_verdict", "backend_error"])
        if rng.random() < 0.5:
            rec["bench"] = rng.choice(["x", "y"])
        rec["raw"] = "<think>" + "w " * rng.randint(0, 50) + "</think>"
        out.append(rec)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_random_files_read_as_the_exact_reader_does(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = write(tmp_path / "j.jsonl", random_records(rng, 300))
    for bench in (None, "x"):
        fast = read_rows(path, bench=bench)
        assert fast is not None
        assert same(fast, exact_rows(path, bench=bench))


def test_a_real_run(tmp_path: Path) -> None:
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    data = Path(__file__).resolve().parents[2] / "shared" / "data"
    cfg = RunConfig(judge="longer", benches=["judgebench", "rmbench"], data_dir=data, out=tmp_path / "run", limit=60)
    run(replace(cfg, progress=False, n_boot=0))
    path = tmp_path / "run" / "judgments.jsonl"
    for bench in (None, "rmbench"):
        fast = read_rows(path, bench=bench)
        assert fast is not None
        assert same(fast, exact_rows(path, bench=bench))
        assert len(fast) == (240 if bench is None else 120)


GOOD = {"pair_id": "p1", "order": "ab", "verdict": "A", "sample": 0}

HANDED_BACK = {
    "missing verdict": [GOOD, {"pair_id": "p2", "order": "ab"}],
    "sample null": [GOOD, {**GOOD, "pair_id": "p2", "sample": None}],
    "sample negative": [GOOD, {**GOOD, "pair_id": "p2", "sample": -1}],
    "sample bool": [{**GOOD, "sample": True}],
    "sample string": [GOOD, {**GOOD, "pair_id": "p2", "sample": "1"}],
    "p_a out of range": [{**GOOD, "p_a": 1.5}],
    "p_a bool": [{**GOOD, "p_a": True}],
    "order unknown": [{**GOOD, "order": "ba "}],
    "verdict unknown": [{**GOOD, "verdict": "C"}],
    "failure unknown": [{**GOOD, "verdict": None, "failure": "boom"}],
    "pair id empty": [{**GOOD, "pair_id": ""}],
    "pair id number": [{**GOOD, "pair_id": 3}],
    "scores a list": [{**GOOD, "scores": [1, 2]}],
    "list line": [GOOD, [1, 2]],
}


@pytest.mark.parametrize("name", sorted(HANDED_BACK))
def test_bad_files_go_to_the_exact_reader(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / "j.jsonl", HANDED_BACK[name])
    assert read_rows(path) is None
    with pytest.raises(InputError):
        exact_rows(path)


@pytest.mark.parametrize(
    "raw",
    [
        "\n",
        '{"pair_id": "p9"',
        "\xff\n",
        '{"pair_id": "p9", "order": "ab", "verdict": NaN}\n',
        "[" * 5000 + "]" * 5000 + "\n",
    ],
    ids=["blank line", "partial tail", "not utf-8 text", "NaN", "deep nesting"],
)
def test_odd_bytes_go_to_the_exact_reader(tmp_path: Path, raw: str) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(
        (json.dumps(GOOD) + "\n").encode() + raw.encode("utf-8", errors="surrogateescape").replace(b"\xc3\xbf", b"\xff")
    )
    assert read_rows(path) is None


def test_deep_field_goes_to_the_exact_reader(tmp_path: Path) -> None:
    deep = '{"pair_id": "p2", "order": "ab", "verdict": "A", "x": ' + "[" * 3000 + "]" * 3000 + "}\n"
    path = write(tmp_path / "j.jsonl", [GOOD], deep)
    assert read_rows(path) is None
    with pytest.raises(InputError, match="nested too deeply"):
        exact_rows(path)


def test_unknown_pair_id_goes_to_the_exact_reader(tmp_path: Path) -> None:
    path = write(tmp_path / "j.jsonl", [GOOD])
    assert read_rows(path, known={"p1"}) is not None
    assert read_rows(path, known={"p2"}) is None


def test_null_verdict_written_and_absent_sample(tmp_path: Path) -> None:
    path = write(
        tmp_path / "j.jsonl",
        [{"pair_id": "p1", "order": "ab", "verdict": None}, {"pair_id": "p1", "order": "ba", "verdict": "B"}],
    )
    fast = read_rows(path)
    assert fast is not None and same(fast, exact_rows(path))
    assert fast["failure"].tolist()[0] == "no_verdict" and fast["sample"].tolist() == [0, 0]
