"""Shared helpers of the benchmark loaders: record files, the Hugging Face hub, errors.

Every reader returns ``(location, record)`` tuples, where ``location`` names the
record in error messages: ``"line N"`` (1-based) for JSONL, ``"row N"`` (0-based)
for JSON lists, parquet files and hub datasets.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from j1eval.errors import DataNotFoundError, InputError, one_line
from j1eval.safe_io import iter_jsonl, os_reason, parse_json

DATA_DIR_ENV = "J1EVAL_DATA_DIR"


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """The data directory from the flag, else ``$J1EVAL_DATA_DIR``, else None."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


Record = dict[str, Any]
Located = tuple[str, Record]

#: Suffixes the generic reader understands.
RECORD_SUFFIXES = (".jsonl", ".json", ".parquet")
#: Seconds to wait for the hub endpoint before calling it unreachable.
HUB_PROBE_TIMEOUT_S = 3.0
#: Set to 1 to never contact the hub (tests, air-gapped machines).
NO_HUB_ENV = "J1EVAL_NO_HUB"

_TRUE = ("1", "true", "yes", "on")
_hub_probe: dict[str, str | None] = {}  # endpoint -> None (reachable) or the reason it is not
_resolved: dict[str, str] = {}  # "dataset_id@branch" -> the commit the hub resolved it to


class HubError(Exception):
    """The hub dataset could not be loaded; the message is one line."""


# --------------------------------------------------------------------------- files


def read_jsonl(path: Path) -> list[Located]:
    """The objects of a JSONL file, one per non-blank line (read by :func:`j1eval.safe_io.iter_jsonl`)."""
    return [(f"line {n}", rec) for n, rec in iter_jsonl(path)]


def read_json_list(path: Path) -> list[Located]:
    """The objects of a JSON file holding one list of objects."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {os_reason(exc)}", path=path) from None
    data = parse_json(raw, path=path)
    if not isinstance(data, list):
        raise InputError(f"expected a JSON list of objects, got {type(data).__name__}", path=path)
    return _objects(data, path)


def read_parquet(path: Path) -> list[Located]:
    """The rows of a parquet file as plain Python objects (lists and dicts for nested columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"not a readable parquet file: {one_line(str(exc))}", path=path) from None
    return _objects(rows, path)


def read_records(path: Path) -> list[Located]:
    """Records of a ``.jsonl``, ``.json`` (a list) or ``.parquet`` file."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path)
    if suffix == ".json":
        return read_json_list(path)
    if suffix == ".parquet":
        return read_parquet(path)
    raise InputError(f"unsupported file type {suffix!r} (expected one of {', '.join(RECORD_SUFFIXES)})", path=path)


def _objects(items: Iterable[Any], where: object) -> list[Located]:
    out: list[Located] = []
    for i, rec in enumerate(items):
        if not isinstance(rec, dict):
            raise InputError(f"expected an object, got {type(rec).__name__}", path=where, record=f"row {i}")
        out.append((f"row {i}", rec))
    return out


def find_files(folder: Path | None, patterns: Iterable[str], recursive: bool = False) -> list[Path]:
    """Files in ``folder`` matching any glob pattern, sorted by relative path (a stable order)."""
    if folder is None or not folder.is_dir():
        return []
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in (folder.rglob(pattern) if recursive else folder.glob(pattern)) if p.is_file())
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def hashes(files: Iterable[Path]) -> dict[str, str]:
    """``{path: sha256}`` for the files read."""
    return {str(f): sha256_file(f) for f in files}


# --------------------------------------------------------------------------- fields


_ABSENT: Any = object()  # a field that is not in its record


def field(
    rec: Record, name: str, where: object, loc: str, kind: type | tuple[type, ...] = str, nullable: bool = False
) -> Any:
    """``rec[name]``, checked present, not null (unless ``nullable``) and of type ``kind`` (a bool is not an int)."""
    value = rec.get(name, _ABSENT)
    if type(value) is kind:  # the common case, settled by one check (a bool is never ``kind`` int here)
        return value
    if value is _ABSENT:
        raise InputError("missing", path=where, record=loc, field=name)
    if value is None:
        if nullable:
            return None
        raise InputError("is null", path=where, record=loc, field=name)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"expected {names}, got {type(value).__name__}", path=where, record=loc, field=name)
    return value


def ab_label(rec: Record, where: object, loc: str, name: str = "label") -> int:
    """1 for ``"A>B"``, 2 for ``"B>A"``; anything else is an input error."""
    value = field(rec, name, where, loc, str)
    if value == "A>B":
        return 1
    if value == "B>A":
        return 2
    raise InputError(f"expected 'A>B' or 'B>A', got {value!r}", path=where, record=loc, field=name)


def id_text(rec: Record, name: str, where: object, loc: str) -> str:
    """An id field (string or integer) as text."""
    return str(field(rec, name, where, loc, (str, int)))


class UniqueIds:
    """Rejects a pair id seen before, naming both places."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[object, str]] = {}  # id -> (file, record), put in words only for an error

    def add(self, pair_id: str, where: object, loc: str, name: str = "pair_id") -> None:
        first = self._seen.get(pair_id)
        if first is not None:
            raise InputError(
                f"duplicate pair id {pair_id!r} (first seen at {first[0]}, {first[1]})",
                path=where,
                record=loc,
                field=name,
            )
        self._seen[pair_id] = (where, loc)


