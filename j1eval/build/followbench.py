"""``python -m j1eval build followbencheval``: FollowBenchEval's pairs, rebuilt from FollowBench.

EvalPlanner (Saha et al. 2025, arXiv 2501.18099) built FollowBenchEval's 205 pairs from
FollowBench: responses of one model to an instruction with constraints (levels 1-5), one
satisfying every constraint and one missing at least one. Those pairs were never released;
this builds pairs of the same kind:

1. each instruction of level 1-5 (FollowBench's files, :mod:`j1eval.build.instructions`,
   which also derives its constraints) gets ``samples`` responses from the generator;
2. each response's constraints are checked (:mod:`j1eval.build.sources`): by rule where code
   can decide, else by the checker model, one constraint at a time (:mod:`j1eval.build.checker`);
3. one pair per instruction (:mod:`j1eval.build.select`); with ``per_level`` N, instructions
   are tried level by level in a seeded hash order until N pairs (or ``limit`` tries) per level.

Generation and checking go through j1eval's backends and store (``generations/`` and
``checks/`` beside the pairs), so a build resumes where it stopped. Output, in
``OUT/followbencheval/`` (OUT: ``--out``, else the data folder): ``followbencheval.jsonl``
(what the followbencheval loader reads), ``README.md`` (a data card) and ``manifest.json``.
Pair files are only written by a build whose every generation succeeded and that made a pair.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from j1eval.benchmarks._sources import resolve_data_dir, sha256_file
from j1eval.build import card
from j1eval.build.checker import TEMPLATE_HASH, check_prompt, parse_answer
from j1eval.build.checks import Check
from j1eval.build.generate import BackendPool, Generator, Step
from j1eval.build.instructions import CATEGORIES, Task, derive_tasks, instruction_files, load_instructions
from j1eval.build.select import Response, choose, chosen_slot
from j1eval.build.sources import Plan, plan
from j1eval.errors import InputError
from j1eval.judges import JudgeSpec, resolve_judge
from j1eval.judging.lock import RunLock
from j1eval.safe_io import read_json_object, write_jsonl
from j1eval.store.judgments import write_json

FOLDER = "followbencheval"
PAIRS_FILE = "followbencheval.jsonl"
MANIFEST_FILE = "manifest.json"
LEVELS = (1, 2, 3, 4, 5)
BUILDER = "python -m j1eval build followbencheval"


@dataclass
class BuildConfig:
    """What ``build followbencheval`` does; every field has a flag."""

    generator: str
    checker: str
    data_dir: Path | None = None
    out: Path | None = None
    instructions: Path | None = None
    per_level: int | None = None
    limit: int | None = None  # instructions tried per level, at most
    categories: Sequence[str] = CATEGORIES
    levels: Sequence[int] = LEVELS
    samples: int = 4
    max_tokens: int = 1024
    temperature: float = 0.7
    checker_max_tokens: int = 512
    seed: int = 0
    allow_truncated: bool = False
    generator_options: dict[str, Any] = field(default_factory=dict)
    checker_options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    command: list[str] | None = None


@dataclass
class BuildOutcome:
    folder: Path
    pairs: dict[int, int]  # level -> pairs
    tried: int
    skipped: Counter[str]
    n_generated: int
    n_reused: int
    failed: list[dict[str, Any]]
    written: bool


def _specs(config: BuildConfig) -> tuple[JudgeSpec, JudgeSpec]:
    for name, value in (
        ("--samples", config.samples),
        ("--max-tokens", config.max_tokens),
        ("--checker-max-tokens", config.checker_max_tokens),
    ):
        if value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    for name, value in (("--per-level", config.per_level), ("--limit", config.limit)):
        if value is not None and value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    if config.samples > 1 and config.temperature <= 0:
        raise InputError("--samples above 1 needs a --temperature above 0 (greedy samples are all the same)")
    for what in config.categories:
        if what not in CATEGORIES:
            raise InputError(f"--categories: unknown category {what!r} (known: {', '.join(CATEGORIES)})")
    for level in config.levels:
        if level not in LEVELS:
            raise InputError(f"--levels: expected levels from 1 to 5, got {level!r}")
    gen = resolve_judge(
        config.generator,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        seed=config.seed,
        options=config.generator_options,
    )
    check = resolve_judge(
        config.checker,
        max_tokens=config.checker_max_tokens,
        temperature=0.0,
        seed=config.seed,
        options=config.checker_options,
    )
    for flag, spec in (("--generator", gen), ("--checker", check)):
        if spec.backend == "baseline":
            raise InputError(f"{flag} {spec.name!r} is a baseline rule, not a model")
    return gen, check


def _paths(config: BuildConfig) -> tuple[Path, Path]:
    """(FollowBench's instructions, the output folder)."""
    data_dir = resolve_data_dir(config.data_dir)
    source = config.instructions or (data_dir / "followbench" if data_dir is not None else None)
    if source is None:
        raise InputError("pass --data-dir DIR (holding followbench/) or --instructions PATH")
    root = config.out or data_dir
    if root is None:
        raise InputError("pass --out DIR (or --data-dir DIR): the pairs go to DIR/followbencheval/")
    if root.exists() and not root.is_dir():
        raise InputError("--out names an existing file, not a folder", path=root)
    return source, root / FOLDER


def order_key(pair_id: str, seed: int) -> str:
    return hashlib.sha256(f"order:{seed}:{pair_id}".encode()).hexdigest()


def build(config: BuildConfig) -> BuildOutcome:
    """Build (or resume) the pairs; see the module docstring."""
    gen_spec, check_spec = _specs(config)
    source, folder = _paths(config)
    tasks = [
        t
        for t in derive_tasks(load_instructions(source))
        if t.item.category in config.categories and t.item.level in config.levels
    ]
    if not tasks:
        raise InputError("no instruction of the chosen categories and levels", path=source)
    with RunLock(folder, "j1eval build"):
        previous = read_json_object(folder / MANIFEST_FILE, "manifest") if (folder / MANIFEST_FILE).exists() else {}
        pool = BackendPool()
        gen = Generator(gen_spec, folder, "generations", TEMPLATE_HASH, pool, config.progress)
        check = Generator(check_spec, folder, "checks", TEMPLATE_HASH, pool, config.progress)
        try:
            gen.open(previous.get("generator_identity"), previous.get("generator_revision"))
            check.open(previous.get("checker_identity"), previous.get("checker_revision"))
            records, skipped, tried, failed = _rounds(config, tasks, gen, check)
        finally:
            gen.close()
            check.close()
            pool.close()
        made, reused = gen.n_generated + check.n_generated, gen.n_reused + check.n_reused
        outcome = BuildOutcome(
            folder, Counter(r["level"] for r in records), tried, skipped, made, reused, failed, False
        )
        if failed or not records:
            return outcome  # the pairs of an earlier build stay as they were
        records.sort(key=lambda r: (r["level"], CATEGORIES.index(r["category"]), _natural(r["example_id"])))
        manifest = _manifest(config, source, tasks, gen, check, records, outcome)
        write_jsonl(folder / PAIRS_FILE, records)
        (folder / card.CARD_FILE).write_text(card.render(manifest), encoding="utf-8")
        write_json(folder / MANIFEST_FILE, manifest)
        outcome.written = True
        return outcome


def _natural(example_id: str) -> tuple[int, str]:
    return (int(example_id), "") if example_id.isdigit() else (sys.maxsize, example_id)


def _rounds(
    config: BuildConfig, tasks: list[Task], gen: Generator, check: Generator
) -> tuple[list[dict[str, Any]], Counter[str], int, list[dict[str, Any]]]:
    """Try instructions level by level until each level has its pairs; stop at the first backend failure."""
    queues = {
        level: sorted((t for t in tasks if t.item.level == level), key=lambda t: order_key(t.item.pair_id, config.seed))
        for level in config.levels
    }
    tried = dict.fromkeys(config.levels, 0)
    records: list[dict[str, Any]] = []
    skipped: Counter[str] = Counter()
    failed: list[dict[str, Any]] = []
    round_no = 0
    while not failed:
        batch: list[Task] = []
        for level, queue in queues.items():
            have = sum(r["level"] == level for r in records)
            want = (config.per_level - have) if config.per_level else len(queue)
            room = (config.limit - tried[level]) if config.limit else len(queue)
            take = max(0, min(want, room, len(queue) - tried[level]))
            batch.extend(queue[tried[level] : tried[level] + take])
            tried[level] += take
        if not batch:
            break
        round_no += 1
        made, why, failed = _one_round(config, batch, gen, check, round_no)
        records.extend(made)
        skipped.update(why)
        if config.progress:
            counts = ", ".join(f"L{lv} {sum(r['level'] == lv for r in records)}" for lv in config.levels)
            print(
                f"round {round_no}: {len(batch)} instructions, {len(made)} pairs; pairs so far: {counts}",
                file=sys.stderr,
            )
    return records, skipped, sum(tried.values()), failed


def _one_round(
    config: BuildConfig, batch: list[Task], gen: Generator, check: Generator, round_no: int
) -> tuple[list[dict[str, Any]], Counter[str], list[dict[str, Any]]]:
    steps = {t.item.pair_id: Step("response", t.item.pair_id, t.item.text, config.samples) for t in batch}
    answered = gen.run(list(steps.values()), f"responses (round {round_no})")
    plans = {t.item.pair_id: plan(t) for t in batch}
    responses: dict[str, list[Response]] = {}
    questions: list[tuple[Response, int, Step]] = []
    for task in batch:
        rec = answered.get(gen.key(steps[task.item.pair_id]))
        if rec is None:
            continue
        task_plan = plans[task.item.pair_id]
        out = responses[task.item.pair_id] = []
        for k, (text, finish) in enumerate(zip(rec["texts"], rec["finish_reasons"], strict=True)):
            r = Response(k, text, finish, [rule.check(text, j) for j, rule in task_plan.rules])
            out.append(r)
            for j in task_plan.model if text.strip() else ():
                prompt = check_prompt(task, task.constraints[j - 1], text)
                questions.append((r, j, Step("check", f"{task.item.pair_id}/{k}/{j}", prompt)))
    checked = check.run([s for _, _, s in questions], f"constraint checks (round {round_no})")
    for r, j, step in questions:
        got = checked.get(check.key(step))
        words = got["texts"][0] if got else ""
        r.checks.append(Check(j, "model", check.spec.name, parse_answer(words) if got else None, words))
    failed = gen.failed(list(steps.values())) + check.failed([s for _, _, s in questions])
    records: list[dict[str, Any]] = []
    why: Counter[str] = Counter()
    for task in batch:
        if task.item.pair_id not in responses:
            why["generation failed"] += 1
            continue
        choice = choose(sorted(responses[task.item.pair_id], key=lambda r: r.sample), config.allow_truncated)
        if choice.chosen is None or choice.rejected is None:
            why[choice.reason] += 1
            continue
        records.append(_record(config, task, plans[task.item.pair_id], choice.chosen, choice.rejected, gen, check))
    return records, why, failed


def _record(
    config: BuildConfig, task: Task, task_plan: Plan, good: Response, bad: Response, gen: Generator, check: Generator
) -> dict[str, Any]:
    item = task.item
    slot = chosen_slot(item.pair_id, config.seed)
    a, b = (good, bad) if slot == "A" else (bad, good)
    return {
        "pair_id": item.pair_id,
        "example_id": item.example_id,
        "category": item.category,
        "level": item.level,
        "source": item.source,
        "instruction": item.text,
        "response_A": a.text,
        "response_B": b.text,
        "label": "A>B" if slot == "A" else "B>A",
        "rebuilt": True,
        "generator": gen.spec.name,
        "checker": check.spec.name,
        "constraints": [c.as_dict() for c in task.constraints],
        "checks": {"A": [c.as_dict() for c in a.checks], "B": [c.as_dict() for c in b.checks]},
        "missed": {"A": a.missed, "B": b.missed},
        "provenance": {
            "builder": BUILDER,
            "basis": task_plan.basis,
            "generator_model": gen.spec.model,
            "generator_revision": gen.model_revision,
            "checker_model": check.spec.model,
            "checker_revision": check.model_revision,
            "sampling": gen.spec.sampling.as_dict(),
            "template_hash": TEMPLATE_HASH,
            "samples": {"A": a.sample, "B": b.sample},
            "finish_reasons": {"A": a.finish_reason, "B": b.finish_reason},
            "followbench": {"file": Path(item.file).name, "record": item.record, "types": list(item.types)},
        },
    }


def _manifest(
    config: BuildConfig,
    source: Path,
    tasks: list[Task],
    gen: Generator,
    check: Generator,
    records: list[dict[str, Any]],
    outcome: BuildOutcome,
) -> dict[str, Any]:
    methods = Counter(c["method"] for r in records for side in ("A", "B") for c in r["checks"][side])
    return {
        "builder": BUILDER,
        "command": config.command or sys.argv,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rebuilt": True,
        "instructions": {str(f): sha256_file(f) for f in instruction_files(source)},
        "generator": gen.spec.name,
        "generator_identity": json.loads(gen.identity),
        "generator_revision": gen.model_revision,
        "checker": check.spec.name,
        "checker_identity": json.loads(check.identity),
        "checker_revision": check.model_revision,
        "template_hash": TEMPLATE_HASH,
        "settings": {
            "per_level": config.per_level,
            "limit": config.limit,
            "categories": list(config.categories),
            "levels": list(config.levels),
            "samples": config.samples,
            "allow_truncated": config.allow_truncated,
            "seed": config.seed,
        },
        "counts": {
            "instructions": len(tasks),
            "tried": outcome.tried,
            "pairs": len(records),
            "pairs_per_level": {f"L{lv}": outcome.pairs.get(lv, 0) for lv in config.levels},
            "pairs_per_category": dict(Counter(r["category"] for r in records)),
            "no_pair": dict(outcome.skipped),
            "checks_in_pairs": dict(methods),
            "generated": outcome.n_generated,
            "reused": outcome.n_reused,
        },
    }
