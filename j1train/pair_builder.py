"""``python -m j1train data``: build J1-style training pairs from prompts with a generator model.

Two recipes, as J1 (arXiv 2505.10320) built its 22K pairs:

- ``noisy`` (open-ended prompts; the Self-Taught Evaluator recipe, Wang et al. 2024, arXiv
  2408.02666): the chosen response answers the prompt; the generator is asked for a subtly
  different ("noisy") instruction, and the rejected response answers that.
- ``math`` (prompts with a reference answer): ``--samples`` solutions are sampled and their
  final answers checked against the reference (``math_verify`` if installed, else sympy); a
  correct solution is paired with a wrong one.

Generation runs on j1eval's backends (``--generator`` takes what ``--judge`` takes for a
model) and is resumable: ``DIR/generations/judgments.jsonl`` is j1eval's store. Output:
``DIR/pairs.jsonl`` (``pair_id, prompt, response_1, response_2, label, subset, provenance``;
the chosen response sits in slot 1 or 2 by a seeded hash of the pair id) and
``DIR/manifest.json`` (source, generator, counts, why prompts gave no pair).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from j1eval.backends.base import parse_backend_options
from j1eval.errors import InputError, guarded
from j1eval.judges import JudgeSpec, resolve_judge
from j1eval.judging.lock import RunLock
from j1eval.safe_io import write_jsonl
from j1eval.store.judgments import MANIFEST_FILE, write_json
from j1train.build.generate import Generator, Step, previous_manifest
from j1train.build.sources import Loaded, PromptItem, load_prompts
from j1train.build.templates import (
    ANSWER,
    MATH_SOLUTION,
    NOISY_INSTRUCTION,
    TEMPLATE_HASH,
    parse_noisy_instruction,
)
from j1train.decontam import load_index, normalise_prompt, parse_benches
from j1train.math_check import check_solution

PAIRS_FILE = "pairs.jsonl"
MODES = ("auto", "noisy", "math")
RECIPES = ("generated", "verifiable")
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TEMPERATURE = 0.7  # the Self-Taught Evaluator's generation temperature
STE_METHOD = "Self-Taught Evaluator (Wang et al. 2024, arXiv 2408.02666): rejected answers a noisy instruction"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``python -m j1train data``."""
    parser.add_argument(
        "--recipe",
        default="generated",
        choices=RECIPES,
        help="generated: pairs from --prompts and a --generator model (default); verifiable: rule-decided pairs "
        "from the shipped lists, split train/validation/test (j1train/verifiable.py)",
    )
    parser.add_argument("--families", default=None, help="verifiable: families to build (default all)")
    parser.add_argument("--prompts", metavar="SOURCE", help="local .jsonl/.json/.parquet, or a hub id")
    parser.add_argument("--split", default="train", help="hub split (default train)")
    parser.add_argument("--prompt-column", default="prompt", help="column holding the prompt (default prompt)")
    parser.add_argument("--answer-column", default=None, help="column of reference answers (math prompts)")
    parser.add_argument("--limit", type=int, default=None, help="the first N distinct prompts")
    parser.add_argument(
        "--generator",
        metavar="JUDGE_OR_MODEL",
        help="a model as --judge takes it: hf:PATH_OR_ID, vllm:PATH_OR_ID, openai:MODEL@URL, smollm2-135m",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder (resumable)")
    parser.add_argument("--mode", default="auto", choices=MODES, help="auto: math when --answer-column is given")
    parser.add_argument("--samples", type=int, default=8, help="math: solutions sampled per prompt (default 8)")
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE)
    parser.add_argument("--seed", type=int, default=0, help="sampling seed, and the seed of the slot assignment")
    parser.add_argument("--data-dir", type=Path, default=None, help="benchmark data for --decontaminate")
    parser.add_argument(
        "--decontaminate",
        default=None,
        metavar="BENCH[,BENCH]",
        help="drop prompts found in these evaluation benchmarks (normalised text match; 'all' = every one)",
    )
    parser.add_argument(
        "--backend-option", action="append", default=[], metavar="KEY=VALUE", help="backend setting (repeatable)"
    )
    parser.add_argument("--no-progress", action="store_true")


def main(args: argparse.Namespace) -> int:
    """Run the builder; errors end it with one line and a non-zero exit code."""
    if args.recipe == "verifiable":
        from j1train.verifiable import build_verifiable

        return guarded(lambda: build_verifiable(args), "rerun the same command: the splits are rewritten whole")
    return guarded(lambda: build(args), "finished generations are kept; rerun the same command to resume")


def _generator_spec(args: argparse.Namespace) -> JudgeSpec:
    spec = resolve_judge(
        args.generator,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        seed=args.seed,
        options=parse_backend_options(args.backend_option),
    )
    if spec.backend == "baseline":
        raise InputError(f"--generator {args.generator!r} is a baseline rule, not a model")
    return spec


