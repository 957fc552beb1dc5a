"""One table of pairs per (run, benchmark), as j1eval scored it, and its filters.

A run directory is read once (the app caches the result by its files' size and mtime):
``judgments.jsonl`` into one frame of judgments, each record decoded by the scorer's own decoder
(:func:`j1eval.store.records.decode_record`; the last line of each key, as j1eval's store reads it).
A finished run's pair tables are its ``pairs.parquet`` (what ``results.json`` was computed from, read
as ``report`` reads it); a run still in progress (judged since) or one without that file gets them
by the scorer's steps: the run's pairs (:func:`j1eval.judging.jobs.select_pairs` on the benchmark's
data), the judgments the run covers (:func:`j1eval.orders.orders_for`), samples combined
(:func:`j1eval.score.samples.aggregate_samples`) and one row per pair
(:func:`j1eval.score.metrics.pair_table`). Either way a pair counted correct here is the pair
``results.json`` counted. Columns added for browsing: ``outcome`` (correct in both
orders, one, neither), ``flip`` (both verdicts decisive, different responses picked, as
``flip_rate`` counts), ``tie``, ``slot_a`` (orders whose verdict is slot A) and the texts
searched (prompt, responses, outputs); :mod:`dashboard.filters` masks it.

The benchmark data (prompts, responses) is read from local folders only, never the
hub: ``--data-dir``, ``$J1EVAL_DATA_DIR``, else the folder the run's manifest names; it must
hold the files the manifest hashed. Without it, a run still shows its verdicts and outputs.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard.runs import DashboardError, RunEntry, clean, inside, iter_jsonl_lenient, read_json
from j1eval.benchmarks import BENCHMARKS, Benchmark, BenchmarkData, get_benchmark, single_order_rule
from j1eval.errors import InputError, J1EvalError, one_line
from j1eval.judging.jobs import select_pairs
from j1eval.orders import orders_for
from j1eval.safe_io import open_regular
from j1eval.score.metrics import pair_table
from j1eval.score.samples import aggregate_samples
from j1eval.secrets import redact_argv, redact_value
from j1eval.store.pairs_file import PAIRS_FILE, read_pairs
from j1eval.store.records import SCORING_COLUMNS, decode_record
from j1eval.types import ORDERS, Pair

#: Outcome of a pair, in filter order.
OUTCOMES = ("both", "one", "neither", "single: correct", "single: wrong", "unknown")
OUTCOME_TEXT = {
    "both": "correct in both orders",
    "one": "correct in one order",
    "neither": "correct in neither order",
    "single: correct": "one order judged: correct",
    "single: wrong": "one order judged: wrong",
    "unknown": "correctness unknown (no benchmark data)",
}
SLOT_A = ("both", "one", "neither")
JUDGMENT_COLUMNS = (
    "key", "bench", "pair_id", "order", "sample", "verdict", "failure", "p_a", "score_a", "score_b",
    "raw", "n_parts", "finish_reason", "error", "prompt_hash", "completion_tokens", "line",
)  # fmt: skip


@dataclass
class BenchView:
    """One benchmark of one run."""

    bench: str
    results: dict[str, Any]
    table: pd.DataFrame  # one row per pair
    judgments: pd.DataFrame  # one row per kept judgment
    rows_of: dict[str, np.ndarray]  # pair_id -> positions in ``judgments``
    pairs: dict[str, Pair] | None = None
    benchmark: Benchmark | None = None
    note: str | None = None


@dataclass
class LoadedRun:
    entry: RunEntry
    manifest: dict[str, Any]
    results: dict[str, Any]
    benches: dict[str, BenchView] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- judgments


def _text(value: Any) -> str | None:
    return clean(value) if isinstance(value, str) else None


def read_judgments(root: Path, path: Path) -> tuple[pd.DataFrame, int]:
    """(judgments, lines skipped as unreadable); the last line of each key wins, as in j1eval's store.

    Each record is decoded by the scorer's own decoder (:func:`j1eval.store.records.decode_record`):
    a line the scorer would refuse is skipped and counted, so the verdicts shown are those it scores.
    """
    cols: dict[str, list[Any]] = {c: [] for c in JUDGMENT_COLUMNS}
    skipped: list[int] = []
    for lineno, rec in iter_jsonl_lenient(root, path, skipped):
        row = decode_record(rec, lineno)
        if row is None or row["order"] not in ORDERS:  # 4-way rotations are not browsed here
            skipped.append(lineno)
            continue
        raw = rec.get("raw")
        parts = [clean(p) if isinstance(p, str) else "" for p in raw] if isinstance(raw, list) else None
        cols["key"].append(rec["key"] if isinstance(rec.get("key"), str) else f"line {lineno}")
        cols["bench"].append(_text(rec.get("bench")) or "")
        for name in SCORING_COLUMNS:
            cols[name].append(row[name])
        cols["pair_id"][-1] = clean(row["pair_id"])
        cols["failure"][-1] = _text(row["failure"])
        cols["raw"].append(
            "\n\n".join(f"[part {i + 1}]\n{p}" for i, p in enumerate(parts)) if parts else (_text(raw) or "")
        )
        cols["n_parts"].append(len(parts) if parts else 1)
        cols["finish_reason"].append(str(rec.get("finish_reason") or ""))
        cols["error"].append(_text(rec.get("error")))
        cols["prompt_hash"].append(rec.get("prompt_hash"))
        tokens = rec.get("completion_tokens")
        cols["completion_tokens"].append(tokens if isinstance(tokens, int) else None)
        cols["line"].append(lineno)
    objects = ("verdict", "failure", "error", "prompt_hash", "completion_tokens")  # None stays None
    floats = ("p_a", "score_a", "score_b")  # None is NaN
    frame = pd.DataFrame(
        {
            c: pd.Series(v, dtype=object) if c in objects else pd.Series(v, dtype=float) if c in floats else v
            for c, v in cols.items()
        }
    )
    frame = frame.drop_duplicates("key", keep="last")
    return frame.sort_values("line", kind="stable").reset_index(drop=True), len(skipped)


# --------------------------------------------------------------------------- benchmark data

_DATA_CACHE: dict[tuple[str, str, tuple[str, ...]], BenchmarkData | Exception] = {}
MAX_DATA_FILES = 200  # entries of one benchmark folder looked at
_DATA_LOCK = threading.Lock()


def _data_files(bench: Benchmark, folder: Path) -> list[Path] | None:
    """Every entry of the benchmark's data in ``folder`` (its subfolder, or the ``pairs`` files); None: none there."""
    files = getattr(bench, "files", None)
    try:
        if callable(files):  # the ``pairs`` benchmark: DIR/pairs.jsonl or DIR/pairs/*.jsonl
            found = list(files(folder))
        else:
            sub = folder / (bench.folder or bench.name)
            if not sub.is_dir():
                return None
            found = [p for p in sorted(sub.rglob("*"))[:MAX_DATA_FILES] if not p.is_dir() or p.is_symlink()]
    except (OSError, J1EvalError):
        return None
    return found or None


