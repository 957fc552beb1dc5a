"""Speed of one-token GRPO steps: TRL's per-row passes vs one read per distinct prompt.

Builds the trainer the CPU recipe builds (SmolLM2-135M-Instruct, ``direct-verdict``, one
seeded order, G rollouts, ``max_completion_length`` 1), renders a few real RewardBench pairs,
and times forward + backward of the per-token log-probs (and entropies, as the loss asks)
over PROMPTS x G one-token rollouts, left-padded as TRL pads them:

* ``trl``: TRL 1.16's ``_get_per_token_logps_and_entropies``, one row at a time in
  micro-batches of ``--micro`` rows (the shipped config trains 4-row micro-batches);
* ``ours, same micro-batches``: ``J1GRPOTrainer``'s override on those micro-batches
  (TRL shuffles the generation batch before splitting it, so a micro-batch holds only
  some rollouts of each prompt);
* ``ours, whole batch``: the override on all rows at once (``per_device_train_batch_size``
  = PROMPTS x G, one micro-batch per step).

It prints each time, the ratios, and the largest log-prob and gradient differences.

Then the rollouts themselves (``--rollouts`` one-token samples of each prompt), interleaved:

* ``trl generate``: TRL 1.16's ``_generate_single_turn``, ``model.generate`` on every row;
* ``ours generate``: ``J1GRPOTrainer``'s override, one ``generate`` over the distinct prompts
  and G draws from each prompt's processed distribution.

Usage: ``python benchmarks/grpo_one_token.py [--prompts 4] [--rollouts 4] [--micro 4] [--reps 2]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from trl import GRPOTrainer

from j1eval.formats import get_format
from j1eval.local_models import smollm2_path
from j1eval.types import Pair
from j1train.config import config_from_dict
from j1train.trainer import J1GRPOTrainer, build_trainer, chat_ids, prepare

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_trainer(prompts: int, rollouts: int, workdir: Path) -> tuple[J1GRPOTrainer, list[Pair]]:
    """The CPU recipe's trainer, and the first RewardBench pairs."""
    config = config_from_dict(
        {
            "model": str(smollm2_path()),
            "format": "direct-verdict",
            "train_pairs": "bench:rewardbench",
            "data_dir": str(DATA),
            "limit": 60,
            "orders": "single",
            "output_dir": str(workdir / "out"),
            "num_generations": rollouts,
            "per_device_train_batch_size": prompts * rollouts,
            "max_prompt_length": 640,
            "max_completion_length": 1,
            "rewards": {"verdict": 1.0, "format": 0.0},
            "beta": 0.0,
            "report_to": "none",
        }
    )
    prepared = prepare(config)
    return build_trainer(prepared), prepared.pairs


def rollout_batch(tok: Any, pairs: list[Pair], prompts: int, rollouts: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``prompts`` direct-verdict prompts of 350-640 tokens x ``rollouts`` completions (A or B), left-padded."""
    fmt = get_format("direct-verdict")
    rows: list[list[int]] = []
    for pair in pairs:
        ids = chat_ids(tok, [dict(m) for m in fmt.prompts(pair, "ab")[0].messages])
        if 350 <= len(ids) <= 640 and ids not in rows:
            rows.append(ids)
        if len(rows) == prompts:
            break
    if len(rows) < prompts:
        raise SystemExit(f"only {len(rows)} RewardBench prompts of 350-640 tokens among {len(pairs)} pairs")
    choices = [tok.encode(c, add_special_tokens=False)[0] for c in ("A", "B")]
    width = max(map(len, rows))
    gen = torch.Generator().manual_seed(0)
    ids, mask = [], []
    for row in rows:
        for _ in range(rollouts):
            token = choices[int(torch.randint(2, (1,), generator=gen))]
            ids.append([tok.pad_token_id] * (width - len(row)) + row + [token])
            mask.append([0] * (width - len(row)) + [1] * (len(row) + 1))
    return torch.tensor(ids), torch.tensor(mask)


def timed(
    method: Callable, trainer: J1GRPOTrainer, ids: torch.Tensor, mask: torch.Tensor, micro: int, reps: int
) -> tuple[float, torch.Tensor, list[torch.Tensor]]:
    """Best of ``reps`` seconds of forward + backward over ``micro``-row batches; log-probs and gradients."""
    model = trainer.model
    params = [p for p in model.parameters() if p.requires_grad]
    weights = torch.linspace(-1.0, 1.0, ids.size(0)).unsqueeze(1)
    best = float("inf")
    for _ in range(reps):
        model.zero_grad(set_to_none=True)
        logps = []
        start = time.perf_counter()
        for s in range(0, ids.size(0), micro):
            lp, ent, _ = method(trainer, model, ids[s : s + micro], mask[s : s + micro], 1, compute_entropy=True)
            ((lp * weights[s : s + micro]).sum() + 0.01 * ent.sum()).backward()
            logps.append(lp.detach())
        best = min(best, time.perf_counter() - start)
    return best, torch.cat(logps), [p.grad.clone() for p in params]


def time_generation(trainer: J1GRPOTrainer, rows: list[list[int]], rollouts: int, reps: int) -> dict[str, float]:
    """Best of ``reps`` seconds of TRL's rollout generation and ours on the same rows, interleaved."""
    best = {"trl generate": float("inf"), "ours generate": float("inf")}
    methods = {"trl generate": GRPOTrainer._generate_single_turn, "ours generate": J1GRPOTrainer._generate_single_turn}
    for _ in range(reps):
        for name, method in methods.items():
            start = time.perf_counter()
            completions, _ = method(trainer, rows, None, {}, rollouts)
            best[name] = min(best[name], time.perf_counter() - start)
            assert len(completions) == len(rows) and all(len(c) == 1 for c in completions)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--rollouts", type=int, default=4)
    parser.add_argument("--micro", type=int, default=4, help="rows per micro-batch for the side-by-side runs")
    parser.add_argument("--reps", type=int, default=2)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        trainer, pairs = make_trainer(args.prompts, args.rollouts, Path(tmp))
    trainer.model.eval()  # no dropout: both paths compute the same function
    ids, mask = rollout_batch(trainer.processing_class, pairs, args.prompts, args.rollouts)
    shuffled = torch.randperm(ids.size(0), generator=torch.Generator().manual_seed(1))  # as TRL shuffles
    ids, mask = ids[shuffled], mask[shuffled]
    print(f"batch: {args.prompts} prompts x {args.rollouts} rollouts, {ids.size(1)} columns, torch threads "
          f"{torch.get_num_threads()}", flush=True)  # fmt: skip
    trl = GRPOTrainer._get_per_token_logps_and_entropies
    ours = J1GRPOTrainer._get_per_token_logps_and_entropies
    results = {}
    runs = [("trl", trl, args.micro), ("ours, same micro-batches", ours, args.micro), ("ours, whole batch", ours, 0)]
    for name, method, micro in runs:
        results[name] = timed(method, trainer, ids, mask, micro or ids.size(0), args.reps)
        print(f"{name:>26}: {results[name][0]:8.2f} s (forward+backward, best of {args.reps})", flush=True)
    base, base_logps, base_grads = results["trl"]
    summary = {}
    for name, _, _ in runs[1:]:
        t, logps, grads = results[name]
        grad_diff = max(float((a - b).abs().max()) for a, b in zip(grads, base_grads, strict=True))
        grad_scale = max(float(b.abs().max()) for b in base_grads)
        summary[name] = {
            "seconds": round(t, 2),
            "speedup_vs_trl": round(base / t, 2),
            "max_abs_logp_diff": float((logps - base_logps).abs().max()),
            "max_abs_grad_diff": grad_diff,
            "max_abs_grad_trl": grad_scale,
        }
        logp_diff = summary[name]["max_abs_logp_diff"]
        print(f"{name:>26}: {base / t:5.2f}x faster than trl; max |dlogp| {logp_diff:.2e}, ", end="")
        print(f"max |dgrad| {grad_diff:.2e} (max |grad| {grad_scale:.2e})")
    prompt_rows = [row[mask_row.bool()][:-1].tolist() for row, mask_row in zip(ids, mask, strict=True)]
    generation = time_generation(trainer, prompt_rows, args.rollouts, args.reps)
    for name, seconds in generation.items():
        print(f"{name:>26}: {seconds:8.2f} s ({len(prompt_rows)} one-token rollouts, best of {args.reps})")
    gen_ratio = generation["trl generate"] / generation["ours generate"]
    summary["generation"] = {k: round(v, 2) for k, v in generation.items()} | {"speedup_vs_trl": round(gen_ratio, 2)}
    json.dump({"trl_seconds": round(base, 2), **summary}, sys.stdout, indent=1)
    print()
    whole = base / results["ours, whole batch"][0]
    print(f"headline: forward+backward {whole:.1f}x, rollouts {gen_ratio:.1f}x faster than TRL's per-row path")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
