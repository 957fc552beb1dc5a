"""The J1 GRPO trainer: TRL's ``GRPOTrainer`` with pair-aware sampling and prefill prompts.

:func:`j1train.preflight.check` does every check training runs before its first step (config,
model folder, data, batch sizes, tokenizer, prompt lengths) and loads no model, so bad input ends
with one line before anything loads; :func:`train` runs it, builds the TRL trainer, trains, and
saves ``OUTPUT_DIR/final`` with its card.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from trl import GRPOTrainer
from trl.data_utils import is_conversational

from j1eval.errors import InputError, SetupError
from j1eval.formats import get_format
from j1train.card import card_data, write_card
from j1train.config import J1GRPOConfig
from j1train.data import rows_per_pair
from j1train.one_token import OneTokenGenerationMixin, OneTokenLogpsMixin
from j1train.preflight import Checked, Prepared, chat_ids, check, check_prepared, grpo_arguments, prepare, world_size
from j1train.rewards import reward_functions
from j1train.sampler import BatchPlan, PairRepeatSampler, check_batch_sizes

#: Re-exported: callers build a trainer from ``prepare`` (tests, benchmarks/).
__all__ = ["Checked", "J1GRPOTrainer", "Prepared", "build_trainer", "check", "chat_ids", "grpo_arguments"]
__all__ += ["prepare", "save_final", "train", "world_size"]

LOG_FILE = "log.jsonl"
FINAL_DIR = "final"


class J1GRPOTrainer(OneTokenGenerationMixin, OneTokenLogpsMixin, GRPOTrainer):
    """``GRPOTrainer`` whose samplers keep every pair's rows and rollouts in one process's generation batch.

    One-token completions (``direct-verdict``) are scored with one forward per distinct prompt
    (:class:`~j1train.one_token.OneTokenLogpsMixin`).
    """

    def __init__(self, *args: Any, rows_per_pair: int = 2, **kwargs: Any) -> None:
        self.rows_per_pair = rows_per_pair
        super().__init__(*args, **kwargs)
        check_batch_sizes(self.batch_plan)
        if self.eval_dataset is not None:
            unit = self.rows_per_pair * self.num_generations_eval
            if self.args.per_device_eval_batch_size % unit:
                raise InputError(
                    f"per_device_eval_batch_size {self.args.per_device_eval_batch_size} cannot hold whole pairs: "
                    f"make it a multiple of {unit} ({self.rows_per_pair} prompts x "
                    f"{self.num_generations_eval} rollouts)",
                    field="per_device_eval_batch_size",
                )

    @property
    def batch_plan(self) -> BatchPlan:
        return BatchPlan(
            per_device_batch=self.args.per_device_train_batch_size,
            steps_per_generation=self.args.steps_per_generation,
            num_processes=self.accelerator.num_processes,
            num_generations=self.num_generations,
            rows_per_pair=self.rows_per_pair,
        )

    def _get_train_sampler(self, dataset: Any = None) -> PairRepeatSampler:
        dataset = self.train_dataset if dataset is None else dataset
        return PairRepeatSampler(
            list(dataset["pair_id"]),
            mini_repeat_count=self.num_generations,
            pairs_per_batch=self.batch_plan.pairs_per_generation,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
            shuffle=self.shuffle_dataset,
            seed=self.args.seed,
        )

    def _get_eval_sampler(self, eval_dataset: Any) -> PairRepeatSampler:
        per_process = self.args.per_device_eval_batch_size // (self.rows_per_pair * self.num_generations_eval)
        return PairRepeatSampler(
            list(eval_dataset["pair_id"]),
            mini_repeat_count=self.num_generations_eval,
            pairs_per_batch=per_process * self.accelerator.num_processes,
            seed=self.args.seed,
            pad=True,
        )

    def _tokenize_prompts(self, prompts: list) -> tuple[list[list[int]], Any, dict[str, Any]]:
        """TRL's tokenisation, except that a prompt ending in an assistant turn is continued (prefill)."""
        prefilled = [is_conversational({"prompt": p}) and p[-1].get("role") == "assistant" for p in prompts]
        if not any(prefilled):
            return super()._tokenize_prompts(prompts)
        ids = [chat_ids(self.processing_class, p, self.chat_template, **self.chat_template_kwargs) for p in prompts]
        return ids, None, {}


