"""Publishing a report into ``--out``: only its own files, one report per folder, nothing else touched.

``--out`` is a folder the report creates, or one holding only what earlier reports wrote there:
each report leaves a marker, ``.j1eval-report.json``, listing the files (and the folders it made
for them). Anything else in the folder (a hand-written file, a socket, another tool's output, an
unmarked report of an older j1eval) is refused in one line unless ``--force``, which writes beside
it and leaves it alone. The folder itself, and whatever it keeps, keep their mode and owner: the
folder is never replaced, chmodded or chowned.

The tables are written into a hidden staging folder inside ``--out`` (``.j1eval-report.tmp-PID-*``);
a report killed while writing them leaves the previous report whole, and the staging folder is
removed by the next report. Then, with SIGINT/SIGTERM/SIGHUP held back, each file is renamed into
place and the files of the previous report that this one does not write are removed, so the folder
holds exactly one report. Before that step the marker lists the files of both reports, so even a
SIGKILL in those milliseconds leaves nothing the next report does not know to clean up.

Two reports into one folder: the second is refused while the first holds ``.j1eval-report.lock``;
a report into a run directory also takes the run's lock (``run.lock``), so it never writes while
``run`` or ``score --out`` does.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from j1eval.errors import InputError, SetupError
from j1eval.judging.lock import LOCK_FILE, RunLock
from j1eval.safe_io import file_kind, os_reason

T = TypeVar("T")

MARKER = ".j1eval-report.json"
REPORT_LOCK = ".j1eval-report.lock"
STAGING_PREFIX = ".j1eval-report.tmp-"
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


@dataclass
class Marker:
    """What the marker of a report folder lists (paths relative to the folder)."""

    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)  # folders the reports created (removed once empty)


def read_marker(folder: Path) -> Marker | None:
    """The folder's marker, or None when it has none; an InputError when it is not one j1eval wrote."""
    path = folder / MARKER
    if not os.path.lexists(path):
        return None
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise InputError("is not a file j1eval wrote (not a regular file)", path=path)
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        raise InputError("is not a report marker j1eval wrote (not readable JSON)", path=path) from None
    files, dirs = (data.get(k) if isinstance(data, dict) else None for k in ("files", "dirs"))
    if not _rel_paths(files) or not (dirs is None or _rel_paths(dirs)):
        raise InputError("is not a report marker j1eval wrote (files: a list of relative paths)", path=path)
    return Marker(list(files), list(dirs or []))


def _rel_paths(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, str) and v and not v.startswith("/") and ".." not in Path(v).parts for v in value
    )


def foreign_entries(folder: Path, marker: Marker | None) -> list[str]:
    """Everything in ``folder`` no j1eval report wrote (relative paths; folders not descended into)."""
    files = set(marker.files if marker else [])
    dirs = set(marker.dirs if marker else []) | {str(Path(f).parent) for f in files}
    dirs |= {str(p) for d in list(dirs) for p in Path(d).parents}
    foreign: list[str] = []

    def walk(sub: Path, rel: str) -> None:
        for entry in sorted(os.scandir(sub), key=lambda e: e.name):
            name = f"{rel}{entry.name}"
            if not rel and (entry.name in (MARKER, REPORT_LOCK) or entry.name.startswith(STAGING_PREFIX)):
                continue
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode) and name in files:
                continue
            if stat.S_ISDIR(mode) and name in dirs:
                walk(Path(entry.path), name + "/")
                continue
            foreign.append(name if stat.S_ISREG(mode) else f"{name} ({file_kind(mode)})")

    walk(folder, "")
    return foreign


def _refuse_foreign(out: Path, target: Path, force: bool) -> None:
    marker = read_marker(target)
    foreign = foreign_entries(target, marker)
    if foreign and not force:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise InputError(
            f"--out holds {len(foreign)} entries no j1eval report wrote ({shown}); pass an empty or new "
            "folder, or --force to write the report beside them (they are left as they are)",
            path=out,
        )


@contextlib.contextmanager
def _locks(target: Path, is_run_dir: bool) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        if is_run_dir:
            stack.enter_context(RunLock(target, what="j1eval report"))
        stack.enter_context(RunLock(target, what="j1eval report", name=REPORT_LOCK, purpose="report folder"))
        yield


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT/SIGTERM/SIGHUP wait until the block ends (then they act as usual)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def publish_report(out: Path, build: Callable[[Path], T], force: bool = False) -> T:
    """Run ``build(staging)`` to write a report's files, then make them the report in ``out`` (see the module)."""
    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise InputError("--out names an existing file, not a folder", path=out)
    target = Path(os.path.realpath(out))  # a symlinked --out: write into what it points to
    if target.is_dir():
        _refuse_foreign(out, target, force)  # before anything is created
    is_run_dir = any(os.path.lexists(target / name) for name in ("manifest.json", LOCK_FILE))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SetupError(f"cannot write the report to {out} ({os_reason(exc)})") from None
    with _locks(target, is_run_dir):
        _refuse_foreign(out, target, force)  # again, now that no other report writes
        _remove_orphans(target)
        try:
            staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=target))
        except OSError as exc:
            raise SetupError(f"cannot write the report to {out} ({os_reason(exc)})") from None
        try:
            result = build(staging)
            new = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
            with _signals_held():
                _swap_in(out, target, staging, new)
        except OSError as exc:
            raise SetupError(f"cannot write the report to {out} ({os_reason(exc)})") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return result


def _swap_in(out: Path, target: Path, staging: Path, new: list[str]) -> None:
    """Rename the staged files into place, drop the previous report's others, write the marker."""
    old = read_marker(target) or Marker()
    _write_marker(target, staging, Marker(sorted(set(old.files) | set(new)), sorted(set(old.dirs))), "publishing")
    made = set(old.dirs)
    for rel in new:
        dest = target / rel
        for parent in reversed(Path(rel).parents[:-1]):
            if not (target / parent).is_dir():
                (target / parent).mkdir()
                made.add(str(parent))
        if dest.is_dir() and not dest.is_symlink():
            raise InputError("is a folder where the report writes a file", path=dest)
        os.replace(staging / rel, dest)
    for rel in sorted(set(old.files) - set(new)):
        with contextlib.suppress(FileNotFoundError):
            path = target / rel
            if stat.S_ISREG(os.lstat(path).st_mode):
                path.unlink()
    used = {str(p) for rel in new for p in Path(rel).parents[:-1]}
    for rel in sorted(made - used, key=lambda d: -len(Path(d).parts)):  # deepest first
        with contextlib.suppress(OSError):
            (target / rel).rmdir()  # only when empty: nothing of anyone else's goes
    kept = sorted(d for d in made if (target / d).is_dir())
    _write_marker(target, staging, Marker(new, kept), "complete")


def _write_marker(target: Path, staging: Path, marker: Marker, state: str) -> None:
    data = {
        "written_by": "j1eval report",
        "state": state,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": marker.files,
        "dirs": marker.dirs,
    }
    tmp = staging / MARKER
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target / MARKER)


def _remove_orphans(target: Path) -> None:
    """Staging folders of earlier reports into ``target`` whose process no longer runs (killed)."""
    for path in target.glob(f"{STAGING_PREFIX}*"):
        pid = path.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue  # alive (another user's process): leave it
