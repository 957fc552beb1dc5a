"""The J1 GRPO trainer: TRL's ``GRPOTrainer`` with pair-aware sampling and prefill prompts.

:func:`prepare` does every check that needs no model (config, model folder, data, batch
sizes) so bad input ends with one line before anything loads; :func:`train` then builds
the TRL trainer, trains, and saves ``OUTPUT_DIR/final`` with its card.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer
from trl.data_utils import is_conversational

from j1eval.errors import InputError, SetupError
from j1eval.formats import get_format
from j1eval.types import Pair
from j1train.card import card_data, write_card
from j1train.config import J1GRPOConfig, check_model_path, precision_flags
from j1train.data import build_rows, load_training_pairs, rows_per_pair
from j1train.one_token import OneTokenGenerationMixin, OneTokenLogpsMixin
from j1train.rewards import reward_functions
from j1train.sampler import BatchPlan, PairRepeatSampler, check_batch_sizes

LOG_FILE = "log.jsonl"
FINAL_DIR = "final"


def chat_ids(
    tokenizer: Any, messages: list[Mapping[str, str]], chat_template: str | None = None, **kwargs: Any
) -> list[int]:
    """Token ids of a chat prompt; a trailing assistant message is continued, not closed."""
    prefill = bool(messages) and messages[-1].get("role") == "assistant"
    out = tokenizer.apply_chat_template(
        [dict(m) for m in messages],
        chat_template=chat_template,
        add_generation_prompt=not prefill,
        continue_final_message=prefill,
        tokenize=True,
        return_dict=True,
        **kwargs,
    )
    ids = out["input_ids"]
    return list(ids[0] if ids and isinstance(ids[0], list) else ids)


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


@dataclass
class Prepared:
    """Everything checked before a model loads."""

    config: J1GRPOConfig
    pairs: list[Pair]
    eval_pairs: list[Pair]
    args: GRPOConfig
    info: dict[str, Any] = field(default_factory=dict)


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def grpo_arguments(config: J1GRPOConfig, has_eval: bool = False) -> GRPOConfig:
    """TRL's ``GRPOConfig`` from ours: J1 settings, precision from the hardware, ``trl:`` passed through."""
    known = {f.name for f in dataclasses.fields(GRPOConfig)}
    for key in config.trl:
        if key not in known:
            raise InputError("unknown GRPOConfig field", path=config.source, field=f"trl.{key}")
    import torch

    precision = precision_flags(config.precision)
    gpu = torch.cuda.is_available()
    kwargs: dict[str, Any] = {
        "use_cpu": not gpu,  # also what makes several CPU processes (torchrun, gloo) train as one job
        "dataloader_pin_memory": gpu,
        "output_dir": config.output_dir,
        "learning_rate": config.learning_rate,
        "beta": config.beta,
        "num_generations": config.num_generations,
        "temperature": config.temperature,
        "top_p": config.top_p,
        "max_completion_length": config.max_completion_length,
        "per_device_train_batch_size": config.per_device_train_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "steps_per_generation": config.steps_per_generation,
        "per_device_eval_batch_size": config.per_device_eval_batch_size,
        "num_train_epochs": config.num_train_epochs,
        "max_steps": config.max_steps,
        "logging_steps": config.logging_steps,
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "seed": config.seed,
        "gradient_checkpointing": config.gradient_checkpointing,
        "use_vllm": config.use_vllm,
        "vllm_mode": config.vllm_mode,
        "vllm_server_base_url": config.vllm_server_base_url,
        "vllm_gpu_memory_utilization": config.vllm_gpu_memory_utilization,
        "vllm_tensor_parallel_size": config.vllm_tensor_parallel_size,
        "vllm_max_model_length": config.max_prompt_length + config.max_completion_length,
        "log_completions": config.log_completions,
        "num_completions_to_print": 2,
        "report_to": config.report_to,
        "reward_weights": list(config.reward_weights.values()),
        "model_init_kwargs": {"dtype": "bfloat16" if precision["bf16"] else "float32"},
        **precision,
    }
    if has_eval:
        kwargs.update(eval_strategy="steps", eval_steps=config.eval_steps or config.save_steps)
    kwargs.update(config.trl)
    try:
        return GRPOConfig(**kwargs)
    except (ValueError, TypeError) as exc:
        raise InputError(f"GRPO settings rejected by TRL: {' '.join(str(exc).split())}", path=config.source) from None


