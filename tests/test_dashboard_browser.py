"""The dashboard served by ``streamlit run`` on 127.0.0.1 and driven by Playwright with Debian's
Chromium: choose a pair, see both orders' traces, reopen it from its URL, and check that a
hostile trace stays text (no script run, no remote image fetched, no javascript: link); and a runs
folder of hostile runs (issue #22: a nested manifest, a FIFO as judgments, a source outside the
runs dir) shows one error line per bad run beside the good one.

Skipped only when chromium is not installed (``apt-get install chromium``); CI installs it
and sets ``J1EVAL_REQUIRE_BROWSER=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from test_dashboard import HOSTILE, build_runs

from dashboard.browser import _healthy, browser, find_chromium, serve, wait_for_pair_view

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect
expect.set_options(timeout=60_000)  # a shared CI machine can be slow to draw

SCREENSHOT_ENV = "J1EVAL_SCREENSHOT_DIR"  # where to keep the test's screenshots (optional)


@pytest.fixture(scope="module")
def chromium() -> str:
    executable = find_chromium()
    if executable is None:
        reason = "chromium is not installed (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("J1EVAL_REQUIRE_BROWSER"):
            pytest.fail(reason + ", and J1EVAL_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    return executable


def test_pair_view_in_a_real_browser(chromium: str, tmp_path: Path):
    runs = build_runs(tmp_path)
    requests: list[str] = []
    with serve(runs, log=tmp_path / "streamlit.log") as url, browser(chromium) as page:
        page.on("request", lambda r: requests.append(r.url))
        page.goto(f"{url}/?view=Pairs&runs=first-jb&runs=longer-jb&bench=judgebench")
        page.get_by_text("pairs match").first.wait_for(timeout=90_000)
        page.get_by_role("combobox", name="Open a pair of this page").click()
        option = page.get_by_role("option").nth(1)
        pair_id = option.inner_text().strip()
        option.click()
        wait_for_pair_view(page, 120_000)
        assert f"pair={pair_id}" in page.url  # the URL now names the pair
        code = page.locator("pre code")
        expect(code.filter(has_text=pair_id)).to_have_count(1)
        # Both runs, both orders: first's "[[A]]" in each order, and each order's header once per run.
        expect(code.filter(has_text="<answer> [[A]] </answer>")).not_to_have_count(0)
        assert sum(c.strip() == "<answer> [[A]] </answer>" for c in code.all_inner_texts()) >= 2
        expect(page.get_by_text("order (a,b): response 1 in slot A")).to_have_count(2)
        expect(page.get_by_text("order (b,a): response 2 in slot A")).to_have_count(2)
        expect(page.get_by_text("⇄ verdict flip")).to_have_count(1)  # first flips; longer does not
        shot = tmp_path / "pair_view.png"
        page.screenshot(path=str(shot), full_page=True)
        if os.environ.get(SCREENSHOT_ENV):
            shutil.copy(shot, Path(os.environ[SCREENSHOT_ENV]) / "dashboard_browser_test.png")

        again = page.context.browser.new_page()  # a fresh page: the URL alone reopens the pair
        again.goto(page.url)
        wait_for_pair_view(again, 120_000)
        expect(again.locator("pre code").filter(has_text=pair_id)).to_have_count(1)

        page.goto(f"{url}/?view=Pairs&runs=hostile&bench=pairs&pair=h0")
        wait_for_pair_view(page, 120_000)
        expect(page.locator("pre code").filter(has_text=HOSTILE)).not_to_have_count(0)
        assert page.evaluate("() => window.__pwned") is None
        assert page.locator('img[src*="127.0.0.1:9"], a[href^="javascript:"]').count() == 0
        assert not [r for r in requests if "127.0.0.1:9/" in r]  # no remote image was fetched
        if os.environ.get(SCREENSHOT_ENV):
            page.screenshot(path=str(Path(os.environ[SCREENSHOT_ENV]) / "dashboard_browser_test_hostile.png"))
    assert shot.stat().st_size > 10_000
    assert not _healthy(url)  # the server is gone


def test_hostile_run_folders_in_a_real_browser(chromium: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from test_hostile_round2_dashboard import MARK, build_hostile_runs

    monkeypatch.delenv("J1EVAL_DATA_DIR", raising=False)
    runs = build_hostile_runs(tmp_path)
    with serve(runs, log=tmp_path / "streamlit.log") as url, browser(chromium) as page:
        page.goto(url)
        page.get_by_text("runs found").first.wait_for(timeout=90_000)  # the landing page, whatever the folder holds
        query = "&".join(f"runs={r}" for r in ("good", "nested", "fifo", "outside-none"))
        page.goto(f"{url}/?view=Pairs&{query}&bench=judgebench")
        page.get_by_text("pairs match").first.wait_for(timeout=90_000)  # the good run's pairs
        alerts = page.locator('[data-testid="stAlert"]')
        expect(alerts.filter(has_text="nested too deeply")).to_have_count(1)
        expect(alerts.filter(has_text="FIFO")).to_have_count(1)
        assert MARK not in page.content()  # the outside folder's prompts were never opened
    assert not _healthy(url)
