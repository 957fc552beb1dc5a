"""What a backend provides: completions for a batch of judge prompts."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from j1eval.errors import InputError, SetupError
from j1eval.types import Completion, Order, Pair, Prompt, Sampling

#: How many of the most likely first tokens a prefilled prompt returns (the OpenAI API's maximum).
TOP_LOGPROBS = 20


def merge_top_logprobs(entries: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Token text -> log-probability; tokens that read the same (several ids) have their probabilities added."""
    top: dict[str, float] = {}
    for text, value in entries:
        if text in top:  # log(exp(a) + exp(b)), safe for very negative values
            high, low = max(top[text], value), min(top[text], value)
            value = high + math.log1p(math.exp(low - high))
        top[text] = value
    return top


@dataclass(frozen=True)
class Option:
    """A backend option (``--backend-option KEY=VALUE``): its type and the values it takes."""

    kind: type  # int, float, bool or str
    help: str = ""
    minimum: float | None = None
    above: float | None = None  # exclusive lower bound
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False  # an API key or token: redacted wherever j1eval writes or prints (j1eval.secrets)
    url: bool = False  # an http(s) URL, checked here (a malformed one is one line, not an httpx error)
    #: Changes how requests are sent, not what the judge answers (a timeout, a batch size, a
    #: server's address): left out of the judge's identity, so changing it keeps a run resumable.
    operational: bool = False

    def check(self, key: str, value: Any) -> Any:
        """``value`` in this option's type, or InputError naming the option (a secret's value is noted)."""
        from j1eval import secrets

        secrets.remember({key: value}, {key: self})
        where = f"--backend-option {key}"
        if self.kind is bool:
            if not isinstance(value, bool):
                raise InputError(f"{where}: expected true or false, got {value!r}")
            return value
        if self.kind is str:
            if not isinstance(value, str):
                raise InputError(f"{where}: expected text, got {value!r}")
            if self.url:
                from j1eval.judging.checks import check_url

                check_url(value, where)
            if self.choices and value not in self.choices:
                raise InputError(f"{where}: expected one of {', '.join(self.choices)}, got {value!r}")
            return value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if self.kind is int:
            if not number or not float(value).is_integer():
                raise InputError(f"{where}: expected a whole number, got {value!r}")
            value = int(value)
        elif not number or not math.isfinite(value):
            raise InputError(f"{where}: expected a number, got {value!r}")
        else:
            value = float(value)
        if self.minimum is not None and value < self.minimum:
            raise InputError(f"{where}: must be at least {self.minimum:g}, got {value!r}")
        if self.above is not None and value <= self.above:
            raise InputError(f"{where}: must be above {self.above:g}, got {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise InputError(f"{where}: must be at most {self.maximum:g}, got {value!r}")
        return value


@dataclass(frozen=True)
class Request:
    """One prompt to send: a (pair, order) prompt, or one part of a pointwise pair."""

    prompt: Prompt
    pair: Pair
    order: Order
    part: int = 0  # pointwise formats: 0 = slot A's response, 1 = slot B's


class Backend:
    """Base class of a backend. Subclasses register with ``@backend(name)``.

    ``generate`` returns, for each request, ``n`` completions. A failure on one
    request is returned as a Completion with ``finish_reason="error"`` and ``error``
    set; exceptions are for broken set-ups (missing model, unreachable server).
    ``on_done``, when given, is called with (index, completions) as each request
    finishes, so the runner can store results as they arrive.
    """

    name = ""
    #: The options this backend takes; any other ``--backend-option`` is refused before work starts.
    OPTIONS: ClassVar[Mapping[str, Option]] = {}
    #: The formats whose outputs this backend can give (None: any).
    FORMATS: ClassVar[tuple[str, ...] | None] = None
    #: Requests the runner hands over per ``generate`` call (None: every pending request at once,
    #: so that the backend batches or schedules across the whole run). ``on_done`` reports each
    #: request as it finishes either way, so judgments are stored and counted as they complete.
    requests_per_call: ClassVar[int | None] = None

    def __init__(self, model: str, **options: object) -> None:
        self.model = model
        self.options = options

    @property
    def model_revision(self) -> str:
        """An identifier of the exact weights (hash or revision); part of the cache key."""
        return self.model

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release resources (GPU memory, HTTP sessions)."""


class BackendDied(SetupError):
    """The backend can answer no more requests (a vLLM engine that died mid-run).

    Raised after the requests in flight were handed to ``on_done`` as error completions, so they
    are stored as ``backend_error`` and a rerun retries them; the run stops at once.
    """


def parse_backend_options(items: list[str]) -> dict[str, Any]:
    """``--backend-option KEY=VALUE`` pairs; a value is read as JSON when it parses (numbers, booleans)."""
    options: dict[str, Any] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        if not eq or not key:
            raise InputError(f"--backend-option {item!r}: expected KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    from j1eval.secrets import remember

    remember(options)  # secret-named values (api_key=...): hidden in every file and line written
    return options
