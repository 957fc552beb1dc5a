"""Backend registry. Each backend lives in its own module, imported only when used."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from j1eval.backends.base import Backend, BackendDied, Option, Request
from j1eval.errors import InputError
from j1eval.registry import Registry

#: backend name -> module that registers it. Modules are imported lazily, so that
#: e.g. vLLM is imported only when a vLLM judge runs.
BACKENDS: Registry[type[Backend]] = Registry(
    "backend",
    {
        "baseline": "j1eval.backends.baseline",
        "hf": "j1eval.backends.transformers_backend",
        "vllm": "j1eval.backends.vllm_backend",
        "openai": "j1eval.backends.openai_backend",
        "rm": "j1eval.backends.rm_backend",
    },
)
BACKEND_MODULES: dict[str, str] = BACKENDS.modules


def backend(name: str):
    """Class decorator: register a :class:`Backend` subclass under ``name``."""

    def decorator(cls: type[Backend]) -> type[Backend]:
        cls.name = name
        return BACKENDS.register(name)(cls)

    return decorator


def get_backend_class(name: str) -> type[Backend]:
    return BACKENDS.get(name)


def check_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The options in the types backend ``name`` declares; an unknown key is an error with a did-you-mean."""
    declared = get_backend_class(name).OPTIONS
    out: dict[str, Any] = {}
    for key, value in options.items():
        option = declared.get(key)
        if option is None:
            close = difflib.get_close_matches(key, list(declared), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            takes = f"it takes {', '.join(sorted(declared))}" if declared else "it takes none"
            raise InputError(f"--backend-option {key}: the {name} backend has no such option{hint} ({takes})")
        out[key] = option.check(key, value)
    return out


def operational_options(name: str) -> frozenset[str]:
    """The options of backend ``name`` declared ``operational``: how requests are sent, not what is answered."""
    return frozenset(key for key, option in get_backend_class(name).OPTIONS.items() if option.operational)


def identity_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` without those backend ``name`` declares operational: the part that is in a judge's identity."""
    if not options:  # no backend module to import (a baseline judge, a registered judge without options)
        return {}
    operational = operational_options(name)
    return {key: value for key, value in options.items() if key not in operational}


__all__ = [
    "BACKENDS",
    "BACKEND_MODULES",
    "Backend",
    "BackendDied",
    "Option",
    "Request",
    "backend",
    "check_options",
    "get_backend_class",
    "identity_options",
    "operational_options",
]
