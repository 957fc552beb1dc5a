"""Run a judge on benchmarks under both answer orders, resumably.

pairs -> (pair, order, sample) judgments (:mod:`j1eval.judging.jobs`) -> unique prompts -> backend ->
parse -> append to ``judgments.jsonl`` as each finishes (:mod:`j1eval.judging.generation`) -> score ->
``results.json``; ``manifest.json`` (:mod:`j1eval.judging.manifest`) says how they were made.

Every judgment has a cache key built from the judge's identity (backend, model,
format, sampling), the template hash, the benchmark, pair, order, sample and the
hashes of its prompts. Rerunning the same command with the same ``--out``
skips every judgment already stored.
"""

from __future__ import annotations

import gc
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.backends import BackendDied, Request, get_backend_class
from j1eval.benchmarks import get_benchmark, resolve_data_dir
from j1eval.errors import InputError, SetupError
from j1eval.formats import Format, get_format
from j1eval.judges import JudgeSpec, resolve_judge
from j1eval.judging.checks import check_bench_data, setup_differences
from j1eval.judging.config import Loaded, RunConfig
from j1eval.judging.executors import open_backend
from j1eval.judging.generation import generate
from j1eval.judging.jobs import Job, expand_benches, make_jobs, select_pairs
from j1eval.judging.lock import RunLock, read_only
from j1eval.judging.manifest import build_manifest, now
from j1eval.judging.reuse import fingerprint, reusable_results
from j1eval.orders import ORDER_RULE
from j1eval.score.bench import score_bench
from j1eval.store.judgments import (
    BACKEND_ERROR,
    JUDGMENTS_FILE,
    MANIFEST_FILE,
    RESULTS_FILE,
    JudgmentStore,
    read_manifest,
    write_json,
)
from j1eval.store.pairs_file import write_pairs
from j1eval.store.records import SCORING_COLUMNS
from j1eval.store.stored import read_stored

__all__ = ["RunInterrupted", "RunOutcome", "default_out_dir", "run"]


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run: what is written is kept; the message is one line saying how to resume."""

    def __init__(self, path: Path, kept: int, total: int, command: Sequence[str]) -> None:
        super().__init__(f"{kept} of {total} judgments are kept in {path}; resume with: {shlex.join(command)}")
        self.path, self.kept, self.total = path, kept, total


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


def default_out_dir(judge: str, benches: Sequence[str]) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", judge).strip("_")
    return Path("runs") / f"{safe}__{'+'.join(benches)}"


def run(config: RunConfig) -> RunOutcome:
    """Run (or resume) a judge on benchmarks and write ``results.json``."""
    config.check()
    bench_names = expand_benches(config.benches)
    spec, fmt = _judge(config)
    loaded = _load(config, bench_names)
    out_dir = Path(config.out) if config.out else default_out_dir(spec.name, bench_names)
    identity = {**spec.identity(), "template_hash": fmt.template_hash}
    with RunLock(out_dir):  # one writer per run directory, for the whole run
        return _run_locked(config, spec, fmt, identity, loaded, out_dir)


def _judge(config: RunConfig) -> tuple[JudgeSpec, Format]:
    """The judge the command names, with its format's defaults where the command gave none."""
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
    if config.temperature is None and fmt.default_sampling:  # pointwise: sampled (J1), unless the command says
        given = {k: v for k, v in fmt.default_sampling.items() if getattr(config, k, None) is None}
        spec = replace(spec, sampling=replace(spec.sampling, **given))
    return spec, fmt


def _load(config: RunConfig, bench_names: Sequence[str]) -> Loaded:
    """Each benchmark's data, checked, and the pairs the run covers."""
    data_dir = resolve_data_dir(config.data_dir)
    loaded: Loaded = {}
    for name in bench_names:
        bench = get_benchmark(name)
        data = bench.load(data_dir)
        check_bench_data(name, data)  # an empty data file never "succeeds" with 0 judgments
        loaded[name] = (bench, data, select_pairs(data.pairs, config.limit, config.sample, config.seed))
    return loaded


