"""One writer per run directory: an OS file lock held for a run's lifetime.

``run`` takes an exclusive ``flock`` on ``RUN_DIR/run.lock`` before it reads or writes
anything in the directory and keeps it until it ends. A second writer on the same
directory is refused at once, with the pid of the holder (written into the lock file).
The kernel releases the lock when its holder dies, however it dies (SIGKILL included),
so a killed run never leaves a stale lock: the file stays, the lock does not.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path

from j1eval.errors import J1EvalError, SetupError

LOCK_FILE = "run.lock"


class LockedError(J1EvalError):
    """Another live process writes to the run directory."""

    exit_code = 1


class RunLock:
    """``with RunLock(run_dir):`` holds the directory's lock (created with the directory if needed)."""

    def __init__(
        self, run_dir: str | Path, what: str = "j1eval run", name: str = LOCK_FILE, purpose: str = "run directory"
    ) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / name
        self.what = what
        self.purpose = purpose  # in the refusal: "one writer per run directory"
        self.read_only = False
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        """Take the lock; on a folder nobody can write (a read-only copy) there is nothing to lock: ``read_only``."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if self.run_dir.is_dir() and read_only(self.run_dir):
                # A finished run is still read (j1eval.judging.reuse); any write fails in one line.
                self.read_only = True
                return self
            raise SetupError(f"cannot write to run directory {self.run_dir} ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise SetupError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
            raise LockedError(
                f"{self.run_dir} is being written by another process ({holder(self.path)}): one writer per "
                f"{self.purpose}; wait for it to finish, or pass a different --out"
            ) from None
        try:  # who holds it, for the message of the next one that tries
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {self.what}\n".encode(), 0)
        except OSError:
            pass  # a read-only lock file still locks; the message then gives no pid
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_only(folder: Path) -> bool:
    """Whether ``folder`` cannot be written: a read-only file system, or no write permission."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def holder(path: Path, wait_s: float = 0.5) -> str:
    """``pid N`` of the process named in a held lock file (it may be writing it still: wait a moment)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            text = path.read_text(encoding="utf-8", errors="replace").split()
        except OSError:
            text = []
        if text and text[0].isdigit():
            return f"pid {text[0]}" + (f", {' '.join(text[1:])}" if len(text) > 1 else "")
        if time.monotonic() >= deadline:
            return "pid unknown"
        time.sleep(0.05)
