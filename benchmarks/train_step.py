"""Cost of J1's rewards and pair sampler in a GRPO step, against a plain TRL step on the same batch.

Model: by default a tiny random Llama built here (``--hidden``, ``--layers``) with SmolLM2's tokenizer
and chat template from the local folder, so a step takes seconds on CPU; ``--model smollm2`` (or a
folder) trains SmolLM2-135M-Instruct itself. Data: the ``--pairs`` shortest RewardBench pairs from
``../shared/data``, in the shipped CPU recipe's set-up (``j1train/configs/smollm2-cpu-consistency.yaml``:
``direct-verdict``, both orders, rewards verdict 1 + consistency 1, beta 0.01, one-token
completions), with ``--rollouts`` G per prompt and one generation batch of 2 x ``--batch-pairs`` x G
rows per step. ``shuffle_dataset`` is off in every trainer, so each sampler hands its trainer the
same rows (checked: the first step's row indices must match), and the learning rate is 0, so every
repetition steps the same weights on the same batch.

Three trainers, built once each from the same model folder and TRL arguments (j1train's
``prepare``/``build_trainer``, with the trainer's TRL ``GRPOConfig``):

* ``trl``: TRL's ``GRPOTrainer`` with one constant reward and TRL's own sampler; only its prompt
  tokenisation continues the prefilled answer (as j1train's does), so its prompts are the same
  tokens;
* ``j1train, TRL generation``: ``J1GRPOTrainer`` (J1's reward functions, the pair sampler that keeps
  both orders and all rollouts of a pair together) with ``one_token_dedup = False``, so rollouts
  and log-probs take TRL's own per-row path: the difference from ``trl`` is the rewards + sampler;
* ``j1train as shipped``: ``J1GRPOTrainer`` as ``build_trainer`` makes it (one-token rollouts and
  log-probs read each distinct prompt once).

Each repetition calls ``trainer.train()`` for ``--steps`` steps on each trainer in turn
(interleaved: trl, j1 TRL-gen, j1 shipped, trl, ...); a callback times each optimizer step
(generation, rewards, loss, backward, optimizer), and the whole ``train()`` call (set-up, sampler,
data loader included) is timed too. Printed: min and median of both; ratios against ``trl``.
Goal: the rewards + sampler overhead (``j1train, TRL generation`` / ``trl``, median step) <= 1.02.

    nice -n 5 .venv/bin/python benchmarks/train_step.py [--model tiny|smollm2|PATH] [--reps 3] [--steps 1]
        [--batch-pairs 1] [--rollouts 4] [--pairs 8]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
GOAL = 1.02


def build_tiny(folder: Path, hidden: int, layers: int) -> Path:
    """A random Llama with SmolLM2's tokenizer (and chat template), saved as a transformers folder."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from j1eval.local_models import smollm2_path

    tok = AutoTokenizer.from_pretrained(smollm2_path(), local_files_only=True)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)  # fmt: skip
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def shortest_pairs(path: Path, n: int) -> Path:
    """The ``n`` shortest RewardBench pairs as a j1train pairs file (JSONL)."""
    import pandas as pd

    frame = pd.read_parquet(DATA / "rewardbench" / "rewardbench_filtered.parquet")
    frame = frame[(frame["response_A"].str.strip() != "") & (frame["response_B"].str.strip() != "")]
    size = frame["question"].str.len() + frame["response_A"].str.len() + frame["response_B"].str.len()
    frame = frame.loc[size.sort_values(kind="stable").index[:n]]
    with open(path, "w", encoding="utf-8") as fh:
        for row in frame.itertuples():
            rec = {"pair_id": f"{row.subset}:{row.id}", "prompt": row.question, "response_1": row.response_A,
                   "response_2": row.response_B, "label": 1}  # fmt: skip
            fh.write(json.dumps(rec) + "\n")
    return path


def constant_reward(completions: list[Any], **kwargs: Any) -> list[float]:
    """The plain trainer's reward: 1.0 for every completion."""
    return [1.0] * len(completions)


