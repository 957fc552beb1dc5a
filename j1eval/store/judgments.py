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

import contextlib
import errno
import json
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from j1eval import secrets
from j1eval.errors import InputError, SetupError
from j1eval.safe_io import iter_jsonl, os_reason, parse_json, read_json_object

_ENCODER = json.JSONEncoder(ensure_ascii=False)  # one judgment per line, as json.dumps(rec, ensure_ascii=False)

JUDGMENTS_FILE = "judgments.jsonl"
#: Judgments are flushed to the OS as each finishes (a killed run loses none); an fsync, which
#: guards against a machine crash too, costs ~0.2 ms and is made at most this often, and at close.
SYNC_INTERVAL_S = 1.0
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
        self._synced_at = -math.inf  # the first append syncs: a disk that cannot is found at once

    def open(self) -> JudgmentStore:
        """Create the directory if needed, index what is done, repair a partial last line.

        Every stored line is read and checked before anything is written: a store that
        cannot be read is left exactly as it was.
        """
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                self.keys = self._done_keys()
                self._repair_tail()
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        except OSError as exc:
            raise SetupError(f"cannot write {self.path} ({os_reason(exc)})") from None
        return self

    def _done_keys(self) -> set[str]:
        """Keys whose latest line is not a backend failure: column-wise when the file reads so
        (:mod:`j1eval.store.columnar`), else line by line (a partial tail, an odd line)."""
        from j1eval.store.columnar import read_rows

        frame = read_rows(self.path)
        if frame is not None and frame["key"].notna().all():
            last = frame.drop_duplicates("key", keep="last")
            return set(last.loc[last["failure"] != BACKEND_ERROR, "key"])
        done = latest_records(rec for _, rec in self.numbered_records(partial_tail_ok=True))
        return {rec["key"] for rec in done if "key" in rec and not failed_at_backend(rec)}

    def _repair_tail(self) -> None:
        """A last line without its newline: cut off when it is no JSON (a kill or a full disk mid-write), else ended."""
        with open(self.path, "rb") as fh:
            data = fh.read()
        if not data or data.endswith(b"\n"):
            return
        tail = data[data.rfind(b"\n") + 1 :]
        try:
            parse_json(tail, path=self.path)
        except InputError:
            with open(self.path, "rb+") as fh:
                fh.truncate(len(data) - len(tail))
        else:  # a whole judgment whose newline is missing (an edited file): kept
            with open(self.path, "ab") as fh:
                fh.write(b"\n")

    def records(self) -> Iterator[dict[str, Any]]:
        """Every stored judgment, in the order written."""
        for _, rec in self.numbered_records():
            yield rec

    def numbered_records(self, partial_tail_ok: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line number, judgment) for every stored line; a line that is no judgment is an InputError."""
        if not self.path.exists():
            return
        for lineno, rec in iter_jsonl(self.path, partial_tail_ok=partial_tail_ok):
            if "key" in rec and not isinstance(rec["key"], str):
                where = {"path": self.path, "record": f"line {lineno}", "field": "key"}
                raise InputError(f"must be a string, got {rec['key']!r}", **where)
            yield lineno, rec

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Write finished judgments: handed to the OS at once (a killed process loses none), made
        durable on disk (fsync) at most every ``SYNC_INTERVAL_S`` seconds and on :meth:`close`."""
        assert self._fh is not None, "store is not open"
        try:
            hide = secrets.remembered()  # an error message quoting a key: never on disk
            for rec in records:
                line = _ENCODER.encode(rec)
                self._fh.write((secrets.redact(line) if hide else line) + "\n")
                if not failed_at_backend(rec):
                    self.keys.add(rec["key"])
            self._fh.flush()
            if time.monotonic() - self._synced_at >= SYNC_INTERVAL_S:
                self._sync()
        except OSError as exc:
            raise self._write_error(exc) from None

    def _sync(self) -> None:
        assert self._fh is not None
        os.fsync(self._fh.fileno())
        self._synced_at = time.monotonic()

    def _write_error(self, exc: OSError) -> SetupError:
        reason = "disk full" if exc.errno == errno.ENOSPC else exc.strerror
        return SetupError(
            f"cannot write {self.path} ({reason}); judgments already written are kept: "
            "free space and rerun the same command to resume"
        )

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.flush()
                self._sync()
            except OSError as exc:
                raise self._write_error(exc) from None
            finally:
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
    """A run directory's manifest (None when it has none); an InputError naming the field when it is malformed."""
    from j1eval.judging.checks import check_manifest

    path = run_dir / MANIFEST_FILE
    if not path.exists():
        return None
    return check_manifest(read_json_object(path, "manifest"), path)


def write_json(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: never half-written."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        text = json.dumps(secrets.redact_value(data), indent=2)  # no API key in a manifest or results
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise SetupError(f"cannot write {path} ({os_reason(exc)})") from None
