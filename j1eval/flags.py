"""Command-line flags built from a config dataclass's field metadata, so a field and its flag are one thing.

A field takes part when its metadata comes from :func:`flag` (help, flag name, argparse settings); its
default is the field's own, never written twice. :func:`add_flags` adds the flags to a parser and
:func:`values_from` reads them back as that dataclass's keyword arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Collection
from typing import Any

_KEY = "j1eval.flag"


def flag(
    help: str = "",  # noqa: A002 (argparse's own name)
    *,
    name: str | None = None,
    parse: Callable[[Any], Any] | None = None,
    **argparse_settings: Any,
) -> dict[str, Any]:
    """Field metadata: the flag ``name`` (default ``--field-name``), its help and argparse settings
    (``type``, ``choices``, ``required``, ``action``...); ``parse`` turns the parsed value into the field's."""
    return {_KEY: {"name": name, "help": help, "parse": parse, "settings": argparse_settings}}


def _flagged(cls: type) -> list[tuple[dataclasses.Field, dict[str, Any]]]:
    return [(f, f.metadata[_KEY]) for f in dataclasses.fields(cls) if _KEY in f.metadata]


def add_flags(parser: argparse.ArgumentParser, cls: type, only: Collection[str] | None = None) -> None:
    """One flag per flagged field of ``cls`` (or of those named in ``only``), its default the field's default."""
    for field, meta in _flagged(cls):
        if only is not None and field.name not in only:
            continue
        name = meta["name"] or "--" + field.name.replace("_", "-")
        settings = dict(meta["settings"])
        if not settings.get("required") and field.default is not dataclasses.MISSING:
            settings.setdefault("default", field.default)
        parser.add_argument(name, dest=field.name, help=meta["help"] or None, **settings)


def values_from(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The flagged fields of ``cls`` from parsed ``args``: keyword arguments for ``cls``."""
    out = {}
    for field, meta in _flagged(cls):
        value = getattr(args, field.name)
        out[field.name] = meta["parse"](value) if meta["parse"] is not None else value
    return out