def make_trainers(model: str, pairs_file: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The three trainers on one model folder, one dataset and one set of TRL arguments."""
    from transformers import PrinterCallback, ProgressCallback, TrainerCallback
    from trl import GRPOTrainer
    from trl.data_utils import is_conversational

    from j1train.config import config_from_dict
    from j1train.trainer import build_trainer, chat_ids, prepare

    config = config_from_dict(
        {
            "model": model,
            "format": "direct-verdict",
            "train_pairs": str(pairs_file),
            "orders": "both",
            "output_dir": str(out / "j1"),
            "rewards": {"verdict": 1.0, "consistency": 1.0, "format": 0.0},
            "num_generations": args.rollouts,
            "per_device_train_batch_size": 2 * args.batch_pairs * args.rollouts,
            "max_prompt_length": args.max_prompt_length,
            "max_completion_length": 1,
            "learning_rate": 0.0,
            "beta": 0.01,
            "max_steps": args.steps,
            "save_steps": 100_000,
            "report_to": "none",
            "log_completions": False,
            "trl": {"shuffle_dataset": False},
        }
    )
    prepared = prepare(config)
    shipped = build_trainer(prepared)
    trl_gen = build_trainer(prepared)
    trl_gen.one_token_dedup = False  # TRL's own rollouts and per-row log-probs

    class PlainTRL(GRPOTrainer):
        """TRL's trainer; prompts that end in an assistant turn are continued (the same tokens as j1train's)."""

        def _tokenize_prompts(self, prompts: list) -> tuple[list[list[int]], Any, dict[str, Any]]:
            if not (is_conversational({"prompt": prompts[0]}) and prompts[0][-1].get("role") == "assistant"):
                return super()._tokenize_prompts(prompts)
            return [chat_ids(self.processing_class, p) for p in prompts], None, {}

    plain_args = copy.copy(shipped.args)
    plain_args.reward_weights = None  # one reward function
    trl = PlainTRL(
        model=model,
        reward_funcs=[constant_reward],
        args=plain_args,
        train_dataset=shipped.train_dataset,
        processing_class=shipped.processing_class,
    )
    trainers = {"trl": trl, "j1train, TRL generation": trl_gen, "j1train as shipped": shipped}

    class StepTimer(TrainerCallback):
        """Seconds of each optimizer step."""

        def __init__(self) -> None:
            self.steps: list[float] = []
            self._start = 0.0

        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self._start = time.perf_counter()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            self.steps.append(time.perf_counter() - self._start)

    for trainer in trainers.values():
        trainer.remove_callback(PrinterCallback)  # no log dicts in the table
        trainer.remove_callback(ProgressCallback)
        trainer.step_timer = StepTimer()
        trainer.add_callback(trainer.step_timer)
    return trainers


def first_rows(trainer: Any, n: int) -> list[int]:
    """The dataset rows of the first generation batch this trainer's sampler hands out."""
    return sorted(list(iter(trainer._get_train_sampler()))[:n])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="tiny (built here), smollm2, or a model folder")
    parser.add_argument("--hidden", type=int, default=64, help="tiny model: hidden size")
    parser.add_argument("--layers", type=int, default=2, help="tiny model: layers")
    parser.add_argument("--pairs", type=int, default=8, help="the N shortest RewardBench pairs in the dataset")
    parser.add_argument("--batch-pairs", type=int, default=1, help="pairs per step (x 2 orders x rollouts rows)")
    parser.add_argument("--rollouts", type=int, default=4, help="G rollouts per prompt")
    parser.add_argument("--max-prompt-length", type=int, default=640)
    parser.add_argument("--steps", type=int, default=1, help="optimizer steps per train() call")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    import warnings

    import torch
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
    warnings.filterwarnings("ignore")

    from j1eval.local_models import smollm2_path

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.model == "tiny":
            model = str(build_tiny(tmp / "tiny", args.hidden, args.layers))
        elif args.model == "smollm2":
            model = str(smollm2_path())
        else:
            model = args.model
        trainers = make_trainers(model, shortest_pairs(tmp / "pairs.jsonl", args.pairs), tmp / "out", args)
        rows = 2 * args.batch_pairs * args.rollouts
        firsts = {name: first_rows(t, rows) for name, t in trainers.items()}
        same_batch = len({tuple(v) for v in firsts.values()}) == 1
        n_params = sum(p.numel() for p in trainers["trl"].model.parameters())
        print(f"model {args.model} ({n_params / 1e6:.1f} M parameters), torch threads {torch.get_num_threads()}; "
              f"step = {args.batch_pairs} pairs x 2 orders x {args.rollouts} rollouts = {rows} one-token "
              f"completions; {args.steps} steps per train() call, {args.reps} interleaved reps")  # fmt: skip
        print(f"first batch rows: {'the same in all three' if same_batch else 'DIFFERENT: ' + str(firsts)}")
        calls: dict[str, list[float]] = {name: [] for name in trainers}
        for trainer in trainers.values():  # warm-up, untimed: first-call set-up of every code path
            trainer.train()
            trainer.step_timer.steps.clear()
        for _ in range(args.reps):
            for name, trainer in trainers.items():
                start = time.perf_counter()
                trainer.train()
                calls[name].append(time.perf_counter() - start)
    steps = {name: t.step_timer.steps for name, t in trainers.items()}
    base_step, base_call = statistics.median(steps["trl"]), statistics.median(calls["trl"])
    print(f"\n{'':>26} {'step min':>9} {'step med':>9} {'x trl':>6} {'call min':>9} {'call med':>9} {'x trl':>6}")
    for name in trainers:
        s, c = steps[name], calls[name]
        print(f"{name:>26} {min(s):8.3f}s {statistics.median(s):8.3f}s {statistics.median(s) / base_step:6.3f} "
              f"{min(c):8.3f}s {statistics.median(c):8.3f}s {statistics.median(c) / base_call:6.3f}")  # fmt: skip
    overhead = statistics.median(steps["j1train, TRL generation"]) / base_step
    shipped = statistics.median(steps["j1train as shipped"]) / base_step
    verdict = "meets" if overhead <= GOAL else "misses"
    print(f"headline: J1 rewards + pair sampler cost {overhead:.3f}x a plain TRL step (median step, TRL's generation "
          f"in both; goal <= {GOAL}: {verdict}); j1train as shipped (one-token path) {shipped:.3f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
