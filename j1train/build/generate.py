"""Resumable generation for the pair builder: j1eval's builder :class:`~j1eval.build.generate.Generator`.

Each generation (a stage of one prompt: its answer, its noisy instruction, the answer to
that, or N math solutions) is one record of ``DIR/generations/judgments.jsonl`` (j1eval's
append-only store), under a cache key of the generator's identity, the stage and the exact
prompt messages. A build killed at any moment loses at most the generations in flight; a
rerun reuses every finished one and retries backend failures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from j1eval.build.generate import BackendPool, Step
from j1eval.build.generate import Generator as _Generator
from j1eval.judges import JudgeSpec
from j1eval.store.judgments import MANIFEST_FILE, read_manifest

GENERATIONS_DIR = "generations"


class Generator(_Generator):
    """The pair builder's one generator, its generations kept in ``out_dir/generations/``."""

    def __init__(self, spec: JudgeSpec, out_dir: Path, template_hash: str, progress: bool = True) -> None:
        super().__init__(spec, out_dir, GENERATIONS_DIR, template_hash, BackendPool(), progress)

    def close(self) -> None:
        super().close()
        self.pool.close()


def previous_manifest(out_dir: Path) -> dict[str, Any]:
    return read_manifest(out_dir) or {}


__all__ = ["GENERATIONS_DIR", "MANIFEST_FILE", "Generator", "Step", "previous_manifest"]
