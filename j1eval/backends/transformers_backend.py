"""Local models through transformers ``generate`` (CPU or one GPU).

Options: ``batch_size`` (default 8), ``device`` ("cuda" when available, else "cpu"),
``dtype`` ("auto": bfloat16 on GPU, float32 on CPU; or a torch dtype name).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

from j1eval.backends import backend
from j1eval.backends._torch_models import device_and_dtype, model_folder
from j1eval.backends.base import TOP_LOGPROBS, Backend, Option, Request, merge_top_logprobs
from j1eval.errors import SetupError, one_line
from j1eval.local_models import model_revision
from j1eval.types import Completion, Sampling


def chat_text(tokenizer: Any, request: Request) -> str:
    """A request's prompt through the chat template: a new assistant turn, or the prefilled one continued."""
    messages = [dict(m) for m in request.prompt.messages]
    if request.prompt.prefill:
        return tokenizer.apply_chat_template(
            messages, add_generation_prompt=False, continue_final_message=True, tokenize=False
        )
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


@backend("hf")
class TransformersBackend(Backend):
    """A causal LM from a local folder, a hub id, or the alias ``smollm2-135m``."""

    OPTIONS = {
        "batch_size": Option(int, "prompts per forward pass", minimum=1, operational=True),
        "device": Option(str, "torch device, e.g. cpu, cuda, cuda:1"),
        "dtype": Option(str, "auto, or a torch dtype name such as bfloat16"),
    }

    def __init__(self, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise SetupError(f"the hf backend needs torch and transformers: pip install 'j1eval[hf]' ({exc})") from None
        self._torch = torch
        self.batch_size = max(1, int(options.get("batch_size", 8)))
        self.device, dtype = device_and_dtype(torch, options, "hf")
        self.path, kwargs = model_folder(model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.path, **kwargs)
            self.lm = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype, **kwargs)
        except (OSError, ValueError) as exc:
            raise SetupError(f"model {model!r} not found: {one_line(exc, 300)}") from None
        if not getattr(self.tokenizer, "chat_template", None):
            raise SetupError(f"model {model!r} has no chat template; the hf backend needs a chat model")
        self.lm.to(self.device)
        self.lm.eval()
        self.eos_ids = self._eos_ids()
        self._eos_set = set(self.eos_ids)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = getattr(self.lm.generation_config, "pad_token_id", None)
        self.pad_id = int(pad) if isinstance(pad, int) else self.eos_ids[0]
        self._revision: str | None = None

    def _eos_ids(self) -> list[int]:
        ids: list[int] = []
        for source in (self.lm.generation_config.eos_token_id, self.lm.config.eos_token_id):
            for value in source if isinstance(source, list) else [source]:
                if isinstance(value, int) and value not in ids:
                    ids.append(value)
        if not ids and self.tokenizer.eos_token_id is not None:
            ids.append(int(self.tokenizer.eos_token_id))
        if not ids:
            raise SetupError(f"model {self.model!r} defines no end-of-sequence token")
        return ids

    @property
    def model_revision(self) -> str:
        if self._revision is None:
            commit = getattr(self.lm.config, "_commit_hash", None)
            self._revision = model_revision(self.path, commit)
        return self._revision

    def encode(self, request: Request) -> list[int]:
        """Token ids of a request's chat prompt, ready for the assistant's turn (or inside a prefilled one)."""
        return list(self.tokenizer(chat_text(self.tokenizer, request), add_special_tokens=False)["input_ids"])

    #: Requests per call: each call is sorted by length into batches of ``batch_size``; a bound keeps
    #: the first judgments (and the progress bar) coming before a large run is all tokenized.
    requests_per_call = 1024

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        encoded = [self.encode(r) for r in requests]
        # Prompts with a prefilled answer want the first position's distribution (direct verdicts).
        wants = [bool(r.prompt.prefill) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: (wants[i], len(encoded[i])), reverse=True)
        results: list[list[Completion] | None] = [None] * len(requests)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            logprobs = any(wants[i] for i in batch)
            outcomes = self._run_batch([encoded[i] for i in batch], sampling, n, logprobs)
            for i, completions in zip(batch, outcomes, strict=True):
                results[i] = completions
                if on_done is not None:
                    on_done(i, completions)
        return [r if r is not None else [] for r in results]

    def _run_batch(
        self, prompts: list[list[int]], sampling: Sampling, n: int, logprobs: bool = False
    ) -> list[list[Completion]]:
        """Completions for one batch; on out-of-memory, halves the batch; other errors become values."""
        torch = self._torch
        start = time.perf_counter()
        try:
            rows, tops = self._generate_ids(prompts, sampling, n, logprobs)
        except torch.OutOfMemoryError as exc:
            self._free()
            if len(prompts) > 1:
                half = len(prompts) // 2
                return self._run_batch(prompts[:half], sampling, n, logprobs) + self._run_batch(
                    prompts[half:], sampling, n, logprobs
                )
            return [[Completion("", "error", len(prompts[0]), error=one_line(exc, 300))] * n]
        except Exception as exc:  # one failing batch must not end the run
            self._free()
            return [[Completion("", "error", len(p), error=one_line(exc, 300))] * n for p in prompts]
        latency = (time.perf_counter() - start) / len(prompts)
        out = []
        for k, prompt in enumerate(prompts):
            top = tops[k] if tops is not None else None
            out.append([self._completion(rows[k * n + j], len(prompt), sampling, latency, top) for j in range(n)])
        return out

    def _top_logprobs(self, logits: Any) -> list[dict[str, float]]:
        """The ``TOP_LOGPROBS`` most likely tokens per row of first-step logits, by their text."""
        torch = self._torch
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        values, ids = logprobs.topk(min(TOP_LOGPROBS, logprobs.shape[-1]), dim=-1)
        decode = self.tokenizer.decode
        return [
            merge_top_logprobs((decode([token_id]), value) for value, token_id in zip(vals, tids, strict=True))
            for vals, tids in zip(values.tolist(), ids.tolist(), strict=True)
        ]

    def _generate_ids(
        self, prompts: list[list[int]], sampling: Sampling, n: int, logprobs: bool = False
    ) -> tuple[list[list[int]], list[dict[str, float]] | None]:
        """Generated token ids per (prompt, sample) row, prompts left-padded to one length,
        and, with ``logprobs``, each prompt's most likely first tokens (from the raw logits)."""
        torch = self._torch
        width = max(len(p) for p in prompts)
        input_ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for k, prompt in enumerate(prompts):
            if prompt:
                input_ids[k, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
                mask[k, width - len(prompt) :] = 1
        greedy = sampling.temperature <= 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_tokens,
            "num_return_sequences": 1 if greedy else n,  # greedy samples are all the same
            "eos_token_id": self.eos_ids,
            "pad_token_id": self.pad_id,
        }
        if greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p, top_k=0)
        if logprobs:
            kwargs.update(output_logits=True, return_dict_in_generate=True)
        torch.manual_seed(sampling.seed)
        with torch.inference_mode():
            output = self.lm.generate(
                input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device), **kwargs
            )
        tops = None
        if logprobs:
            # The first step's logits do not depend on sampling: one row per prompt is enough.
            first = output.logits[0][:: 1 if greedy else n]
            tops = self._top_logprobs(first)
            output = output.sequences
        rows = output[:, width:].tolist()
        return ([row for row in rows for _ in range(n)] if greedy else rows), tops

    def _completion(
        self, ids: list[int], n_prompt: int, sampling: Sampling, latency: float, top: dict[str, float] | None = None
    ) -> Completion:
        stop_at = next((k for k, t in enumerate(ids) if t in self._eos_set), None)
        if stop_at is None:
            tokens = ids
            finish = "length" if len(ids) >= sampling.max_tokens else "stop"
        else:
            tokens = ids[:stop_at]
            finish = "stop"
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        n_generated = len(tokens) + (stop_at is not None)  # the end token counts as generated
        return Completion(text, finish, n_prompt, n_generated, latency, top_logprobs=top)

    def _free(self) -> None:
        gc.collect()
        if self.device.type == "cuda":
            self._torch.cuda.empty_cache()

    def close(self) -> None:
        self.__dict__.pop("lm", None)
        self._free()
