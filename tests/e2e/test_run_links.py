"""A run link is not a remote control, in a real Chromium: context A starts a run, context B (another browser:
its own cookies) opens A's link and watches the run advance with no control buttons, while A (and A's reloaded
tab) still controls it. For the Training page and the Toy lab."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import free_runs, new_app_page, settle, shot

VIEW = {"width": 1280, "height": 720}
# page path, its start button, its step tile, the controls a watcher must not get, its learning-rate widget
PAGES = {
    "training": ("Start", "Step", ("Start", "Resume", "Pause", "Step once", "Stop", "Reset"), "tr_lr_g"),
    "toy_lab": ("Play", "Iteration", ("Play", "Resume", "Pause", "D step", "G step", "Iteration", "Reset"),
                "toy_lr_g"),
}
STEP_JS = """label => {
    const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
        .find(e => e.querySelector('[data-testid="stMetricLabel"]').innerText.trim() === label);
    return m ? parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/,/g, '')) : null;
}"""


def main_button(page, label: str):
    return page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=label, exact=True)


def wait_enabled(page, label: str, timeout: float = 60_000) -> None:
    expect(main_button(page, label)).to_be_enabled(timeout=timeout)


def step_shown(page, label: str) -> int | None:
    return page.evaluate(STEP_JS, label)


def wait_for_step_above(page, label: str, value: int, timeout: float = 90_000) -> None:
    page.wait_for_function(f"label => ({STEP_JS})(label) > {value}", arg=label, timeout=timeout)


@pytest.mark.parametrize("path", list(PAGES))
def test_a_shared_link_watches_live_and_only_its_owner_controls_it(browser, server, path):
    start, tile, controls, lr_key = PAGES[path]
    contexts = []
    try:
        owner = new_app_page(browser, server, path, VIEW, contexts)
        main_button(owner, start).click()
        owner.wait_for_url(re.compile(r"[?&]run=[0-9a-f]{12}"), timeout=60_000)
        wait_for_step_above(owner, tile, 0)
        link = owner.url
        run_id = re.search(r"run=([0-9a-f]{12})", link).group(1)

        watcher = new_app_page(browser, server, link.split("/", 3)[3], VIEW, contexts)   # another browser
        watcher.get_by_text("(read-only) — started by another session").wait_for(timeout=60_000)
        assert run_id in watcher.get_by_test_id("stAlertContentInfo").first.inner_text()
        for label in controls:
            assert main_button(watcher, label).count() == 0, label
        assert main_button(watcher, "Start my own run from this recipe").is_enabled()
        assert watcher.locator(f".st-key-{lr_key} input").is_disabled()        # no live learning-rate changes
        wait_for_step_above(watcher, tile, -1)                                   # its tiles have been drawn
        seen = step_shown(watcher, tile)
        wait_for_step_above(watcher, tile, seen)                                 # it follows the run live
        shot(watcher, f"run_link_{path}_watcher")

        main_button(owner, "Pause").click()                                      # the owner still steers it
        wait_enabled(owner, "Resume")
        owner.reload()                                                           # its reloaded tab too
        settle(owner)
        assert f"run={run_id}" in owner.url
        wait_enabled(owner, "Resume")
        assert main_button(owner, "Reset").is_enabled()
        assert owner.get_by_text("(read-only)").count() == 0
    finally:
        free_runs(contexts)                                                     # free the server's run slots
        for context in contexts:
            context.close()