# --------------------------------------------------------------------------- hub


def hub_source(dataset_id: str, revision: str) -> str:
    """The ``source`` string of data read from the hub, naming the commit ``revision`` resolves to."""
    return f"hf:{dataset_id}@{hub_revision(dataset_id, revision)}"


def _offline_mode() -> bool:
    return any(os.environ.get(v, "").lower() in _TRUE for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_unreachable() -> str | None:
    """Why the hub cannot be used now, or None. The endpoint is probed once per process.

    With ``HF_HUB_OFFLINE=1`` no probe is made: ``datasets`` then reads its local cache.
    """
    if os.environ.get(NO_HUB_ENV, "").lower() in _TRUE:
        return f"disabled by {NO_HUB_ENV}"
    if _offline_mode():
        return None
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    if endpoint not in _hub_probe:
        import httpx

        try:
            httpx.head(endpoint, timeout=HUB_PROBE_TIMEOUT_S)
            _hub_probe[endpoint] = None
        except Exception as exc:  # any failure means "unreachable"
            _hub_probe[endpoint] = f"{endpoint} unreachable ({one_line(str(exc), 120)})"
    return _hub_probe[endpoint]


def hub_revision(dataset_id: str, revision: str) -> str:
    """The commit the hub resolves ``revision`` (a branch such as "main") to, or ``revision`` itself
    when the hub cannot say. Recorded in ``source``, so a run names the exact data it read."""
    if len(revision) == 40 and all(c in "0123456789abcdef" for c in revision):
        return revision  # already a commit
    key = f"{dataset_id}@{revision}"
    if key not in _resolved and hub_unreachable() is None:
        try:
            from huggingface_hub import HfApi

            _resolved[key] = HfApi().dataset_info(dataset_id, revision=revision).sha or revision
        except Exception:  # no answer: keep the branch name (the run still names what it asked for)
            pass
    return _resolved.get(key, revision)


def hub_rows(dataset_id: str, split: str, revision: str) -> int | None:
    """The number of rows of a hub dataset split from its card's metadata (no download); None when unknown."""
    if hub_unreachable() is not None:
        return None
    try:
        from huggingface_hub import HfApi

        card = HfApi().dataset_info(dataset_id, revision=hub_revision(dataset_id, revision)).card_data
        meta = card.to_dict() if hasattr(card, "to_dict") else dict(card or {})
        infos = meta.get("dataset_info") or []
        for info in infos if isinstance(infos, list) else [infos]:
            for entry in info.get("splits") or []:
                if entry.get("name") == split and isinstance(entry.get("num_examples"), int):
                    return entry["num_examples"]
    except Exception:  # no answer, or metadata in another shape: unknown
        return None
    return None


def load_hub(dataset_id: str, split: str, revision: str) -> list[Located]:
    """Rows of a hub dataset split via ``datasets``; raises :class:`HubError` with a one-line reason."""
    reason = hub_unreachable()
    if reason:
        raise HubError(reason)
    try:
        import datasets
    except ImportError:
        raise HubError("the 'datasets' package is not installed (pip install 'j1eval[hf]')") from None
    commit = hub_revision(dataset_id, revision)  # load the very commit that ``source`` will name
    try:
        ds = datasets.load_dataset(dataset_id, split=split, revision=commit)
        rows = ds.to_list()
    except Exception as exc:  # network, auth, a missing split: all mean "not available"
        raise HubError(one_line(exc)) from None
    return _objects(rows, hub_source(dataset_id, commit))


# --------------------------------------------------------------------------- not found


def data_not_found(
    title: str, what: str, folder: str, data_dir: Path | None, hub: str | None = None
) -> DataNotFoundError:
    """The one-line error for data found neither locally nor on the hub.

    ``what`` says which files to get and from where; ``hub`` is the reason the hub
    failed (None: the benchmark has no hub copy).
    """
    if data_dir is not None:
        where = f"into {data_dir / folder}/, or pass another --data-dir"
    else:
        where = f"into DATA_DIR/{folder}/ and pass --data-dir DATA_DIR (or set {DATA_DIR_ENV})"
    msg = f"{title} data not found: put {what} {where}"
    if hub:
        msg += f" ({hub})"
    return DataNotFoundError(one_line(msg, 1000))
