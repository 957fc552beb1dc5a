"""Judgment records into rows: the one decoder of ``judgments.jsonl``, whoever wrote it.

A record has ``pair_id``, ``order`` ("ab"/"ba", or a 4-way rotation "r0"-"r3"), ``verdict``
("A"/"B"/"tie"/null, or a slot letter) and optional ``sample``, ``failure``, ``scores``, ``p_a`` (the
judge's probability of slot A), ``probs`` and ``bench``. Column-wise where every check passes that way
(:mod:`j1eval.store.columnar`), else line by line, which names the first bad line and field: the same
rows either way. Used by ``score``, by ``run``'s scoring of its store, and by the dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.errors import InputError
from j1eval.orders import LETTERS, is_rotation
from j1eval.safe_io import iter_jsonl
from j1eval.store.columnar import read_rows
from j1eval.types import FAILURE_CLASSES, ORDERS, VERDICTS

#: What the scorer reads of each judgment (the columns of :func:`validate_row`'s rows it uses).
SCORING_COLUMNS = ["pair_id", "order", "sample", "verdict", "failure", "score_a", "score_b", "p_a"]


def read_judgments(path: str | Path, pair_ids: Iterable[str] | None = None, bench: str | None = None) -> pd.DataFrame:
    """Read and validate a judgments JSONL file.

    Every problem raises :class:`InputError` naming the file, line and field. With
    ``pair_ids``, an unknown pair id is an error. Rows whose ``bench`` names another
    benchmark are skipped (a run over several benchmarks writes one file).
    """
    path = Path(path)
    known = set(pair_ids) if pair_ids is not None else None
    # Column-wise when every check passes that way (j1eval.store.columnar), else line by line, which
    # names the first bad line and field: the same rows either way.
    frame = read_rows(path, known, bench)
    if frame is None:
        rows: list[dict[str, Any]] = []
        for lineno, rec in iter_jsonl(path):  # not UTF-8, not JSON, not an object: an error naming the line
            where = {"path": path, "record": f"line {lineno}"}
            if bench is not None and rec.get("bench") not in (None, bench):
                continue
            rows.append(validate_row(rec, known, where))
        frame = pd.DataFrame(rows)
    if frame.empty:
        raise InputError("no judgments" + (f" for benchmark {bench!r}" if bench else ""), path=path)
    frame = latest_rows(frame)  # a retried judgment supersedes the earlier line of its key
    dupes = frame.duplicated(["pair_id", "order", "sample"], keep=False)
    if dupes.any():
        first = frame[dupes].iloc[0]
        raise InputError(
            f"duplicate judgment for pair {first['pair_id']!r}, order {first['order']!r}, sample {first['sample']}",
            path=path,
            record=f"line {first['line']}",
        )
    return frame


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The last row of each ``key``, at the place of its first row (rows without a key all kept):
    :func:`j1eval.store.judgments.latest_records` on a table."""
    if "key" not in frame.columns:
        return frame.reset_index(drop=True)
    key = frame["key"]
    has = key.notna().to_numpy()
    if not has.any() or not key[has].duplicated().any():
        return frame.reset_index(drop=True)
    position = pd.Series(range(len(frame)), index=frame.index)
    first = position.groupby(key.where(has, None), sort=False).transform("min")
    place = position.where(~pd.Series(has, index=frame.index), first)
    last = ~key.duplicated(keep="last").to_numpy() | ~has
    kept = frame[last].assign(_place=place[last].to_numpy()).sort_values("_place", kind="stable")
    return kept.drop(columns="_place").reset_index(drop=True)


