"""Checks of set-ups and of what a run directory holds, before any work starts.

* :func:`check_sampling`: token limit, temperature and top-p a judge can run with (a NaN
  temperature, for one, would never equal itself and so break every later resume);
* :func:`setup_differences`: what differs between a run directory's set-up and a rerun's;
* :func:`check_manifest`, :func:`check_results`: the fields j1eval reads from a run
  directory have the types it expects (a hand-edited or foreign file ends with one line
  naming the file and the field, not deep inside a report).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from j1eval.errors import InputError


def check_sampling(max_tokens: Any, temperature: Any, top_p: Any) -> None:
    """Raise InputError naming the flag when a sampling setting cannot run."""
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise InputError(f"--max-tokens must be a whole number of at least 1, got {max_tokens!r}")
    if not _real(temperature) or not math.isfinite(temperature) or temperature < 0:
        raise InputError(f"--temperature must be a finite number of at least 0, got {temperature!r}")
    if not _real(top_p) or not (0 < top_p <= 1):  # NaN fails the comparison too
        raise InputError(f"--top-p must be a number above 0 and at most 1, got {top_p!r}")


def check_url(url: str, where: str) -> str:
    """``url`` when it is an http(s) URL a client can open; else InputError naming ``where`` and what is wrong."""
    from urllib.parse import urlsplit

    bad = next((c for c in url if ord(c) < 33 or ord(c) == 127), None)
    if bad is not None:
        raise InputError(f"{where}: the URL {url!r} holds a space or control character ({bad!r})")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number or out of range)
    except ValueError as exc:
        raise InputError(f"{where}: not a valid URL {url!r} ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{where}: expected an http:// or https:// URL with a host, got {url!r}")
    if "%" in (parts.netloc.rpartition("@")[2]):
        raise InputError(f"{where}: the host and port of {url!r} hold a %-escape")
    return url


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --------------------------------------------------------------------------- reruns

#: Manifest fields a rerun must share with the run it resumes (besides the judge's identity).
SETUP_FIELDS = ("seed", "order", "order_rule")


def setup_differences(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``field: stored -> now`` for each set-up field that differs (only fields the old manifest has)."""
    out = [
        f"{name}: {_show(previous[name])} -> {_show(current.get(name))}"
        for name in SETUP_FIELDS
        if name in previous
        and previous[name] != current.get(name)
        and not (name == "order_rule" and current.get("order") != "single")  # it picks jobs only for "single"
    ]
    old_id, new_id = previous.get("judge_identity"), current.get("judge_identity")
    if old_id != new_id:
        old_flat, new_flat = _flatten(old_id, "judge"), _flatten(new_id, "judge")
        for key in sorted(set(old_flat) | set(new_flat)):
            if key == "judge.sampling.seed" and any(d.startswith("seed:") for d in out):
                continue  # the seed is named once
            if old_flat.get(key, _ABSENT) != new_flat.get(key, _ABSENT):
                out.append(f"{key}: {_show(old_flat.get(key, _ABSENT))} -> {_show(new_flat.get(key, _ABSENT))}")
    return out


_ABSENT = object()