def _unhashed(paths: list[Path], wanted: set[str]) -> str | None:
    """Why ``paths`` are not exactly the files the run hashed (a file not regular, not hashed, or one missing)."""
    seen: set[str] = set()
    for path in paths:
        try:
            with open_regular(path, pipes=False) as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
        except InputError as exc:
            return str(exc)
        except OSError as exc:
            return f"{path}: cannot read ({exc.strerror})"
        if digest not in wanted:
            return f"{path}: not among the files the run read (sha256 differs)"
        seen.add(digest)
    if wanted - seen:
        return "the run read files that are not there (sha256)"
    return None


def load_bench_data(name: str, info: dict[str, Any], data_dir: Path | None) -> tuple[BenchmarkData | None, str | None]:
    """(the benchmark's data, None) or (None, why not).

    Only a local folder whose every data file has its sha256 in the run's manifest (and holds
    every file the manifest names) is opened; a manifest naming no files opens nothing.
    """
    if name not in BENCHMARKS.names():
        return None, f"unknown benchmark {name!r}"
    bench = get_benchmark(name)
    files = info.get("files")
    wanted = {v for v in files.values() if isinstance(v, str)} if isinstance(files, dict) else set()
    if not wanted:
        return None, f"the run's manifest names no data files of {name} with their sha256: no data opened"
    candidates: list[Path] = [p for p in (data_dir, os.environ.get("J1EVAL_DATA_DIR")) if p]  # type: ignore[misc]
    source = str(info.get("source") or "")
    if source and not source.startswith("hf:"):
        candidates += [Path(source).parent, Path(source)]
    problems = []
    seen: set[str] = set()
    for folder in map(Path, candidates):
        key = (name, str(folder.resolve()), tuple(sorted(wanted)))
        paths = _data_files(bench, folder)
        if key[1] in seen or paths is None:
            continue
        seen.add(key[1])
        with _DATA_LOCK:
            if key not in _DATA_CACHE:
                why = _unhashed(paths, wanted)  # checked before the loader opens anything
                try:
                    _DATA_CACHE[key] = DashboardError(why) if why else bench.load(folder)
                except (J1EvalError, OSError, ValueError) as exc:
                    _DATA_CACHE[key] = exc
        data = _DATA_CACHE[key]
        if isinstance(data, Exception):
            problems.append(f"{folder}: {data}")
        elif set(data.files.values()) != wanted:
            problems.append(f"{folder}: its files differ from the run's (sha256)")
        else:
            return data, None
    if not problems:
        return None, f"no local data for {name} (the run read {source or 'unknown'}); pass --data-dir"
    return None, "; ".join(problems)


