"""A real local HTTP server speaking the OpenAI chat-completions API, with fault injection.

It answers deterministically: ``answer(prompt, sample_index, body)`` (by default a J1
style verdict), cut to ``max_tokens`` words with ``finish_reason="length"``. Token counts
in ``usage`` are word counts. Faults are planned per prompt (the last message's content):

* ``faults[prompt] = ["500", "429", ...]``: the k-th call for that prompt gets the k-th
  fault; later calls are answered normally.
* ``permanent[prompt] = "500"``: every call for that prompt gets the fault.

Fault names: "500", "503", "429", "400", "401", "slow" (sleep ``slow_s`` before
answering), "bad_json" (200 with a non-JSON body), "no_choices" (200 without
``choices``), "drop" (close the connection without an answer).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
    ) -> None:
        self.answer = answer
        self.model = model
        self.delay_s = delay_s
        self.slow_s = slow_s
        self.api_key = api_key
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.permanent: dict[str, str] = {}
        self.calls: Counter[str] = Counter()  # chat calls per prompt
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
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

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        messages = body["messages"]
        prompt = messages[-1]["content"]
        n = int(body.get("n") or 1)
        max_tokens = int(body.get("max_tokens") or 1 << 30)
        choices = []
        total = 0
        for k in range(n):
            words = self.answer(prompt, k, body).split(" ")
            finish = "stop"
            if len(words) > max_tokens:
                words, finish = words[:max_tokens], "length"
            total += len(words)
            choices.append(
                {"index": k, "message": {"role": "assistant", "content": " ".join(words)}, "finish_reason": finish}
            )
        prompt_tokens = sum(len(m["content"].split()) for m in messages)
        return {
            "id": f"chatcmpl-{len(self.bodies)}",
            "object": "chat.completion",
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
                    self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not self._authorised():
                    return
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(raw)
                with server._lock:
                    server.bodies.append(body)
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
                fault = server._next_fault(body["messages"][-1]["content"])
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
