"""Backend registry. Each backend lives in its own module, imported only when used."""

from __future__ import annotations

import importlib

from j1eval.backends.base import Backend, Request
from j1eval.errors import InputError

#: backend name -> module that registers it. Modules are imported lazily, so that
#: e.g. vLLM is imported only when a vLLM judge runs.
BACKEND_MODULES: dict[str, str] = {
    "baseline": "j1eval.backends.baseline",
    "hf": "j1eval.backends.transformers_backend",
    "vllm": "j1eval.backends.vllm_backend",
    "openai": "j1eval.backends.openai_backend",
}

_BACKENDS: dict[str, type[Backend]] = {}


def backend(name: str):
    """Class decorator: register a :class:`Backend` subclass under ``name``."""

    def decorator(cls: type[Backend]) -> type[Backend]:
        cls.name = name
        _BACKENDS[name] = cls
        return cls

    return decorator


def get_backend_class(name: str) -> type[Backend]:
    if name not in BACKEND_MODULES:
        raise InputError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKEND_MODULES))}")
    if name not in _BACKENDS:
        importlib.import_module(BACKEND_MODULES[name])
    return _BACKENDS[name]


__all__ = ["BACKEND_MODULES", "Backend", "Request", "backend", "get_backend_class"]
