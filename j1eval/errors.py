"""Errors that end a command with one clear line.

Failures of a judge (no verdict, truncated output, a server error on one request)
are *values* recorded on a judgment, never exceptions. Exceptions are for bad input
and broken set-ups, raised early.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from j1eval.escape import plain


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


def check_seed(value: int) -> int:
    """A ``--seed`` is a whole number from 0 to 2**32-1 (what numpy's generators take): else one line, exit 2."""
    if not 0 <= value < 2**32:
        raise InputError(f"--seed must be from 0 to 2**32-1, got {value}")
    return value


def guarded(command: Callable[[], int], interrupted: str, *, brief_bugs: bool = False) -> int:
    """Run a command: a J1EvalError ends it with one line and its exit code; Ctrl-C with ``interrupted``, 130.

    An OS error that no layer turned into a J1EvalError (a folder that cannot be written)
    is one line too, exit 1. With ``brief_bugs``, so is any other exception: one line,
    the traceback kept in a file for a bug report ($J1EVAL_TRACEBACK=1 prints it instead).
    """
    from j1eval.secrets import redact  # every line printed here hides API keys

    try:
        return command()
    except J1EvalError as exc:
        print(redact(f"error: {plain(exc)}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # a run's own message says what is kept and the command that resumes
        print(redact(f"interrupted: {plain(exc) or interrupted}"), file=sys.stderr)
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(redact(f"error: {plain(where)}{plain(exc.strerror or exc)}"), file=sys.stderr)
        return 1
    except Exception as exc:
        if not brief_bugs or os.environ.get("J1EVAL_TRACEBACK"):
            raise
        line = f"error: unexpected {type(exc).__name__}: {plain(exc)[:300]} ({_keep_traceback()})"
        print(redact(line), file=sys.stderr)
        return 1


def _keep_traceback() -> str:
    """Write the current exception's traceback to a file; where, in words."""
    import tempfile
    import traceback

    from j1eval.secrets import redact, redact_argv

    try:
        fd, path = tempfile.mkstemp(prefix="j1eval-traceback-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(redact(" ".join(redact_argv(sys.argv)) + "\n\n" + traceback.format_exc()))
    except OSError:
        return "a bug in j1eval: rerun with J1EVAL_TRACEBACK=1 and report it"
    return f"a bug in j1eval: please report it with the traceback in {path}"
