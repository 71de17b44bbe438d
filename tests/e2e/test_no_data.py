"""A fresh machine in a real Chromium: the app with no dataset anywhere, offline, then with a mirror on 127.0.0.1.

The server starts in an empty working directory (no ./data) with $GANPLAY_DATA an empty folder and
$GANPLAY_MIRRORS naming a port on 127.0.0.1 where nothing listens yet: every page must work, and the Training
page's Download button must fail with instructions. Then a mirror serving the real t10k files opens on that port
and the same button brings MNIST. Screenshots: ci-artifacts/screenshots/no-data-*.png.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time

import pytest

from ganplay.data import DATASETS
from tests.e2e.conftest import (ROOT, SHOTS, _free_port, assert_no_exception, settle, shot, start_streamlit,
                                stop_streamlit)

VIEWPORT = {"width": 1280, "height": 720}


class SlowHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files in 64 KiB pieces with a pause between them, so a download lasts long enough to be clicked
    into; quiet."""

    def copyfile(self, source, outputfile):
        while chunk := source.read(1 << 16):
            outputfile.write(chunk)
            time.sleep(0.1)

    def log_message(self, *args):
        pass


@pytest.fixture
def bare_server(tmp_path, mnist_dir):
    """`streamlit run` in an empty folder with no data; yields (server url, mirror port, mirror folder, data dir)."""
    cwd, data, served = tmp_path / "cwd", tmp_path / "data-home", tmp_path / "served"
    for folder in (cwd, data, served):
        folder.mkdir()
    shutil.copytree(ROOT / ".streamlit", cwd / ".streamlit")       # the app's theme, as in the repository
    for name in DATASETS["mnist"].splits["t10k"]:
        shutil.copy(mnist_dir / name, served / name)
    mirror_port = _free_port()
    env = {key: value for key, value in os.environ.items() if "proxy" not in key.lower()}
    env.update(GANPLAY_DATA=str(data), GANPLAY_SYSTEM_DATA="off", PYTHONPATH=str(ROOT),
               GANPLAY_MIRRORS=f"http://127.0.0.1:{mirror_port}/")
    proc = start_streamlit(env, tmp_path / "streamlit.log", cwd=cwd)
    yield proc.url, mirror_port, served, data
    stop_streamlit(proc)

def test_fresh_machine_every_page_works_and_training_downloads_mnist(browser, bare_server):
    url, mirror_port, served, data = bare_server
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        for path, heading in [("", "ganplay"), ("theory", "real line"), ("latent", "Latent"),
                              ("toy_lab", "Toy"), ("training", "Training")]:
            page.goto(f"{url}/{path}")
            settle(page)
            assert heading.lower() in page.locator("h1").first.inner_text().lower()
            shot(page, f"no-data-{path or 'home'}")

        page.get_by_text("MNIST is not on this machine yet").wait_for()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "no-data-training-1280x720.png"))      # what a newcomer sees first

        page.get_by_role("button", name="Download MNIST").click()             # offline: nothing listens yet
        page.get_by_text("The download of MNIST failed").wait_for(timeout=60_000)
        settle(page)
        assert "t10k-images-idx3-ubyte.gz" in page.locator('[data-testid="stCode"]').first.inner_text()
        shot(page, "no-data-training-offline")
        page.get_by_text("Or train on Fashion-MNIST instead").scroll_into_view_if_needed()
        shot(page, "no-data-training-offline-help")

        mirror = http.server.ThreadingHTTPServer(("127.0.0.1", mirror_port),
                                                 functools.partial(SlowHandler, directory=str(served)))
        threading.Thread(target=mirror.serve_forever, daemon=True).start()
        try:
            page.get_by_role("button", name="Download MNIST").click()
            page.locator('[data-testid="stProgress"]').wait_for(timeout=30_000)
            page.get_by_role("link", name="Theory").click()                  # leave mid-download: it stops
            settle(page)
            page.get_by_role("link", name="Training").click()
            settle(page)
            assert [p.name for p in (data / "mnist").iterdir()] == []        # no temp file, no lone labels file
            page.get_by_role("button", name="Download MNIST").dblclick()    # a second click must do no harm
            page.get_by_role("button", name="Start").wait_for(timeout=60_000)
            settle(page)
        finally:
            mirror.shutdown()
            mirror.server_close()
        # Exactly the two verified files: no temp file left by the interrupted first try, no lone labels file.
        assert sorted(p.name for p in (data / "mnist").iterdir()) == sorted(DATASETS["mnist"].splits["t10k"])
        page.get_by_text("MNIST · t10k split").first.wait_for()
        assert_no_exception(page)
        shot(page, "no-data-training-after-download")
        more = page.get_by_text("Get more datasets")
        more.click()
        page.get_by_text("Fashion-MNIST is not on this machine").wait_for()
        expander = page.locator('[data-testid="stSidebar"] [data-testid="stExpander"]').filter(has=more)
        expander.screenshot(path=str(SHOTS / "no-data-training-more-datasets.png"))
    finally:
        context.close()
