"""The dashboard in a real browser: ``streamlit run`` on 127.0.0.1, driven by Playwright with
Debian's Chromium (``apt-get install chromium``; Playwright's own browser downloads are not
used). The browser test (tests/test_dashboard_browser.py) and the README screenshot use it:

    python -m dashboard.browser --runs runs --out reports/dashboard_pair_view.png \\
        --query 'view=Pairs&runs=smollm2-135m__judgebench&bench=judgebench&pair=ID'

opens the app at that URL, waits for the pair view and saves a full-page screenshot.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
CHROMIUM_ENV = "J1EVAL_CHROMIUM"
PAIR_VIEW_TEXT = "What the judge thought"


def find_chromium() -> str | None:
    """``$J1EVAL_CHROMIUM``, else Debian's ``chromium`` on the PATH."""
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if Path(explicit).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:  # noqa: S310 (local URL)
            return resp.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def serve(runs: Path, *, data_dir: Path | None = None, log: Path | None = None, timeout: float = 120) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free local port; yields its URL and stops it (and its children)."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", "--client.toolbarMode", "minimal",
        "--", "--runs", str(runs),
    ]  # fmt: skip
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
                raise RuntimeError(f"streamlit exited with code {proc.returncode} before serving: {tail}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer {url}/_stcore/health within {timeout:.0f} s")
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc)
        if out is not subprocess.DEVNULL:
            out.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's own process group, SIGKILL if it is still there after 10 s."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextlib.contextmanager
def browser(executable: str, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium page (1400 pixels wide) through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield b.new_page(viewport={"width": 1400, "height": height})
        finally:
            b.close()


def wait_for_pair_view(page: Any, timeout_ms: float = 60_000) -> None:
    page.get_by_text(PAIR_VIEW_TEXT).first.wait_for(timeout=timeout_ms)
    _wait_idle(page, timeout_ms)


def _wait_idle(page: Any, timeout_ms: float) -> None:
    """Until the app has finished its run (Streamlit's "running" status widget is gone)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms, polling=200
    )


def screenshot(runs: Path, query: str, out: Path, data_dir: Path | None = None, height: int = 2400) -> None:
    """The page at ``?query`` once its pair view is drawn, as PNG (the app scrolls inside a
    viewport-high frame, so the viewport's ``height`` is what the picture shows)."""
    executable = find_chromium()
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium) or $J1EVAL_CHROMIUM is wrong")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with serve(runs, data_dir=data_dir) as url, browser(executable, height) as page:
        page.goto(f"{url}/?{query}")
        try:
            wait_for_pair_view(page, timeout_ms=300_000)  # the first load of a large run takes a while
            page.locator("pre code").first.wait_for()
        except PlaywrightTimeout:
            raise SystemExit(f"no pair view at ?{query} within 5 minutes (is the pair id in the runs?)") from None
        time.sleep(3)  # the data grid draws itself after the script run
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--query", required=True, help="the URL's query string, e.g. view=Pairs&runs=R&pair=ID")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--height", type=int, default=2400, help="viewport height in pixels (width 1400)")
    args = parser.parse_args(argv)
    here = Path.cwd().resolve() == ROOT  # the server runs in ROOT: other relative paths are made absolute
    runs = args.runs if here else args.runs.resolve()
    data_dir = args.data_dir if here or args.data_dir is None else args.data_dir.resolve()
    screenshot(runs, args.query, args.out, data_dir, args.height)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