def _flatten(value: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        return {prefix: value}
    out: dict[str, Any] = {}
    for key, item in value.items():
        out.update(_flatten(item, f"{prefix}.{key}"))
    return out


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- run directory files


def _fail(path: Path, field: str, message: str) -> None:
    raise InputError(message, path=path, field=field)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_MANIFEST_TYPES: dict[str, tuple[type, ...]] = {
    "judge": (str,),
    "format": (str, type(None)),
    "template_hash": (str, type(None)),
    "model_revision": (str, type(None)),
    "order": (str,),
    "order_rule": (str, type(None)),
    "started_at": (str,),
    "finished_at": (str, type(None)),
    "updated_at": (str, type(None)),
    "command": (list, str),
    "judge_identity": (dict,),
    "benchmarks": (dict,),
    "invocations": (list,),
}


def check_manifest(manifest: dict[str, Any], path: Path) -> dict[str, Any]:
    """``manifest`` when the fields j1eval reads have the types it expects (absent fields are fine)."""
    for name, types in _MANIFEST_TYPES.items():
        if name in manifest and not isinstance(manifest[name], types):
            _fail(path, name, f"has the wrong type ({type(manifest[name]).__name__})")
    if "seed" in manifest and not _is_int(manifest["seed"]):
        _fail(path, "seed", f"must be a whole number, got {manifest['seed']!r}")
    if "samples" in manifest and not (_is_int(manifest["samples"]) and manifest["samples"] >= 1):
        _fail(path, "samples", f"must be a whole number of at least 1, got {manifest['samples']!r}")
    for name in ("limit", "sample"):
        value = manifest.get(name)
        if value is not None and not (_is_int(value) and value >= 1):
            _fail(path, name, f"must be a whole number of at least 1 or null, got {value!r}")
    if manifest.get("order", "both") not in ("both", "single", "ab", "ba"):
        _fail(path, "order", f"must be both, single, ab or ba, got {manifest['order']!r}")
    for i, inv in enumerate(manifest.get("invocations", [])):
        if not isinstance(inv, dict):
            _fail(path, f"invocations[{i}]", "must be an object")
    for bench, info in manifest.get("benchmarks", {}).items():
        where = f"benchmarks.{bench}"
        if not isinstance(info, dict):
            _fail(path, where, "must be an object")
        for key in ("n_pairs_run", "n_pairs_total"):
            if key in info and not _is_int(info[key]):
                _fail(path, f"{where}.{key}", f"must be a whole number, got {info[key]!r}")
        if not isinstance(info.get("files", {}), dict) or not all(
            isinstance(v, str) for v in info.get("files", {}).values()
        ):
            _fail(path, f"{where}.files", "must map file names to hashes")
        if not isinstance(info.get("source", ""), str | None):
            _fail(path, f"{where}.source", "must be text or null")
        _check_names(info.get("missing", []), path, f"{where}.missing")
    return manifest


def check_results(results: dict[str, Any], path: Path) -> dict[str, Any]:
    """``results`` when it is ``{bench: {"overall": figures, "subsets": {name: figures}}}``."""
    for bench, entry in results.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("overall"), dict):
            _fail(path, bench, 'must be an object with an "overall" object of figures')
        _check_figures(entry["overall"], path, f"{bench}.overall")
        subsets = entry.get("subsets", {})
        if not isinstance(subsets, dict):
            _fail(path, f"{bench}.subsets", "must be an object")
        for name, figs in subsets.items():
            if not isinstance(figs, dict):
                _fail(path, f"{bench}.subsets.{name}", "must be an object of figures")
            _check_figures(figs, path, f"{bench}.subsets.{name}")
    return results


def _check_figures(figs: dict[str, Any], path: Path, where: str) -> None:
    for key, value in figs.items():
        field = f"{where}.{key}"
        if key == "ci":
            if not isinstance(value, dict):
                _fail(path, field, "must be an object of [low, high] intervals")
            for name, bounds in value.items():
                if not (isinstance(bounds, list) and len(bounds) == 2 and all(_real(b) for b in bounds)):
                    _fail(path, f"{field}.{name}", f"must be [low, high], got {_show(bounds)}")
        elif key == "missing":
            _check_names(value, path, field)
        elif key.startswith("n_"):
            if not (_is_int(value) and value >= 0):
                _fail(path, field, f"must be a whole number, got {_show(value)}")
        elif value is not None and not _real(value):
            _fail(path, field, f"must be a number or null, got {_show(value)}")


def _check_names(value: Any, path: Path, field: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        _fail(path, field, "must be a list of names")


# --------------------------------------------------------------------------- benchmark data


def check_bench_data(name: str, data: Any) -> None:
    """Refuse benchmark data with an empty or blank file, or with no pair at all (naming the file)."""
    for file in getattr(data, "files", {}) or {}:
        path = Path(file)
        if path.is_file() and _blank(path):
            raise InputError(f"empty data file: no records of benchmark {name!r} in it", path=path)
    if not data.pairs:
        files = ", ".join(str(f) for f in data.files) or data.source
        raise InputError(f"benchmark {name!r}: its data holds no pair ({files})")


def _blank(path: Path) -> bool:
    """Whether a data file holds nothing: no bytes, white space, ``[]``, ``{}``, or a parquet file of 0 rows."""
    if path.suffix.lower() == ".parquet":
        try:
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows == 0
        except Exception:  # an unreadable file is the loader's to report
            return False
    if path.stat().st_size > 4096:
        return False
    return b"".join(path.read_bytes().split()) in (b"", b"[]", b"{}")
