"""``pairs.parquet``: the scorer's per-pair table, kept beside ``results.json`` in a run directory.

``run`` and ``score --out`` write it from the very table the figures in ``results.json`` were
computed from (:func:`j1eval.score.metrics.pair_table`, via :func:`j1eval.score.bench.score_bench`): one
row per judged pair per benchmark (``bench`` column), with the pair's subset and label, each
order's verdict, correctness, failure class and P(slot A), the single-order choice, the
benchmark's own columns (section, domain, cell...), the responses' lengths in characters
(``len_1``, ``len_2``) and, for runs that gave scores, each order's per-sample scores
(``score_a_ab``, ``score_b_ab``, ``score_a_ba``, ``score_b_ba``: lists in sample order).
``report`` reads it instead of scoring again or reloading benchmark data.

A 4-way run (:mod:`j1eval.score.kway`) judges items, not pairs: its per-item table (one row per prompt:
per rotation the verdict, the base response picked, correctness, the official value and P(base
response i); the item's seeded base order) goes to ``items.parquet`` beside it, written the same way.

Each benchmark's columns and their dtypes are kept in the file's metadata, so that a
benchmark's table reads back exactly as it was written, whatever other benchmarks share the file.
"""

from __future__ import annotations

import contextlib
import json
import numbers
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from j1eval.errors import InputError, SetupError
from j1eval.safe_io import os_reason

if TYPE_CHECKING:
    from j1eval.benchmarks.base import Benchmark
    from j1eval.types import Pair

PAIRS_FILE = "pairs.parquet"
#: A 4-way run's per-item table (best-of-4 items in rotations, :mod:`j1eval.score.kway`), beside ``pairs.parquet``.
ITEMS_FILE = "items.parquet"
ITEM_ID = "item_id"  # the column that marks a benchmark's rows as items
_META_KEY = b"j1eval.columns"  # {bench: {column: dtype}}
SCORE_COLUMNS = ("score_a_ab", "score_b_ab", "score_a_ba", "score_b_ba")


def pair_details(table: pd.DataFrame, pairs: Iterable[Pair], judgments: pd.DataFrame | None = None) -> pd.DataFrame:
    """``table`` (one row per pair) with the responses' lengths and, where judgments gave scores, per-sample scores."""
    lengths = {p.pair_id: (len(p.response_1), len(p.response_2)) for p in pairs}
    ids = table["pair_id"].tolist()
    out = table.copy()
    out["len_1"] = pd.array([lengths[pid][0] for pid in ids], dtype="int64")
    out["len_2"] = pd.array([lengths[pid][1] for pid in ids], dtype="int64")
    if judgments is None or not {"score_a", "score_b"} <= set(judgments.columns):
        return out
    scored = judgments[judgments["score_a"].notna() | judgments["score_b"].notna()]
    if scored.empty:
        return out
    scored = scored.sort_values("sample", kind="stable") if "sample" in scored.columns else scored
    for order in ("ab", "ba"):
        part = scored[scored["order"] == order]
        for slot in ("a", "b"):
            lists = part.groupby("pair_id", sort=False)[f"score_{slot}"].agg(lambda s: [_num(v) for v in s])
            out[f"score_{slot}_{order}"] = pd.Series([lists.get(pid) for pid in ids], index=out.index, dtype=object)
    return out