def chosen_slot(pair_id: str, seed: int) -> int:
    """1 or 2: where the chosen response goes, by a seeded hash (stable across runs and machines)."""
    return 1 if hashlib.sha256(f"{seed}:{pair_id}".encode()).digest()[0] % 2 == 0 else 2


def pair_record(
    pair_id: str, prompt: str, chosen: str, rejected: str, subset: str, seed: int, provenance: dict[str, Any]
) -> dict[str, Any]:
    slot = chosen_slot(pair_id, seed)
    r1, r2 = (chosen, rejected) if slot == 1 else (rejected, chosen)
    return {
        "pair_id": pair_id,
        "prompt": prompt,
        "response_1": r1,
        "response_2": r2,
        "label": slot,
        "subset": subset,
        "provenance": provenance,
    }


def _validate(args: argparse.Namespace) -> str:
    for flag in ("prompts", "generator"):
        if not getattr(args, flag):
            raise InputError(f"--{flag} is required (or --recipe verifiable, which needs no model)")
    if args.limit is not None and args.limit < 1:
        raise InputError(f"--limit must be at least 1, got {args.limit}")
    if args.samples < 1:
        raise InputError(f"--samples must be at least 1, got {args.samples}")
    if args.max_tokens < 1:
        raise InputError(f"--max-tokens must be at least 1, got {args.max_tokens}")
    mode = args.mode if args.mode != "auto" else ("math" if args.answer_column else "noisy")
    if mode == "math" and not args.answer_column:
        raise InputError("--mode math needs --answer-column (the reference answers)")
    if mode == "math" and args.samples < 2:
        raise InputError("--mode math needs --samples of at least 2 (a correct and a wrong solution)")
    if mode == "math" and args.temperature <= 0:
        raise InputError("--mode math samples solutions: give a --temperature above 0")
    return mode


def build(args: argparse.Namespace) -> int:
    mode = _validate(args)
    spec = _generator_spec(args)
    benches = parse_benches(args.decontaminate)
    loaded = load_prompts(args.prompts, args.split, args.prompt_column, args.answer_column if mode == "math" else None)
    items = loaded.items
    dropped: Counter[str] = Counter()
    if benches:
        index = load_index(benches, args.data_dir)
        kept = []
        for item in items:
            bench = index.bench_of(item.prompt)
            if bench is None:
                kept.append(item)
            else:
                dropped[bench] += 1
        items = kept
        detail = ", ".join(f"{n} in {b}" for b, n in sorted(dropped.items())) or "none found"
        print(
            f"decontamination ({', '.join(benches)}): dropped {sum(dropped.values())} of {len(loaded.items)} "
            f"prompts ({detail})",
            file=sys.stderr,
        )
    if args.limit:
        items = items[: args.limit]
    if not items:
        raise InputError("no prompts left to build pairs from", path=loaded.source)

    out: Path = args.out
    with RunLock(out, "j1train data"):  # one writer per output folder, as for `j1eval run`
        return _build_locked(args, mode, spec, benches, loaded, items, dropped, out)