# --------------------------------------------------------------------------- pair tables


def _bare_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per-pair verdicts without the benchmark's data (labels unknown: correctness is NaN)."""
    ids = list(dict.fromkeys(verdicts["pair_id"].tolist()))
    table = pd.DataFrame({"pair_id": ids, "subset": "?", "label": np.nan})
    for order in ORDERS:
        part = verdicts[verdicts["order"] == order].set_index("pair_id")
        table[f"judged_{order}"] = table["pair_id"].isin(part.index)
        table[f"verdict_{order}"] = table["pair_id"].map(part["verdict"]).astype(object)
        table[f"correct_{order}"] = np.nan
        table[f"failure_{order}"] = table["pair_id"].map(part["failure"]).astype(object)
        table[f"p_a_{order}"] = table["pair_id"].map(part["p_a"]).astype(float)
    return table


def add_browse_columns(table: pd.DataFrame) -> pd.DataFrame:
    """outcome, flip, tie, slot_a (vectorised; flips as j1eval.score.metrics counts them)."""
    t = table
    ab, ba = t["judged_ab"].to_numpy(bool), t["judged_ba"].to_numpy(bool)
    c_ab, c_ba = t["correct_ab"].to_numpy(float), t["correct_ba"].to_numpy(float)
    known = ~np.isnan(np.where(ab, c_ab, c_ba))
    n_right = np.nan_to_num(c_ab) + np.nan_to_num(c_ba)
    both = ab & ba
    outcome = np.where(
        ~known,
        "unknown",
        np.where(
            both,
            np.select([n_right == 2, n_right == 1], ["both", "one"], "neither"),
            np.where(n_right == 1, "single: correct", "single: wrong"),
        ),
    )
    v_ab, v_ba = t["verdict_ab"].to_numpy(object), t["verdict_ba"].to_numpy(object)
    pick_ab = np.select([v_ab == "A", v_ab == "B"], [1.0, 2.0], np.nan)  # response picked in order (a,b)
    pick_ba = np.select([v_ba == "A", v_ba == "B"], [2.0, 1.0], np.nan)
    t = t.assign(
        outcome=outcome,
        flip=both & ~np.isnan(pick_ab) & ~np.isnan(pick_ba) & (pick_ab != pick_ba),
        tie=(v_ab == "tie") | (v_ba == "tie"),
        slot_a=(v_ab == "A").astype(int) + (v_ba == "A").astype(int),
    )
    if "failure_ab" not in t.columns:
        t = t.assign(failure_ab=None, failure_ba=None)
    if "p_a_ab" not in t.columns:
        t = t.assign(p_a_ab=np.nan, p_a_ba=np.nan)
    return t