def validate_row(rec: Mapping[str, Any], known: set[str] | None, where: dict[str, Any]) -> dict[str, Any]:
    """One judgment's fields checked (InputError naming ``where`` and the field), as a scoring row."""
    for key in ("pair_id", "order", "verdict"):
        if key not in rec:
            raise InputError("missing field", field=key, **where)
    pair_id = rec["pair_id"]
    if not isinstance(pair_id, str) or not pair_id:
        raise InputError(f"must be a non-empty string, got {pair_id!r}", field="pair_id", **where)
    if known is not None and pair_id not in known:
        raise InputError(f"unknown pair id {pair_id!r} for this benchmark", field="pair_id", **where)
    rotation = is_rotation(rec["order"])  # a 4-way judgment (j1eval.score.kway): slot letters A-D
    if rec["order"] not in ORDERS and not rotation:
        msg = f"must be 'ab' or 'ba' (or a 4-way rotation r0-r3), got {rec['order']!r}"
        raise InputError(msg, field="order", **where)
    if rotation and rec["verdict"] is not None and rec["verdict"] not in LETTERS:
        raise InputError(f"must be 'A', 'B', 'C', 'D' or null, got {rec['verdict']!r}", field="verdict", **where)
    if not rotation and rec["verdict"] is not None and rec["verdict"] not in VERDICTS:
        raise InputError(f"must be 'A', 'B', 'tie' or null, got {rec['verdict']!r}", field="verdict", **where)
    sample = rec.get("sample", 0)
    if not isinstance(sample, int) or isinstance(sample, bool) or sample < 0:
        raise InputError(f"must be a non-negative integer, got {sample!r}", field="sample", **where)
    failure = rec.get("failure")
    if failure is not None and failure not in FAILURE_CLASSES:
        raise InputError(f"unknown failure class {failure!r}", field="failure", **where)
    if rec["verdict"] is None and failure is None:
        failure = "no_verdict"
    p_a = rec.get("p_a")
    if p_a is not None and (
        not isinstance(p_a, int | float) or isinstance(p_a, bool) or not (0.0 <= p_a <= 1.0)  # NaN fails too
    ):
        raise InputError(f"must be a probability from 0 to 1 or null, got {p_a!r}", field="p_a", **where)
    scores = rec.get("scores")
    if scores is not None and not isinstance(scores, dict):
        raise InputError("must be an object like {'A': 7, 'B': 5}", field="scores", **where)
    return {
        "pair_id": pair_id,
        "order": rec["order"],
        "sample": sample,
        "verdict": rec["verdict"],
        "failure": failure,
        "score_a": _score(scores, "A"),
        "score_b": _score(scores, "B"),
        "p_a": None if p_a is None else float(p_a),
        "line": int(str(where["record"]).split()[-1]),
        # a run's cache key (j1eval.store.judgments)
        **({"key": rec["key"]} if isinstance(rec.get("key"), str) else {}),
        **({"probs": _slot_probs(rec, where)} if rotation and _has_probs(rec) else {}),
    }


def _has_probs(rec: Mapping[str, Any]) -> bool:
    return rec.get("probs", rec.get("choice_probs")) is not None


def _slot_probs(rec: Mapping[str, Any], where: dict[str, Any]) -> dict[str, float]:
    """A 4-way judgment's slot probabilities (``probs``, or a run's ``choice_probs`` masses), checked."""
    name = "probs" if "probs" in rec else "choice_probs"
    value = rec[name]
    ok = isinstance(value, dict) and set(value) <= set(LETTERS)
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in value.values())
    if not ok:
        raise InputError("must be an object of slot letters A-D to probabilities from 0 to 1", field=name, **where)
    return {k: float(v) for k, v in value.items()}


def _score(scores: Mapping[str, Any] | None, slot: str) -> float | None:
    if not scores:
        return None
    value = scores.get(slot)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def decode_record(rec: Mapping[str, Any], lineno: int) -> dict[str, Any] | None:
    """One record as a scoring row, or None where :func:`validate_row` would refuse it (a reader that
    shows what it can, the dashboard, skips such a line and counts it)."""
    try:
        return validate_row(rec, None, {"path": "", "record": f"line {lineno}"})
    except InputError:
        return None
