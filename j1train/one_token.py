"""One forward per distinct prompt when every completion is a single token.

With the ``direct-verdict`` format the prompt ends in the prefill ``<answer> [[`` and
``max_completion_length`` is 1, so the G rollouts of a prompt share the prompt and differ
only in their one completion token. The log-probability of that token is
``log_softmax(logits at the last prompt position / temperature)[token]``, and those logits
are the same for all G rollouts. :class:`OneTokenLogpsMixin` therefore runs the model once
per distinct prompt and gathers each row's token: the same log-probs, entropies and (through
autograd) gradients as TRL's per-row forward, at 1/G of the compute.

Generation has the same waste: TRL's transformers path reads each of the G copies of a prompt
to sample its one token. :class:`OneTokenGenerationMixin` samples the G tokens of a prompt from
one read of it (``model.generate`` on the distinct prompts with the trainer's generation config,
its processed scores turned into probabilities, then G independent draws per prompt): the same
sampling distribution as G separate ``generate`` rows, at 1/G of the prompt reading.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from trl.extras.profiling import profiling_context
from trl.models import unwrap_model_for_generation
from trl.trainer.utils import pad

#: Arguments of TRL's ``_get_per_token_logps_and_entropies`` that only multimodal batches set.
MULTIMODAL_KWARGS = (
    "pixel_values",
    "image_grid_thw",
    "num_images",
    "pixel_attention_mask",
    "spatial_shapes",
    "num_tiles",
    "image_sizes",
    "token_type_ids",
    "mm_token_type_ids",
    "image_position_ids",
)


def distinct_prompts(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of ``input_ids`` whose prompt (all but the last column, tokens and mask) is distinct.

    Returns ``(first, inverse)``: ``first[u]`` is the first row holding distinct prompt ``u``
    (ascending) and ``inverse[i]`` is the index in ``first`` of row ``i``'s prompt.
    """
    key = torch.cat([input_ids[:, :-1], attention_mask[:, :-1].to(input_ids.dtype)], dim=1)
    _, inverse = torch.unique(key, dim=0, return_inverse=True)
    n = input_ids.size(0)
    rows = torch.arange(n, device=input_ids.device)
    first = torch.full((int(inverse.max()) + 1,), n, dtype=rows.dtype, device=rows.device)
    first = first.scatter_reduce(0, inverse, rows, reduce="amin")
    order = torch.argsort(first)
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=order.device)
    return first[order], rank[inverse]


