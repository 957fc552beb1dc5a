"""The small judge on CPU: float32 vs bfloat16, 1 vs 2 torch threads, padded vs length-bucketed batches.

SmolLM2-135M-Instruct (judge ``smollm2-135m``, ``direct-verdict``) on N RewardBench pairs from
``../shared/data`` (a seeded draw among pairs of 200-900 characters), both orders: 2 N prompts.

1. Agreement: ``j1eval.run`` on those pairs as shipped (the hf backend's ``dtype=auto`` = float32
   on CPU) and with ``--backend-option dtype=bfloat16``, interleaved ``--reps`` times: verdict
   agreement and max / mean |p_a difference| per (pair, order), and the runs' wall time (model
   load apart).
2. Reading: one forward pass (cache kept, last position's logits) over one batch of the backend's
   size (4 prompts around the median length, left-padded as the backend pads): tokens/s of real
   (non-pad) prompt tokens, for {float32, bfloat16} x {1, 2} threads.
3. Decoding: D greedy steps after that read, one token per row each, the KV cache kept (a
   ``generate`` loop written out so the steps are timed apart from the read): ms per step and new
   tokens/s (batch size / step time); same grid.
4. Batching: ``--batching-prompts`` prompts spread over the length range, each made to generate
   read and decoded D steps as in 3 (float32, all threads) in batches of 4 taken in the benchmark's
   order (each padded to its longest) vs batches of length neighbours (sorted by length first, as
   the backend batches): total time, reading time, time per batch step, pad share.

Every timed variant runs interleaved with the others (A, B, C, D, A, B, ...) ``--reps`` times in
this one process; min and median are printed. The last line says which precision is faster at
reading and whether the verdicts agree.

    nice -n 5 .venv/bin/python benchmarks/cpu_precision.py [--pairs 6] [--reps 2] [--decode 16] [--batching-prompts 8]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from overhead import DATA, Probe, chat_text, quiet  # noqa: E402

BATCH = 4  # the smollm2-135m judge's batch_size


def sample_pairs(folder: Path, n: int, seed: int = 0) -> Path:
    """Write ``n`` RewardBench pairs of 200-900 characters (a seeded draw) as ``pairs.jsonl``."""
    import pandas as pd

    frame = pd.read_parquet(DATA / "rewardbench" / "rewardbench_filtered.parquet")
    size = frame["question"].str.len() + frame["response_A"].str.len() + frame["response_B"].str.len()
    frame = frame[(size >= 200) & (size <= 900)]
    rows = sorted(random.Random(seed).sample(range(len(frame)), min(n, len(frame))))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for row in frame.iloc[rows].itertuples():
            rec = {"pair_id": f"{row.subset}:{row.id}", "prompt": row.question, "response_1": row.response_A,
                   "response_2": row.response_B, "label": 1, "subset": row.subset}  # fmt: skip
            fh.write(json.dumps(rec) + "\n")
    return folder


def judged(data: Path, out: Path, options: dict[str, Any]) -> tuple[float, dict[tuple[str, str], dict], Probe]:
    """One ``j1eval.run`` (direct-verdict): wall seconds, judgments by (pair_id, order), the probe."""
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    probe = Probe()
    undo = probe.install()
    try:
        start = time.perf_counter()
        run(RunConfig(judge="smollm2-135m", benches=["pairs"], data_dir=data, out=out, backend_options=options,
                      progress=False, n_boot=0))  # fmt: skip
        seconds = time.perf_counter() - start
    finally:
        undo()
    records = [json.loads(line) for line in (out / "judgments.jsonl").read_text(encoding="utf-8").splitlines()]
    return seconds, {(r["pair_id"], r["order"]): r for r in records}, probe


def batches(rows: list[list[int]], pad: int, sort: bool) -> list[tuple[Any, Any, int]]:
    """(input_ids, attention_mask, real tokens) per batch of ``BATCH``, left-padded; ``sort``: longest first."""
    import torch

    order = sorted(range(len(rows)), key=lambda i: len(rows[i]), reverse=True) if sort else list(range(len(rows)))
    out = []
    for s in range(0, len(order), BATCH):
        batch = [rows[i] for i in order[s : s + BATCH]]
        width = max(map(len, batch))
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for k, row in enumerate(batch):
            ids[k, width - len(row) :] = torch.tensor(row)
            mask[k, width - len(row) :] = 1
        out.append((ids, mask, sum(map(len, batch))))
    return out


def prefill_and_steps(model: Any, ids: Any, mask: Any, steps: int) -> tuple[float, float]:
    """Seconds of reading the batch (one forward, cache kept) and of ``steps`` greedy decoding steps after it."""
    import torch

    with torch.inference_mode():
        start = time.perf_counter()
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
        read = time.perf_counter() - start
        start = time.perf_counter()
        for _ in range(steps):
            nxt = out.logits[:, -1].argmax(-1, keepdim=True)
            mask = torch.cat([mask, torch.ones_like(nxt)], dim=1)
            positions = mask.sum(-1, keepdim=True) - 1
            out = model(input_ids=nxt, attention_mask=mask, position_ids=positions,
                        past_key_values=out.past_key_values, use_cache=True)  # fmt: skip
        return read, time.perf_counter() - start


def decode(model: Any, prepared: list[tuple[Any, Any, int]], new: int, pad: int) -> float:
    """Seconds of greedy ``generate`` making exactly ``new`` tokens per row, over every batch."""
    import torch

    start = time.perf_counter()
    with torch.inference_mode():
        for ids, mask, _ in prepared:
            model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new, min_new_tokens=new,
                           do_sample=False, temperature=None, top_p=None, top_k=None, pad_token_id=pad)  # fmt: skip
    return time.perf_counter() - start


def interleaved(tasks: dict[str, Callable[[], Any]], reps: int) -> dict[str, list[Any]]:
    """Each task's results, run A, B, C, ..., A, B, C, ... ``reps`` times."""
    out: dict[str, list[Any]] = {name: [] for name in tasks}
    for _ in range(reps):
        for name, task in tasks.items():
            out[name].append(task())
    return out


