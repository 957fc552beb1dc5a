"""The run directory: an append-only ``judgments.jsonl``, its resume index, the manifest.

Each finished judgment is one JSON line, written and flushed as it arrives, so a
run killed at any moment loses at most the judgments in flight. A partial last
line (a kill mid-write, a full disk) is cut off on the next open.

A judgment that failed at the backend (``failure == "backend_error"``: a server
that kept answering 500, a timeout) is kept for the record but is not "done": the
next run retries it and appends the new judgment under the same key, and readers
take the last line of each key (:func:`latest_records`).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from j1eval.errors import InputError, SetupError

JUDGMENTS_FILE = "judgments.jsonl"
MANIFEST_FILE = "manifest.json"
RESULTS_FILE = "results.json"


BACKEND_ERROR = "backend_error"


def latest_records(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last record of each ``key``, in first-written order (records without a key are all kept)."""
    by_key: dict[Any, dict[str, Any]] = {}
    for i, rec in enumerate(records):
        by_key[rec.get("key", ("no key", i))] = rec
    return list(by_key.values())


class JudgmentStore:
    """Append-only store of judgments keyed by their cache key."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / JUDGMENTS_FILE
        self._fh = None
        self.keys: set[str] = set()

    def open(self) -> JudgmentStore:
        """Create the directory if needed, repair a partial last line, index what is done."""
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SetupError(f"cannot create run directory {self.run_dir}: {exc.strerror}") from None
        if self.path.exists():
            self._drop_partial_tail()
            self.keys = {
                rec["key"] for rec in latest_records(self.records()) if "key" in rec and not failed_at_backend(rec)
            }
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        return self

    def _drop_partial_tail(self) -> None:
        with open(self.path, "rb+") as fh:
            data = fh.read()
            if data and not data.endswith(b"\n"):
                fh.truncate(data.rfind(b"\n") + 1)

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored judgment, in the order written."""
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"corrupt judgment ({exc.msg})", path=self.path, record=f"line {lineno}") from None

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Write finished judgments and flush them to disk."""
        assert self._fh is not None, "store is not open"
        try:
            for rec in records:
                self._fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                if not failed_at_backend(rec):
                    self.keys.add(rec["key"])
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError as exc:
            reason = "disk full" if exc.errno == errno.ENOSPC else exc.strerror
            raise SetupError(
                f"cannot write {self.path} ({reason}); judgments already written are kept: "
                "free space and rerun the same command to resume"
            ) from None

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> JudgmentStore:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


def failed_at_backend(rec: Mapping[str, Any]) -> bool:
    """Whether a stored judgment is a backend failure (retried by the next run)."""
    return rec.get("failure") == BACKEND_ERROR


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / MANIFEST_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"corrupt manifest ({exc.msg})", path=path) from None


def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: never half-written."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        reason = "disk full" if exc.errno == errno.ENOSPC else exc.strerror
        raise SetupError(f"cannot write {path} ({reason})") from None
