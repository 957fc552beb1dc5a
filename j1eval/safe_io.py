"""Reading and writing files whatever they hold: one clear error, never a traceback, nothing half-written.

* :func:`iter_jsonl` and :func:`read_json_object` read user-editable files (judgments,
  manifests, results) and turn every way they can be wrong (not UTF-8, not JSON, nested
  past the parser's depth, not an object) into an :class:`InputError` naming the file and
  the line.
* :func:`open_regular` opens a file to read without ever blocking on a FIFO, a socket or a
  device, and reads a pipe once for every reader of it.
"""

from __future__ import annotations

import errno
import io
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from j1eval.errors import InputError

T = TypeVar("T")
BOM = b"\xef\xbb\xbf"


def os_reason(exc: OSError) -> str:
    """A short reason for an OS error ("disk full", "Read-only file system", ...)."""
    if exc.errno == errno.ENOSPC:
        return "disk full"
    return exc.strerror or str(exc) or type(exc).__name__


_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO (named pipe)", "a socket", ...)."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


#: The bytes of each pipe read so far (path -> bytes): a pipe can be read once, and the column-wise
#: reader and the line reader both read their input.
_PIPES: dict[str, bytes] = {}


def open_regular(path: Path, *, pipes: bool = True) -> BinaryIO:
    """``open(path, "rb")`` that never blocks on what is not a regular file.

    A socket, device or folder is an InputError naming it. A pipe (``<(cat FILE)``) is read
    whole once and served from memory to every later open of the same path; a FIFO with nothing
    writing to it is refused instead of waited on; ``pipes=False`` (the dashboard) refuses pipes too.
    """
    key = os.fspath(path)
    if pipes and key in _PIPES:
        return io.BytesIO(_PIPES[key])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a socket
            raise InputError("cannot read: a socket, not a regular file", path=path) from None
        raise InputError(f"cannot read: {os_reason(exc)}", path=path) from None
    mode = os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    if not (pipes and stat.S_ISFIFO(mode)):
        os.close(fd)
        raise InputError(f"cannot read: {file_kind(mode)}, not a regular file", path=path)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        try:
            first = os.read(fd, 1 << 16)
        except BlockingIOError:
            first = None  # a writer is there, with nothing written yet
        if first == b"":
            raise InputError("cannot read: a FIFO (named pipe) with nothing writing to it", path=path)
        os.set_blocking(fd, True)
        _PIPES[key] = (first or b"") + fh.readall()
    return io.BytesIO(_PIPES[key])


def parse_json(text: str | bytes, *, path: object, record: object = None) -> Any:
    """``json.loads`` whose every failure is an InputError naming the file (and record)."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", path=path, record=record) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg}, column {exc.colno})", path=path, record=record) from None
    except RecursionError:
        raise InputError("not readable JSON: nested too deeply", path=path, record=record) from None


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON file that must hold one object (``what`` names it in errors: "manifest", "results")."""
    try:
        with open_regular(path) as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {os_reason(exc)}", path=path) from None
    value = parse_json(data, path=path)
    if not isinstance(value, dict):
        raise InputError(f"the {what} must be a JSON object, got {_kind(value)}", path=path)
    return value


def iter_jsonl(
    path: Path, *, partial_tail_ok: bool = False, skipped: list[int] | None = None, pipes: bool = True
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file: the project's one JSONL reader.

    ``partial_tail_ok``: a last line without its newline that does not parse is skipped
    (a writer killed mid-line, or one still writing); everywhere else a bad line is an error.
    ``skipped``: a lenient read (the dashboard's): bytes that are not UTF-8 are replaced, and
    the number of each line that is not a JSON object is appended to this list, not raised.
    ``pipes=False``: a pipe is refused like any other file that is not regular (see :func:`open_regular`).
    """
    with open_regular(path, pipes=pipes) as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(BOM):
                if skipped is None:
                    raise InputError("starts with a byte-order mark (BOM): save it as UTF-8 without BOM", path=path)
                raw = raw[len(BOM) :]
            if not raw.strip():
                continue
            where = f"line {lineno}"
            try:
                text = raw.decode("utf-8", errors="replace") if skipped is not None else raw
                rec = parse_json(text, path=path, record=where)
            except InputError:
                if partial_tail_ok and not raw.endswith(b"\n"):
                    return
                if skipped is None:
                    raise
                skipped.append(lineno)
                continue
            if not isinstance(rec, dict):
                if skipped is not None:
                    skipped.append(lineno)
                    continue
                raise InputError(f"a line must be a JSON object, got {_kind(rec)}", path=path, record=where)
            yield lineno, rec


def write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Write ``records`` as JSON lines to ``path`` in one step: beside it first, then renamed over it."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
