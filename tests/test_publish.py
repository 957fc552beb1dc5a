"""A killed report's temporary folder is removed by the next report into the same folder, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from j1eval.safe_io import publish_dir


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_orphans_of_dead_processes_go(tmp_path: Path) -> None:
    out = tmp_path / "report"
    orphan = tmp_path / f".report.tmp-{_dead_pid()}-abc123"
    orphan.mkdir()
    (orphan / "main_table.md").write_text("half a report")
    live = tmp_path / f".report.tmp-{os.getppid()}-def456"  # a report still being written
    live.mkdir()
    other = tmp_path / f".reports.tmp-{_dead_pid()}-x"  # another folder's: not ours to remove
    other.mkdir()

    publish_dir(out, lambda d: (d / "main_table.md").write_text("whole"))

    assert (out / "main_table.md").read_text() == "whole"
    assert not orphan.exists()
    assert live.exists() and other.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.tmp-")] == [live.name]
