"""What the torch backends (``hf``, ``rm``) share: device and dtype from their options, and the model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from j1eval.errors import SetupError
from j1eval.local_models import resolve_model_path


def device_and_dtype(torch: Any, options: dict[str, Any], backend: str) -> tuple[Any, Any]:
    """``device`` (default: cuda when available, else cpu) and ``dtype`` (auto: bfloat16 on cuda, else float32)."""
    device = torch.device(str(options.get("device") or ("cuda" if torch.cuda.is_available() else "cpu")))
    name = str(options.get("dtype", "auto"))
    if name == "auto":
        return device, torch.bfloat16 if device.type == "cuda" else torch.float32
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise SetupError(f"{backend} backend: unknown dtype {name!r}")
    return device, dtype


def model_folder(model: str, what: str = "model") -> tuple[str, dict[str, Any]]:
    """(the local folder or hub id to load, ``from_pretrained`` kwargs); SetupError when a local path is missing."""
    if (model.startswith(("/", "./", "../", "~")) or model in (".", "..")) and not Path(model).expanduser().is_dir():
        raise SetupError(f"{what} {model!r} not found: no such directory")
    path = resolve_model_path(model)
    local = Path(path).is_dir()
    if local and not (Path(path) / "config.json").is_file():
        raise SetupError(f"{what} {model!r} not found: no config.json in {path}")
    return path, ({"local_files_only": True} if local else {})
