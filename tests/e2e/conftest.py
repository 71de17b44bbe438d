"""A real `streamlit run` server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Screenshots of every page land in ci-artifacts/screenshots/. Chromium comes from `apt-get install chromium`
(.ci/run installs it); without it these tests fail under CI and are skipped elsewhere.
"""
from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "ci-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--no-first-run"]
IDLE_PAUSE_S, IDLE_STOP_S = 4, 8     # the server's watchdog, shortened so closed tabs free runs quickly


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in item.nodeid:
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_streamlit(env: dict, log: Path, cwd: Path = ROOT):
    """`streamlit run` of this checkout's app on a free 127.0.0.1 port, once /_stcore/health answers; the
    process gets `.url` and `.log`. Stop it with stop_streamlit()."""
    port = _free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.3)
    proc.url, proc.log = url, log
    return proc


def stop_streamlit(proc) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def server(mnist_dir, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {**os.environ, "GANPLAY_DATA": str(mnist_dir), "GANPLAY_MAX_RUNS": "2",
           "GANPLAY_IDLE_PAUSE_S": str(IDLE_PAUSE_S), "GANPLAY_IDLE_STOP_S": str(IDLE_STOP_S)}
    proc = start_streamlit(env, log)
    yield proc
    stop_streamlit(proc)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run must `apt-get install -y chromium chromium-driver`")
        pytest.skip("Chromium not installed (apt-get install -y chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def open_page(browser, server):
    """open_page("training") -> a Playwright page on that app page, script finished, no exception shown."""
    contexts = []
    yield lambda path="": new_app_page(browser, server, path, {"width": 1500, "height": 1100}, contexts)
    for context in contexts:
        context.close()


def new_app_page(browser, server, path: str, viewport: dict, contexts: list):
    """A page on `path` in a fresh browser context (kept in `contexts` for closing), script finished."""
    context = browser.new_context(viewport=viewport, accept_downloads=True)
    contexts.append(context)
    page = context.new_page()
    page.goto(f"{server.url}/{path}")
    settle(page)
    return page


def settle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has drawn the page and its script is not running; fail on an exception box."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(300)
    assert_no_exception(page)


def assert_no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def free_runs(contexts: list, tries: int = 6, wait_s: float = 20) -> None:
    """Press every enabled Reset in the main area of every page of `contexts` (a read-only watcher has none)
    until none is left: the runs' slots on the server are free for the next test. Under a loaded CI machine a
    click can land while a fragment replaces the button, so it is pressed again rather than waited on for ever."""
    from playwright.sync_api import expect

    for page in (p for c in contexts for p in c.pages):
        enabled = page.locator('[data-testid="stMainBlockContainer"] button:enabled',
                               has_text=re.compile(r"^\s*Reset\s*$"))
        for _ in range(tries):
            if not enabled.count():
                break
            try:
                before = enabled.count()
                enabled.first.click(timeout=wait_s * 1000)
                expect(enabled).to_have_count(before - 1, timeout=wait_s * 1000)
            except Exception:                                   # noqa: BLE001 (a Playwright timeout: press again)
                continue
        if enabled.count():
            raise AssertionError(f"Reset stayed enabled after {tries} presses on {page.url}")


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