def _run_locked(
    config: RunConfig,
    spec: JudgeSpec,
    fmt: Format,
    identity: dict[str, Any],
    loaded: Loaded,
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

    judgments_path = out_dir / JUDGMENTS_FILE
    setup = build_manifest(config, spec, fmt, identity, loaded, previous, model_revision=None)
    reused = reusable_results(out_dir, previous, setup, config.n_boot, judgments_path)
    if reused is not None and previous is not None:  # nothing changed since the last finished run
        return _reuse(out_dir, previous, config, *reused)

    pairs_by_bench = {name: pairs for name, (_bench, _data, pairs) in loaded.items()}
    with _long_lived() as settle:  # the pairs, then the jobs and prompts: alive until the run ends
        jobs, prompts = make_jobs(
            pairs_by_bench, fmt, identity, order=config.order, seed=config.seed, samples=config.samples
        )
        settle()
        return _judge_and_score(config, spec, fmt, setup, loaded, out_dir, previous, jobs, prompts)


@contextmanager
def _long_lived() -> Iterator[Callable[[], None]]:
    """Objects made so far, and those made before each call of the yielded function, live until the
    run ends: the garbage collector leaves them out of its scans (gc.freeze) until then. A caller's
    own freeze is left alone. Garbage is collected first, so none is kept (an earlier model in a training
    loop that evaluates each checkpoint, say)."""
    if gc.get_freeze_count():
        yield lambda: None
        return
    gc.collect()
    gc.freeze()
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _judge_and_score(
    config: RunConfig,
    spec: JudgeSpec,
    fmt: Format,
    manifest: dict[str, Any],
    loaded: Loaded,
    out_dir: Path,
    previous: dict[str, Any] | None,
    jobs: list[Job],
    prompts: dict[str, Request],
) -> RunOutcome:
    store = JudgmentStore(out_dir).open()
    try:
        pending = [job for job in jobs if job.key not in store.keys]
        n_cached = len(jobs) - len(pending)
        # The manifest is first written once the backend is up: a judge that fails to start
        # (no model, no server) leaves no claim on the directory.
        if pending:
            backend = open_backend(spec, config.executor)  # local, or replicas on Ray (j1eval.judging.executors)
            try:
                revision = backend.model_revision
                old_revision = (previous or {}).get("model_revision")
                if old_revision and old_revision != revision:
                    raise InputError(
                        f"{out_dir} holds judgments of model revision {old_revision}, now {revision}; "
                        "pass a different --out"
                    )
                manifest["model_revision"] = revision
                manifest["executor"] = config.executor.describe() | getattr(backend, "executor_info", {})
                engine = getattr(backend, "engine_info", None)  # vLLM: device, dtype, KV cache, threads, version
                if engine is not None:
                    manifest["engine"] = engine
                manifest["updated_at"] = now()
                write_json(out_dir / MANIFEST_FILE, manifest)
                generate(backend, spec, fmt, pending, prompts, store, config.progress, n_cached, len(jobs))
            except KeyboardInterrupt:
                kept = sum(job.key in store.keys for job in jobs)
                raise RunInterrupted(store.path, kept, len(jobs), config.command or sys.argv) from None
            except BackendDied as exc:  # its requests in flight are stored as backend_error: a rerun retries them
                kept = sum(job.key in store.keys for job in jobs)
                raise SetupError(
                    f"{exc}; {kept} of {len(jobs)} judgments are stored in {store.path} (those in flight as "
                    f"backend_error); resume with: {shlex.join(config.command or sys.argv)}"
                ) from None
            finally:
                backend.close()
        stored = read_stored(store.path, {job.key for job in jobs}, set(loaded))
        rows: dict[str, pd.DataFrame] = {}  # per benchmark, the table behind its figures: pairs.parquet
        results = _score(loaded, stored.frame, fmt, config, rows)
    finally:
        store.close()
    failed = stored.failed()
    write_pairs(out_dir, rows)  # before results.json, which says the run is scored
    write_json(out_dir / RESULTS_FILE, results)
    manifest["finished_at"] = now()
    manifest["counts"] = {"judgments": len(jobs), "cached": n_cached, "generated": len(pending)}
    manifest["counts"]["backend_errors"] = len(failed)
    # Every finished invocation that wrote to this directory, oldest first (a resumed run has several).
    manifest["invocations"].append(
        {"command": manifest["command"], "finished_at": manifest["finished_at"], **manifest["counts"]}
    )
    n_without_top = 0
    if fmt.reads_probabilities:  # judgments whose backend returned no log-probabilities at all
        frame = stored.frame
        lines = frame.loc[frame["p_a"].isna() & (frame["failure"] != BACKEND_ERROR), "line"]
        n_without_top = sum("top_logprobs" not in rec for rec in stored.records(lines.astype(int).tolist()))
    manifest["reuse"] = {"fingerprint": fingerprint(manifest, config.n_boot, store.path), "without_p_a": n_without_top}
    write_json(out_dir / MANIFEST_FILE, manifest)
    return RunOutcome(
        out_dir,
        results,
        len(pending),
        n_cached,
        len(failed),
        stored.record(int(failed["line"].iloc[0])).get("error") if len(failed) else None,
        n_without_p_a=n_without_top,
    )


def _reuse(
    out_dir: Path, previous: dict[str, Any], config: RunConfig, results: dict[str, Any], without_p_a: int
) -> RunOutcome:
    """The outcome of a rerun that found every judgment stored and nothing changed (j1eval.judging.reuse)."""
    manifest = dict(previous)
    total = int(previous.get("counts", {}).get("judgments", 0))
    manifest["command"] = config.command or sys.argv
    manifest["finished_at"] = manifest["updated_at"] = now()
    counts = {"judgments": total, "cached": total, "generated": 0, "backend_errors": 0}
    invocation = {"command": manifest["command"], "finished_at": manifest["finished_at"], **counts}
    manifest["invocations"] = [*previous.get("invocations", []), invocation]
    if not read_only(out_dir):  # a read-only copy of a finished run: its results, nothing recorded
        write_json(out_dir / MANIFEST_FILE, manifest)
    return RunOutcome(out_dir, results, 0, total, n_without_p_a=without_p_a)


def _score(
    loaded: Loaded,
    judgments: pd.DataFrame,
    fmt: Format,
    config: RunConfig,
    rows: dict[str, pd.DataFrame] | None = None,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, (bench, data, pairs) in loaded.items():
        part = judgments[judgments["bench"] == name]
        if part.empty:
            continue
        results[name] = score_bench(
            bench,
            pairs,
            part[[*SCORING_COLUMNS, *(["probs"] if "probs" in part.columns else [])]].reset_index(drop=True),
            seed=config.seed,
            use_scores=fmt.uses_scores,
            n_boot=config.n_boot,
            missing_parts=data.missing,
            rows=rows,
        )
        if "rebuilt" in data.notes:  # e.g. FollowBenchEval pairs rebuilt by `j1eval build`: never the paper's
            results[name]["rebuilt"] = data.notes["rebuilt"]
    return results
