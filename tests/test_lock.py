"""One writer per run directory: a second `run` (or `score --out`) refuses at once, naming the holder's pid;
the kernel releases the lock of a SIGKILLed run, so the next run takes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openai_server import FakeOpenAIServer

from j1eval.cli import main
from j1eval.judging.lock import LOCK_FILE, LockedError, RunLock


def test_a_second_lock_on_a_directory_is_refused_with_the_holders_pid(tmp_path):
    with RunLock(tmp_path / "run"):
        assert (tmp_path / "run" / LOCK_FILE).read_text().split()[0] == str(os.getpid())
        with pytest.raises(LockedError, match=rf"pid {os.getpid()}\b"):
            RunLock(tmp_path / "run").acquire()  # another open file description: refused, even in one process
    with RunLock(tmp_path / "run"):  # released on exit: taken again
        pass


def test_score_into_a_run_directory_being_written_is_refused(tmp_path, data_dir, capsys):
    run = tmp_path / "run"
    argv = ["run", "--judge", "first", "--bench", "judgebench", "--limit", "2", "--data-dir", str(data_dir)]
    assert main([*argv, "--out", str(run), "--no-progress"]) == 0
    results = (run / "results.json").read_bytes()
    capsys.readouterr()
    with RunLock(run):
        code = main(
            ["score", "--bench", "judgebench", "--judgments", str(run / "judgments.jsonl")]
            + ["--data-dir", str(data_dir), "--out", str(run)]
        )
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"pid {os.getpid()}" in err[0]
    assert (run / "results.json").read_bytes() == results


def read_rows(run_dir: Path) -> list[dict]:
    lines = (run_dir / "judgments.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def test_two_concurrent_runs_one_writer_and_a_killed_holder_frees_the_directory(tmp_path, data_dir):
    limit = 20  # 40 requests of 1 s each: the first run is alive while the second starts and is refused
    out = tmp_path / "run"
    env = {**os.environ, "J1EVAL_NO_HUB": "1"}

    def command(server: FakeOpenAIServer) -> list[str]:
        return [sys.executable, "-m", "j1eval", "run", "--judge", f"openai:judge@{server.url}"] + [
            "--bench", "judgebench", "--limit", str(limit), "--data-dir", str(data_dir),
            "--out", str(out), "--no-progress", "--concurrency", "1",
        ]  # fmt: skip

    with FakeOpenAIServer(model="judge", delay_s=1.0) as server:
        first = subprocess.Popen(command(server), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and first.poll() is None:  # holding the lock and judging
                jsonl = out / "judgments.jsonl"
                if jsonl.exists() and jsonl.read_bytes().count(b"\n") >= 2:
                    break
                time.sleep(0.05)
            assert first.poll() is None, "the first run ended before the second could start"
            assert (out / LOCK_FILE).read_text().split()[0] == str(first.pid)

            second = subprocess.run(command(server), env=env, capture_output=True, text=True)
            assert first.poll() is None  # refused while the first is alive, not after it ended
            assert second.returncode == 1
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"pid {first.pid}" in lines[0] and str(out) in lines[0], second.stderr
            assert "Traceback" not in second.stderr

            os.kill(first.pid, signal.SIGKILL)
            first.communicate()
            assert first.returncode == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()

        done_before = len(read_rows(out))
        assert 2 <= done_before < 2 * limit
        server.delay_s = 0.0
        third = subprocess.Popen(command(server), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = third.communicate(timeout=300)
        assert third.returncode == 0, stderr  # the kernel released the dead run's lock
        assert f"{2 * limit - done_before} judgments generated, {done_before} reused" in stdout
        assert (out / LOCK_FILE).read_text().split()[0] == str(third.pid)

    rows = read_rows(out)
    assert len(rows) == 2 * limit  # each judgment written once
    assert len({(r["pair_id"], r["order"]) for r in rows}) == 2 * limit
    manifest = json.loads((out / "manifest.json").read_text())
    assert [i["generated"] for i in manifest["invocations"]] == [2 * limit - done_before]
