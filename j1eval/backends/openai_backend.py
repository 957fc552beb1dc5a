"""Any server speaking the OpenAI chat-completions API (vLLM serve, SGLang, TGI, OpenAI).

Options: ``base_url`` (required, e.g. ``http://localhost:8000/v1``), ``api_key`` (default
``$OPENAI_API_KEY`` or "EMPTY"), ``concurrency`` (requests in flight, default 16),
``timeout_s`` (per HTTP request, default 120), ``max_retries`` (default 4), ``backoff_s``
(first retry delay, doubled each retry with jitter, default 1.0), ``backoff_max_s``
(default 30), ``check_models`` (default True: fail early when ``/models`` does not list
the model).

Connection errors, timeouts, HTTP 429 and 5xx, and malformed bodies are retried; other
4xx are not. A request that still fails becomes ``Completion(finish_reason="error")``.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from j1eval.backends import backend
from j1eval.backends.base import Backend, Request
from j1eval.errors import SetupError
from j1eval.types import Completion, Sampling

_SNIPPET = 200  # characters of an error body kept in a Completion's error


class _Retryable(Exception):
    """A failure worth another try (server overloaded, timeout, bad body)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Fatal(Exception):
    """A failure that another try will not fix (HTTP 4xx other than 429)."""


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


@backend("openai")
class OpenAIBackend(Backend):
    """Chat completions over HTTP, ``concurrency`` requests at a time, with retries."""

    def __init__(self, model: str, **options: Any) -> None:
        super().__init__(model, **options)
        try:
            import httpx
        except ImportError:
            raise SetupError("the openai backend needs httpx: pip install httpx") from None
        self._httpx = httpx
        base_url = str(options.get("base_url") or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SetupError(f"openai backend: give a base_url such as http://localhost:8000/v1 (got {base_url!r})")
        self.base_url = base_url
        self.api_key = str(options.get("api_key") or os.environ.get("OPENAI_API_KEY") or "EMPTY")
        self.concurrency = max(1, int(options.get("concurrency", 16)))
        self.timeout_s = float(options.get("timeout_s", 120.0))
        self.max_retries = max(0, int(options.get("max_retries", 4)))
        self.backoff_s = float(options.get("backoff_s", 1.0))
        self.backoff_max_s = float(options.get("backoff_max_s", 30.0))
        self.check_models = bool(options.get("check_models", True))
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=httpx.Timeout(self.timeout_s, connect=min(self.timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
        )
        self._served: dict[str, Any] | None = None
        self._rng = random.Random()
        self._rng_lock = threading.Lock()

    # -- set-up checks -------------------------------------------------------------

    def check_server(self) -> None:
        """Raise SetupError unless the server answers (and, if it lists models, serves this one)."""
        httpx = self._httpx
        try:
            resp = self._client.get("/models", timeout=min(self.timeout_s, 10.0))
        except httpx.HTTPError as exc:
            raise SetupError(
                f"cannot reach OpenAI-compatible server at {self.base_url}: {type(exc).__name__}: {exc}"
            ) from None
        if resp.status_code in (401, 403):
            raise SetupError(
                f"OpenAI-compatible server at {self.base_url} refused the API key (HTTP {resp.status_code})"
            )
        if resp.status_code != 200:
            self._served = {}
            return  # some servers have no /models; the chat requests will tell
        try:
            entries = resp.json().get("data") or []
            served = {str(e["id"]): e for e in entries if isinstance(e, dict) and "id" in e}
        except (ValueError, AttributeError):
            served = {}
        if self.check_models and served and self.model not in served:
            raise SetupError(
                f"model {self.model!r} is not served at {self.base_url}; it serves: {', '.join(sorted(served))}"
            )
        self._served = served

    @property
    def model_revision(self) -> str:
        """The model name, plus the served weights' path when the server reports one (vLLM's ``root``)."""
        if self._served is None:
            self.check_server()
        root = (self._served or {}).get(self.model, {}).get("root")
        return f"{self.model}@{root}" if root and root != self.model else self.model

    # -- generation ----------------------------------------------------------------

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        """Send all requests, ``concurrency`` at a time; ``on_done`` runs in the calling thread."""
        if not requests:
            return []
        self.check_server()
        results: list[list[Completion]] = [[] for _ in requests]
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="j1eval-openai")
        try:
            futures: dict[Future[list[Completion]], int] = {
                pool.submit(self._request, r, sampling, n): i for i, r in enumerate(requests)
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    i = futures[future]
                    results[i] = future.result()
                    if on_done is not None:
                        on_done(i, results[i])
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return results

    def _body(self, request: Request, sampling: Sampling, n: int) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [dict(m) for m in request.prompt.messages],
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "n": n,
            "seed": sampling.seed,
        }

    def _request(self, request: Request, sampling: Sampling, n: int) -> list[Completion]:
        """One request with retries; never raises."""
        greedy = sampling.temperature <= 0
        asked = 1 if greedy else n  # greedy samples are all the same: ask once
        body = self._body(request, sampling, asked)
        start = time.perf_counter()
        attempts = self.max_retries + 1
        error = ""
        for attempt in range(attempts):
            try:
                completions = self._post(body, asked, sampling.max_tokens, start)
                return completions * n if greedy else completions
            except _Fatal as exc:
                error = str(exc)
                break
            except _Retryable as exc:
                error = str(exc)
                if attempt + 1 < attempts:
                    time.sleep(self._delay(attempt, exc.retry_after))
            except Exception as exc:  # a bug or an odd failure must not end the run
                error = f"{type(exc).__name__}: {exc}"
                break
        else:
            error = f"{error} (after {attempts} attempts)"
        return [Completion("", "error", latency_s=time.perf_counter() - start, error=error)] * n

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        with self._rng_lock:
            jitter = self._rng.uniform(0.5, 1.0)
        delay = min(self.backoff_max_s, self.backoff_s * 2**attempt) * jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max_s))
        return delay

    def _post(self, body: dict[str, Any], n: int, max_tokens: int, start: float) -> list[Completion]:
        httpx = self._httpx
        try:
            resp = self._client.post("/chat/completions", json=body)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout after {self.timeout_s:g} s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection error: {type(exc).__name__}: {exc}") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}: {resp.text[:_SNIPPET]}", _retry_after(resp.headers.get("retry-after")))
        if status >= 400:
            raise _Fatal(f"HTTP {status}: {resp.text[:_SNIPPET]}")
        try:
            data = resp.json()
        except ValueError:
            raise _Retryable(f"malformed response: not JSON: {resp.text[:_SNIPPET]!r}") from None
        return self._parse(data, n, time.perf_counter() - start)

    @staticmethod
    def _parse(data: Any, n: int, latency: float) -> list[Completion]:
        """Completions from a chat-completions body; a malformed body raises _Retryable."""
        choices = data.get("choices") if isinstance(data, dict) else None
        if not isinstance(choices, list) or len(choices) < n:
            got = len(choices) if isinstance(choices, list) else "no"
            raise _Retryable(f"malformed response: {got} choices for n={n}")
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        prompt_tokens = usage.get("prompt_tokens")
        total = usage.get("completion_tokens")
        # Usage counts all choices together; with n > 1 each gets an even share.
        shares = [total // n + (k < total % n) for k in range(n)] if isinstance(total, int) else [None] * n
        try:
            ordered = sorted(choices, key=lambda c: int(c.get("index", 0)))
            out = []
            for choice, share in zip(ordered[:n], shares, strict=True):
                content = (choice.get("message") or {}).get("content")
                if content is not None and not isinstance(content, str):
                    raise TypeError(f"message content is {type(content).__name__}")
                finish = "length" if choice.get("finish_reason") == "length" else "stop"
                out.append(Completion(content or "", finish, prompt_tokens, share, latency))
        except (AttributeError, TypeError, ValueError) as exc:
            raise _Retryable(f"malformed response: {exc}") from None
        return out

    def close(self) -> None:
        self._client.close()
