"""The ``ray`` executor: replicas of a judge as Ray actors, fed bundles of whole pairs.

Each replica is a Ray actor holding one j1eval backend (any: baseline, hf, vllm, openai),
built on its node from the judge's backend name, model and options. The driver (the
``j1eval run`` process) keeps the store, the lock and the manifest: :class:`RayReplicas` is a
:class:`~j1eval.backends.Backend`, so :func:`j1eval.judging.generation.generate` drives it exactly as it
drives a local backend, and each bundle's judgments are written as soon as it comes back.
A bundle holds whole pairs, so both orders of a pair (and both slots of a pointwise pair) go
to the same replica and share its prefix cache. Ray's :class:`ray.util.ActorPool` hands the
next bundle to whichever replica is free; nothing here schedules.

Ray Data's LLM processors (``ray.data.llm``) drive vLLM, SGLang or HTTP engines only and need
``ray[llm]``; actors holding j1eval's own backends keep prompts, prefills and log-probabilities
read exactly as on one machine, for every backend.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from j1eval.backends import Backend, Request, get_backend_class
from j1eval.errors import InputError, J1EvalError, SetupError, one_line
from j1eval.judges import JudgeSpec
from j1eval.judging.executors import ExecutorConfig, executor
from j1eval.types import Completion, Sampling

INSTALL_HINT = "pip install 'j1eval[ray]'"
#: Ray's default ports: the GCS of ``ray start --head``, and the Ray Client server (``ray://``).
GCS_PORT, CLIENT_PORT = 6379, 10001
#: The driver's settings that replicas see too (offline hub, j1eval's own switches).
FORWARDED_ENV = ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "TRANSFORMERS_OFFLINE")
#: Backends that need a GPU per replica on a GPU cluster (vLLM: one per tensor-parallel rank).
GPU_BACKENDS = frozenset({"hf", "vllm", "rm"})
#: Largest bundle when the backend states no batch of its own.
MAX_BUNDLE = 256


class Replica:
    """One replica: a j1eval backend built inside a Ray actor (``ray.remote(Replica)``)."""

    def __init__(self, index: int, backend_name: str, model: str, options: dict[str, Any], env: dict[str, str]):
        os.environ.update(env)
        self.index = index
        self.backend: Backend | None = None
        self.error: J1EvalError | None = None
        try:
            self.backend = get_backend_class(backend_name)(model, **options)
        except J1EvalError as exc:  # a bad model or option: one line on the driver, not a traceback
            self.error = exc

    def ready(self) -> dict[str, Any]:
        """The backend's revision and batch size, or the error that stopped it being built."""
        import ray

        if self.backend is None:
            return {"error": self.error}
        return {
            "revision": self.backend.model_revision,
            "requests_per_call": self.backend.requests_per_call,
            "node": ray.util.get_node_ip_address(),
            "pid": os.getpid(),
        }

    def judge(self, bundle: int, requests: list[Request], sampling: Sampling, n: int) -> tuple[int, int, Any]:
        """(bundle, replica, completions per request), or (bundle, replica, the J1EvalError it raised)."""
        assert self.backend is not None
        try:
            return bundle, self.index, self.backend.generate(requests, sampling, n)
        except J1EvalError as exc:
            return bundle, self.index, exc

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def parse_address(address: str) -> tuple[str, int]:
    """(host, port) of ``HOST[:PORT]`` or ``ray://HOST[:PORT]``; InputError naming the flag."""
    client = address.startswith("ray://")
    rest = address.removeprefix("ray://")
    host, colon, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
    if not colon:
        host, port = rest, str(CLIENT_PORT if client else GCS_PORT)
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--ray-address {address!r}: expected HOST:PORT (the head's GCS) or ray://HOST:PORT")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """InputError, one line, when nothing accepts a connection at ``address``."""
    host, port = parse_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(
            f"--ray-address {address}: nothing answers at {host}:{port} ({reason}); "
            "start the head there with `ray start --head`, or fix the address"
        ) from None


def connect(address: str | None) -> bool:
    """Join the Ray cluster at ``address`` (else ``$RAY_ADDRESS``, else a new local one); True if we started it.

    A process that has already called ``ray.init`` keeps its cluster.
    """
    import ray

    if ray.is_initialized():
        if address not in (None, "auto", "local"):
            check_reachable(address)
            joined = ray.get_runtime_context().gcs_address
            if parse_address(address)[1] != parse_address(joined)[1]:
                raise InputError(f"--ray-address {address}: this process has already joined the cluster at {joined}")
        return False
    address = address or os.environ.get("RAY_ADDRESS") or None
    kwargs: dict[str, Any] = {"log_to_driver": False}
    if address in (None, "local"):
        kwargs.update(include_dashboard=False)
    elif address != "auto":
        check_reachable(address)
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        raise SetupError(f"--ray-address {address or 'local'}: Ray could not connect ({one_line(exc, 200)})") from None
    return address in (None, "local")


def plan_replicas(spec: JudgeSpec, config: ExecutorConfig, resources: dict[str, float]) -> tuple[int, float, float]:
    """(replicas, CPUs, GPUs per replica) for the cluster's ``resources``; InputError if they do not fit."""
    cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
    per_gpu = config.replica_gpus
    if per_gpu is None:
        per_gpu = float(spec.options.get("tensor_parallel_size") or 1) if gpus and spec.backend in GPU_BACKENDS else 0.0
    replicas = config.replicas
    if replicas is None:
        replicas = max(1, int(gpus // per_gpu)) if per_gpu else 1
    where = f"the Ray cluster's {cpus:g} CPUs and {gpus:g} GPUs"
    if replicas * config.replica_cpus > cpus or replicas * per_gpu > gpus:
        raise InputError(
            f"--replicas {replicas} x ({config.replica_cpus:g} CPU, {per_gpu:g} GPU) each: more than {where}"
        )
    if int(spec.options.get("data_parallel_size") or 1) > 1:
        raise InputError("--executor ray makes the replicas itself: give --replicas, not data_parallel_size")
    return replicas, config.replica_cpus, per_gpu


def bundles(requests: Sequence[Request], size: int) -> list[list[int]]:
    """Request indices in bundles of about ``size``, each holding whole pairs (all orders and parts)."""
    by_pair: dict[tuple[str, str], list[int]] = {}
    for i, request in enumerate(requests):
        by_pair.setdefault((request.pair.bench, request.pair.pair_id), []).append(i)
    out: list[list[int]] = [[]]
    for indices in by_pair.values():
        if out[-1] and len(out[-1]) + len(indices) > size:
            out.append([])
        out[-1].extend(indices)
    return [b for b in out if b]


class RayReplicas(Backend):
    """A backend whose requests are judged by replicas on a Ray cluster (see the module)."""

    requests_per_call = None  # every pending request at once: bundles are made here

    def __init__(self, spec: JudgeSpec, config: ExecutorConfig) -> None:
        super().__init__(spec.model, **spec.options)
        try:
            import ray
            from ray.util import ActorPool
        except ImportError as exc:
            raise SetupError(f"--executor ray needs Ray: {INSTALL_HINT} ({exc})") from None
        get_backend_class(spec.backend)  # an unknown backend fails here, before a cluster starts
        self._ray, self._pool_class = ray, ActorPool
        self.config = config
        self._owns_ray = connect(config.ray_address)
        self.actors: list[Any] = []
        try:
            self._start(spec)
        except BaseException:
            self.close()
            raise

    def _start(self, spec: JudgeSpec) -> None:
        ray = self._ray
        resources = ray.cluster_resources()
        self.replicas, cpus, gpus = plan_replicas(spec, self.config, resources)
        env = {k: v for k, v in os.environ.items() if k.startswith("J1EVAL_") or k in FORWARDED_ENV}
        remote = ray.remote(Replica).options(num_cpus=cpus, num_gpus=gpus, runtime_env={"env_vars": env})
        options = dict(spec.options)
        self.actors = [remote.remote(i, spec.backend, spec.model, options, env) for i in range(self.replicas)]
        infos = ray.get([actor.ready.remote() for actor in self.actors])
        for info in infos:
            if info.get("error") is not None:
                raise info["error"]
        revisions = {info["revision"] for info in infos}
        if len(revisions) > 1:
            raise SetupError(f"the replicas load different weights ({', '.join(sorted(revisions))}): one model per run")
        self._revision = revisions.pop()
        self._batch = infos[0]["requests_per_call"]
        nodes = sorted({info["node"] for info in infos})
        self.placements: dict[tuple[str, str], int] = {}  # (bench, pair_id) -> the replica that judged it
        self.judged = [0] * self.replicas  # requests each replica has judged in this process
        self._busy = False
        self.executor_info = {"replicas": self.replicas, "replica_cpus": cpus, "replica_gpus": gpus, "nodes": nodes}
        self.summary = (
            f"ray: {self.replicas} replica{'s' if self.replicas != 1 else ''} of {spec.backend}:{spec.model} "
            f"({cpus:g} CPU, {gpus:g} GPU each) on {len(nodes)} node{'s' if len(nodes) != 1 else ''} "
            f"({', '.join(nodes)}); cluster {resources.get('CPU', 0):g} CPUs, {resources.get('GPU', 0):g} GPUs"
        )
        print(self.summary, file=sys.stderr)

    @property
    def model_revision(self) -> str:
        return self._revision

    def bundle_size(self, n_requests: int) -> int:
        """Requests per bundle: as configured, else the backend's batch, else enough for 4 bundles a replica."""
        if self.config.bundle_size:
            return self.config.bundle_size
        if self._batch:
            return int(self._batch)
        return max(1, min(MAX_BUNDLE, math.ceil(n_requests / (4 * self.replicas))))

    def generate(
        self,
        requests: Sequence[Request],
        sampling: Sampling,
        n: int = 1,
        on_done: Callable[[int, list[Completion]], None] | None = None,
    ) -> list[list[Completion]]:
        ray = self._ray
        groups = bundles(requests, self.bundle_size(len(requests)))
        pool = self._pool_class(self.actors)
        for b, indices in enumerate(groups):
            pool.submit(lambda actor, v: actor.judge.remote(*v), (b, [requests[i] for i in indices], sampling, n))
        out: list[list[Completion]] = [[] for _ in requests]
        self._busy = True  # until every bundle is back: a replica still judging is killed, not waited for
        while pool.has_next():
            try:
                b, replica, result = pool.get_next_unordered()
            except ray.exceptions.RayActorError as exc:
                raise SetupError(
                    f"a Ray replica died ({one_line(exc, 160)}): the judgments finished so far are kept; "
                    "rerun the same command to resume"
                ) from None
            except ray.exceptions.RayTaskError as exc:
                raise SetupError(f"a Ray replica failed: {one_line(exc.cause or exc, 200)}") from None
            if isinstance(result, J1EvalError):
                raise result
            self.judged[replica] += len(groups[b])
            for i, completions in zip(groups[b], result, strict=True):
                self.placements[(requests[i].pair.bench, requests[i].pair.pair_id)] = replica
                out[i] = completions
                if on_done is not None:
                    on_done(i, completions)
        self._busy = False
        return out

    def close(self) -> None:
        """Close each replica's backend and end its actor; leave a cluster we joined running."""
        ray = self._ray
        if self.actors and not getattr(self, "_busy", False):
            with contextlib.suppress(Exception):  # a dead replica has nothing left to close
                ray.get([actor.close.remote() for actor in self.actors], timeout=60)
        for actor in self.actors:
            ray.kill(actor)
        self.actors = []
        if self._owns_ray and ray.is_initialized():
            ray.shutdown()


@executor("ray")
def open_ray(spec: JudgeSpec, config: ExecutorConfig) -> Backend:
    """Replicas of ``spec`` on the Ray cluster that ``config`` names (see the module)."""
    return RayReplicas(spec, config)