def _build_locked(
    args: argparse.Namespace,
    mode: str,
    spec: JudgeSpec,
    benches: list[str],
    loaded: Loaded,
    items: list[PromptItem],
    dropped: Counter[str],
    out: Path,
) -> int:
    previous = previous_manifest(out)
    gen = Generator(spec, out, TEMPLATE_HASH, progress=not args.no_progress)
    gen.open(previous.get("generator_identity"), previous.get("model_revision"))
    try:
        if mode == "noisy":
            records, skipped, steps = _noisy(gen, items, args.seed)
        else:
            records, skipped, steps = _math(gen, items, args.seed, args.samples)
        failed = gen.failed(steps)
    finally:
        gen.close()

    write_jsonl(out / PAIRS_FILE, records)
    manifest = {
        "command": ["python", "-m", "j1train", *sys.argv[1:]],
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "source": loaded.source,
        "prompt_column": args.prompt_column,
        "answer_column": args.answer_column if mode == "math" else None,
        "generator": spec.name,
        "generator_identity": {**spec.identity(), "template_hash": TEMPLATE_HASH},
        "model_revision": gen.model_revision,
        "method": STE_METHOD if mode == "noisy" else "sampled solutions checked against the reference answer",
        "seed": args.seed,
        "decontaminate": benches,
        "counts": {
            "records": loaded.n_records,
            "duplicate_prompts": loaded.n_duplicates,
            "decontaminated": dict(dropped),
            "prompts": len(items),
            "pairs": len(records),
            "skipped": dict(skipped),
            "generated": gen.n_generated,
            "reused": gen.n_reused,
            "backend_errors": len(failed),
        },
    }
    write_json(out / MANIFEST_FILE, manifest)
    why = ", ".join(f"{n} {reason}" for reason, n in sorted(skipped.items()))
    print(
        f"{len(records)} pairs from {len(items)} prompts ({gen.n_generated} generations made, {gen.n_reused} reused"
        f"{'; no pair: ' + why if why else ''}); wrote {out / PAIRS_FILE}"
    )
    if failed:
        print(
            f"error: {len(failed)} generations failed at the backend ({failed[0].get('error')}); "
            "rerun the same command to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


def _provenance(gen: Generator, item: PromptItem, mode: str, **extra: Any) -> dict[str, Any]:
    return {
        "generator": gen.spec.name,
        "model": gen.spec.model,
        "model_revision": gen.model_revision,
        "mode": mode,
        "sampling": gen.spec.sampling.as_dict(),
        "template_hash": TEMPLATE_HASH,
        "source": item.source,
        "record": item.record,
        **extra,
    }


def _noisy(gen: Generator, items: list[PromptItem], seed: int) -> tuple[list[dict[str, Any]], Counter[str], list[Step]]:
    """Chosen: the answer to the prompt; rejected: the answer to a noisy instruction derived from it."""
    answer = {i.item_id: Step("answer", i.item_id, ANSWER.format(instruction=i.prompt)) for i in items}
    noisy = {
        i.item_id: Step("noisy_instruction", i.item_id, NOISY_INSTRUCTION.format(instruction=i.prompt)) for i in items
    }
    first = gen.run([*answer.values(), *noisy.values()], "answers + noisy instructions")
    skipped: Counter[str] = Counter()
    rejected_steps: dict[str, tuple[Step, str, str]] = {}
    for item in items:
        rec = first.get(gen.key(noisy[item.item_id]))
        if rec is None:
            continue
        instruction = parse_noisy_instruction(rec["texts"][0])
        if instruction is None:
            skipped["empty noisy instruction"] += 1
        elif normalise_prompt(instruction) == normalise_prompt(item.prompt):
            skipped["noisy instruction same as prompt"] += 1
        else:
            step = Step("noisy_answer", item.item_id, ANSWER.format(instruction=instruction))
            rejected_steps[item.item_id] = (step, instruction, rec["finish_reasons"][0])
    second = gen.run([s for s, _, _ in rejected_steps.values()], "answers to noisy instructions")
    records = []
    for item in items:
        chosen = first.get(gen.key(answer[item.item_id]))
        if item.item_id not in rejected_steps or chosen is None:
            continue
        step, instruction, noisy_finish = rejected_steps[item.item_id]
        rejected = second.get(gen.key(step))
        if rejected is None:
            continue
        good, bad = chosen["texts"][0], rejected["texts"][0]
        if not good.strip() or not bad.strip():
            skipped["empty response"] += 1
            continue
        if good.strip() == bad.strip():
            skipped["identical responses"] += 1
            continue
        prov = _provenance(
            gen,
            item,
            "noisy",
            method=STE_METHOD,
            noisy_instruction=instruction,
            finish_reasons={
                "chosen": chosen["finish_reasons"][0],
                "rejected": rejected["finish_reasons"][0],
                "noisy_instruction": noisy_finish,
            },
        )
        records.append(pair_record(f"noisy:{item.item_id}", item.prompt, good, bad, "noisy", seed, prov))
    all_steps = [*answer.values(), *noisy.values(), *(s for s, _, _ in rejected_steps.values())]
    return records, skipped, all_steps


def _math(
    gen: Generator, items: list[PromptItem], seed: int, samples: int
) -> tuple[list[dict[str, Any]], Counter[str], list[Step]]:
    """Chosen: a sampled solution whose final answer checks against the reference; rejected: one that does not."""
    steps = {
        i.item_id: Step("math_solution", i.item_id, MATH_SOLUTION.format(problem=i.prompt), samples) for i in items
    }
    done = gen.run(list(steps.values()), "math solutions")
    skipped: Counter[str] = Counter()
    records = []
    for item in items:
        rec = done.get(gen.key(steps[item.item_id]))
        if rec is None:
            continue
        assert item.answer is not None
        checks = [check_solution(text, item.answer) for text in rec["texts"]]
        right = next((k for k, c in enumerate(checks) if c.correct), None)
        wrong = next((k for k, c in enumerate(checks) if c.correct is False), None)
        if right is None:
            skipped["no correct solution"] += 1
            continue
        if wrong is None:
            skipped["no wrong solution"] += 1
            continue
        prov = _provenance(
            gen,
            item,
            "math",
            reference=item.answer,
            chosen_sample=right,
            rejected_sample=wrong,
            check={"chosen": checks[right].as_dict(), "rejected": checks[wrong].as_dict()},
            checks=[{"sample": k, **c.as_dict()} for k, c in enumerate(checks)],
            finish_reasons={"chosen": rec["finish_reasons"][right], "rejected": rec["finish_reasons"][wrong]},
        )
        good, bad = rec["texts"][right], rec["texts"][wrong]
        records.append(pair_record(f"math:{item.item_id}", item.prompt, good, bad, "math", seed, prov))
    return records, skipped, list(steps.values())