def _outputs(judgments: pd.DataFrame, order: str, ids: pd.Series) -> pd.Series:
    part = judgments[judgments["order"] == order]
    joined = part.groupby("pair_id", sort=False)["raw"].agg("\n".join) if part["sample"].max() > 0 else None
    by_id = joined if joined is not None else part.set_index("pair_id")["raw"]
    return pd.Series(ids.map(by_id).fillna("").tolist(), index=ids.index, dtype="str")


def stored_tables(root: Path, run_dir: Path) -> tuple[dict[str, pd.DataFrame] | None, str | None]:
    """A finished run's pair tables from its ``pairs.parquet``, as ``report`` reads them, and a note.

    None where the run has no results.json or pairs.parquet, or was judged since they were written
    (``judgments.jsonl`` newer: a run in progress), or the file cannot be read (the note says so): the
    tables are then built from the judgments with the scorer's own steps.
    """
    path, judgments = run_dir / PAIRS_FILE, run_dir / "judgments.jsonl"
    if not (run_dir / "results.json").exists() or not path.exists():
        return None, None
    if not inside(root, path) or not path.is_file():  # a link out of the runs directory, a FIFO: not opened
        return None, f"{PAIRS_FILE}: not a regular file inside the runs directory; pair tables rebuilt from judgments"
    try:
        if path.stat().st_mtime_ns < judgments.stat().st_mtime_ns:
            return None, None
        return read_pairs(path), None
    except (J1EvalError, OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{PAIRS_FILE} unreadable ({one_line(exc, 200)}); pair tables rebuilt from judgments"


def bench_view(
    name: str,
    manifest: dict[str, Any],
    results: dict[str, Any],
    judgments: pd.DataFrame,
    data: BenchmarkData | None,
    why: str | None,
    uses_scores: bool,
    stored: pd.DataFrame | None = None,
) -> BenchView:
    """The pair table of one benchmark of a run (see the module docstring): ``stored`` (its rows of
    ``pairs.parquet``) where the run is finished, else built from the judgments."""
    seed = manifest.get("seed") if isinstance(manifest.get("seed"), int) else 0
    mode = manifest.get("order") if manifest.get("order") in ("both", "single", "ab", "ba") else "both"
    samples = manifest.get("samples") if isinstance(manifest.get("samples"), int) else 1
    limit = manifest.get("limit") if isinstance(manifest.get("limit"), int) else None
    sample = manifest.get("sample") if isinstance(manifest.get("sample"), int) else None
    pairs = select_pairs(data.pairs, limit, sample, seed) if data is not None else None
    j = judgments[judgments["sample"] < max(samples, 1)]
    if pairs is not None:
        j = j[j["pair_id"].isin({p.pair_id for p in pairs})]
    if mode != "both":
        rule = single_order_rule(name)
        wanted = {pid: orders_for(pid, mode, seed, rule) for pid in j["pair_id"].unique()}
        j = j[[o in wanted[p] for p, o in zip(j["pair_id"], j["order"], strict=True)]]
    j = j.drop_duplicates(["pair_id", "order", "sample"], keep="last").reset_index(drop=True)
    benchmark = get_benchmark(name) if name in BENCHMARKS.names() else None
    if stored is not None and (pairs is None or set(stored["pair_id"]) <= {p.pair_id for p in pairs}):
        table = stored.drop(columns=["bench"]).reset_index(drop=True)  # the table results.json was computed from
    else:
        verdicts = aggregate_samples(j[SCORING_COLUMNS].reset_index(drop=True), use_scores=uses_scores)
        table = pair_table(pairs, verdicts, benchmark, seed=seed) if pairs is not None else _bare_table(verdicts)
    table = add_browse_columns(table)
    by_id = {p.pair_id: p for p in pairs} if pairs is not None else None
    ids = table["pair_id"]
    texts: dict[str, pd.Series] = {}
    for col in ("prompt", "response_1", "response_2"):
        values = [getattr(by_id[p], col) for p in ids] if by_id is not None else [""] * len(ids)
        texts[col] = pd.Series(values, index=table.index, dtype="str")
    texts["output_ab"] = _outputs(j, "ab", ids) if len(j) else pd.Series([""] * len(ids), dtype="str")
    texts["output_ba"] = _outputs(j, "ba", ids) if len(j) else pd.Series([""] * len(ids), dtype="str")
    table = table.assign(**texts)
    note = None if data is not None else f"prompts and correctness unavailable: {why}"
    n_scored = results.get("overall", {}).get("n_pairs") if isinstance(results.get("overall"), dict) else None
    if data is not None and isinstance(n_scored, int) and n_scored != len(table):
        note = f"results.json scores {n_scored} pairs but judgments.jsonl has {len(table)}; the table shows the latter"
    rows_of = {k: np.asarray(v) for k, v in j.groupby("pair_id", sort=False).indices.items()}
    return BenchView(name, results, table, j, rows_of, by_id, benchmark, note)


def redacted(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as shown: API keys hidden (a manifest written before j1eval redacted them may hold one)."""
    out = redact_value(manifest)
    if isinstance(out.get("command"), list):
        out["command"] = redact_argv(out["command"])
    for inv in out.get("invocations") if isinstance(out.get("invocations"), list) else []:
        if isinstance(inv, dict) and isinstance(inv.get("command"), list):
            inv["command"] = redact_argv(inv["command"])
    return out


def load_run(entry: RunEntry, root: Path, data_dir: Path | None) -> LoadedRun:
    """Everything the pages show of one j1eval run directory."""
    manifest = read_json(root, entry.path / "manifest.json")
    results_path = entry.path / "results.json"
    results = read_json(root, results_path) if results_path.exists() else {}
    if not isinstance(manifest, dict) or not isinstance(results, dict):
        raise DashboardError(f"{entry.path}: manifest.json and results.json must be JSON objects")
    run = LoadedRun(entry, redacted(manifest), results)
    if not results_path.exists():
        run.notes.append("no results.json: the run has not finished (its command resumes and scores it)")
    judgments, bad = read_judgments(root, entry.path / "judgments.jsonl")
    if bad:
        run.notes.append(f"{bad} unreadable lines in judgments.jsonl skipped")
    uses_scores = False
    try:
        from j1eval.formats import get_format

        uses_scores = bool(get_format(str(manifest.get("format"))).uses_scores)
    except J1EvalError:
        pass
    infos = manifest.get("benchmarks") if isinstance(manifest.get("benchmarks"), dict) else {}
    tables, why_not = stored_tables(root, entry.path)
    if why_not:
        run.notes.append(why_not)
    names = list(dict.fromkeys([*results, *judgments["bench"].unique().tolist()]))
    for name in names:
        part = judgments[judgments["bench"] == name]
        if part.empty:
            continue
        info = infos.get(name) if isinstance(infos.get(name), dict) else {}
        data, why = load_bench_data(name, info, data_dir)
        bench_results = results.get(name) if isinstance(results.get(name), dict) else {}
        stored = (tables or {}).get(name)
        run.benches[name] = bench_view(name, manifest, bench_results, part, data, why, uses_scores, stored)
    return run
