"""How the vLLM backend splits a judge over a node's devices: tensor parallel (TP) x data parallel (DP).

A judge whose weights fit one device judges fastest as replicas (DP: each engine takes a share of
the prompts); only a model too large for one device needs to be split (TP). :func:`plan_parallel`
picks the smallest TP whose weights fit one device, with room left for the KV cache
(:data:`KV_SHARE`), and replicates over the remaining devices. Sizes come from the model folder
(:func:`model_size`: safetensors headers, else the architecture fields of ``config.json``, else
the weight files' sizes); devices from torch (:func:`detect_devices`; on a machine without a GPU,
one device: the CPU and its memory). Everything here is pure, so a plan is checked before any
model loads; a plan that cannot work is an :class:`~j1eval.errors.InputError` of one line.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from j1eval.errors import InputError

#: The share of the memory vLLM may take that a plan keeps free of weights, for the KV cache,
#: activations and CUDA graphs (an engine with no room for the KV cache cannot start).
KV_SHARE = 0.3
#: vLLM's default share of a device's memory (its ``gpu_memory_utilization``).
DEFAULT_UTILIZATION = 0.9

#: Bytes per element of the dtype names found in config.json and safetensors headers.
DTYPE_BYTES: dict[str, float] = {
    "float64": 8, "F64": 8, "float32": 4, "F32": 4, "float": 4, "fp32": 4,
    "bfloat16": 2, "BF16": 2, "float16": 2, "F16": 2, "half": 2, "fp16": 2, "bf16": 2,
    "float8_e4m3fn": 1, "float8_e5m2": 1, "F8_E4M3": 1, "F8_E5M2": 1, "fp8": 1,
    "int8": 1, "I8": 1, "U8": 1, "uint8": 1, "int16": 2, "I16": 2, "int32": 4, "I32": 4, "int64": 8, "I64": 8,
    "BOOL": 1,
}  # fmt: skip

_GIB = 1024**3


@dataclass(frozen=True)
class ModelSize:
    """A model's weights: parameter count, bytes per parameter as it will be loaded, where both came from."""

    n_params: int
    bytes_per_param: float
    source: str  # "safetensors headers", "config.json architecture" or "weight file sizes"
    n_heads: int | None = None  # attention heads: a tensor-parallel size must divide them

    @property
    def weight_bytes(self) -> float:
        return self.n_params * self.bytes_per_param


@dataclass(frozen=True)
class Devices:
    """The accelerators of this node: how many, and the memory of each (None: unknown)."""

    count: int
    memory_bytes: int | None
    kind: str  # "cuda" or "cpu"


@dataclass(frozen=True)
class ParallelPlan:
    """The chosen sizes: ``tp`` devices per engine, ``dp`` engines; ``explanation`` says why in one line."""

    tp: int
    dp: int
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {"tensor_parallel_size": self.tp, "data_parallel_size": self.dp, "explanation": self.explanation}


def detect_devices() -> Devices:
    """The visible CUDA devices (count, memory of the smallest) from torch; without one, the CPU."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.device_count() > 0:
            count = torch.cuda.device_count()
            memory = min(torch.cuda.get_device_properties(i).total_memory for i in range(count))
            return Devices(count, int(memory), "cuda")
    except ImportError:
        pass
    return Devices(1, _system_memory(), "cpu")


def _system_memory() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise InputError("no config.json: not a model folder", path=folder)
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot be read as JSON ({exc})", path=path) from None
    if not isinstance(config, dict):
        raise InputError("expected a JSON object", path=path)
    # Multimodal and some MoE configs keep the language model's fields under text_config.
    text = config.get("text_config")
    return {**config, **text} if isinstance(text, dict) else config


def _safetensors_counts(folder: Path) -> tuple[int, float] | None:
    """(parameters, stored bytes) summed over the folder's safetensors headers; None without any."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        return None
    n_params, n_bytes = 0, 0.0
    for path in files:
        try:
            with open(path, "rb") as fh:
                (length,) = struct.unpack("<Q", fh.read(8))
                if length > 100 * 1024**2:
                    raise ValueError(f"header length {length}")
                header = json.loads(fh.read(length))
        except (OSError, struct.error, ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"not a readable safetensors file ({exc})", path=path) from None
        for name, entry in header.items():
            if name == "__metadata__" or not isinstance(entry, dict):
                continue
            numel = 1
            for dim in entry.get("shape", []):
                numel *= int(dim)
            n_params += numel
            n_bytes += numel * DTYPE_BYTES.get(str(entry.get("dtype")), 2)
    return n_params, n_bytes


