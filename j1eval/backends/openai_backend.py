"""Any server speaking the OpenAI chat-completions API (vLLM serve, SGLang, TGI, OpenAI).

Options: ``base_url`` (required, e.g. ``http://localhost:8000/v1``), ``api_key`` (default
``$OPENAI_API_KEY`` or "EMPTY"), ``concurrency`` (requests in flight, default 16),
``connect_timeout_s`` (default 5), ``timeout_s`` (how long one attempt waits for its
answer; default from the token limit: 30 s + 0.05 s per ``max_tokens``, so 30 s for a
direct verdict and about 4 minutes for 4,096 tokens), ``max_retries`` (default 4),
``backoff_s`` (first retry delay, doubled each retry with jitter, default 1.0),
``backoff_max_s`` (default 30), ``check_models`` (default True: fail early when
``/models`` does not list the model).

Connection errors, timeouts, HTTP 429 and 5xx, and malformed bodies are retried; other
4xx are not. A request that still fails becomes ``Completion(finish_reason="error")``.

Prefilled prompts (a prompt ending in an assistant message, e.g. ``direct-verdict``'s
``<answer> [[``) also ask for the first token's ``top_logprobs``. Option ``prefill`` says
how the server continues the assistant's turn: ``chat`` sends the messages with
``continue_final_message`` (vLLM, SGLang); ``completions`` renders the chat template
here (``tokenizer``: a local tokenizer folder, default the model name when it is one)
and sends the text to ``/completions``, which any server with that endpoint continues;
``auto`` (default) picks ``chat`` for servers whose ``/models`` say vLLM or SGLang, else
``completions`` when a tokenizer is at hand, else stops with one line saying what to
pass. A server that returns no log-probabilities gives verdicts read from the text
(no ``p_a``). A server that ignores ``n`` (fewer choices than asked) gets one request
per sample from then on, with seeds ``seed + k``.
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from j1eval.backends import backend
from j1eval.backends._http import (
    SNIPPET,
    Fatal,
    FewerChoices,
    RequestFailed,
    Retryable,
    parse_choices,
    retry_after_s,
)
from j1eval.backends.base import TOP_LOGPROBS, Backend, Option, Request
from j1eval.errors import SetupError
from j1eval.types import Completion, Sampling

#: Default timeouts: a connection is made in seconds or not at all; an answer takes longer the more
#: tokens it may have (a server generating at 20 tokens/s answers 4,096 tokens in 205 s) and the
#: more prompt it must read first: its own and, on a loaded server, those of the other requests in
#: flight (a 2-core CPU server reads ~500 prompt tokens/s; prompt tokens are estimated as chars / 4).
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_BASE_S = 30.0
READ_TIMEOUT_PER_TOKEN_S = 0.05
READ_TIMEOUT_PER_PROMPT_TOKEN_S = 0.002
CHARS_PER_TOKEN = 4
#: ``/models`` answers at once when the server is up.
MODELS_TIMEOUT_S = 10.0


def read_timeout(max_tokens: int, prompt_chars: int = 0, in_flight: int = 1) -> float:
    """How long one attempt waits for its answer by default.

    30 s + 0.05 s per token it may generate + 0.002 s per prompt token (chars / 4) of each of the
    ``in_flight`` requests the server may be reading at once (16 prompts of 1,800 tokens: +58 s).
    """
    prompt_tokens = max(0, prompt_chars) / CHARS_PER_TOKEN
    return (
        READ_TIMEOUT_BASE_S
        + READ_TIMEOUT_PER_TOKEN_S * max(0, max_tokens)
        + READ_TIMEOUT_PER_PROMPT_TOKEN_S * prompt_tokens * max(1, in_flight)
    )


#: ``/models`` owners whose chat endpoint honours ``continue_final_message``.
PREFILL_CHAT_SERVERS = ("vllm", "sglang")
PREFILL_MODES = ("auto", "chat", "completions")


@backend("openai")
class OpenAIBackend(Backend):
    """Chat completions over HTTP, ``concurrency`` requests at a time, with retries."""

    OPTIONS = {
        "base_url": Option(str, "the server's API root, e.g. http://localhost:8000/v1", url=True, operational=True),
        "api_key": Option(str, "bearer token (default $OPENAI_API_KEY)", secret=True, operational=True),
        "concurrency": Option(int, "requests in flight", minimum=1, operational=True),
        "connect_timeout_s": Option(float, "seconds to connect", above=0, operational=True),
        "timeout_s": Option(float, "seconds one attempt waits for its answer", above=0, operational=True),
        "max_retries": Option(int, "retries of a failed request", minimum=0, operational=True),
        "backoff_s": Option(float, "first retry delay", minimum=0, operational=True),
        "backoff_max_s": Option(float, "longest retry delay", minimum=0, operational=True),
        "check_models": Option(bool, "stop early when /models does not list the model", operational=True),
        "prefill": Option(str, "how a prefilled answer is continued", choices=PREFILL_MODES, operational=True),
        "tokenizer": Option(str, "local tokenizer folder for prefill=completions", operational=True),
    }

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
        timeout = options.get("timeout_s")
        self.timeout_s: float | None = None if timeout is None else float(timeout)  # None: from max_tokens
        self.connect_timeout_s = float(options.get("connect_timeout_s", CONNECT_TIMEOUT_S))
        self.max_retries = max(0, int(options.get("max_retries", 4)))
        self.backoff_s = float(options.get("backoff_s", 1.0))
        self.backoff_max_s = float(options.get("backoff_max_s", 30.0))
        self.check_models = bool(options.get("check_models", True))
        self.prefill = str(options.get("prefill", "auto"))
        if self.prefill not in PREFILL_MODES:
            raise SetupError(f"openai backend: prefill must be one of {', '.join(PREFILL_MODES)}, got {self.prefill!r}")
        self.tokenizer_path = str(options.get("tokenizer") or "")
        self._route: str | None = None  # how prefilled prompts are sent, once decided
        self._tokenizer: Any = None
        self._n_ignored = False  # the server ignores n: one request per sample
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=httpx.Timeout(self.timeout_s or READ_TIMEOUT_BASE_S, connect=self.connect_timeout_s),
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
            timeout = min(self.timeout_s or MODELS_TIMEOUT_S, MODELS_TIMEOUT_S)
            resp = self._client.get("/models", timeout=self._httpx.Timeout(timeout, connect=self.connect_timeout_s))
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

    def prefill_route(self) -> str:
        """``chat`` or ``completions``: how this server is sent prompts whose assistant turn is opened."""
        if self._route is not None:
            return self._route
        if self.prefill != "auto":
            self._route = self.prefill
        else:
            if self._served is None:
                self.check_server()
            owner = str((self._served or {}).get(self.model, {}).get("owned_by") or "").lower()
            if owner in PREFILL_CHAT_SERVERS:
                self._route = "chat"
            elif self._local_tokenizer_path():
                self._route = "completions"
            else:
                raise SetupError(
                    f"the server at {self.base_url} does not say it is vLLM or SGLang, so it may not continue a "
                    "prefilled answer (continue_final_message): pass --backend-option tokenizer=PATH (the model's "
                    "tokenizer folder) to send the chat-templated prompt to /completions, or "
                    "--backend-option prefill=chat if the server honours continue_final_message"
                )
        if self._route == "completions":
            self._load_tokenizer()
        return self._route

    def _local_tokenizer_path(self) -> str:
        from pathlib import Path

        for candidate in (self.tokenizer_path, self.model):
            if candidate and Path(candidate).expanduser().is_dir():
                return str(Path(candidate).expanduser())
        return ""

    def _load_tokenizer(self) -> None:
        if self._tokenizer is not None:
            return
        path = self._local_tokenizer_path()
        if not path:
            missing = f" ({self.tokenizer_path} is not a folder)" if self.tokenizer_path else ""
            raise SetupError(
                "openai backend: prefill=completions renders the chat template here; pass "
                f"--backend-option tokenizer=PATH (a local tokenizer folder){missing}"
            )
        try:
            from transformers import AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        except ImportError:
            hint = "pip install 'j1eval[hf]'"
            raise SetupError(f"openai backend: prefill=completions needs transformers: {hint}") from None
        except (OSError, ValueError) as exc:
            raise SetupError(f"openai backend: cannot load the tokenizer in {path}: {exc}") from None
        if not getattr(self._tokenizer, "chat_template", None):
            raise SetupError(f"openai backend: the tokenizer in {path} has no chat template")

    # -- generation ----------------------------------------------------------------

    #: Every pending request in one call: ``concurrency`` of them are in flight at any time.
    requests_per_call = None

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        """Send all requests, ``concurrency`` at a time; ``on_done`` runs in the calling thread as each finishes.

        The requests run on daemon threads: interrupted (Ctrl-C), this returns at once, the
        connections of the requests in flight are closed and none of them is waited for.
        """
        if not requests:
            return []
        self.check_server()
        if any(r.prompt.prefill for r in requests):
            self.prefill_route()  # a server that cannot continue an answer stops the run here, once
        results: list[list[Completion]] = [[] for _ in requests]
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(requests)):
            todo.put(i)
        finished: queue.SimpleQueue[tuple[int, list[Completion]]] = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                finished.put((i, self._request(requests[i], sampling, n)))  # never raises

        for _ in range(min(self.concurrency, len(requests))):
            threading.Thread(target=work, name="j1eval-openai", daemon=True).start()
        try:
            remaining = len(requests)
            while remaining:
                try:
                    i, completions = finished.get(timeout=0.5)  # a timeout keeps Ctrl-C prompt everywhere
                except queue.Empty:
                    continue
                remaining -= 1
                results[i] = completions
                if on_done is not None:
                    on_done(i, completions)
        except BaseException:
            stop.set()
            self._client.close()  # the requests in flight fail at once; their threads end
            raise
        return results

    def _body(self, request: Request, sampling: Sampling, n: int) -> tuple[str, dict[str, Any]]:
        """The endpoint and the JSON body for one request."""
        body: dict[str, Any] = {
            "model": self.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "n": n,
            "seed": sampling.seed,
        }
        if not request.prompt.prefill:
            return "/chat/completions", {**body, "messages": [dict(m) for m in request.prompt.messages]}
        if self.prefill_route() == "chat":
            body.update(
                messages=[dict(m) for m in request.prompt.messages],
                continue_final_message=True,
                add_generation_prompt=False,
                logprobs=True,
                top_logprobs=TOP_LOGPROBS,
            )
            return "/chat/completions", body
        from j1eval.backends.transformers_backend import chat_text

        return "/completions", {**body, "prompt": chat_text(self._tokenizer, request), "logprobs": TOP_LOGPROBS}

    def _request(self, request: Request, sampling: Sampling, n: int) -> list[Completion]:
        """All samples of one request, with retries; never raises."""
        greedy = sampling.temperature <= 0
        asked = 1 if greedy else n  # greedy samples are all the same: ask once
        start = time.perf_counter()
        try:
            if asked > 1 and not self._n_ignored:
                try:
                    return self._attempts(*self._body(request, sampling, asked), asked, start)
                except FewerChoices:
                    self._n_ignored = True  # from now on, one request per sample
            if asked > 1:
                out: list[Completion] = []
                for k in range(asked):
                    one = replace(sampling, seed=sampling.seed + k)
                    out += self._attempts(*self._body(request, one, 1), 1, start)
                return out
            return self._attempts(*self._body(request, sampling, 1), 1, start) * n
        except RequestFailed as exc:
            return [Completion("", "error", latency_s=time.perf_counter() - start, error=str(exc))] * n
        except Exception as exc:  # a bug or an odd failure must not end the run
            error = f"{type(exc).__name__}: {exc}"
            return [Completion("", "error", latency_s=time.perf_counter() - start, error=error)] * n

    def _attempts(self, path: str, body: dict[str, Any], n: int, start: float) -> list[Completion]:
        """One request with retries: ``n`` completions, or RequestFailed."""
        attempts = self.max_retries + 1
        error = ""
        for attempt in range(attempts):
            try:
                return self._post(path, body, n, start)
            except Fatal as exc:
                raise RequestFailed(str(exc)) from None
            except Retryable as exc:
                error = str(exc)
                if attempt + 1 < attempts:
                    time.sleep(self._delay(attempt, exc.retry_after))
        raise RequestFailed(f"{error} (after {attempts} attempts)")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        with self._rng_lock:
            jitter = self._rng.uniform(0.5, 1.0)
        delay = min(self.backoff_max_s, self.backoff_s * 2**attempt) * jitter
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max_s))
        return delay

    def _post(self, path: str, body: dict[str, Any], n: int, start: float) -> list[Completion]:
        httpx = self._httpx
        wait_s = self.timeout_s
        if wait_s is None:
            chars = len(str(body.get("prompt") or "")) + sum(
                len(str(m.get("content") or "")) for m in body.get("messages", [])
            )
            wait_s = read_timeout(int(body.get("max_tokens") or 0), chars, self.concurrency)
        timeout = httpx.Timeout(wait_s, connect=self.connect_timeout_s)
        try:
            resp = self._client.post(path, json=body, timeout=timeout)
        except httpx.ConnectTimeout as exc:
            raise Retryable(f"no connection after {self.connect_timeout_s:g} s ({type(exc).__name__})") from None
        except httpx.TimeoutException as exc:
            raise Retryable(f"timeout after {wait_s:g} s ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise Retryable(f"connection error: {type(exc).__name__}: {exc}") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status}: {resp.text[:SNIPPET]}", retry_after_s(resp.headers.get("retry-after")))
        if status >= 400:
            raise Fatal(f"HTTP {status}: {resp.text[:SNIPPET]}")
        try:
            data = resp.json()
        except ValueError:
            raise Retryable(f"malformed response: not JSON: {resp.text[:SNIPPET]!r}") from None
        return parse_choices(data, n, time.perf_counter() - start)

    def close(self) -> None:
        self._client.close()
