"""A killed report's staging folder is removed by the next report into the same folder, and only then."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from j1eval.report.publish import MARKER, STAGING_PREFIX, publish_report


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_orphans_of_dead_processes_go(tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    orphan = out / f"{STAGING_PREFIX}{_dead_pid()}-abc123"
    orphan.mkdir()
    (orphan / "main_table.md").write_text("half a report")
    live = out / f"{STAGING_PREFIX}{os.getppid()}-def456"  # a report still being written
    live.mkdir()

    publish_report(out, lambda d: (d / "main_table.md").write_text("whole"))

    assert (out / "main_table.md").read_text() == "whole"
    assert json.loads((out / MARKER).read_text())["files"] == ["main_table.md"]
    assert not orphan.exists() and live.exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)] == [live.name]
