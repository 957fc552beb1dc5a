"""Shared by the speed scripts: interleaved repeated timing and peak memory of a child process."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


@dataclass
class Timings:
    """Seconds of each repetition of one contender."""

    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def interleave(contenders: dict[str, Callable[[int], object]], reps: int) -> dict[str, Timings]:
    """Run each contender once per round, rounds ``reps`` times (A, B, A, B, ...): shared-machine noise
    falls on both. Each callable gets the round number (for fresh output folders)."""
    out = {name: Timings(name) for name in contenders}
    for rep in range(reps):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn(rep)
            out[name].seconds.append(time.perf_counter() - start)
    return out


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


_CHILD = """
import json, resource, sys, time
start = time.perf_counter()
sys.argv = {argv!r}
code = 0
try:
    if {script!r}:
        import runpy
        runpy.run_path({script!r}, run_name="__main__")
    else:
        from j1eval.cli import main
        code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code or 0
wall = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"wall": wall, "maxrss_kib": rss, "code": code}}), file=sys.stderr)
"""


def child(argv: list[str], script: str = "", cwd: Path = ROOT) -> dict[str, object]:
    """``python -m j1eval ARGV`` (or ``python SCRIPT ARGV``) in a fresh process: its wall time from the
    first line (imports included), peak RSS in MiB, the whole process's wall time and its stdout."""
    code = _CHILD.format(argv=[script or "j1eval", *argv], script=script)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, env=env)
    total = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    try:
        info = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        info = {"code": proc.returncode or 1}
    if proc.returncode != 0 or info.get("code", 1) != 0:
        raise SystemExit(f"child failed ({argv}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return {"wall": info["wall"], "process": total, "peak_mib": info["maxrss_kib"] / 1024, "stdout": proc.stdout}
