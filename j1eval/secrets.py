"""Secrets (API keys, tokens) never reach a file or a line the project writes.

An option is secret when its backend declares it so (``Option(..., secret=True)``) or its name
says so: ``api_key``, any ``*_key``, anything with ``token`` (not ``tokenizer`` or ``max_tokens``),
``secret`` or ``password`` in it.
Its value is remembered when options are parsed or a manifest is built, and :func:`redact`
replaces every remembered value (and the password of a ``scheme://user:password@host`` URL) with
``***`` in text about to be written or printed; :func:`redact_argv` also blanks the value of
every secret-named ``KEY=VALUE`` argument, so a command recorded before its options were
parsed is safe too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
_SECRET_NAME = re.compile(r"(?:_|^api)key$|token(?!izer|s)|secret|passw", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\w+://[^/\s:@]*:)[^/\s@]+@")
_KEY_VALUE = re.compile(r"^(-*[A-Za-z0-9_.-]+)=(.+)$", re.DOTALL)
_VALUES: set[str] = set()


def is_secret(name: str, option: Any = None) -> bool:
    """Whether option ``name`` (declared as ``option``, a backend ``Option``) holds a secret."""
    return bool(getattr(option, "secret", False)) or bool(_SECRET_NAME.search(name.lstrip("-")))


def remember(options: Mapping[str, Any], declared: Mapping[str, Any] | None = None) -> None:
    """Note the values of the secret options among ``options``, for :func:`redact`."""
    for key, value in options.items():
        if is_secret(key, (declared or {}).get(key)) and isinstance(value, str) and value:
            _VALUES.add(value)


def redact(text: str) -> str:
    """``text`` with every remembered secret and every URL password replaced by ``***``."""
    for value in sorted(_VALUES, key=len, reverse=True):
        text = text.replace(value, MASK)
    return _URL_PASSWORD.sub(rf"\1{MASK}@", text)


def redact_argv(argv: Iterable[Any]) -> list[str]:
    """A command line with the values of secret ``KEY=VALUE`` arguments (and of remembered secrets) hidden."""
    out: list[str] = []
    for arg in map(str, argv):
        match = _KEY_VALUE.match(arg)
        if match and is_secret(match.group(1)):
            arg = f"{match.group(1)}={MASK}"
        out.append(redact(arg))
    return out


def redact_value(value: Any) -> Any:
    """A JSON-like value with :func:`redact` applied to its strings, and secret-named keys' values hidden."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and isinstance(v, str) and v and is_secret(k) else redact_value(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def remembered() -> bool:
    """Whether any secret value has been noted in this process."""
    return bool(_VALUES)