def architecture_params(config: dict[str, Any]) -> int | None:
    """Parameters of a decoder-only transformer (Llama/Qwen/Mistral/MoE layout) from its config fields."""
    try:
        hidden = int(config["hidden_size"])
        layers = int(config["num_hidden_layers"])
        vocab = int(config["vocab_size"])
    except (KeyError, TypeError, ValueError):
        return None
    heads = int(config.get("num_attention_heads") or max(1, hidden // 128))
    kv_heads = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or hidden // heads)
    inter = int(config.get("intermediate_size") or 4 * hidden)
    experts = int(config.get("num_local_experts") or config.get("n_routed_experts") or config.get("num_experts") or 0)
    attention = hidden * head_dim * (heads + 2 * kv_heads) + heads * head_dim * hidden
    if experts:
        expert_inter = int(config.get("moe_intermediate_size") or inter)
        shared = int(config.get("n_shared_experts") or 0)
        mlp = 3 * hidden * expert_inter * (experts + shared) + hidden * experts
    else:
        mlp = 3 * hidden * inter  # gated MLP: gate, up, down
    per_layer = attention + mlp + 2 * hidden
    embeddings = vocab * hidden * (1 if config.get("tie_word_embeddings") else 2)
    return layers * per_layer + embeddings + hidden


def _config_dtype(config: dict[str, Any]) -> str | None:
    value = config.get("dtype") or config.get("torch_dtype")
    return str(value).removeprefix("torch.") if value else None


def model_size(folder: str | Path, dtype: str | None = None) -> ModelSize:
    """The size of the model in ``folder`` as vLLM would load it in ``dtype`` ("auto"/None: the config's)."""
    folder = Path(folder)
    config = _read_config(folder)
    heads = config.get("num_attention_heads")
    n_heads = int(heads) if isinstance(heads, int) and heads > 0 else None
    quantized = isinstance(config.get("quantization_config"), dict)
    wanted = None if dtype in (None, "auto") else dtype
    if wanted is not None and wanted not in DTYPE_BYTES:
        raise InputError(f"--backend-option dtype: unknown dtype {wanted!r}")
    wanted = wanted or _config_dtype(config)
    counted = _safetensors_counts(folder)
    if counted is not None and counted[0] > 0:
        n_params, stored = counted
        # A quantized checkpoint loads as stored; otherwise in the dtype asked for (or the config's).
        per = stored / n_params if quantized or wanted not in DTYPE_BYTES else DTYPE_BYTES[str(wanted)]
        return ModelSize(n_params, per, "safetensors headers", n_heads)
    per = DTYPE_BYTES.get(str(wanted), 2.0)
    estimated = architecture_params(config)
    if estimated is not None and not quantized:
        return ModelSize(estimated, per, "config.json architecture", n_heads)
    files = [p for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".gguf", ".safetensors")]
    total = sum(p.stat().st_size for p in files)
    if not total:
        raise InputError("no weights and no architecture fields to size the model from", path=folder / "config.json")
    return ModelSize(int(total / per), per, "weight file sizes", n_heads)


def _gib(n: float) -> str:
    return f"{n / _GIB:.1f} GiB"


def _params(n: int) -> str:
    return f"{n / 1e9:.2f}B" if n >= 1e8 else f"{n / 1e6:.2f}M"


def plan_parallel(
    size: ModelSize,
    devices: Devices,
    tensor_parallel_size: int | None = None,
    data_parallel_size: int | None = None,
    gpu_memory_utilization: float = DEFAULT_UTILIZATION,
) -> ParallelPlan:
    """TP x DP for ``size`` on ``devices``; the sizes given are kept, the others chosen (see the module)."""
    count = devices.count
    for name, value in (("tensor_parallel_size", tensor_parallel_size), ("data_parallel_size", data_parallel_size)):
        if value is not None and value < 1:
            raise InputError(f"--backend-option {name}: must be at least 1, got {value}")
    if data_parallel_size is not None and data_parallel_size > count:
        raise InputError(
            f"data_parallel_size {data_parallel_size}: more replicas than devices ({count} {devices.kind} "
            f"device{'s' if count != 1 else ''} visible)"
        )
    if tensor_parallel_size is not None and size.n_heads and size.n_heads % tensor_parallel_size:
        raise InputError(
            f"tensor_parallel_size {tensor_parallel_size} does not divide the model's {size.n_heads} attention heads"
        )
    budget = None if devices.memory_bytes is None else devices.memory_bytes * gpu_memory_utilization * (1 - KV_SHARE)
    facts = (
        f"{_params(size.n_params)} parameters ({size.source}) x {size.bytes_per_param:g} bytes = "
        f"{_gib(size.weight_bytes)} of weights; {count} {devices.kind} device{'s' if count != 1 else ''} of "
        + (_gib(devices.memory_bytes) if devices.memory_bytes is not None else "unknown memory")
        + (
            f", weights may take {_gib(budget)} of each ({1 - KV_SHARE:.0%} of {gpu_memory_utilization:g})"
            if budget
            else ""
        )
    )
    if tensor_parallel_size is not None:
        tp, why = tensor_parallel_size, "tensor_parallel_size as given"
        if budget is not None and size.weight_bytes / tp > budget:
            why += f" (its {_gib(size.weight_bytes / tp)} per device exceed that: the engine may not start)"
    else:
        tp = _smallest_fitting_tp(size, budget, count)
        if tp is None:
            raise InputError(
                f"the weights do not fit the {count} {devices.kind} device(s) of this node: {facts}; "
                "pass tensor_parallel_size, a smaller dtype or a quantized model"
            )
        why = "the smallest tensor-parallel size whose weights fit one device" if budget else "memory unknown: TP 1"
    if tp * (data_parallel_size or 1) > count:
        raise InputError(
            f"tensor_parallel_size {tp} x data_parallel_size {data_parallel_size or 1} = "
            f"{tp * (data_parallel_size or 1)} devices, over the {count} {devices.kind} device(s) visible"
        )
    dp = data_parallel_size if data_parallel_size is not None else max(1, count // tp)
    dp_why = "as given" if data_parallel_size is not None else "replicas over the remaining devices"
    return ParallelPlan(tp, dp, f"TP {tp} ({why}) x DP {dp} ({dp_why}): {facts}")


def _smallest_fitting_tp(size: ModelSize, budget: float | None, count: int) -> int | None:
    """The smallest TP in 1, 2, 4, ... (dividing the heads) up to ``count`` whose weight share fits ``budget``."""
    if budget is None:
        return 1
    tp = 1
    while tp <= count:
        if (size.n_heads is None or size.n_heads % tp == 0) and size.weight_bytes / tp <= budget:
            return tp
        tp *= 2
    return None


def plan_for_model(
    folder: str | Path,
    tensor_parallel_size: int | None = None,
    data_parallel_size: int | None = None,
    *,
    dtype: str | None = None,
    gpu_memory_utilization: float = DEFAULT_UTILIZATION,
    devices: Devices | None = None,
) -> ParallelPlan:
    """The plan for the model folder on this node's devices (or ``devices``), before any model loads."""
    return plan_parallel(
        model_size(folder, dtype),
        devices or detect_devices(),
        tensor_parallel_size,
        data_parallel_size,
        gpu_memory_utilization,
    )