def with_threads(n: int, fn: Callable[[], Any]) -> Callable[[], Any]:
    import torch

    def run() -> Any:
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            return fn()
        finally:
            torch.set_num_threads(before)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=6, help="N RewardBench pairs (2 N prompts)")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--decode", type=int, default=16, help="D new tokens per row in the decoding runs")
    parser.add_argument("--batching-prompts", type=int, default=8, help="prompts in the padded/bucketed runs")
    args = parser.parse_args(argv)
    quiet()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    threads = torch.get_num_threads()
    grid_threads = sorted({1, threads})
    print(f"torch {torch.__version__}, threads {threads} (grid: {grid_threads}), {args.pairs} pairs x 2 orders")

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = sample_pairs(tmp / "data", args.pairs)
        # 1. agreement (and end-to-end time) through j1eval itself, interleaved
        runs: dict[str, list[tuple[float, float]]] = {"float32 (shipped)": [], "bfloat16": []}
        options = {"float32 (shipped)": {}, "bfloat16": {"dtype": "bfloat16"}}
        judgments: dict[str, dict[tuple[str, str], dict]] = {}
        for rep in range(args.reps):
            for name, opts in options.items():
                seconds, found, probe_now = judged(data, tmp / f"{name[:4]}-{rep}", opts)
                runs[name].append((seconds, probe_now.load_s))
                judgments.setdefault(name, found)
                if name == "float32 (shipped)":
                    probe = probe_now
    j32, j16 = judgments["float32 (shipped)"], judgments["bfloat16"]
    keys = sorted(j32)
    agree = sum(j32[k]["verdict"] == j16[k]["verdict"] for k in keys)
    diffs = [
        abs(j32[k]["p_a"] - j16[k]["p_a"])
        for k in keys
        if j32[k].get("p_a") is not None and j16[k].get("p_a") is not None
    ]
    flips32 = sum(j32[(p, "ab")]["verdict"] != j32[(p, "ba")]["verdict"] for p, o in keys if o == "ab")
    print(f"\n1. j1eval.run direct-verdict on {len(keys)} prompts, {args.reps} interleaved runs each")
    print(f"{'':>22} {'total min':>9} {'total med':>9} {'load med':>8} {'rest med':>8}")
    for name, values in runs.items():
        totals = [t for t, _ in values]
        load = statistics.median(ld for _, ld in values)
        rest = statistics.median(t - ld for t, ld in values)
        print(f"{name:>22} {min(totals):8.2f}s {statistics.median(totals):8.2f}s {load:7.2f}s {rest:7.2f}s")
    print(f"{'verdicts agree':>22} {agree}/{len(keys)}; |dp_a| max {max(diffs):.4f}, mean {statistics.mean(diffs):.4f} "
          f"over {len(diffs)}; float32 position-flip pairs {flips32}/{len(keys) // 2}")  # fmt: skip

    path = str(probe.info["path"])
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    pad = int(probe.info["pad_id"])
    rows = [tok(chat_text(tok, r), add_special_tokens=False)["input_ids"] for r in probe.requests]
    models = {name: AutoModelForCausalLM.from_pretrained(path, dtype=dtype, local_files_only=True).eval()
              for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16))}  # fmt: skip
    lengths = sorted(map(len, rows))
    print(f"\nprompts: {len(rows)}, tokens min {lengths[0]}, median {lengths[len(lengths) // 2]}, max {lengths[-1]}")

    for model in models.values():  # warm-up: first-call kernel set-up, off the clock
        prefill_and_steps(model, *batches([rows[0][:64]], pad, sort=True)[0][:2], 2)

    # 2 + 3. reading and decoding, one batch of the backend's size (prompts around the median length)
    by_length = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    mid = by_length[max(0, len(rows) // 2 - BATCH // 2) :][:BATCH]
    ids, mask, real = batches([rows[i] for i in mid], pad, sort=True)[0]
    tasks = {f"{name}, {n} thr": with_threads(n, lambda m=model: prefill_and_steps(m, ids, mask, args.decode))
             for n in grid_threads for name, model in models.items()}  # fmt: skip
    timings = interleaved(tasks, args.reps)
    print(f"\n2. reading: one forward of {BATCH} prompts, {real} tokens ({ids.numel()} with padding); "
          f"3. decoding: {args.decode} greedy steps after it, KV cache kept")  # fmt: skip
    head = ("read min", "read med", "read tok/s", "step min", "step med", "dec tok/s")
    print(f"{'':>22} " + " ".join(f"{h:>8}" for h in head))
    read: dict[str, float] = {}
    step: dict[str, float] = {}
    for name, values in timings.items():
        reads = [v[0] for v in values]
        steps = [1000 * v[1] / args.decode for v in values]
        read[name], step[name] = statistics.median(reads), statistics.median(steps) / 1000
        print(f"{name:>22} {min(reads):7.2f}s {read[name]:7.2f}s {real / read[name]:10.0f} {min(steps):6.1f}ms "
              f"{1000 * step[name]:6.1f}ms {BATCH / step[name]:9.0f}")  # fmt: skip

    # 4. padded vs length-bucketed batches of the same prompts (spread over the length range, in input order)
    k = min(args.batching_prompts, len(rows))
    chosen = sorted(by_length[round(j * (len(rows) - 1) / max(1, k - 1))] for j in range(k))
    subset = [rows[i] for i in chosen]
    plain, bucketed = batches(subset, pad, sort=False), batches(subset, pad, sort=True)
    fp32 = models["float32"]

    def all_batches(prepared: list[tuple[Any, Any, int]]) -> tuple[float, float]:
        parts = [prefill_and_steps(fp32, i, m, args.decode) for i, m, _ in prepared]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)

    tasks = {"padded (input order)": lambda: all_batches(plain), "length-bucketed": lambda: all_batches(bucketed)}
    batching = interleaved(tasks, args.reps)
    n_real = sum(map(len, subset))
    print(f"\n4. batching: {k} prompts ({min(map(len, subset))}-{max(map(len, subset))} tokens), read + {args.decode} "
          f"greedy steps each, float32, {threads} threads, batches of {BATCH}")  # fmt: skip
    print(f"{'':>22} {'total min':>9} {'total med':>9} {'read med':>8} {'step med':>8} {'pad %':>6}")
    total: dict[str, float] = {}
    for (name, values), prepared in zip(batching.items(), (plain, bucketed), strict=True):
        cells = sum(b[0].numel() for b in prepared)
        totals = [a + b for a, b in values]
        total[name] = statistics.median(totals)
        read_med = statistics.median(v[0] for v in values)
        step_med = 1000 * statistics.median(v[1] for v in values) / (len(prepared) * args.decode)
        print(f"{name:>22} {min(totals):8.2f}s {total[name]:8.2f}s {read_med:7.2f}s {step_med:6.1f}ms "
              f"{100 * (1 - n_real / cells):6.1f}")  # fmt: skip

    read32, read16 = read[f"float32, {threads} thr"], read[f"bfloat16, {threads} thr"]
    dec_ratio = step[f"float32, {threads} thr"] / step[f"bfloat16, {threads} thr"]
    bucket_ratio = total["padded (input order)"] / total["length-bucketed"]
    faster = "bfloat16" if read16 < read32 else "float32"
    print(f"headline: {faster} reads faster: bfloat16 {read32 / read16:.2f}x float32's reading speed, "
          f"{dec_ratio:.2f}x its decoding speed ({threads} threads); verdicts agree on {agree}/{len(keys)}, "
          f"max |dp_a| {max(diffs):.3f}; length-bucketed batches {bucket_ratio:.2f}x faster than padded")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
