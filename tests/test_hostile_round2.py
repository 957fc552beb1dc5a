"""Hostile conditions, second round (issue #22): `report --out` writes only its own files into a folder
it made or one holding only an earlier report; secrets never reach disk; reruns key on content;
pipes are read once and FIFOs refused; negative seeds and malformed URLs are one line.

Each refusal: its exit code, one line naming the file/record/field, every existing file
byte-identical with its mode and owner unchanged, no new file.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import JUDGEBENCH_FILE, SHARED_DATA, require
from openai_server import FakeOpenAIServer

from j1eval.cli import main
from j1eval.report.publish import MARKER, REPORT_LOCK

LIMIT = 3


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(SHARED_DATA / JUDGEBENCH_FILE)
    out = tmp_path_factory.mktemp("round2") / "run"
    argv = ["run", "--judge", "first", "--bench", "judgebench", "--limit", str(LIMIT)]
    assert main([*argv, "--data-dir", str(SHARED_DATA), "--out", str(out), "--no-progress"]) == 0
    return out


@pytest.fixture
def run_dir(base_run: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(base_run, tmp_path / "run")
    return tmp_path / "run"


def report(run: Path, *extra: str) -> list[str]:
    return ["report", str(run), "--no-plots", *extra]


def state(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (root included): kind, mode, owner, and a file's bytes (lock files: no bytes)."""
    out = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = os.lstat(path)
        data = path.read_bytes() if stat.S_ISREG(st.st_mode) and path.name not in (REPORT_LOCK, "run.lock") else None
        out[str(path.relative_to(root))] = (
            stat.S_IFMT(st.st_mode),
            stat.S_IMODE(st.st_mode),
            st.st_uid,
            st.st_gid,
            data,
        )
    return out


