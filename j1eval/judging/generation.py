"""Producing judgments: unique prompts to the backend, completions parsed, rows stored as each finishes.

The backend takes as many requests per call as it says (:attr:`Backend.requests_per_call`;
None, every pending prompt at once, lets vLLM batch across the whole run). A judgment is
written, and the progress bar advanced, as soon as all of its prompts' completions are in.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

from j1eval.backends import Backend, Request
from j1eval.formats import Format
from j1eval.judges import JudgeSpec
from j1eval.judging.jobs import Job
from j1eval.store.judgments import JudgmentStore
from j1eval.types import Completion, Parsed


def generate(
    backend: Backend,
    spec: JudgeSpec,
    fmt: Format,
    pending: list[Job],
    prompts: dict[str, Request],
    store: JudgmentStore,
    progress: bool,
    n_cached: int,
    n_total: int,
) -> None:
    """Send each unique prompt once (n = samples) and store judgments as they complete."""
    from tqdm import tqdm

    waiting: dict[str, list[Job]] = defaultdict(list)
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
            rows.append(judgment_row(job, fmt, spec, [done_parts[h][job.sample] for h in job.prompt_hashes]))
            written.add(job.key)
        if rows:
            store.append(rows)
            bar.update(len(rows))

    step = backend.requests_per_call or len(order_of_hashes)
    try:
        for start in range(0, len(order_of_hashes), step):
            chunk = order_of_hashes[start : start + step]
            requests = [prompts[h] for h in chunk]
            backend.generate(
                requests, spec.sampling, n=n_samples, on_done=lambda i, comps, chunk=chunk: finish(chunk[i], comps)
            )
    finally:
        bar.close()


def judgment_row(job: Job, fmt: Format, spec: JudgeSpec, parts: list[Completion]) -> dict[str, Any]:
    """The stored row of one judgment from its prompts' completions (one, or one per pointwise slot)."""
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
