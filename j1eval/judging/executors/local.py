"""The ``local`` executor: the judge's own backend, in this process."""

from __future__ import annotations

from j1eval.backends import Backend, get_backend_class
from j1eval.judges import JudgeSpec
from j1eval.judging.executors import ExecutorConfig, executor


@executor("local")
def open_local(spec: JudgeSpec, config: ExecutorConfig) -> Backend:
    """Build ``spec``'s backend here (what a run without ``--executor`` does)."""
    return get_backend_class(spec.backend)(spec.model, **spec.options)