def one_token_logps(
    model: Any,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    temperature: float,
    autocast: Any,
    batch_size: int | None = None,
    compute_entropy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-token log-probs ``(N, 1)`` of the last column, one forward per distinct prompt.

    ``autocast`` makes the context each forward runs in (``accelerator.autocast``). Logits are
    scaled as TRL's fused head scales them (times ``1 / temperature`` in float32); a masked
    completion token gets log-prob and entropy 0, as in TRL.
    """
    first, inverse = distinct_prompts(input_ids, attention_mask)
    prompt_ids, prompt_mask = input_ids[first, :-1], attention_mask[first, :-1]
    batch_size = batch_size or prompt_ids.size(0)
    log_probs, entropies = [], []
    for start in range(0, prompt_ids.size(0), batch_size):
        end = start + batch_size
        with autocast():
            ids, mask = prompt_ids[start:end], prompt_mask[start:end]
            out = model(input_ids=ids, attention_mask=mask, logits_to_keep=1, use_cache=False)
        z = out.logits[:, -1].float() * (1 / temperature)
        logp = torch.log_softmax(z, dim=-1)
        log_probs.append(logp)
        if compute_entropy:
            entropies.append(-(logp.exp() * logp).sum(-1))
    tokens = input_ids[:, -1]
    valid = attention_mask[:, -1].bool()
    logps = torch.cat(log_probs)[inverse, tokens]
    logps = torch.where(valid, logps, torch.zeros_like(logps)).unsqueeze(1)
    if not compute_entropy:
        return logps, None
    entropy = torch.cat(entropies)[inverse]
    return logps, torch.where(valid, entropy, torch.zeros_like(entropy)).unsqueeze(1)


class OneTokenLogpsMixin:
    """Put before ``GRPOTrainer``: one forward per distinct prompt when completions are one token long.

    Taken only for text batches with ``logits_to_keep == 1``, no MoE aux loss, no float32 LM
    head and at least one repeated prompt; anything else goes to TRL unchanged.
    """

    #: Set False to always use TRL's per-row forward.
    one_token_dedup: bool = True

    def _one_token_applies(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, logits_to_keep: int, kwargs: dict[str, Any]
    ) -> bool:
        args = getattr(self, "args", None)
        if (
            not self.one_token_dedup
            or logits_to_keep != 1
            or input_ids.size(1) < 2
            or kwargs.get("compute_aux_loss")
            or getattr(args, "cast_lm_head_to_fp32", False)
            or any(kwargs.get(name) is not None for name in MULTIMODAL_KWARGS)
        ):
            return False
        first, _ = distinct_prompts(input_ids, attention_mask)
        return first.numel() < input_ids.size(0)

    def _get_per_token_logps_and_entropies(
        self,
        model: Any,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        logits_to_keep: int,
        batch_size: int | None = None,
        compute_entropy: bool = False,
        **kwargs: Any,
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """TRL's method, with one forward per distinct prompt for one-token completions."""
        if not self._one_token_applies(input_ids, attention_mask, logits_to_keep, kwargs):
            return super()._get_per_token_logps_and_entropies(  # type: ignore[misc]
                model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy, **kwargs
            )
        with profiling_context(self, "_get_per_token_logps_and_entropies"):  # type: ignore[arg-type]
            logps, entropies = one_token_logps(
                model,
                input_ids,
                attention_mask,
                self.temperature,  # type: ignore[attr-defined]
                self.accelerator.autocast,  # type: ignore[attr-defined]
                batch_size,
                compute_entropy,
            )
        return logps, entropies, None


def sample_one_token(
    model: Any,
    prompt_ids: list[list[int]],
    generation_config: Any,
    pad_token_id: int,
    device: Any,
) -> list[list[int]]:
    """One sampled token per row of ``prompt_ids``, reading each distinct prompt once.

    ``generate`` runs on the distinct prompts with ``generation_config`` (one new token) and
    returns its processed scores (temperature, top-k/p, min-p and the model's own defaults
    applied exactly as ``generate`` applies them); each row then draws its token from the
    softmax of its prompt's scores, independently of the other rows.
    """
    distinct: dict[tuple[int, ...], int] = {}
    inverse = [distinct.setdefault(tuple(ids), len(distinct)) for ids in prompt_ids]
    tensors = [torch.tensor(ids) for ids in distinct]
    input_ids = pad(tensors, padding_value=pad_token_id, padding_side="left").to(device)
    attention_mask = pad([torch.ones_like(t) for t in tensors], padding_value=0, padding_side="left").to(device)
    config = copy.deepcopy(generation_config)
    config.max_new_tokens = 1
    config.output_scores = True
    config.return_dict_in_generate = True
    out = model.generate(input_ids=input_ids, attention_mask=attention_mask, generation_config=config)
    probs = torch.softmax(out.scores[0].float(), dim=-1)
    rows = torch.tensor(inverse, device=probs.device)
    tokens = torch.multinomial(probs[rows], num_samples=1).squeeze(1)
    return [[int(token)] for token in tokens.tolist()]


class OneTokenGenerationMixin:
    """Put before ``GRPOTrainer``: sample one-token completions from one read of each distinct prompt.

    Taken only on TRL's plain transformers path (no vLLM, no continuous batching) for text
    prompts with ``max_completion_length == 1`` and at least one repeated prompt; anything else
    goes to TRL unchanged.
    """

    #: Set False to always use TRL's per-row generation.
    one_token_dedup: bool = True

    def _one_token_generation_applies(self, prompt_ids: list[list[int]], images: Any, multimodal_fields: Any) -> bool:
        return (
            self.one_token_dedup
            and not getattr(self, "use_vllm", False)
            and not getattr(self, "use_transformers_continuous_batching", False)
            and getattr(self, "max_completion_length", None) == 1
            and not multimodal_fields
            and (images is None or all(image is None for image in images))
            and len({tuple(ids) for ids in prompt_ids}) < len(prompt_ids)
        )

    def _generate_single_turn(
        self,
        prompt_ids: list[list[int]],
        images: Any,
        multimodal_fields: Any,
        num_generations: int,
        has_tool_images: bool = False,
    ) -> tuple[list[list[int]], Any]:
        """TRL's method, with one prompt read per distinct prompt for one-token completions."""
        if not self._one_token_generation_applies(prompt_ids, images, multimodal_fields):
            return super()._generate_single_turn(  # type: ignore[misc]
                prompt_ids, images, multimodal_fields, num_generations, has_tool_images
            )
        args = self.args  # type: ignore[attr-defined]
        with (
            profiling_context(self, "transformers.generate"),  # type: ignore[arg-type]
            unwrap_model_for_generation(
                self.model_wrapped,  # type: ignore[attr-defined]
                self.accelerator,  # type: ignore[attr-defined]
                gather_deepspeed3_params=args.ds3_gather_for_generation,
                generation_kwargs=self.generation_kwargs,  # type: ignore[attr-defined]
                gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs,
            ) as unwrapped_model,
            torch.no_grad(),
            self._dist.summon_full_params(self.model_wrapped, recurse=False),  # type: ignore[attr-defined]
        ):
            completion_ids = sample_one_token(
                unwrapped_model,
                prompt_ids,
                self.generation_config,  # type: ignore[attr-defined]
                self._tokenizer.pad_token_id,  # type: ignore[attr-defined]
                self.accelerator.device,  # type: ignore[attr-defined]
            )
        return completion_ids, None
