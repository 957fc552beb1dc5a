"""Reading and writing files whatever they hold: one clear error, never a traceback, nothing half-written.

* :func:`iter_jsonl` and :func:`read_json_object` read user-editable files (judgments,
  manifests, results) and turn every way they can be wrong (not UTF-8, not JSON, nested
  past the parser's depth, not an object) into an :class:`InputError` naming the file and
  the line.
* :func:`publish_dir` writes a set of files (a report) into a temporary directory and
  swaps it into place, so a killed writer never leaves half a set looking complete.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from j1eval.errors import InputError, SetupError

T = TypeVar("T")


def os_reason(exc: OSError) -> str:
    """A short reason for an OS error ("disk full", "Read-only file system", ...)."""
    if exc.errno == errno.ENOSPC:
        return "disk full"
    return exc.strerror or str(exc) or type(exc).__name__


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
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {os_reason(exc)}", path=path) from None
    value = parse_json(data, path=path)
    if not isinstance(value, dict):
        raise InputError(f"the {what} must be a JSON object, got {_kind(value)}", path=path)
    return value


def iter_jsonl(
    path: Path, *, partial_tail_ok: bool = False, skipped: list[int] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file: the project's one JSONL reader.

    ``partial_tail_ok``: a last line without its newline that does not parse is skipped
    (a writer killed mid-line, or one still writing); everywhere else a bad line is an error.
    ``skipped``: a lenient read (the dashboard's): bytes that are not UTF-8 are replaced, and
    the number of each line that is not a JSON object is appended to this list, not raised.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise InputError(f"cannot read: {os_reason(exc)}", path=path) from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
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


# --------------------------------------------------------------------------- publishing a directory

_RENAME_EXCHANGE = 2  # Linux renameat2 flag: swap two paths atomically
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step where the OS can (Linux renameat2); False where it cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _carry_over(old: Path, new: Path) -> None:
    """Put into ``new`` every file of ``old`` that ``new`` does not have (hard links where possible)."""
    for entry in os.scandir(old):
        src, dst = Path(entry.path), new / entry.name
        if entry.is_symlink():
            if not os.path.lexists(dst):
                os.symlink(os.readlink(src), dst)
        elif entry.is_dir():
            if dst.is_dir() and not dst.is_symlink():
                _carry_over(src, dst)
            elif not os.path.lexists(dst):
                dst.mkdir()
                shutil.copystat(src, dst)
                _carry_over(src, dst)
        elif entry.is_file() and not os.path.lexists(dst):
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)


def publish_dir(out: Path, build: Callable[[Path], T]) -> T:
    """Run ``build(tmp)`` to write files into a fresh directory, then make it ``out`` in one step.

    Files already in ``out`` that ``build`` did not write are kept (another format's tables,
    a hand-written README). A killed ``build`` leaves ``out`` as it was, and only a hidden
    ``.NAME.tmp-*`` directory beside it.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("--out names an existing file, not a folder", path=out)
    target = Path(os.path.realpath(out))  # a symlinked --out: replace what it points to
    cwd = Path.cwd().resolve()
    if target == cwd or target in cwd.parents:
        raise InputError("--out is the current folder or one above it; pass a folder for the report", path=out)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_orphans(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    except OSError as exc:
        raise SetupError(f"cannot write the report under {target.parent} ({os_reason(exc)})") from None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        result = build(tmp)
        if target.is_dir():
            _carry_over(target, tmp)
            if not _exchange(tmp, target):  # no atomic swap here: two renames, a moment without `out`
                old = tmp.with_name(tmp.name + ".old")
                os.rename(target, old)
                try:
                    os.rename(tmp, target)
                except OSError:
                    os.rename(old, target)
                    raise
                tmp = old
        else:
            os.rename(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise SetupError(f"cannot write the report to {out} ({os_reason(exc)}); nothing there was changed") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # after the swap: the previous set
    return result


def _remove_orphans(target: Path) -> None:
    """Temporary folders of earlier publishes into ``target`` whose process no longer runs (killed)."""
    for path in target.parent.glob(f".{glob.escape(target.name)}.tmp-*"):
        pid = path.name[len(target.name) + 6 :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue  # alive (another user's process): leave it


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
