"""Errors that end a command with one clear line.

Failures of a judge (no verdict, truncated output, a server error on one request)
are *values* recorded on a judgment, never exceptions. Exceptions are for bad input
and broken set-ups, raised early.
"""

from __future__ import annotations


class J1EvalError(Exception):
    """Base class: its message is shown to the user as one line."""

    exit_code = 1


class InputError(J1EvalError):
    """Malformed user input: a data file, a judgments file, a flag value.

    The message names the file, the record (line or index) and the field.
    """

    exit_code = 2

    def __init__(self, message: str, *, path: object = None, record: object = None, field: str | None = None):
        parts = []
        if path is not None:
            parts.append(str(path))
        if record is not None:
            parts.append(f"record {record}")
        if field is not None:
            parts.append(f"field '{field}'")
        prefix = ": ".join([", ".join(parts)]) if parts else ""
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.record = record
        self.field = field


class DataNotFoundError(J1EvalError):
    """A benchmark's data could be found neither locally nor at its official source."""

    exit_code = 2


class SetupError(J1EvalError):
    """A broken set-up: a missing model file, an unreachable server, a missing package."""

    exit_code = 1


def one_line(text: object, limit: int = 240) -> str:
    """``text`` on one line (white space runs collapsed), shortened to ``limit`` characters.

    An exception reads as ``"TypeName: message"`` (only the type name when it has no message).
    """
    if isinstance(text, BaseException):
        message = " ".join(str(text).split())
        text = f"{type(text).__name__}: {message}" if message else type(text).__name__
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
