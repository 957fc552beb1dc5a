"""What an OpenAI-style answer means: the failure kinds a request can meet, and the completions in a body."""

from __future__ import annotations

from typing import Any

from j1eval.backends.base import merge_top_logprobs
from j1eval.types import Completion

SNIPPET = 200  # characters of an error body kept in a Completion's error


class Retryable(Exception):
    """A failure worth another try (server overloaded, timeout, bad body)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Fatal(Exception):
    """A failure that another try will not fix (HTTP 4xx other than 429)."""


class FewerChoices(Exception):
    """The server answered with fewer choices than ``n``: it ignores ``n``."""


class RequestFailed(Exception):
    """A request that failed for good (after its retries)."""


def retry_after_s(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; None when absent or not a number."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def parse_choices(data: Any, n: int, latency: float) -> list[Completion]:
    """Completions from a chat-completions or completions body; a malformed body raises Retryable."""
    choices = data.get("choices") if isinstance(data, dict) else None
    if isinstance(choices, list) and 0 < len(choices) < n:
        raise FewerChoices(f"{len(choices)} choices for n={n}")
    if not isinstance(choices, list) or len(choices) < n:
        got = len(choices) if isinstance(choices, list) else "no"
        raise Retryable(f"malformed response: {got} choices for n={n}")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    prompt_tokens = usage.get("prompt_tokens")
    total = usage.get("completion_tokens")
    # Usage counts all choices together; with n > 1 each gets an even share.
    shares = [total // n + (k < total % n) for k in range(n)] if isinstance(total, int) else [None] * n
    try:
        ordered = sorted(choices, key=lambda c: int(c.get("index", 0)))
        out = []
        for choice, share in zip(ordered[:n], shares, strict=True):
            content = choice["text"] if "text" in choice else (choice.get("message") or {}).get("content")
            if content is not None and not isinstance(content, str):
                raise TypeError(f"message content is {type(content).__name__}")
            finish = "length" if choice.get("finish_reason") == "length" else "stop"
            top = first_top_logprobs(choice.get("logprobs"))
            out.append(Completion(content or "", finish, prompt_tokens, share, latency, top_logprobs=top))
    except (AttributeError, TypeError, ValueError) as exc:
        raise Retryable(f"malformed response: {exc}") from None
    return out


def first_top_logprobs(logprobs: Any) -> dict[str, float] | None:
    """The first generated position's top tokens from a choice's ``logprobs``, or None.

    Chat completions: ``{"content": [{"token", "logprob", "top_logprobs": [{"token", "logprob"}]}]}``;
    legacy completions: ``{"top_logprobs": [{token: logprob, ...}, ...]}``. Tokens that read
    the same have their probabilities added.
    """
    if not isinstance(logprobs, dict):
        return None
    pairs: list[tuple[Any, Any]] = []
    content = logprobs.get("content")
    legacy = logprobs.get("top_logprobs")
    if isinstance(content, list) and content and isinstance(content[0], dict):
        first = content[0]
        entries = first.get("top_logprobs") or [first]
        pairs = [(e.get("token"), e.get("logprob")) for e in entries if isinstance(e, dict)]
    elif isinstance(legacy, list) and legacy and isinstance(legacy[0], dict):
        pairs = list(legacy[0].items())
    valid = [
        (token, float(logprob))
        for token, logprob in pairs
        if isinstance(token, str) and isinstance(logprob, int | float) and not isinstance(logprob, bool)
    ]
    top = merge_top_logprobs(valid)
    return top or None
