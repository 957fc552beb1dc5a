"""Data parallelism on one node for the vLLM backend: D engines, one process each, fed whole pairs.

``--backend-option data_parallel_size=D`` (or the GPU plan's default, see
:mod:`j1eval.backends.vllm_parallel`) starts D worker processes, each holding one vLLM engine
of ``tensor_parallel_size`` devices: on GPUs each sees only its own slice of the node's devices
(``CUDA_VISIBLE_DEVICES``), on the CPU each binds its threads to its own share of the cores.
The engines are independent, which for a dense model is what vLLM's data parallelism is too;
a mixture-of-experts judge that wants expert parallelism across ranks is served by
``vllm serve --data-parallel-size D`` and the HTTP backend instead.

Every pair (both orders, both parts) goes to one replica, so its orders share that engine's
prefix cache; pairs are dealt out so every replica gets the same number of requests. Each worker
steps its engine and sends every request back the moment it finishes, so judgments reach the
store as they complete, exactly as with one engine. Workers die with the driver (Linux's
parent-death signal, and a closed pipe elsewhere); a replica that dies stops the run with the
command that resumes it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing import connection, get_context
from typing import Any

from j1eval.backends._vllm_engine import bind_list, parse_bind_list
from j1eval.backends.base import BackendDied, Request
from j1eval.errors import InputError, J1EvalError, SetupError
from j1eval.types import Completion, Sampling

#: Seconds to wait for a replica's engine to start (vLLM's import and load, several engines at once).
START_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class ReplicaSlot:
    """What replica ``index`` runs on: its environment and the options its backend gets."""

    index: int
    env: dict[str, str]
    options: dict[str, Any]


def split_cores(bind: str, parts: int) -> list[str]:
    """A core list (``0-3``, ``0,2-5``) cut into ``parts`` contiguous shares, as bind lists."""
    try:
        cores = parse_bind_list(bind)
    except ValueError:
        raise InputError(f"--backend-option cpu_threads_bind: {bind!r} is not a core list like 0-3 or 0,2-5") from None
    if parts > len(cores):
        raise InputError(
            f"data_parallel_size {parts}: more replicas than the {len(cores)} CPU core(s) they may use ({bind})"
        )
    share, extra = divmod(len(cores), parts)
    out, start = [], 0
    for i in range(parts):
        size = share + (1 if i < extra else 0)
        out.append(bind_list(cores[start : start + size]))
        start += size
    return out


def visible_gpus() -> list[str]:
    """The GPU ids this process may use (``CUDA_VISIBLE_DEVICES``, else every device torch sees)."""
    given = os.environ.get("CUDA_VISIBLE_DEVICES")
    if given is not None:
        return [g.strip() for g in given.split(",") if g.strip()]
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def replica_slots(options: dict[str, Any], device: str, tp: int, dp: int, cores: str) -> list[ReplicaSlot]:
    """One slot per replica: disjoint GPUs (``tp`` each) or disjoint CPU cores; InputError if they do not fit."""
    base = {k: v for k, v in options.items() if k not in ("data_parallel_size", "keep_engine")}
    base["tensor_parallel_size"] = tp
    if device == "cpu":
        shares = split_cores(str(options.get("cpu_threads_bind", cores)), dp)
        return [ReplicaSlot(i, {}, {**base, "cpu_threads_bind": share}) for i, share in enumerate(shares)]
    gpus = visible_gpus()
    if tp * dp > len(gpus):
        raise InputError(
            f"tensor_parallel_size {tp} x data_parallel_size {dp} = {tp * dp} devices, "
            f"over the {len(gpus)} {device} device(s) visible"
        )
    return [
        ReplicaSlot(i, {"CUDA_VISIBLE_DEVICES": ",".join(gpus[i * tp : (i + 1) * tp])}, dict(base)) for i in range(dp)
    ]


def deal_pairs(requests: Sequence[Request], replicas: int) -> list[list[int]]:
    """Request indices per replica: whole pairs, each to the replica with the fewest requests so far."""
    by_pair: dict[tuple[str, str], list[int]] = {}
    for i, request in enumerate(requests):
        by_pair.setdefault((request.pair.bench, request.pair.pair_id), []).append(i)
    shares: list[list[int]] = [[] for _ in range(replicas)]
    for indices in by_pair.values():
        min(shares, key=len).extend(indices)
    return shares


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies (a SIGKILLed driver leaves no engines behind)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _worker(model: str, slot: ReplicaSlot, conn: Any) -> None:
    """A replica's process: build one engine, then judge what the driver sends, reporting each request as it ends."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's: it closes the replicas
    os.environ.update(slot.env)
    from j1eval.backends import get_backend_class

    try:
        backend = get_backend_class("vllm")(model, **slot.options)
    except J1EvalError as exc:
        conn.send(("error", type(exc).__name__, str(exc)))
        return
    conn.send(("ready", {"pid": os.getpid(), **slot.env, **backend.engine_info}))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            break
        if message[0] == "close":
            break
        _, requests, sampling, n = message
        try:
            backend.generate(requests, sampling, n, on_done=lambda i, done: conn.send(("done", i, done)))
            conn.send(("end",))
        except J1EvalError as exc:
            conn.send(("error", type(exc).__name__, str(exc)))
            break
    backend.close()


