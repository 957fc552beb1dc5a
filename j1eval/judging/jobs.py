"""What a run judges: the benchmarks named, the pairs picked, each pair's orders, and the jobs.

A job is one judgment to produce, ``(bench, pair, order, sample)``, with a cache key built
from the judge's identity (backend, model, format, sampling, template hash), the benchmark,
pair, order, sample and the hashes of its prompts; each unique prompt is sent once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any

from j1eval.backends import Request
from j1eval.benchmarks import BENCHMARKS, single_order_rule, standard_benchmarks
from j1eval.errors import InputError
from j1eval.formats import Format
from j1eval.orders import kway_items, orders_for, rotations_for
from j1eval.types import Order, Pair

SAMPLE_RULE = "the N pairs with the smallest sha256(f'sample:{seed}:{pair_id}'), kept in the benchmark's order"


@dataclass
class Job:
    """One judgment to produce: (bench, pair, order, sample)."""

    key: str
    bench: str
    pair: Pair
    order: Order
    sample: int
    prompt_hashes: list[str]


def expand_benches(names: Sequence[str]) -> list[str]:
    """Benchmark names from ``--bench`` values (comma lists, ``all``), each once; unknown names fail here."""
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


def make_jobs(
    pairs_by_bench: Mapping[str, Sequence[Pair]],
    fmt: Format,
    identity: dict[str, Any],
    *,
    order: str,
    seed: int,
    samples: int,
) -> tuple[list[Job], dict[str, Request]]:
    """The judgments to produce, and each unique prompt (by hash) as a backend request."""
    ident = json.dumps(identity, sort_keys=True)
    jobs: list[Job] = []
    prompts_by_hash: dict[str, Request] = {}
    k = getattr(fmt, "k", 2)  # a k-way format judges items in rotations (j1eval.score.kway), not pairs in orders
    for name, pairs in pairs_by_bench.items():
        rule = single_order_rule(name)
        if k > 2:
            if getattr(BENCHMARKS.get(name) if name in BENCHMARKS.names() else None, "kway", None) != k:
                raise InputError(f"--format {fmt.name} ranks {k} responses: benchmark {name!r} is not best-of-{k}")
            pairs = kway_items(pairs, seed)
        for pair in pairs:
            for pair_order in (
                rotations_for(pair.pair_id, order, seed) if k > 2 else orders_for(pair.pair_id, order, seed, rule)
            ):
                hashes = []
                for part, prompt in enumerate(fmt.prompts(pair, pair_order)):
                    h = _hash(messages_json(prompt.messages))
                    prompts_by_hash.setdefault(h, Request(prompt, pair, pair_order, part))
                    hashes.append(h)
                for sample in range(samples):
                    key = _hash(key_json(ident, name, pair.pair_id, pair_order, sample, hashes))
                    jobs.append(Job(key, name, pair, pair_order, sample, hashes))
    return jobs, prompts_by_hash


def messages_json(messages: Sequence[Mapping[str, Any]]) -> str:
    """``json.dumps(list(messages), sort_keys=True)``, the text a prompt's hash is taken of; written out
    directly for the usual {"role", "content"} messages (the same characters, without an encoder per call)."""
    if all(
        type(m) is dict and len(m) == 2 and type(m.get("content")) is str and type(m.get("role")) is str
        for m in messages
    ):
        return (
            "["
            + ", ".join(f'{{"content": {_quoted(m["content"])}, "role": {_quoted(m["role"])}}}' for m in messages)
            + "]"
        )
    return json.dumps(list(messages), sort_keys=True)


def key_json(ident: str, bench: str, pair_id: str, order: str, sample: int, hashes: Sequence[str]) -> str:
    """``json.dumps([ident, bench, pair_id, order, sample, hashes])``, the text a job's key is taken of;
    written out directly when every part has its usual type (the same characters)."""
    texts = (ident, bench, pair_id, order, *hashes)
    if type(sample) is not int or not all(type(t) is str for t in texts):
        return json.dumps([ident, bench, pair_id, order, sample, list(hashes)])
    quoted = [_quoted(t) for t in texts]
    return f"[{quoted[0]}, {quoted[1]}, {quoted[2]}, {quoted[3]}, {sample}, [{', '.join(quoted[4:])}]]"


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
