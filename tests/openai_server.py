"""A real local HTTP server speaking the OpenAI chat-completions API, with fault injection.

It answers deterministically: ``answer(prompt, sample_index, body)`` (by default a J1
style verdict), cut to ``max_tokens`` words with ``finish_reason="length"``. Token counts
in ``usage`` are word counts. Faults are planned per prompt (the last message's content):

* ``faults[prompt] = ["500", "429", ...]``: the k-th call for that prompt gets the k-th
  fault; later calls are answered normally.
* ``permanent[prompt] = "500"``: every call for that prompt gets the fault.

``retry_after``: when set, 429 and 503 answers carry it as their ``Retry-After`` header.

Fault names: "500", "503", "429", "400", "401", "slow" (sleep ``slow_s`` before
answering), "bad_json" (200 with a non-JSON body), "no_choices" (200 without
``choices``), "drop" (close the connection without an answer).

Prefill and probabilities, as vLLM answers them: with ``continue_final_message`` the
prompt is the last *user* message and the answer continues the assistant's opening;
``/v1/completions`` takes a text ``prompt`` (its key is the whole text). When the body
asks for them (``logprobs``/``top_logprobs`` in chat, an integer ``logprobs`` in
completions) and ``first_logprobs(prompt)`` is given, the first position's top tokens are
returned in the matching shape. ``owned_by`` is what ``/v1/models`` says of the model.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away (a run stopped with Ctrl-C) is no error of the server's: kept quiet."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


DEFAULT_ANSWER = "<think>ok</think> <answer> [[A]] </answer>"

Answer = Callable[[str, int, dict[str, Any]], str]


def default_answer(prompt: str, sample: int, body: dict[str, Any]) -> str:
    return DEFAULT_ANSWER


class FakeOpenAIServer:
    """Serve ``/v1/models`` and ``/v1/chat/completions`` on 127.0.0.1 (a free port)."""

    def __init__(
        self,
        answer: Answer = default_answer,
        *,
        model: str = "judge",
        delay_s: float = 0.0,
        slow_s: float = 2.0,
        api_key: str | None = None,
        owned_by: str = "fake",
        first_logprobs: Callable[[str], dict[str, float]] | None = None,
        honour_n: bool = True,
    ) -> None:
        self.honour_n = honour_n  # False: answer one choice whatever n asks (as some servers do)
        self.answer = answer
        self.owned_by = owned_by
        self.first_logprobs = first_logprobs
        self.model = model
        self.delay_s = delay_s
        self.slow_s = slow_s
        self.api_key = api_key
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.permanent: dict[str, str] = {}
        self.calls: Counter[str] = Counter()  # chat calls per prompt
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.retry_after: str | None = None
        self.call_times: list[float] = []  # time.monotonic() of each chat call
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling ----------------------------------------------------------

    def _next_fault(self, prompt: str) -> str | None:
        with self._lock:
            self.calls[prompt] += 1
            if prompt in self.permanent:
                return self.permanent[prompt]
            plan = self.faults.get(prompt)
            return plan.pop(0) if plan else None

    @staticmethod
    def prompt_of(body: dict[str, Any]) -> str:
        """The text a request is keyed by: the completions prompt, or the last message (the user's, when continued)."""
        if "prompt" in body:
            return str(body["prompt"])
        messages = body["messages"]
        if body.get("continue_final_message") and messages[-1]["role"] == "assistant":
            return messages[-2]["content"]
        return messages[-1]["content"]

    def _logprobs(self, body: dict[str, Any], prompt: str) -> dict[str, Any] | None:
        if self.first_logprobs is None:
            return None
        top = self.first_logprobs(prompt)
        if "prompt" in body:
            return {"top_logprobs": [top]} if isinstance(body.get("logprobs"), int) and body["logprobs"] else None
        if not body.get("logprobs"):
            return None
        k = int(body.get("top_logprobs") or 0)
        best = max(top, key=top.__getitem__)
        entries = [{"token": t, "logprob": v} for t, v in sorted(top.items(), key=lambda kv: -kv[1])[:k]]
        return {"content": [{"token": best, "logprob": top[best], "top_logprobs": entries}]}

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = self.prompt_of(body)
        n = int(body.get("n") or 1) if self.honour_n else 1
        max_tokens = int(body.get("max_tokens") or 1 << 30)
        choices = []
        total = 0
        for k in range(n):
            words = self.answer(prompt, k, body).split(" ")
            finish = "stop"
            if len(words) > max_tokens:
                words, finish = words[:max_tokens], "length"
            total += len(words)
            text = " ".join(words)
            choice: dict[str, Any] = {"index": k, "finish_reason": finish}
            choice.update({"text": text} if "prompt" in body else {"message": {"role": "assistant", "content": text}})
            logprobs = self._logprobs(body, prompt)
            if logprobs is not None:
                choice["logprobs"] = logprobs
            choices.append(choice)
        texts = [body["prompt"]] if "prompt" in body else [m["content"] for m in body["messages"]]
        prompt_tokens = sum(len(t.split()) for t in texts)
        return {
            "id": f"chatcmpl-{len(self.bodies)}",
            "object": "text_completion" if "prompt" in body else "chat.completion",
            "model": body.get("model"),
            "choices": choices,
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": total,
                "total_tokens": prompt_tokens + total,
            },
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
                data = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(status)
                if status in (429, 503) and server.retry_after is not None:
                    self.send_header("Retry-After", server.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if server.api_key is None or self.headers.get("Authorization") == f"Bearer {server.api_key}":
                    return True
                self._send(401, {"error": {"message": "bad api key"}})
                return False

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                if self.path.rstrip("/") == "/v1/models":
                    entry = {"id": server.model, "object": "model", "owned_by": server.owned_by}
                    self._send(200, {"object": "list", "data": [entry]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self._authorised():
                    return
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/v1/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(raw)
                with server._lock:
                    server.bodies.append(body)
                    server.call_times.append(time.monotonic())
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._chat(body)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _chat(self, body: dict[str, Any]) -> None:
                if body.get("model") != server.model:
                    self._send(404, {"error": {"message": f"model {body.get('model')!r} does not exist"}})
                    return
                fault = server._next_fault(server.prompt_of(body))
                if server.delay_s:
                    time.sleep(server.delay_s)
                if fault in ("500", "503", "429", "400", "401"):
                    self._send(int(fault), {"error": {"message": f"injected {fault}"}})
                elif fault == "bad_json":
                    self._send(200, None, raw=b"<html>upstream error</html>")
                elif fault == "no_choices":
                    self._send(200, {"id": "x", "object": "chat.completion"})
                elif fault == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    if fault == "slow":
                        time.sleep(server.slow_s)
                    self._send(200, server._completion(body))

        return Handler
