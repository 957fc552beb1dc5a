"""Evaluation in the loop: judge the current checkpoint with j1eval while training.

Every ``config.eval_steps`` steps and at the end of training, :class:`EvalCallback` saves
the model and tokenizer to ``OUT/eval/step-N/model`` (deleted once judged unless
``eval_keep_models``), runs ``j1eval``'s runner on it
(``eval_backend``, ``hf`` by default, with ``eval_backend_options``; both answer orders, the chosen
benchmark slices) into ``OUT/eval/step-N``
(an ordinary run directory: ``python -m j1eval report OUT/eval/step-*`` reads it), appends
the figures and the latest reward means to ``OUT/eval/history.jsonl``, logs them through
the trainer, and redraws ``OUT/eval/training_curves.{png,pdf}`` (reward, consistent
accuracy and flip rate against steps; :func:`plot_training`).

Only the main process evaluates. LoRA (PEFT) models are merged into a copy before saving,
since j1eval loads full models; DeepSpeed ZeRO-3 sharded weights are not gathered.
"""

from __future__ import annotations

import copy
import gc
import json
import logging
import shutil
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import transformers

from j1eval.benchmarks import load_installed
from j1eval.errors import SetupError
from j1eval.judging.config import RunConfig
from j1eval.judging.jobs import expand_benches
from j1eval.judging.runner import run
from j1train.config import J1GRPOConfig
from j1train.plot import (  # noqa: F401  (re-exported: the plot lives beside the loop that feeds it)
    EVAL_DIR,
    HISTORY_FILE,
    PLOT_STEM,
    REWARDS_FILE,
    add_plot_arguments,
    plot_main,
    plot_training,
    read_jsonl,
)

log = logging.getLogger(__name__)

#: Figures copied from results.json (those absent, e.g. order_shift without probabilities, are skipped).
FIGURES = ("acc_ab", "acc_ba", "acc_consistent", "flip_rate", "slot_a_rate", "order_shift", "mean_p_a", "acc_prob_avg")
COUNTS = ("n_pairs", "n_judgments", "parse_failure_rate", "truncation_rate")


def validate_eval_benches(benches: Sequence[str], data_dir: str | Path | None) -> list[str]:
    """The benchmark names, each checked to load; one clear line (SetupError/InputError) otherwise."""
    if not benches:
        return []
    names = expand_benches(list(benches))
    for name in names:
        data = load_installed(name, data_dir, "evaluation")
        if not data.pairs:
            raise SetupError(f"evaluation benchmark {name!r} has no pairs in {data.source}")
    return names