class JsonlLogCallback(TrainerCallback):
    """Appends every logged dict (rewards, j1/* metrics, completion lengths) to ``OUTPUT_DIR/log.jsonl``."""

    def __init__(self, output_dir: str | Path) -> None:
        self.path = Path(output_dir) / LOG_FILE

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and logs:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": state.global_step, **logs}, default=str) + "\n")


class CardCallback(TrainerCallback):
    """Writes the j1train card into each ``checkpoint-N`` folder the trainer saves."""

    def __init__(self, config: J1GRPOConfig, info: dict[str, Any]) -> None:
        self.config = config
        self.info = info

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if state.is_world_process_zero and folder.is_dir():
            write_card(folder, card_data(self.config, self.info, state.global_step, state.log_history))


def build_trainer(prepared: Prepared | Checked, extra_callbacks: list[Any] | None = None) -> J1GRPOTrainer:
    """Load the model and build the trainer (rows of whole pairs, J1's rewards) on checked config and data.

    Given a :class:`Prepared`, the tokenizer and prompt-length checks run first (:func:`check_prepared`).
    """
    checked = prepared if isinstance(prepared, Checked) else check_prepared(prepared)
    prepared, tokenizer = checked.prepared, checked.tokenizer
    config = prepared.config
    rows = rows_per_pair(get_format(config.format), config.orders)
    peft_config = None
    if config.lora is not None:
        from peft import LoraConfig

        lora = config.lora
        peft_config = LoraConfig(
            r=int(lora.get("r", 16)),
            lora_alpha=lora.get("alpha", 32),  # a number: 0.5 stays 0.5 (int() would make it 0)
            lora_dropout=float(lora.get("dropout", 0.05)),
            target_modules=lora.get("target_modules", "all-linear"),
            task_type="CAUSAL_LM",
        )
    callbacks: list[Any] = [JsonlLogCallback(config.output_dir), CardCallback(config, prepared.info)]
    if config.eval_benches:
        try:
            from j1train.eval_loop import EvalCallback
        except ImportError as exc:
            raise SetupError(f"eval_benches needs j1train.eval_loop, which is not available ({exc})") from None
        callbacks.append(EvalCallback(config))
    callbacks.extend(extra_callbacks or [])
    try:
        trainer = J1GRPOTrainer(
            model=config.model,
            reward_funcs=reward_functions(config.reward_weights, config.consistency_match),
            args=prepared.args,
            train_dataset=checked.train_dataset,
            eval_dataset=checked.eval_dataset,
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=callbacks,
            rows_per_pair=rows,
        )
    except OSError as exc:
        raise SetupError(f"cannot load model {config.model!r}: {' '.join(str(exc).split())[:300]}") from None
    for callback in callbacks:
        if hasattr(callback, "attach"):  # j1train.eval_loop.EvalCallback logs through the trainer
            callback.attach(trainer)
    return trainer


def save_final(trainer: J1GRPOTrainer, prepared: Prepared) -> Path:
    """Save ``OUTPUT_DIR/final`` (LoRA merged unless ``merge_lora: false``) with its card."""
    config = prepared.config
    final = Path(config.output_dir) / FINAL_DIR
    if config.lora is not None and config.merge_lora:
        if trainer.accelerator.is_main_process:
            model = trainer.accelerator.unwrap_model(trainer.model)
            model.merge_and_unload().save_pretrained(final)
            trainer.processing_class.save_pretrained(final)
    else:
        trainer.save_model(str(final))
    if trainer.accelerator.is_main_process:
        write_card(final, card_data(config, prepared.info, trainer.state.global_step, trainer.state.log_history))
    return final


def train(config: J1GRPOConfig) -> Path:
    """Check (exactly what ``grpo --check`` runs), train, save; the path of the final checkpoint."""
    checked = check(config)
    trainer = build_trainer(checked)
    trainer.train()
    return save_final(trainer, checked.prepared)