class VLLMReplicas:
    """D vLLM engines in worker processes, used by :class:`~j1eval.backends.vllm_backend.VLLMBackend`."""

    def __init__(self, model: str, slots: list[ReplicaSlot]) -> None:
        context = get_context("spawn")  # never fork a process that has imported torch
        self.model = model
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.infos: list[dict[str, Any]] = []
        self._busy = False
        try:
            for slot in slots:
                ours, theirs = context.Pipe()
                proc = context.Process(target=_worker, args=(model, slot, theirs), daemon=True)
                proc.start()
                theirs.close()
                self.conns.append(ours)
                self.procs.append(proc)
            self.infos = [self._ready(i) for i in range(len(slots))]
        except BaseException:
            self.close()
            raise
        print(
            f"vllm: {len(slots)} replicas started (pids {', '.join(str(p.pid) for p in self.procs)})", file=sys.stderr
        )

    def _ready(self, index: int) -> dict[str, Any]:
        conn = self.conns[index]
        if not conn.poll(START_TIMEOUT_S):
            raise SetupError(f"vLLM replica {index} of {self.model!r} did not start within {START_TIMEOUT_S:g} s")
        try:
            message = conn.recv()
        except EOFError:
            code = self.procs[index].exitcode
            raise SetupError(
                f"vLLM replica {index} of {self.model!r} exited while starting (exit code {code})"
            ) from None
        if message[0] == "error":
            raise SetupError(message[2])
        return message[1]

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int,
        on_done: Callable[[int, list[Completion]], None],
    ) -> None:
        """Deal ``requests`` out by pair and hand each finished one to ``on_done`` (global index)."""
        shares = deal_pairs(requests, len(self.conns))
        self._busy = True  # until every replica has ended: close() then kills rather than waits
        running: dict[Any, int] = {}
        for r, share in enumerate(shares):
            if share:
                self.conns[r].send(("generate", [requests[i] for i in share], sampling, n))
                running[self.conns[r]] = r
        while running:
            for conn in connection.wait(list(running)):
                r = running[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    self.procs[r].join(5)
                    code = self.procs[r].exitcode
                    raise BackendDied(f"vLLM replica {r} of {self.model!r} died (exit code {code})") from None
                if message[0] == "done":
                    on_done(shares[r][message[1]], message[2])
                elif message[0] == "end":
                    del running[conn]
                else:
                    kind, text = message[1], message[2]
                    raise BackendDied(text) if kind == "BackendDied" else SetupError(text)
        self._busy = False

    def close(self) -> None:
        """Ask each replica to close its engine; end any that does not within 30 s (at once mid-run)."""
        busy = getattr(self, "_busy", False)
        for conn in self.conns:
            with contextlib.suppress(Exception):
                conn.send(("close",))
        for proc in self.procs:
            proc.join(0 if busy else 30)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
        for conn in self.conns:
            conn.close()
        self.conns, self.procs = [], []