def prepare(config: J1GRPOConfig) -> Prepared:
    """Check config, model folder, data and batch sizes; load no model."""
    fmt = get_format(config.format)
    if fmt.pointwise and config.rewards.get("consistency"):
        raise InputError(
            "the pointwise format has no answer order: drop 'consistency' from rewards",
            path=config.source,
            field="rewards",
        )
    check_model_path(config)
    eval_benches: list[str] = []
    if config.eval_benches:  # an evaluation benchmark that is not installed fails here, before any model loads
        from j1train.eval_loop import validate_eval_benches

        eval_benches = validate_eval_benches(config.eval_benches, config.eval_data_dir)
    pairs = load_training_pairs(config.train_pairs, config.subsets, config.limit, config.data_dir)
    info: dict[str, Any] = {"n_pairs_loaded": len(pairs), "orders": config.orders}
    if eval_benches:
        info["eval_benches"] = eval_benches
    benches = config.decontam_benches
    if benches:
        from j1train.decontam import decontaminate

        pairs, dropped = decontaminate(pairs, benches, config.eval_data_dir or config.data_dir)
        info["decontaminated_against"] = benches
        info["n_dropped_contaminated"] = dropped
        print(
            f"decontamination against {', '.join(benches)}: dropped {dropped} of {len(pairs) + dropped} "
            "training pairs whose prompt is in those benchmarks"
        )
        if not pairs:
            raise InputError(
                f"no training pairs left after decontamination against {', '.join(benches)}",
                path=config.source,
                field="train_pairs",
            )
    eval_pairs = load_training_pairs(config.eval_pairs, data_dir=config.data_dir) if config.eval_pairs else []
    args = grpo_arguments(config, has_eval=bool(eval_pairs))
    plan = BatchPlan(
        per_device_batch=config.per_device_train_batch_size,
        steps_per_generation=args.steps_per_generation,
        num_processes=world_size(),
        num_generations=config.num_generations,
        rows_per_pair=rows_per_pair(fmt, config.orders),
    )
    check_batch_sizes(plan, len(pairs), config.source)
    if eval_pairs and config.per_device_eval_batch_size % plan.unit:
        raise InputError(
            f"cannot hold whole pairs: make it a multiple of {plan.unit}",
            path=config.source,
            field="per_device_eval_batch_size",
        )
    info["n_pairs"] = len(pairs)
    return Prepared(config, pairs, eval_pairs, args, info)


def _load_tokenizer(model: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise SetupError(f"cannot load the tokenizer of {model!r}: {' '.join(str(exc).split())[:300]}") from None
    if not getattr(tokenizer, "chat_template", None):
        raise SetupError(f"model {model!r} has no chat template; a judge is trained and evaluated as a chat model")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _dataset(pairs: list[Pair], config: J1GRPOConfig, tokenizer: Any, info: dict[str, Any], key: str) -> Any:
    from datasets import Dataset

    fmt = get_format(config.format)
    rows, dropped = build_rows(
        pairs,
        fmt,
        config.max_completion_length,
        prompt_length=lambda msgs: len(chat_ids(tokenizer, msgs)),
        max_prompt_length=config.max_prompt_length,
        orders=config.orders,
        seed=config.seed,
    )
    if dropped:
        print(f"{key}: dropped {dropped} pairs whose prompt is over {config.max_prompt_length} tokens")
    info[f"n_dropped_too_long_{key}"] = dropped
    if not rows:
        raise InputError(f"{key}: no pair fits max_prompt_length {config.max_prompt_length}", path=config.source)
    return Dataset.from_list(rows)


def build_trainer(prepared: Prepared, extra_callbacks: list[Any] | None = None) -> J1GRPOTrainer:
    """Load tokenizer and model and build the trainer (rows of whole pairs, J1's rewards)."""
    config = prepared.config
    tokenizer = _load_tokenizer(config.model)
    train_ds = _dataset(prepared.pairs, config, tokenizer, prepared.info, "train")
    rows = rows_per_pair(get_format(config.format), config.orders)
    plan = BatchPlan(
        config.per_device_train_batch_size,
        prepared.args.steps_per_generation,
        world_size(),
        config.num_generations,
        rows,
    )
    if len(train_ds) // rows < plan.pairs_per_generation:
        raise InputError("too few pairs left after the prompt-length filter to fill one generation batch")
    eval_ds = _dataset(prepared.eval_pairs, config, tokenizer, prepared.info, "eval") if prepared.eval_pairs else None
    peft_config = None
    if config.lora is not None:
        from peft import LoraConfig

        lora = config.lora
        peft_config = LoraConfig(
            r=int(lora.get("r", 16)),
            lora_alpha=int(lora.get("alpha", 32)),
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
            train_dataset=train_ds,
            eval_dataset=eval_ds,
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
    """Check, train, save; the path of the final checkpoint."""
    prepared = prepare(config)
    trainer = build_trainer(prepared)
    trainer.train()
    return save_final(trainer, prepared)
