"""Run a judge on benchmarks under both answer orders, resumably.

pairs -> (pair, order, sample) judgments -> unique prompts -> backend -> parse ->
append to ``judgments.jsonl`` as each finishes -> score -> ``results.json``.

Every judgment has a cache key built from the judge's identity (backend, model,
format, sampling), the template hash, the benchmark, pair, order, sample and the
hashes of its prompts. Rerunning the same command with the same ``--out``
skips every judgment already stored.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.backends import Backend, Request, get_backend_class
from j1eval.benchmarks import (
    BENCHMARKS,
    Benchmark,
    BenchmarkData,
    get_benchmark,
    resolve_data_dir,
    standard_benchmarks,
)
from j1eval.checks import check_bench_data, setup_differences
from j1eval.errors import InputError
from j1eval.formats import Format, get_format
from j1eval.judges import JudgeSpec, resolve_judge
from j1eval.lock import RunLock
from j1eval.metrics import N_BOOTSTRAP, single_order
from j1eval.scoring import score_bench, validate_row
from j1eval.store import (
    MANIFEST_FILE,
    RESULTS_FILE,
    JudgmentStore,
    failed_at_backend,
    latest_records,
    read_manifest,
    write_json,
)
from j1eval.types import ORDERS, Completion, Order, Pair, Parsed

ORDER_RULE = "single order = 'ab' if sha256(f'{seed}:{pair_id}')[0] is even, else 'ba'"
ORDER_MODES = ("both", "single", "ab", "ba")
#: Requests handed to the backend per call; the store is written as each finishes.
CHUNK = 256


@dataclass
class RunConfig:
    """What ``python -m j1eval run`` does; every field has a CLI flag."""

    judge: str
    benches: Sequence[str]
    out: Path | None = None
    data_dir: Path | None = None
    limit: int | None = None
    sample: int | None = None  # a seeded sample of N pairs per benchmark, drawn across all its subsets
    seed: int = 0
    order: str = "both"
    samples: int = 1
    format: str | None = None
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    n_boot: int = N_BOOTSTRAP
    command: list[str] | None = None


@dataclass
class RunOutcome:
    out_dir: Path
    results: dict[str, Any]
    n_generated: int  # judgments computed in this invocation
    n_cached: int  # judgments found in the store
    n_backend_errors: int = 0  # judgments that failed at the backend: a rerun retries them
    backend_error: str | None = None  # one of their error messages
    #: Formats that read probabilities: judgments whose backend returned no log-probabilities.
    n_without_p_a: int = 0


@dataclass
class _Job:
    """One judgment to produce: (bench, pair, order, sample)."""

    key: str
    bench: str
    pair: Pair
    order: Order
    sample: int
    prompt_hashes: list[str]


def expand_benches(names: Sequence[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        for part in name.split(","):
            part = part.strip()
            if not part:
                continue
            for bench in standard_benchmarks() if part == "all" else [part]:
                BENCHMARKS.get(bench)  # unknown names fail here, before any work
                if bench not in out:
                    out.append(bench)
    if not out:
        raise InputError("--bench: name at least one benchmark (or 'all')")
    return out


def default_out_dir(judge: str, benches: Sequence[str]) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", judge).strip("_")
    return Path("runs") / f"{safe}__{'+'.join(benches)}"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


SAMPLE_RULE = "the N pairs with the smallest sha256(f'sample:{seed}:{pair_id}'), kept in the benchmark's order"


def select_pairs(pairs: Sequence[Pair], limit: int | None, sample: int | None, seed: int) -> list[Pair]:
    """The pairs a run covers: all, the first ``limit``, or a seeded ``sample`` across the whole benchmark.

    A sample is stable: the same seed gives the same pairs on any machine, and a larger
    sample contains a smaller one (so a run can be grown and resumed).
    """
    if limit:
        return list(pairs[:limit])
    if sample:
        rank = {p.pair_id: hashlib.sha256(f"sample:{seed}:{p.pair_id}".encode()).hexdigest() for p in pairs}
        chosen = set(sorted(rank, key=rank.__getitem__)[:sample])
        return [p for p in pairs if p.pair_id in chosen]
    return list(pairs)


def orders_for(pair_id: str, mode: str, seed: int) -> tuple[Order, ...]:
    if mode == "both":
        return ORDERS
    if mode == "single":
        return (single_order(pair_id, seed),)
    if mode in ORDERS:
        return (mode,)  # type: ignore[return-value]
    raise InputError(f"--order must be one of {', '.join(ORDER_MODES)}, got {mode!r}")


def run(config: RunConfig) -> RunOutcome:
    """Run (or resume) a judge on benchmarks and write ``results.json``."""
    if config.samples < 1:
        raise InputError(f"--samples must be at least 1, got {config.samples}")
    if config.limit is not None and config.limit < 1:
        raise InputError(f"--limit must be at least 1, got {config.limit}")
    if config.sample is not None and config.sample < 1:
        raise InputError(f"--sample must be at least 1, got {config.sample}")
    if config.sample is not None and config.limit is not None:
        raise InputError("--limit and --sample pick pairs in different ways: give one of them")
    if config.order not in ORDER_MODES:
        raise InputError(f"--order must be one of {', '.join(ORDER_MODES)}, got {config.order!r}")
    bench_names = expand_benches(config.benches)
    temperature = config.temperature
    if config.samples > 1 and temperature is None:
        temperature = 1.0  # SC@N / Mean-Score@N need sampling (J1 samples at temperature 1.0)
    spec = resolve_judge(
        config.judge,
        format_name=config.format,
        model=config.model,
        max_tokens=config.max_tokens,
        temperature=temperature,
        top_p=config.top_p,
        seed=config.seed,
        options=config.backend_options,
    )
    fmt = get_format(spec.format)
    answers = get_backend_class(spec.backend).FORMATS
    if answers is not None and fmt.name not in answers:
        raise InputError(
            f"--format {fmt.name}: judge {spec.name!r} ({spec.backend} backend) cannot answer in it; "
            f"it answers in {', '.join(answers)}"
        )
    if config.max_tokens is None and fmt.default_max_tokens is not None:
        spec = replace(spec, sampling=replace(spec.sampling, max_tokens=fmt.default_max_tokens))
    data_dir = resolve_data_dir(config.data_dir)
    loaded: dict[str, tuple[Benchmark, BenchmarkData, list[Pair]]] = {}
    for name in bench_names:
        bench = get_benchmark(name)
        data = bench.load(data_dir)
        check_bench_data(name, data)  # an empty data file never "succeeds" with 0 judgments
        pairs = select_pairs(data.pairs, config.limit, config.sample, config.seed)
        loaded[name] = (bench, data, pairs)

    out_dir = Path(config.out) if config.out else default_out_dir(spec.name, bench_names)
    identity = {**spec.identity(), "template_hash": fmt.template_hash}
    with RunLock(out_dir):  # one writer per run directory, for the whole run
        return _run_locked(config, spec, fmt, identity, loaded, out_dir)


def _run_locked(
    config: RunConfig,
    spec: JudgeSpec,
    fmt: Format,
    identity: dict[str, Any],
    loaded: dict[str, tuple[Benchmark, BenchmarkData, list[Pair]]],
    out_dir: Path,
) -> RunOutcome:
    previous = read_manifest(out_dir)
    if previous is not None:
        differences = setup_differences(
            previous, {"seed": config.seed, "order": config.order, "order_rule": ORDER_RULE, "judge_identity": identity}
        )
        if differences:
            raise InputError(
                f"{out_dir} holds a run with another set-up ({'; '.join(differences)}); "
                "rerun with its flags, or pass a different --out"
            )

    jobs, prompts = _make_jobs(loaded, fmt, identity, config)
    store = JudgmentStore(out_dir).open()
    try:
        pending = [job for job in jobs if job.key not in store.keys]
        n_cached = len(jobs) - len(pending)
        manifest = _manifest(config, spec, fmt, identity, loaded, previous, model_revision=None)
        # The manifest is first written once the backend is up: a judge that fails to start
        # (no model, no server) leaves no claim on the directory.
        if pending:
            backend = get_backend_class(spec.backend)(spec.model, **spec.options)
            try:
                revision = backend.model_revision
                old_revision = (previous or {}).get("model_revision")
                if old_revision and old_revision != revision:
                    raise InputError(
                        f"{out_dir} holds judgments of model revision {old_revision}, now {revision}; "
                        "pass a different --out"
                    )
                manifest["model_revision"] = revision
                write_json(out_dir / MANIFEST_FILE, manifest)
                _generate(backend, spec, fmt, pending, prompts, store, config.progress, n_cached, len(jobs))
            finally:
                backend.close()
        wanted = {job.key for job in jobs}
        records = []
        for lineno, rec in store.numbered_records():
            if rec.get("key") in wanted:  # a stored judgment this run scores: it must be one
                where = {"path": store.path, "record": f"line {lineno}"}
                validate_row(rec, None, where)
                if not isinstance(rec.get("bench"), str) or rec["bench"] not in loaded:
                    raise InputError(f"must name one of this run's benchmarks, got {rec.get('bench')!r}", **where)
                records.append(rec)
        records = latest_records(records)
        results = _score(loaded, records, fmt, config)
    finally:
        store.close()
    failed = [rec for rec in records if failed_at_backend(rec)]
    write_json(out_dir / RESULTS_FILE, results)
    manifest["finished_at"] = _now()
    manifest["counts"] = {"judgments": len(jobs), "cached": n_cached, "generated": len(pending)}
    manifest["counts"]["backend_errors"] = len(failed)
    # Every finished invocation that wrote to this directory, oldest first (a resumed run has several).
    manifest["invocations"].append(
        {"command": manifest["command"], "finished_at": manifest["finished_at"], **manifest["counts"]}
    )
    write_json(out_dir / MANIFEST_FILE, manifest)
    without_p_a = [r for r in records if fmt.reads_probabilities and r.get("p_a") is None and not failed_at_backend(r)]
    return RunOutcome(
        out_dir,
        results,
        len(pending),
        n_cached,
        len(failed),
        failed[0].get("error") if failed else None,
        n_without_p_a=sum("top_logprobs" not in r for r in without_p_a),
    )


def _make_jobs(
    loaded: dict[str, tuple[Benchmark, BenchmarkData, list[Pair]]],
    fmt: Format,
    identity: dict[str, Any],
    config: RunConfig,
) -> tuple[list[_Job], dict[str, Request]]:
    """The judgments to produce, and each unique prompt (by hash) as a backend request."""
    ident = json.dumps(identity, sort_keys=True)
    jobs: list[_Job] = []
    prompts_by_hash: dict[str, Request] = {}
    for name, (_bench, _data, pairs) in loaded.items():
        for pair in pairs:
            for order in orders_for(pair.pair_id, config.order, config.seed):
                hashes = []
                for part, prompt in enumerate(fmt.prompts(pair, order)):
                    h = _hash(json.dumps(list(prompt.messages), sort_keys=True))
                    prompts_by_hash.setdefault(h, Request(prompt, pair, order, part))
                    hashes.append(h)
                for sample in range(config.samples):
                    key = _hash(json.dumps([ident, name, pair.pair_id, order, sample, hashes]))
                    jobs.append(_Job(key, name, pair, order, sample, hashes))
    return jobs, prompts_by_hash


def _generate(
    backend: Backend,
    spec: JudgeSpec,
    fmt: Format,
    pending: list[_Job],
    prompts: dict[str, Request],
    store: JudgmentStore,
    progress: bool,
    n_cached: int,
    n_total: int,
) -> None:
    """Send each unique prompt once (n = samples) and store judgments as they complete."""
    from tqdm import tqdm

    waiting: dict[str, list[_Job]] = defaultdict(list)
    order_of_hashes: list[str] = []
    n_samples = 1 + max(job.sample for job in pending)
    for job in pending:
        for h in job.prompt_hashes:
            if h not in waiting:
                order_of_hashes.append(h)
            waiting[h].append(job)
    done_parts: dict[str, list[Completion]] = {}
    bar = tqdm(
        total=n_total,
        initial=n_cached,
        desc=f"{spec.name}",
        unit="judgment",
        disable=not progress,
        dynamic_ncols=True,
        file=sys.stderr,
    )
    written: set[str] = set()

    def finish(hash_: str, completions: list[Completion]) -> None:
        done_parts[hash_] = completions
        rows = []
        for job in waiting[hash_]:
            if job.key in written or not all(h in done_parts for h in job.prompt_hashes):
                continue
            rows.append(_row(job, fmt, spec, [done_parts[h][job.sample] for h in job.prompt_hashes]))
            written.add(job.key)
        if rows:
            store.append(rows)
            bar.update(len(rows))

    try:
        for start in range(0, len(order_of_hashes), CHUNK):
            chunk = order_of_hashes[start : start + CHUNK]
            requests = [prompts[h] for h in chunk]
            backend.generate(
                requests, spec.sampling, n=n_samples, on_done=lambda i, comps, chunk=chunk: finish(chunk[i], comps)
            )
    finally:
        bar.close()


def _row(job: _Job, fmt: Format, spec: JudgeSpec, parts: list[Completion]) -> dict[str, Any]:
    sampled = spec.sampling.temperature > 0
    parsed_parts = [fmt.read(c, sampled) for c in parts]
    parsed: Parsed = fmt.combine(parsed_parts)
    single = len(parts) == 1
    scores = None
    if parsed.score_a is not None or parsed.score_b is not None:
        scores = {"A": parsed.score_a, "B": parsed.score_b}
    errors = [c.error for c in parts if c.error]

    def total(values: list[int | None]) -> int | None:
        return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]

    return {
        "key": job.key,
        "bench": job.bench,
        "pair_id": job.pair.pair_id,
        "order": job.order,
        "sample": job.sample,
        "verdict": parsed.verdict,
        "failure": parsed.failure,
        "scores": scores,
        "judge": spec.name,
        "template_hash": fmt.template_hash,
        "prompt_hash": job.prompt_hashes[0] if single else job.prompt_hashes,
        "raw": parts[0].text if single else [c.text for c in parts],
        "finish_reason": parts[0].finish_reason if single else [c.finish_reason for c in parts],
        "prompt_tokens": total([c.prompt_tokens for c in parts]),
        "completion_tokens": total([c.completion_tokens for c in parts]),
        "latency_s": total([c.latency_s for c in parts]),  # type: ignore[list-item]
        "error": "; ".join(errors) if errors else None,
        "p_a": parsed.p_a,
        **({"choice_probs": dict(parsed.choice_probs)} if parsed.choice_probs is not None else {}),
        **({"top_logprobs": dict(parts[0].top_logprobs)} if single and parts[0].top_logprobs is not None else {}),
    }


def judgments_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """The scorer's input from stored judgment rows."""
    rows = []
    for rec in records:
        scores = rec.get("scores") or {}
        rows.append(
            {
                "pair_id": rec["pair_id"],
                "order": rec["order"],
                "sample": rec.get("sample", 0),
                "verdict": rec.get("verdict"),
                "failure": rec.get("failure") or (None if rec.get("verdict") else "no_verdict"),
                "score_a": scores.get("A"),
                "score_b": scores.get("B"),
                "p_a": rec.get("p_a"),
            }
        )
    return pd.DataFrame(rows, columns=["pair_id", "order", "sample", "verdict", "failure", "score_a", "score_b", "p_a"])