def _num(value: Any) -> float | None:
    """A score as a float; None for anything that is not a number (None, NaN, text, a boolean)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_) or value != value:
        return None
    return float(value)


def pair_rows(
    benchmark: Benchmark, pairs: Iterable[Pair], judgments: pd.DataFrame, table: pd.DataFrame
) -> pd.DataFrame:
    """One benchmark's rows of ``pairs.parquet``: its name, then :func:`pair_details` of the scorer's table."""
    rows = pair_details(table, pairs, judgments)
    rows.insert(0, "bench", pd.array([benchmark.name] * len(rows), dtype=object))
    return rows


def write_pairs(out_dir: Path, rows: Mapping[str, pd.DataFrame], *, keep_others: bool = False) -> Path:
    """Write ``out_dir/pairs.parquet`` through a temporary file and a rename (never half-written).

    ``keep_others``: benchmarks already in the file and not in ``rows`` are kept (``score --out``,
    as for ``results.json``); otherwise the file holds exactly ``rows`` (``run``). A 4-way
    benchmark's rows (its items: an ``item_id`` column, :func:`j1eval.score.kway.item_rows`) go to
    ``items.parquet`` beside it by the same rules, and a benchmark written to one file leaves the other.
    """
    out_dir = Path(out_dir)
    pairs = {b: f for b, f in rows.items() if ITEM_ID not in f.columns}
    items = {b: f for b, f in rows.items() if ITEM_ID in f.columns}
    path = _write_file(out_dir / PAIRS_FILE, pairs, set(rows), keep_others, read_pairs)
    if items or (out_dir / ITEMS_FILE).exists():
        _write_file(out_dir / ITEMS_FILE, items, set(rows), keep_others, read_items)
    return path


def _write_file(
    path: Path,
    rows: Mapping[str, pd.DataFrame],
    replaced: set[str],
    keep_others: bool,
    reader: Callable[[Path], dict[str, pd.DataFrame]],
) -> Path:
    """``rows`` into ``path``, keeping (with ``keep_others``) the benchmarks it holds outside ``replaced``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frames: dict[str, pd.DataFrame] = {}
    if keep_others and path.exists():
        frames = {b: f for b, f in reader(path).items() if b not in replaced}
    frames.update(rows)
    meta = {bench: {c: str(frame[c].dtype) for c in frame.columns} for bench, frame in frames.items()}
    combined = pd.concat(list(frames.values()), ignore_index=True) if frames else pd.DataFrame({"bench": []})
    table = pa.Table.from_pandas(_plain(combined), preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        pq.write_table(table, tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise SetupError(f"cannot write {path} ({os_reason(exc)})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return path


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns pyarrow stores as they are: object columns of text or None, lists of floats."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(lambda v: None if isinstance(v, float) and v != v else v)
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_pairs(path: Path) -> dict[str, pd.DataFrame]:
    """Each benchmark's per-pair table in a ``pairs.parquet`` file, with the columns and dtypes it was written with."""
    return _read_file(Path(path), "per-pair", BASE_COLUMNS, _check_rows)


def read_items(path: Path) -> dict[str, pd.DataFrame]:
    """Each 4-way benchmark's per-item table in an ``items.parquet`` file, as it was written."""
    return _read_file(Path(path), "per-item", ITEM_COLUMNS, _check_items)


def _read_file(
    path: Path, what: str, base: tuple[str, ...], check: Callable[[pd.DataFrame, str, Path], None]
) -> dict[str, pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except OSError as exc:
        raise InputError(f"cannot read the {what} table: {os_reason(exc)}", path=path) from None
    except (pa.ArrowException, ValueError) as exc:
        raise InputError(f"not a readable parquet file ({exc})", path=path) from None
    try:
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
        assert isinstance(meta, dict)
    except (KeyError, ValueError, AssertionError):
        raise InputError(f"not a {what} table written by j1eval (no column list in its metadata)", path=path) from None
    frame = table.to_pandas()
    if "bench" not in frame.columns:
        raise InputError(f"no 'bench' column: not a {what} table written by j1eval", path=path)
    out: dict[str, pd.DataFrame] = {}
    for bench, columns in meta.items():
        if not isinstance(columns, dict) or not all(isinstance(d, str) for d in columns.values()):
            raise InputError(f"the column list of {bench!r} in its metadata is not {{column: dtype}}", path=path)
        missing = [c for c in (*columns, *base) if c not in frame.columns or c not in columns]
        if missing:
            raise InputError(f"{bench} rows lack the column(s) {', '.join(dict.fromkeys(missing))}", path=path)
        part = frame.loc[frame["bench"] == bench, list(columns)].reset_index(drop=True)
        try:
            out[bench] = pd.DataFrame({c: _restore(part[c], dtype) for c, dtype in columns.items()})
        except (TypeError, ValueError) as exc:
            raise InputError(f"{bench} rows: a column does not read as its dtype ({exc})", path=path) from None
        check(out[bench], bench, path)
    return out


#: Columns every benchmark's rows have (those of :func:`j1eval.score.metrics.pair_table` that reports read).
BASE_COLUMNS = (
    "pair_id",
    "subset",
    "label",
    "judged_ab",
    "verdict_ab",
    "correct_ab",
    "judged_ba",
    "verdict_ba",
    "correct_ba",
    "single_order",
    "correct_single",
    "correct_both",
)


def _check_rows(rows: pd.DataFrame, bench: str, path: Path) -> None:
    """The values a report relies on: judged flags are booleans, labels 1 or 2, verdicts A, B, tie or none."""
    for order in ("ab", "ba"):
        if rows[f"judged_{order}"].dtype != bool:
            raise InputError(f"{bench} rows: judged_{order} must be true or false", path=path)
        bad = set(rows[f"verdict_{order}"].dropna().tolist()) - {"A", "B", "tie"}
        if bad:
            raise InputError(
                f"{bench} rows: verdict_{order} must be A, B, tie or null, got {sorted(map(str, bad))[0]!r}", path=path
            )
    if not rows["label"].isin([1, 2]).all():
        raise InputError(f"{bench} rows: label must be 1 or 2", path=path)


#: Columns every 4-way benchmark's rows have (:func:`j1eval.score.kway.item_rows`).
ITEM_COLUMNS = (ITEM_ID, "subset", *(f"{c}_r{r}" for r in range(4) for c in ("judged", "verdict", "picked")))


def _check_items(rows: pd.DataFrame, bench: str, path: Path) -> None:
    """Judged flags are booleans and verdicts slot letters A-D or none."""
    for r in range(4):
        if rows[f"judged_r{r}"].dtype != bool:
            raise InputError(f"{bench} rows: judged_r{r} must be true or false", path=path)
        bad = set(rows[f"verdict_r{r}"].dropna().tolist()) - {"A", "B", "C", "D"}
        if bad:
            raise InputError(
                f"{bench} rows: verdict_r{r} must be A-D or null, got {sorted(map(str, bad))[0]!r}", path=path
            )


def _restore(column: pd.Series, dtype: str) -> pd.Series:
    if dtype != "object":
        return column.astype(dtype)
    values = [None if v is None or (isinstance(v, float) and v != v) else v for v in column.tolist()]
    values = [_list(v) if hasattr(v, "tolist") and not isinstance(v, str) else v for v in values]  # arrays -> lists
    return pd.Series(values, index=column.index, dtype=object)


def _list(values: Any) -> list[float | None]:
    return [None if x is None or x != x else float(x) for x in values.tolist()]
