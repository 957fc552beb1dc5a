"""One JSONL reader (j1eval.safe_io.iter_jsonl) behind the scorer, the loaders, j1train's curves and the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dashboard.data import read_judgments as dashboard_judgments
from dashboard.runs import DashboardError
from dashboard.training import read_log
from j1eval.benchmarks._sources import read_jsonl
from j1eval.errors import InputError
from j1eval.safe_io import iter_jsonl
from j1train.plot import read_jsonl as read_history

GOOD = {"key": "k1", "pair_id": "p1", "order": "ab", "verdict": "A", "step": 1}
LINES = [
    json.dumps(GOOD).encode(),
    b"",  # blank: not a line
    b"{not json",
    b"[1, 2]",
    b'{"key": "k2", "pair_id": "p\xff", "order": "ba", "verdict": "B", "step": 2}',  # not UTF-8
    json.dumps({**GOOD, "key": "k3", "pair_id": "p3", "order": "sideways"}).encode(),  # JSON, not a judgment
]


@pytest.fixture
def mixed(tmp_path) -> Path:
    path = tmp_path / "runs" / "r" / "judgments.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n".join(LINES) + b"\n")
    return path


def test_strict_readers_name_the_first_bad_line(mixed):
    with pytest.raises(InputError, match=r"judgments\.jsonl, record line 3: not valid JSON"):
        list(iter_jsonl(mixed))
    with pytest.raises(InputError, match=r"record line 3: not valid JSON"):
        read_jsonl(mixed)  # the benchmark loaders' reader
    with pytest.raises(InputError, match=r"record line 3: not valid JSON"):
        read_history(mixed)  # j1train's training curves
    assert read_history(mixed.parent / "absent.jsonl") == []  # no history yet


def test_lenient_read_skips_and_counts_bad_lines(mixed):
    skipped: list[int] = []
    got = list(iter_jsonl(mixed, skipped=skipped))
    assert [n for n, _ in got] == [1, 5, 6] and skipped == [3, 4]
    assert got[1][1]["pair_id"] == "p\ufffd"  # bytes that are not UTF-8 replaced, the line kept


def test_dashboard_readers_use_it(mixed, tmp_path):
    root = tmp_path / "runs"
    frame, bad = dashboard_judgments(root, mixed)
    assert list(frame["pair_id"]) == ["p1", "p\ufffd"] and bad == 3  # not JSON, a list, an unknown order
    log, bad_log = read_log(root, mixed)
    assert list(log["step"]) == [1, 2] and bad_log == 2  # the second line of step 1 is dropped, as before
    with pytest.raises(DashboardError, match="outside the runs directory"):
        dashboard_judgments(root / "r", tmp_path / "elsewhere.jsonl")
