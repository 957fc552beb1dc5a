"""Every check training runs before its first step, in one place: ``grpo --check`` runs exactly these.

Order (cheapest and most local first, so a bad value is named by its key even when the model
folder or the data is missing too):

1. config values: types and ranges of every key (``J1GRPOConfig.__post_init__``, at load),
   then what needs two keys or TRL: the consistency reward of a pointwise format, TRL's own
   ``GRPOConfig`` (an unknown ``trl:`` key, a value TRL refuses), and whether a per-process
   generation batch holds whole pairs (train and eval batch sizes);
2. the model folder (exists, holds ``config.json``) and the evaluation benchmarks (installed);
3. the training data (every record, degenerate pairs), decontamination, the eval pairs, and
   whether the pairs fill one generation batch;
4. the tokenizer (loads, has a chat template), every prompt rendered and measured against
   ``max_prompt_length`` (longer pairs dropped with a count), and whether the pairs left still
   fill one generation batch.

:func:`check` does all four and loads no model weights; ``train`` runs :func:`check`, then loads
the model.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trl import GRPOConfig

from j1eval.errors import InputError, SetupError
from j1eval.formats import get_format
from j1eval.types import Pair
from j1train.config import J1GRPOConfig, check_model_path, precision_flags
from j1train.data import build_rows, load_training_pairs, rows_per_pair
from j1train.sampler import BatchPlan, check_batch_sizes


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
    # Our fields that are also GRPOConfig fields are passed by name (eval_steps only when evaluating).
    shared = [f.name for f in dataclasses.fields(config) if f.name in known and f.name != "eval_steps"]
    kwargs: dict[str, Any] = {
        **{name: getattr(config, name) for name in shared},
        "use_cpu": not gpu,  # also what makes several CPU processes (torchrun, gloo) train as one job
        "dataloader_pin_memory": gpu,
        "vllm_max_model_length": config.max_prompt_length + config.max_completion_length,
        "num_completions_to_print": 2,
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


@dataclass
class Prepared:
    """Everything checked before the tokenizer loads (steps 1-3 of the module docstring)."""

    config: J1GRPOConfig
    pairs: list[Pair]
    eval_pairs: list[Pair]
    args: GRPOConfig
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checked:
    """Everything checked before the model loads (all four steps): the datasets training uses."""

    prepared: Prepared
    tokenizer: Any
    train_dataset: Any
    eval_dataset: Any | None


def _plan(config: J1GRPOConfig, steps_per_generation: int) -> BatchPlan:
    return BatchPlan(
        per_device_batch=config.per_device_train_batch_size,
        steps_per_generation=steps_per_generation,
        num_processes=world_size(),
        num_generations=config.num_generations,
        rows_per_pair=rows_per_pair(get_format(config.format), config.orders),
    )


def check_generation_engine(config: J1GRPOConfig) -> None:
    """``use_vllm`` colocated needs a GPU: vLLM's CPU build cannot take TRL's weight sync (README, Train a judge).

    It repacks every linear layer's weights for its CPU kernels once at load and leaves an empty
    ``weight`` behind, so TRL's per-step ``load_weights`` fails before the first rollout. Server
    mode may still run the trainer on a CPU against ``trl vllm-serve`` on GPUs elsewhere.
    """
    import torch

    if config.use_vllm and config.vllm_mode == "colocate" and not torch.cuda.is_available():
        raise InputError(
            "use_vllm with vllm_mode colocate needs a CUDA GPU: vLLM's CPU build repacks its weights at load, "
            "so TRL cannot sync the policy into it; on a CPU set use_vllm: false",
            path=config.source,
            field="use_vllm",
        )


def prepare(config: J1GRPOConfig) -> Prepared:
    """Steps 1-3 of the module docstring: config values, model folder and eval benchmarks, data."""
    if get_format(config.format).pointwise and config.rewards.get("consistency"):
        raise InputError(
            "the pointwise format has no answer order: drop 'consistency' from rewards",
            path=config.source,
            field="rewards",
        )
    if not {"generation_batch_size", "steps_per_generation"} & set(config.trl):
        # TRL's default (steps_per_generation = gradient_accumulation_steps): this line, naming the key, before TRL's
        steps = config.steps_per_generation or config.gradient_accumulation_steps
        check_batch_sizes(_plan(config, steps), source=config.source)
    check_generation_engine(config)
    args = grpo_arguments(config, has_eval=bool(config.eval_pairs))  # an eval file is never empty (refused)
    plan = _plan(config, args.steps_per_generation)
    check_batch_sizes(plan, source=config.source)
    if config.eval_pairs and config.per_device_eval_batch_size % plan.unit:
        raise InputError(
            f"cannot hold whole pairs: make it a multiple of {plan.unit}",
            path=config.source,
            field="per_device_eval_batch_size",
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
    check_batch_sizes(plan, len(pairs), config.source)
    info["n_pairs"] = len(pairs)
    return Prepared(config, pairs, eval_pairs, args, info)


def load_tokenizer(model: str) -> Any:
    """The model's tokenizer (a chat template required, a pad token set); SetupError in one line."""
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
        raise InputError(
            f"{key}: no pair fits max_prompt_length {config.max_prompt_length}",
            path=config.source,
            field="max_prompt_length",
        )
    return Dataset.from_list(rows)


def check_prepared(prepared: Prepared) -> Checked:
    """Step 4 of the module docstring on checked config and data: tokenizer, prompt lengths, batch fill."""
    config = prepared.config
    tokenizer = load_tokenizer(config.model)
    train_ds = _dataset(prepared.pairs, config, tokenizer, prepared.info, "train")
    plan = _plan(config, prepared.args.steps_per_generation)
    kept = len(train_ds) // plan.rows_per_pair
    if kept < plan.pairs_per_generation:
        raise InputError(
            f"{kept} training pairs left after the prompt-length filter cannot fill one generation batch of "
            f"{plan.pairs_per_generation} pairs; raise max_prompt_length, lower the batch size or add pairs",
            path=config.source,
            field="train_pairs",
        )
    eval_ds = _dataset(prepared.eval_pairs, config, tokenizer, prepared.info, "eval") if prepared.eval_pairs else None
    return Checked(prepared, tokenizer, train_ds, eval_ds)


def check(config: J1GRPOConfig) -> Checked:
    """Every check training runs before its first step (the module docstring); loads no model weights."""
    return check_prepared(prepare(config))
