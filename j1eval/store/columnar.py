"""Reading a judgments file column-wise (pyarrow), with every check of the line-by-line reader.

:func:`read_rows` gives the same scoring rows as validating each line with
``j1eval.store.records.validate_row``, or ``None`` when it cannot certify the file that way: then the
caller reads line by line, which names the first bad line and field. So a file is either
accepted with exactly the rows the exact reader would give, or read by the exact reader;
no check is skipped, only done on whole columns at once.

Things only the exact reader handles (``None`` here): a line that is not a JSON object, bytes that
are not UTF-8 (inside strings too), a leading BOM, blank lines (line numbers would shift), a
column of another type than the fields allow,
any value the checks refuse, and a null ``verdict`` or ``sample`` whose key cannot be shown to be
present (or absent) in its line.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from j1eval.errors import InputError
from j1eval.safe_io import BOM, open_regular
from j1eval.types import FAILURE_CLASSES, ORDERS, VERDICTS

_STRING = (pa.string(), pa.large_string())
_BLOCK = 1 << 24  # bytes per parse block: long lines (reasoning traces) must fit in one
_MAX_DEPTH = 64  # nesting of any field's values; deeper files are read line by line


def _depth(typ: pa.DataType, limit: int = _MAX_DEPTH + 1) -> int:
    """How deeply values of ``typ`` nest (lists and structs), counted up to ``limit``."""
    if limit <= 0:
        return 0
    if pa.types.is_struct(typ):
        return 1 + max((_depth(typ.field(i).type, limit - 1) for i in range(typ.num_fields)), default=0)
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return 1 + _depth(typ.value_type, limit - 1)
    return 0


def read_rows(path: Path, known: Collection[str] | None = None, bench: str | None = None) -> pd.DataFrame | None:
    """Scoring rows of ``path`` (columns as ``validate_row`` gives, plus ``line`` and ``bench``), or None:
    then read it exactly."""
    try:
        with open_regular(path) as fh:
            data = fh.read()
    except (OSError, InputError):
        return None
    return rows_from_bytes(data, known, bench)


def rows_from_bytes(data: bytes, known: Collection[str] | None = None, bench: str | None = None) -> pd.DataFrame | None:
    """:func:`read_rows` on a file's bytes already read (a pipe can be read only once)."""
    import pyarrow.json as pj

    if data.startswith(BOM):
        return None  # the exact reader refuses it, naming the file
    if not _is_utf8(data):  # pyarrow lets invalid UTF-8 through inside strings; the exact reader does not
        return None
    if not data.endswith(b"\n") or b"\n\n" in data or data.startswith(b"\n") or b"\r" in data:
        return None  # a partial tail, blank lines or CR line ends: the exact reader decides
    try:
        table = pj.read_json(pa.BufferReader(data), read_options=pj.ReadOptions(block_size=_BLOCK))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    if table.num_rows != data.count(b"\n"):
        return None
    if max((_depth(f.type) for f in table.schema), default=0) > _MAX_DEPTH:
        return None  # json.loads refuses deep nesting that pyarrow reads: let the exact reader say so
    names = set(table.column_names)
    if not {"pair_id", "order"} <= names:
        return None
    cols: dict[str, pd.Series] = {}
    for name in ("pair_id", "order", "verdict", "failure", "key", "bench"):
        if name in names:
            typ = table.schema.field(name).type
            if typ not in (*_STRING, pa.null()):
                return None
            if typ != pa.null():
                cols[name] = table.column(name).to_pandas()  # pandas' Arrow-backed strings: no copy per value
                continue
        cols[name] = pd.Series([None] * table.num_rows, dtype=object)
    line = np.arange(1, table.num_rows + 1)
    keep = np.ones(table.num_rows, dtype=bool)
    if bench is not None:
        keep = cols["bench"].isna().to_numpy() | (cols["bench"] == bench).to_numpy()

    def line_objects(rows: np.ndarray) -> list[dict] | None:
        """The objects of lines ``rows`` (0-based, ascending), read one line at a time: no list of every line."""
        wanted = iter(rows.tolist())
        row = next(wanted, None)
        found = []
        for i, raw in enumerate(io.BytesIO(data)):
            if i == row:
                found.append(raw)
                row = next(wanted, None)
                if row is None:
                    break
        try:
            return [json.loads(raw) for raw in found]
        except ValueError:
            return None

    pair_id, order, verdict, failure = cols["pair_id"], cols["order"], cols["verdict"], cols["failure"]
    kept_ids = pair_id[keep]
    if kept_ids.isna().any() or not (kept_ids.astype(str).str.len() > 0).all():
        return None
    if known is not None and not _all_known(table.column("pair_id"), keep, known):
        return None
    if not order[keep].isin(ORDERS).all():
        return None
    if not (verdict[keep].isna() | verdict[keep].isin(VERDICTS)).all():
        return None
    if not (failure[keep].isna() | failure[keep].isin(FAILURE_CLASSES)).all():
        return None
    # A null verdict must be written as such (a missing "verdict" is an error): look at those lines.
    null_verdict = np.flatnonzero(keep & verdict.isna().to_numpy())
    if null_verdict.size:
        objs = line_objects(null_verdict)
        if objs is None or not all(isinstance(o, dict) and "verdict" in o for o in objs):
            return None

    sample = _samples(table, names, keep, data, line_objects)
    if sample is None:
        return None
    p_a = _probabilities(table, names, keep)
    if p_a is None:
        return None
    scores = _scores(table, names)
    if scores is None:
        return None

    failure = failure.where(~(verdict.isna() & failure.isna()), "no_verdict")
    frame = pd.DataFrame(
        {
            "pair_id": pair_id,
            "order": order,
            "sample": sample,
            "verdict": verdict,
            "failure": failure,
            "score_a": scores[0],
            "score_b": scores[1],
            "p_a": p_a,
            "line": line,
            "key": cols["key"],
            "bench": cols["bench"],
        }
    )[keep]
    return frame.reset_index(drop=True)