def reward_means(log_history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The reward figures of the latest log entry that has any (``reward``, ``rewards/<name>/mean``), and its step."""
    for entry in reversed(log_history):
        found = {
            k: v
            for k, v in entry.items()
            if (k == "reward" or k == "reward_std" or (k.startswith("rewards/") and k.endswith("/mean")))
            and isinstance(v, int | float)
        }
        if found:
            return {**found, "reward_step": entry.get("step")}
    return {}


def figures_of(results: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per benchmark: the figures of ``results.json``'s overall row, with their intervals under ``ci``."""
    out: dict[str, dict[str, Any]] = {}
    for bench, body in results.items():
        overall = body.get("overall", {})
        figs: dict[str, Any] = {k: overall[k] for k in (*FIGURES, *COUNTS) if overall.get(k) is not None}
        ci = overall.get("ci", {})
        figs["ci"] = {k: ci[k] for k in FIGURES if k in figs and k in ci}
        out[bench] = figs
    return out


def mean_figures(per_bench: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Each figure's plain mean over the benchmarks that have it."""
    out = {}
    for key in FIGURES:
        values = [f[key] for f in per_bench.values() if isinstance(f.get(key), int | float)]
        if values:
            out[key] = sum(values) / len(values)
    return out


def _append(path: Path, row: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")


class EvalCallback(transformers.TrainerCallback):
    """Judge the checkpoint with j1eval every ``eval_steps`` steps and at the end of training.

    Reads its fields of ``config``: ``output_dir``, ``eval_benches``, ``eval_limit`` or ``eval_sample``,
    ``eval_steps``, ``eval_data_dir``, ``format``, ``max_completion_length``, ``seed``, ``eval_backend``,
    ``eval_backend_options`` and ``eval_keep_models`` (False: the saved weights are deleted once judged;
    the run directory keeps the judgments and figures).
    Call :meth:`attach` with the trainer so that the figures go through its logging (report_to
    integrations); without it they are added to ``state.log_history`` and the Python log.
    """

    def __init__(self, config: J1GRPOConfig) -> None:
        self.output_dir = Path(config.output_dir)
        self.benches: list[str] = list(config.eval_benches)
        self.limit: int | None = config.eval_limit
        self.sample: int | None = config.eval_sample
        self.every: int | None = config.eval_steps
        self.data_dir: str | None = config.eval_data_dir
        self.format: str = config.format  # the format the model is trained to answer in
        self.max_tokens: int = config.max_completion_length
        self.seed: int = config.seed
        self.backend: str = config.eval_backend
        self.backend_options: dict[str, Any] = dict(config.eval_backend_options)
        self.keep_models: bool = config.eval_keep_models
        self.eval_dir = self.output_dir / EVAL_DIR
        self.trainer: Any = None
        self._due: int | None = None  # a step whose evaluation waits for the step's log
        self.evaluated: set[int] = {int(r["step"]) for r in read_jsonl(self.eval_dir / HISTORY_FILE) if "step" in r}

    def attach(self, trainer: Any) -> EvalCallback:
        """Log through ``trainer`` (its ``log`` reaches every report_to integration)."""
        self.trainer = trainer
        return self

    # -- trainer events --------------------------------------------------------------

    def on_train_begin(self, args, state, control, **kwargs):
        if self.benches:
            self.benches = validate_eval_benches(self.benches, self.data_dir)

    def on_step_end(self, args, state, control, **kwargs):
        # An evaluation step also logs, so that its rewards are logged first and the evaluation
        # runs from that log (on_log), with the step's reward means beside its figures.
        if self.benches and self.every and state.global_step > 0 and state.global_step % self.every == 0:
            self._due = state.global_step
            control.should_log = True
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs:
            rewards = reward_means([logs])
            if rewards:
                rewards.pop("reward_step", None)
                _append(self.eval_dir / REWARDS_FILE, {"step": state.global_step, **rewards})
        if self._due is not None and self._due == state.global_step:
            self._due = None
            self.evaluate(state, kwargs.get("model"), kwargs.get("processing_class"))

    def on_step_begin(self, args, state, control, **kwargs):
        if self._due is not None:  # the step's log never came: evaluate now
            self._due = None
            self.evaluate(state, kwargs.get("model"), kwargs.get("processing_class"))

    def on_train_end(self, args, state, control, **kwargs):
        self._due = None
        if self.benches and state.global_step not in self.evaluated:
            self.evaluate(state, kwargs.get("model"), kwargs.get("processing_class"))

    # -- evaluation ------------------------------------------------------------------

    def save_model(self, model: Any, tokenizer: Any, folder: Path) -> Path:
        """Write a full model (LoRA merged into a copy) and its tokenizer to ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        unwrapped = getattr(model, "module", model)
        if hasattr(unwrapped, "merge_and_unload"):  # a PEFT model: j1eval needs full weights
            merged = copy.deepcopy(unwrapped).merge_and_unload()
            merged.save_pretrained(folder)
            del merged
        else:
            unwrapped.save_pretrained(folder)
        if tokenizer is None:
            raise SetupError("evaluation in the loop: the trainer has no tokenizer to save with the model")
        tokenizer.save_pretrained(folder)
        return folder

    def evaluate(self, state: Any, model: Any, tokenizer: Any) -> dict[str, Any] | None:
        """Save, judge with j1eval in both orders, record and log; returns the history row."""
        step = int(state.global_step)
        if not getattr(state, "is_world_process_zero", True) or step in self.evaluated:
            return None
        run_dir = self.eval_dir / f"step-{step}"
        if model is None:
            raise SetupError("evaluation in the loop: the trainer passed no model to the callback")
        start = time.perf_counter()
        model_dir = self.save_model(model, tokenizer, run_dir / "model")
        outcome = run(
            RunConfig(
                judge=f"{self.backend}:{model_dir.resolve()}",
                benches=self.benches,
                out=run_dir,
                data_dir=self.data_dir,
                limit=self.limit,
                sample=self.sample,
                seed=self.seed,
                order="both",
                format=self.format,
                max_tokens=self.max_tokens,
                backend_options=self.backend_options,
                progress=False,
                command=["j1train", "eval-in-the-loop", f"step {step}"],
            )
        )
        if not self.keep_models:  # a full copy of the weights per evaluation would fill the disk
            shutil.rmtree(model_dir, ignore_errors=True)
        gc.collect()
        per_bench = figures_of(outcome.results)
        row = {
            "step": step,
            "epoch": getattr(state, "epoch", None),
            "run_dir": str(run_dir),
            "benches": per_bench,
            "mean": mean_figures(per_bench),
            "rewards": reward_means(getattr(state, "log_history", [])),
            "backend_errors": outcome.n_backend_errors,
            "seconds": round(time.perf_counter() - start, 2),
        }
        _append(self.eval_dir / HISTORY_FILE, row)
        self.evaluated.add(step)
        self._log(state, row)
        try:
            plot_training(self.output_dir)
        except Exception as exc:  # a plot must never stop training
            log.warning("could not draw the training curves: %s", exc)
        return row

    def _log(self, state: Any, row: Mapping[str, Any]) -> None:
        logs: dict[str, float] = {}
        for bench, figs in row["benches"].items():
            logs.update({f"j1eval/{bench}/{k}": float(figs[k]) for k in FIGURES if k in figs})
        logs.update({f"j1eval/{k}": float(v) for k, v in row["mean"].items()})
        if self.trainer is not None:
            # The base class's log: GRPO's override would also flush its pending reward metrics.
            # A log resets the trainer's should_log flag: keep it, so the step's own log still happens.
            control = getattr(self.trainer, "control", None)
            keep = getattr(control, "should_log", None)
            transformers.Trainer.log(self.trainer, logs)
            if control is not None and keep is not None:
                control.should_log = keep
        else:
            state.log_history.append({**logs, "step": row["step"]})
        log.info("step %s j1eval: %s", row["step"], ", ".join(f"{k}={v:.3f}" for k, v in sorted(logs.items())))