def one_line(err: str, code: int, expected: int, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert code == expected, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and "unexpected" not in err, err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def hostile_folder(folder: Path) -> socket.socket:
    """A folder of mode 1777 owned by nobody (as root), holding a socket, a FIFO, a foreign file, a subfolder."""
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    os.mkfifo(folder / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock"))
    (folder / "sub").mkdir()
    (folder / "sub" / "keep.md").write_text("keep\n")
    os.chmod(folder, 0o1777)
    if os.geteuid() == 0:
        os.chown(folder, 65534, 65534)
        os.chown(folder / "sub", 65534, 65534)
    return sock


# --------------------------------------------------------------------------- report --out


def test_report_refuses_a_folder_it_did_not_make(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "shared"
    sock = hostile_folder(out)
    try:
        before = state(tmp_path)
        capsys.readouterr()
        code = main(report(run_dir, "--out", str(out)))
        one_line(capsys.readouterr().err, code, 2, str(out), "notes.txt", "--force")
        assert state(tmp_path) == before  # nothing created, nothing changed: sockets and FIFOs still there
    finally:
        sock.close()


def test_report_force_writes_beside_and_keeps_modes_and_owners(run_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "shared"
    sock = hostile_folder(out)
    try:
        before = state(out)
        assert main(report(run_dir, "--out", str(out), "--force")) == 0
        after = state(out)
        for name, entry in before.items():
            assert after[name] == entry, name  # the folder (1777, nobody), socket, FIFO, sub/ and files untouched
        marker = json.loads((out / MARKER).read_text())
        new = set(after) - set(before)
        assert new == {*marker["files"], MARKER, REPORT_LOCK}
        assert "main_table.md" in marker["files"] and "notes.txt" not in marker["files"]
        # Once a report is there with --force, the next one still needs it (notes.txt is not the report's).
        capsys.readouterr()
        assert main(report(run_dir, "--out", str(out))) == 2
    finally:
        sock.close()


def test_report_replaces_an_earlier_report_whole(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0  # md with plots
    assert (out / "plots" / "accuracy_by_order.png").exists()
    (out / "plots").chmod(0o750)
    out.chmod(0o700)
    assert main(report(run_dir, "--out", str(out), "--format", "csv")) == 0  # csv, no plots
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    marker = json.loads((out / MARKER).read_text())
    assert sorted(names) == sorted([*marker["files"], MARKER, REPORT_LOCK])  # one report: no md, no plots left
    assert all(n.endswith(".csv") for n in marker["files"]) and not (out / "plots").exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o700  # the folder's mode kept


def test_report_keeps_a_stale_table_of_an_earlier_report_nowhere(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(report(run_dir, "--out", str(out))) == 0
    marker = json.loads((out / MARKER).read_text())
    marker["files"].append("test_time_scaling.md")  # a table an earlier report wrote, this one does not
    (out / "test_time_scaling.md").write_text("old figures\n")
    (out / MARKER).write_text(json.dumps(marker))
    assert main(report(run_dir, "--out", str(out))) == 0
    assert not (out / "test_time_scaling.md").exists()


def test_report_into_a_run_dir_takes_the_run_lock(run_dir: Path, capsys) -> None:
    from j1eval.judging.lock import RunLock

    before = state(run_dir)
    with RunLock(run_dir):  # a `run` writing there
        capsys.readouterr()
        code = main(report(run_dir, "--out", str(run_dir), "--force"))
    one_line(capsys.readouterr().err, code, 1, str(run_dir), "another process")
    assert state(run_dir) == before


def test_two_reports_into_one_folder_the_second_refuses(run_dir: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    import j1eval.report.writing as writing

    out = tmp_path / "report"
    real = writing.write_report
    started, release = threading.Event(), threading.Event()
    codes: list[int] = []

    def slow(*args, **kwargs):
        started.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(writing, "write_report", slow)
    first = threading.Thread(target=lambda: codes.append(main(report(run_dir, "--out", str(out)))))
    first.start()
    assert started.wait(30)
    monkeypatch.setattr(writing, "write_report", real)
    capsys.readouterr()
    code = main(report(run_dir, "--out", str(out), "--format", "csv"))
    err = capsys.readouterr().err
    release.set()
    first.join(30)
    one_line(err, code, 1, str(out), "another process", "report folder")
    assert codes == [0]
    marker = json.loads((out / MARKER).read_text())
    assert all(f.endswith(".md") for f in marker["files"])  # the first report, whole, and nothing of the second
    assert sorted(p.name for p in out.iterdir()) == sorted([*marker["files"], MARKER, REPORT_LOCK])


def test_a_killed_report_leaves_the_previous_one_whole(run_dir: Path, tmp_path: Path) -> None:
    """SIGKILL while the tables are written: the folder holds the previous report, byte for byte."""
    out = tmp_path / "report"
    assert main(report(run_dir, "--out", str(out))) == 0
    before = state(out)
    code = (
        "import sys, time, j1eval.report.writing as w\n"
        "real = w.write_report\n"
        "def slow(*a, **k):\n"
        "    files = real(*a, **k)\n"
        "    print('written', flush=True); time.sleep(60)\n"
        "    return files\n"
        "w.write_report = slow\n"
        "from j1eval.cli import main\n"
        f"sys.exit(main(['report', {str(run_dir)!r}, '--no-plots', '--format', 'csv', '--out', {str(out)!r}]))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
    proc.kill()
    proc.wait()
    after = state(out)
    staged = [n for n in after if n.startswith(".j1eval-report.tmp-")]
    assert staged  # the killed report's staging folder, and nothing else of it
    assert {n: e for n, e in after.items() if not n.startswith(".j1eval-report.tmp-")} == before
    assert main(report(run_dir, "--out", str(out), "--format", "csv")) == 0  # the next report removes it
    assert not [p for p in out.iterdir() if p.name.startswith(".j1eval-report.tmp-")]
    assert (out / "main_table.csv").exists() and not (out / "main_table.md").exists()


# --------------------------------------------------------------------------- secrets


def test_an_api_key_reaches_no_file_and_no_line(tmp_path: Path, capsys, monkeypatch) -> None:
    require(SHARED_DATA / JUDGEBENCH_FILE)
    secret = "sk-test-4f9a1c7e2b"
    out = tmp_path / "run"
    with FakeOpenAIServer(model="judge", api_key=secret) as server:
        argv = ["run", "--judge", f"openai:judge@{server.url}", "--bench", "judgebench", "--limit", "2"]
        argv += ["--data-dir", str(SHARED_DATA), "--out", str(out), "--no-progress", "--backend-option"]
        for _ in range(2):  # a run, then a rerun: an invocation more
            monkeypatch.setattr(sys, "argv", ["j1eval", *argv, f"api_key={secret}"])  # what the manifest records
            assert main([*argv, f"api_key={secret}"]) == 0
        wrong = [*argv[:-4], "--out", str(tmp_path / "wrong"), "--backend-option", f"api_key={secret}x"]
        assert main(wrong) != 0  # refused by the server: its error line hides the key too
    printed = capsys.readouterr()
    report_dir = tmp_path / "report"
    assert main(["report", str(out), "--out", str(report_dir)]) == 0
    printed_report = capsys.readouterr()
    for path in [*out.rglob("*"), *report_dir.rglob("*")]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    for text in (printed.out, printed.err, printed_report.out, printed_report.err):
        assert secret not in text
    manifest = json.loads((out / "manifest.json").read_text())
    assert "api_key=***" in manifest["command"] and all("api_key=***" in i["command"] for i in manifest["invocations"])


def test_redaction_rules() -> None:
    from j1eval.secrets import is_secret, redact, redact_argv

    for name in ("api_key", "hf_key", "auth_token", "HF_TOKEN", "client_secret"):
        assert is_secret(name), name
    for name in ("tokenizer", "max_tokens", "key", "base_url", "concurrency"):
        assert not is_secret(name), name
    assert redact_argv(["--backend-option", "api_key=abc", "hf_token=xyz", "tokenizer=/m"]) == [
        "--backend-option",
        "api_key=***",
        "hf_token=***",
        "tokenizer=/m",
    ]
    assert redact("http://user:hunter2@host/v1") == "http://user:***@host/v1"


def test_an_option_declared_secret_is_hidden_whatever_its_name() -> None:
    from j1eval.backends.base import Option
    from j1eval.secrets import is_secret, redact

    declared = Option(str, "a credential under a plain name", secret=True)
    assert not is_secret("bearer") and is_secret("bearer", declared)
    value = "bearer-value-91c3e"
    assert declared.check("bearer", value) == value  # parsing the option notes its value
    assert redact(f"request failed: header {value} refused") == "request failed: header *** refused"
    assert Option(str).check("note", "plain-text-91c3e") == "plain-text-91c3e"
    assert redact("plain-text-91c3e") == "plain-text-91c3e"  # an option not declared secret is not hidden