def _is_utf8(data: bytes, block: int = 1 << 24) -> bool:
    """Whether ``data`` is UTF-8, decoded a block at a time (no copy of the whole file as text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), block):
            decoder.decode(view[start : start + block])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _all_known(pair_ids: pa.ChunkedArray, keep: np.ndarray, known: Collection[str]) -> bool:
    """Whether every kept row's pair id is one of ``known`` (an Arrow lookup: no Python string per row)."""
    return bool(in_strings(pair_ids, known)[keep].all()) if keep.any() else True


def in_strings(column: pa.ChunkedArray | pd.Series, values: Collection[str]) -> np.ndarray:
    """``column.isin(values)`` as a bool array, looked up in Arrow: no Python string per row."""
    import pyarrow.compute as pc

    array = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([pa.array(column, from_pandas=True)])
    if array.type not in _STRING:
        return np.asarray(pd.Series(array.to_pandas()).isin(values), dtype=bool)
    value_set = pa.array(list(values), type=array.type)
    return pc.fill_null(pc.is_in(array, value_set=value_set), False).to_numpy(zero_copy_only=False)


def _samples(table: pa.Table, names: set[str], keep: np.ndarray, data: bytes, line_objects) -> np.ndarray | None:  # noqa: ANN001
    n = table.num_rows
    if "sample" not in names:
        return np.zeros(n, dtype=np.int64)
    typ = table.schema.field("sample").type
    if typ == pa.null():
        values = np.zeros(n, dtype=np.int64)
        nulls = np.ones(n, dtype=bool)
    elif pa.types.is_integer(typ):
        column = table.column("sample")
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        values = column.fill_null(0).to_numpy().astype(np.int64)
    else:
        return None
    if (values[keep] < 0).any():
        return None
    if nulls[keep].any():  # absent means 0; "sample": null is an error: show which it is
        rows = np.flatnonzero(keep & nulls)
        if b'"sample"' in data:
            objs = line_objects(rows)
            if objs is None or any("sample" in o for o in objs):
                return None
    return values


def _probabilities(table: pa.Table, names: set[str], keep: np.ndarray) -> pd.Series | None:
    n = table.num_rows
    if "p_a" not in names or table.schema.field("p_a").type == pa.null():
        return pd.Series([None] * n, dtype=object)
    typ = table.schema.field("p_a").type
    if not (pa.types.is_floating(typ) or pa.types.is_integer(typ)):
        return None
    column = table.column("p_a")
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    values = column.cast(pa.float64()).fill_null(0.0).to_numpy()
    bad = keep & ~nulls & ~((values >= 0.0) & (values <= 1.0))
    if bad.any():
        return None
    return pd.Series(np.where(nulls, None, values), dtype=object)


def _scores(table: pa.Table, names: set[str]) -> tuple[pd.Series, pd.Series] | None:
    n = table.num_rows
    empty = pd.Series([None] * n, dtype=object)
    if "scores" not in names or table.schema.field("scores").type == pa.null():
        return empty, empty
    typ = table.schema.field("scores").type
    if not pa.types.is_struct(typ):
        return None
    column = table.column("scores").combine_chunks()
    out = []
    for slot in ("A", "B"):
        if typ.get_field_index(slot) < 0:
            out.append(empty)
            continue
        field_type = typ.field(slot).type
        if field_type == pa.null() or pa.types.is_boolean(field_type):
            out.append(empty)  # a boolean score is no score, as the exact reader reads it
            continue
        if not (pa.types.is_integer(field_type) or pa.types.is_floating(field_type)):
            out.append(empty)  # strings etc.: the exact reader also reads no score from them
            continue
        values = column.field(slot)
        nulls = values.is_null().to_numpy(zero_copy_only=False)
        numbers = values.cast(pa.float64()).fill_null(0.0).to_numpy()
        out.append(pd.Series(np.where(nulls, None, numbers), dtype=object))
    return out[0], out[1]