def _score(
    loaded: dict[str, tuple[Benchmark, BenchmarkData, list[Pair]]],
    records: list[dict[str, Any]],
    fmt: Format,
    config: RunConfig,
) -> dict[str, Any]:
    by_bench: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        by_bench[rec["bench"]].append(rec)
    results: dict[str, Any] = {}
    for name, (bench, data, pairs) in loaded.items():
        bench_records = by_bench.get(name, [])
        if not bench_records:
            continue
        results[name] = score_bench(
            bench,
            pairs,
            judgments_frame(bench_records),
            seed=config.seed,
            use_scores=fmt.uses_scores,
            n_boot=config.n_boot,
            missing_parts=data.missing,
        )
        if "rebuilt" in data.notes:  # e.g. FollowBenchEval pairs rebuilt by `j1eval build`: never the paper's
            results[name]["rebuilt"] = data.notes["rebuilt"]
    return results


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("j1eval", "numpy", "pandas", "torch", "transformers", "vllm", "httpx"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return out


def _manifest(
    config: RunConfig,
    spec: JudgeSpec,
    fmt: Format,
    identity: dict[str, Any],
    loaded: dict[str, tuple[Benchmark, BenchmarkData, list[Pair]]],
    previous: dict[str, Any] | None,
    model_revision: str | None,
) -> dict[str, Any]:
    return {
        "command": config.command or sys.argv,
        "invocations": list((previous or {}).get("invocations", [])),  # finished ones; this one is added at the end
        "started_at": (previous or {}).get("started_at", _now()),
        "updated_at": _now(),
        "judge": spec.name,
        "judge_identity": identity,
        "judge_description": spec.description,
        "model_revision": model_revision or (previous or {}).get("model_revision"),
        "format": fmt.name,
        "template_hash": fmt.template_hash,
        "seed": config.seed,
        "order": config.order,
        "order_rule": ORDER_RULE,
        "samples": config.samples,
        "aggregation": ("Mean-Score@N" if fmt.uses_scores else "SC@N (majority verdict)")
        if config.samples > 1
        else None,
        "limit": config.limit,
        "sample": config.sample,
        "sample_rule": SAMPLE_RULE if config.sample else None,
        "benchmarks": {
            name: {
                "source": data.source,
                "files": data.files,
                "notes": data.notes,
                "missing": data.missing,
                "n_pairs_total": len(data.pairs),
                "n_pairs_run": len(pairs),
            }
            for name, (_bench, data, pairs) in loaded.items()
        },
        "versions": _versions(),
    }
