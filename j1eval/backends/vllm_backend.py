"""vLLM's offline engine (GPU). vLLM is imported only when this backend is built.

Options: ``tensor_parallel_size`` (default: all visible GPUs), ``max_model_len``
(default: the model's), ``gpu_memory_utilization`` (default 0.9), ``dtype`` (default
"auto"), ``seed`` (engine seed, default 0), ``enforce_eager`` (default False).

All requests of a call go to ``LLM.chat`` at once; vLLM schedules them itself, with
prefix caching (both orders of a pair share the judge instructions). A prompt longer
than ``max_model_len`` becomes an error completion instead of failing the call.
Prompts ending in an assistant prefill (``direct-verdict``) are continued
(``continue_final_message``) and return the first token's top 20 log-probabilities.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from j1eval.backends import backend
from j1eval.backends.base import TOP_LOGPROBS, Backend, Option, Request, merge_top_logprobs
from j1eval.errors import SetupError, one_line
from j1eval.local_models import model_revision, resolve_model_path
from j1eval.types import Completion, Sampling

INSTALL_HINT = "pip install 'j1eval[vllm]' (vLLM >= 0.31, Linux with a CUDA GPU)"


def _first_top_logprobs(sample: Any) -> dict[str, float] | None:
    """The first generated position's top tokens (text -> log-probability) of a vLLM sample."""
    steps = getattr(sample, "logprobs", None)
    if not steps:
        return None
    entries = []
    for token_id, entry in steps[0].items():
        text = getattr(entry, "decoded_token", None)
        entries.append((text if isinstance(text, str) else str(token_id), float(entry.logprob)))
    return merge_top_logprobs(entries)


@backend("vllm")
class VLLMBackend(Backend):
    """A model served in-process by vLLM."""

    OPTIONS = {
        "tensor_parallel_size": Option(int, "GPUs per model", minimum=1),
        "max_model_len": Option(int, "context length", minimum=1),
        "gpu_memory_utilization": Option(float, "share of GPU memory vLLM may take", above=0, maximum=1),
        "dtype": Option(str, "auto, or a dtype name"),
        "seed": Option(int, "engine seed"),
        "enforce_eager": Option(bool, "no CUDA graphs"),
    }

    def __init__(self, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        try:
            import vllm
        except ImportError as exc:
            raise SetupError(f"the vllm backend needs vLLM: {INSTALL_HINT} ({exc})") from None
        self._vllm = vllm
        if model.startswith(("/", "./", "../", "~")) and not Path(model).expanduser().is_dir():
            raise SetupError(f"model {model!r} not found: no such directory")
        self.path = resolve_model_path(model)
        tp = options.get("tensor_parallel_size")
        if tp is None:
            import torch

            tp = max(1, torch.cuda.device_count())
        kwargs: dict[str, Any] = {
            "model": self.path,
            "tensor_parallel_size": int(tp),
            "enable_prefix_caching": True,
            "dtype": str(options.get("dtype", "auto")),
            "seed": int(options.get("seed", 0)),
            "gpu_memory_utilization": float(options.get("gpu_memory_utilization", 0.9)),
        }
        if options.get("max_model_len"):
            kwargs["max_model_len"] = int(options["max_model_len"])
        if options.get("enforce_eager"):
            kwargs["enforce_eager"] = True
        try:
            self.llm = vllm.LLM(**kwargs)
        except (OSError, ValueError) as exc:
            raise SetupError(f"model {model!r} could not be loaded by vLLM: {one_line(exc, 300)}") from None
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = self._max_model_len()
        self._revision: str | None = None

    def _max_model_len(self) -> int | None:
        engine = getattr(self.llm, "llm_engine", None)
        config = getattr(engine, "model_config", None)
        value = getattr(config, "max_model_len", None)
        return int(value) if isinstance(value, int) else None

    @property
    def model_revision(self) -> str:
        if self._revision is None:
            self._revision = model_revision(self.path)
        return self._revision

    def _prompt_tokens(self, request: Request) -> int | None:
        try:
            from j1eval.backends.transformers_backend import chat_text

            text = chat_text(self.tokenizer, request)
            return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        except Exception:  # counting is only a pre-check; vLLM has the last word
            return None

    #: Every pending prompt in one call: the engine schedules the whole run at once instead of
    #: waiting, chunk after chunk, for the longest generation of each.
    requests_per_call = None

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        results: list[list[Completion]] = [[] for _ in requests]
        runnable: list[int] = []
        for i, request in enumerate(requests):
            count = self._prompt_tokens(request) if self.max_model_len else None
            if count is not None and self.max_model_len is not None and count >= self.max_model_len:
                error = f"prompt has {count} tokens; max_model_len is {self.max_model_len}"
                results[i] = [Completion("", "error", count, error=error)] * n
            else:
                runnable.append(i)
        greedy = sampling.temperature <= 0
        # Prefilled prompts (direct verdicts) continue the assistant's turn and want the first
        # token's distribution; the others start a new turn. One chat call per kind.
        for prefilled in (False, True):
            indices = [i for i in runnable if bool(requests[i].prompt.prefill) == prefilled]
            if not indices:
                continue
            params = self._vllm.SamplingParams(
                n=1 if greedy else n,  # greedy samples are all the same: generate once
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                seed=sampling.seed,
                logprobs=TOP_LOGPROBS if prefilled else None,
            )
            for i, completions in self._chat(requests, indices, params, prefilled).items():
                results[i] = completions * n if greedy else completions
        for i, completions in enumerate(results):
            if on_done is not None:
                on_done(i, completions)
        return results

    def _chat(
        self, requests: Sequence[Request], indices: list[int], params: Any, prefilled: bool = False
    ) -> dict[int, list[Completion]]:
        """Completions per request index; a failing call is split in halves to isolate the bad request."""
        if not indices:
            return {}
        start = time.perf_counter()
        try:
            outputs = self.llm.chat(
                [[dict(m) for m in requests[i].prompt.messages] for i in indices],
                sampling_params=params,
                use_tqdm=False,
                add_generation_prompt=not prefilled,
                continue_final_message=prefilled,
            )
        except Exception as exc:  # e.g. one prompt over the context length
            if len(indices) == 1:
                return {indices[0]: [Completion("", "error", error=one_line(exc, 300))] * params.n}
            half = len(indices) // 2
            return {
                **self._chat(requests, indices[:half], params, prefilled),
                **self._chat(requests, indices[half:], params, prefilled),
            }
        latency = (time.perf_counter() - start) / len(indices)
        out: dict[int, list[Completion]] = {}
        for i, output in zip(indices, outputs, strict=True):
            n_prompt = len(output.prompt_token_ids) if output.prompt_token_ids is not None else None
            out[i] = [
                Completion(
                    sample.text,
                    "length" if sample.finish_reason == "length" else "stop",
                    n_prompt,
                    len(sample.token_ids),
                    latency,
                    top_logprobs=_first_top_logprobs(sample) if prefilled else None,
                )
                for sample in sorted(output.outputs, key=lambda s: s.index)
            ]
        return out

    def close(self) -> None:
        llm = self.__dict__.pop("llm", None)
        if llm is None:
            return
        del llm
        import gc

        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass
