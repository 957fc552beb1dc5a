"""Resumable generation for builders, on j1eval's backends and store (as ``j1train data`` does it).

Each generation (N completions of one prompt) is one record of ``DIR/<role>/judgments.jsonl``
(j1eval's append-only :class:`~j1eval.store.judgments.JudgmentStore`), under a cache key of the model's
identity, the stage and the exact prompt. A build killed at any moment loses at most the
generations in flight; a rerun reuses every finished one and retries backend failures.
A generator and a checker on the same model and options share one loaded backend.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from j1eval.backends import Backend, Request, get_backend_class
from j1eval.errors import InputError
from j1eval.judges import JudgeSpec
from j1eval.judging.jobs import messages_json
from j1eval.store.judgments import BACKEND_ERROR, JudgmentStore, latest_records
from j1eval.types import Completion, Pair, Prompt


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Step:
    """One generation to make: ``n`` completions of ``text`` (a user message) for ``item_id`` at ``stage``."""

    stage: str
    item_id: str
    text: str
    n: int = 1

    @property
    def prompt(self) -> Prompt:
        return Prompt.user(self.text)


class BackendPool:
    """Backends started on first use, one per (backend, model, options)."""

    def __init__(self) -> None:
        self._started: dict[str, Backend] = {}

    def get(self, spec: JudgeSpec) -> Backend:
        key = json.dumps([spec.backend, spec.model, dict(spec.options)], sort_keys=True, default=str)
        if key not in self._started:
            self._started[key] = get_backend_class(spec.backend)(spec.model, **spec.options)
        return self._started[key]

    def close(self) -> None:
        for backend in self._started.values():
            backend.close()
        self._started.clear()


class Generator:
    """A model behind a j1eval backend, with every finished generation kept in ``out_dir/role/``."""

    def __init__(
        self, spec: JudgeSpec, out_dir: Path, role: str, template_hash: str, pool: BackendPool, progress: bool = True
    ) -> None:
        self.spec = spec
        self.out_dir = out_dir
        self.role = role
        self.identity = json.dumps({**spec.identity(), "template_hash": template_hash}, sort_keys=True)
        self.pool = pool
        self.progress = progress
        self.store = JudgmentStore(out_dir / role)
        self.done: dict[str, dict[str, Any]] = {}
        self._backend: Backend | None = None
        self.model_revision: str | None = None
        self.n_generated = 0
        self.n_reused = 0

    def open(self, previous_identity: Any = None, previous_revision: str | None = None) -> Generator:
        """Open the store; refuse a folder that holds another set-up's generations for this role."""
        mine = json.loads(self.identity)
        if previous_identity is not None and previous_identity != mine:
            raise InputError(
                f"{self.out_dir} holds a build with another {self.role} set-up ({previous_identity.get('name')}, "
                f"model {previous_identity.get('model')}); rerun with its flags, or pass a different --out"
            )
        self.model_revision = previous_revision
        self.store.open()
        for rec in latest_records(self.store.records()):
            if rec.get("failure") != BACKEND_ERROR and "key" in rec:
                self.done[rec["key"]] = rec
        return self

    def key(self, step: Step) -> str:
        messages = messages_json(step.prompt.messages)  # the text run's prompt hash is taken of, too
        return text_hash(json.dumps([self.identity, step.stage, step.n, messages]))

    def backend(self) -> Backend:
        """The backend, started on first use (a model that cannot start fails here, in one line)."""
        if self._backend is None:
            backend = self.pool.get(self.spec)
            revision = backend.model_revision  # the HTTP backend checks the server here
            if self.model_revision and self.model_revision != revision:
                raise InputError(
                    f"{self.out_dir} holds {self.role} of model revision {self.model_revision}, now {revision}; "
                    "pass a different --out"
                )
            self.model_revision = revision
            self._backend = backend
        return self._backend

    def run(self, steps: Sequence[Step], desc: str) -> dict[str, dict[str, Any]]:
        """The stored record of each step (by key), generating the missing ones."""
        from tqdm import tqdm

        keyed = {self.key(s): s for s in steps}
        pending = [(k, s) for k, s in keyed.items() if k not in self.done]
        self.n_reused += len(keyed) - len(pending)
        if pending:
            backend = self.backend()
            bar = tqdm(
                total=len(keyed),
                initial=len(keyed) - len(pending),
                desc=desc,
                unit="gen",
                disable=not self.progress,
                dynamic_ncols=True,
                file=sys.stderr,
            )
            try:
                for n in sorted({s.n for _, s in pending}):
                    group = [(k, s) for k, s in pending if s.n == n]
                    step = backend.requests_per_call or len(group)  # as many as the backend takes per call
                    for start in range(0, len(group), step):
                        chunk = group[start : start + step]
                        requests = [
                            Request(s.prompt, Pair(s.item_id, "build", s.stage, s.text, "", "", 1), "ab")
                            for _, s in chunk
                        ]

                        def done(i: int, comps: list[Completion], chunk=chunk) -> None:
                            self._store(*chunk[i], comps)
                            bar.update(1)

                        backend.generate(requests, self.spec.sampling, n=n, on_done=done)
            finally:
                bar.close()
        return {k: self.done[k] for k in keyed if k in self.done}

    def failed(self, steps: Sequence[Step]) -> list[dict[str, Any]]:
        """Stored backend failures of ``steps`` that no later generation replaced."""
        wanted = {self.key(s) for s in steps} - set(self.done)
        return [rec for rec in latest_records(self.store.records()) if rec.get("key") in wanted]

    def _store(self, key: str, step: Step, comps: list[Completion]) -> None:
        errors = [c.error or "backend error" for c in comps if c.finish_reason == "error"]
        rec = {
            "key": key,
            "stage": step.stage,
            "item_id": step.item_id,
            "prompt_hash": text_hash(step.text),
            "texts": [c.text for c in comps],
            "finish_reasons": [c.finish_reason for c in comps],
            "completion_tokens": [c.completion_tokens for c in comps],
            "model": self.spec.name,
            "model_revision": self.model_revision,
            "failure": BACKEND_ERROR if errors else None,
            "error": errors[0] if errors else None,
        }
        self.store.append([rec])
        if not errors:
            self.done[key] = rec
            self.n_generated += 1

    def close(self) -> None:
        self._backend = None
        self.store.close()
