"""The judgments a run scores, read from its store as one table (column-wise where possible).

A run's ``judgments.jsonl`` may hold more than this invocation scores (a larger ``--limit``
earlier, retried failures): only the latest line of each wanted key counts, and each of those
must be a valid judgment naming one of the run's benchmarks, else one error naming its line.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.errors import InputError
from j1eval.safe_io import iter_jsonl, parse_json
from j1eval.store.columnar import in_strings, read_rows
from j1eval.store.judgments import BACKEND_ERROR
from j1eval.store.records import SCORING_COLUMNS, latest_rows, validate_row


@dataclass
class StoredJudgments:
    """The scoring rows of one run (columns of :func:`j1eval.store.records.validate_row`, plus ``bench``, ``key``)."""

    path: Path
    frame: pd.DataFrame

    def failed(self) -> pd.DataFrame:
        """Rows that failed at the backend (a rerun retries them)."""
        return self.frame[self.frame["failure"] == BACKEND_ERROR]

    def record(self, line: int) -> dict[str, Any]:
        """The whole stored judgment on ``line`` (for its error text or its log-probabilities)."""
        with open(self.path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                if number == line:
                    return parse_json(raw, path=self.path, record=f"line {line}")
        raise InputError("no such line", path=self.path, record=f"line {line}")

    def records(self, lines: Collection[int]) -> list[dict[str, Any]]:
        wanted = set(lines)
        if not wanted:
            return []
        return [rec for number, rec in iter_jsonl(self.path) if number in wanted]


def read_stored(path: Path, wanted: Collection[str], benches: Collection[str]) -> StoredJudgments:
    """The latest stored judgment of each key in ``wanted``, checked, as a table."""
    frame = read_rows(path)
    if frame is not None:
        frame = frame[in_strings(frame["key"], wanted)]
        if not frame["bench"].isin(benches).all():
            frame = None  # the line-by-line reader names the line
    if frame is None:
        frame = _read_exactly(path, wanted, benches)
    frame = latest_rows(frame.reset_index(drop=True))
    return StoredJudgments(path, frame)


def _read_exactly(path: Path, wanted: Collection[str], benches: Collection[str]) -> pd.DataFrame:
    rows = []
    for lineno, rec in iter_jsonl(path):
        if "key" in rec and not isinstance(rec["key"], str):
            raise InputError(f"must be a string, got {rec['key']!r}", path=path, record=f"line {lineno}", field="key")
        if rec.get("key") in wanted:  # a stored judgment this run scores: it must be one
            where = {"path": path, "record": f"line {lineno}"}
            row = validate_row(rec, None, where)
            if not isinstance(rec.get("bench"), str) or rec["bench"] not in benches:
                raise InputError(f"must name one of this run's benchmarks, got {rec.get('bench')!r}", **where)
            rows.append({**row, "bench": rec["bench"]})
    columns = [*SCORING_COLUMNS, "line", "key", "bench"]
    if any("probs" in row for row in rows):  # 4-way judgments' slot probabilities (j1eval.score.kway)
        columns.append("probs")
    return pd.DataFrame(rows, columns=columns)
