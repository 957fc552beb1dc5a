"""A rerun with nothing new to do reuses its results instead of scoring again.

A finished run records a fingerprint of everything its figures depend on: the judge's identity and
template, the set-up (seed, order, samples, pair selection, bootstrap size), every benchmark's data
(source, file hashes, pair counts, missing parts), a content hash of ``judgments.jsonl`` (read
once, streamed: ~30 ms for 21K judgments; a file edited in place with its size and mtime restored
is seen), and j1eval's own code (a hash of its source files). A rerun whose fingerprint
is the same, whose last invocation left no backend error to retry, and whose ``results.json`` and
``pairs.parquet`` (and for a 4-way run ``items.parquet``) are there, returns those results without
rendering a prompt or reading a judgment.
Anything else (an edited judgments file, a new data file, other code) takes the full path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from j1eval.errors import InputError
from j1eval.safe_io import open_regular, read_json_object

#: The manifest fields the figures depend on (the rest says when and how the run was made).
SETUP_FIELDS = ("judge_identity", "template_hash", "seed", "order", "order_rule", "samples", "limit", "sample")
BENCH_FIELDS = ("source", "files", "notes", "missing", "n_pairs_total", "n_pairs_run")


@lru_cache(maxsize=1)
def code_hash() -> str:
    """sha256 over j1eval's source files (path and bytes), so other code never reuses old figures."""
    root = Path(__file__).resolve().parents[1]  # the j1eval package (this file is j1eval/judging/reuse.py)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def content_hash(path: Path) -> str | None:
    """blake2b of a regular file's bytes, streamed in 1 MiB blocks; None when it is unreadable or not a regular file."""
    try:
        with open_regular(path) as fh:
            return hashlib.file_digest(fh, "blake2b").hexdigest()
    except (OSError, InputError):
        return None


def fingerprint(manifest: Mapping[str, Any], n_boot: int, judgments: Path) -> str | None:
    """The fingerprint of a run as ``manifest`` describes it, or None when the judgments file is unreadable."""
    digest = content_hash(judgments)
    if digest is None:
        return None
    inputs = {
        "setup": {key: manifest.get(key) for key in SETUP_FIELDS},
        "benchmarks": {
            name: {key: info.get(key) for key in BENCH_FIELDS}
            for name, info in sorted((manifest.get("benchmarks") or {}).items())
        },
        "n_boot": n_boot,
        "judgments": digest,
        "code": code_hash(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def reusable_results(
    out_dir: Path, previous: Mapping[str, Any] | None, manifest: Mapping[str, Any], n_boot: int, judgments: Path
) -> tuple[dict[str, Any], int] | None:
    """(results, judgments without P(A)) of the finished run in ``out_dir`` when nothing changed, else None."""
    stored = (previous or {}).get("reuse")
    if not isinstance(stored, Mapping) or (previous or {}).get("counts", {}).get("backend_errors", 1) != 0:
        return None
    if not (out_dir / "pairs.parquet").is_file() or not (out_dir / "results.json").is_file():
        return None
    if stored.get("fingerprint") != fingerprint(manifest, n_boot, judgments):
        return None
    try:
        results = read_json_object(out_dir / "results.json", "results")
    except InputError:
        return None  # the full path rescores and rewrites it
    if set(results) != set(manifest.get("benchmarks") or {}):
        return None
    kway = any(isinstance(r, Mapping) and r.get("protocol") == "k-way" for r in results.values())
    if kway and not (out_dir / "items.parquet").is_file():  # a 4-way run's per-item table (j1eval.store.pairs_file)
        return None
    return results, int(stored.get("without_p_a", 0))
