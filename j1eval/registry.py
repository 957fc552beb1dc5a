"""The one registry of the project: benchmarks, formats and backends, each name -> its module.

Each kind keeps a table ``name -> module path``; a module is imported the first time its
name is asked for (so vLLM is imported only when a vLLM judge runs), and registers its class
with the kind's decorator. Adding a benchmark, format or backend is one module plus one line
in its kind's table.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

from j1eval.errors import InputError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to registered objects (classes or factories), importing their modules lazily."""

    def __init__(self, kind: str, modules: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        #: name -> module that registers it on import.
        self.modules: dict[str, str] = dict(modules or {})
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        if name not in self._items and name in self.modules:
            importlib.import_module(self.modules[name])
            if name not in self._items:
                raise ValueError(f"module {self.modules[name]} does not register {self.kind} {name!r}")
        try:
            return self._items[name]
        except KeyError:
            names = self.names()
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"unknown {self.kind} {name!r}{hint}; known: {', '.join(names)}") from None

    def names(self) -> list[str]:
        return sorted(set(self._items) | set(self.modules))

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self.modules

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
