"""Presenter mode in a real Chromium at 1280×720: the toggle folds the controls away (sidebar, settings
expanders), enlarges the key numbers, is kept in the URL (present=1), and a bookmark opens in it. Screenshots of
the Training page and the Toy lab, running, in presenter mode land in ci-artifacts/screenshots/."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from ganplay_app.presenter import METRIC_VALUE_SIZE
from tests.e2e.conftest import free_runs, new_app_page, shot
from tests.e2e.test_run_links import main_button, wait_for_step_above

VIEW = {"width": 1280, "height": 720}
BASE_FONT_PX = 17                     # .streamlit/config.toml: theme.baseFontSize
BIG_PX = float(METRIC_VALUE_SIZE.removesuffix("rem")) * BASE_FONT_PX
LOOK_JS = """() => {
    const visible = e => !!e && e.getBoundingClientRect().width > 0 && getComputedStyle(e).display !== 'none';
    const value = document.querySelector('[data-testid="stMetricValue"]');
    return {
        metric_px: value ? parseFloat(getComputedStyle(value).fontSize) : null,
        sidebar: visible(document.querySelector('[data-testid="stSidebar"]')),
        expanders: [...document.querySelectorAll('[data-testid="stExpander"]')].filter(visible).length,
        toggle: document.querySelector('.st-key-present input').checked,
    };
}"""


def look(page) -> dict:
    """What the page shows now. A full rerun (a run changing state) can redraw the toggle: wait until it is there."""
    page.wait_for_selector(".st-key-present input", state="attached", timeout=60_000)
    return page.evaluate(LOOK_JS)


def wait_for_metric_size(page, px: float, timeout: float = 60_000) -> None:
    """Wait until the first metric value is drawn at `px` (a running page's fragments rerun all the time, so
    "the script is not running" is not something to wait for)."""
    page.wait_for_function("""px => { const v = document.querySelector('[data-testid="stMetricValue"]');
        return !!v && Math.abs(parseFloat(getComputedStyle(v).fontSize) - px) < 0.01; }""", arg=px, timeout=timeout)


def test_presenter_mode_hides_the_controls_enlarges_the_numbers_and_stays_in_the_url(browser, server):
    contexts = []
    try:
        page = new_app_page(browser, server, "toy_lab", VIEW, contexts)
        main_button(page, "Play").click()
        wait_for_step_above(page, "Iteration", 0)
        normal = look(page)
        assert normal["sidebar"] and normal["expanders"] >= 1 and not normal["toggle"]
        assert normal["metric_px"] == round(2.1 * BASE_FONT_PX, 1)            # the theme's metric size

        page.locator(".st-key-present label").click()                          # the one toggle
        page.wait_for_url(re.compile(r"present=1"), timeout=60_000)
        wait_for_metric_size(page, BIG_PX)
        presenting = look(page)
        assert presenting == {"metric_px": BIG_PX, "sidebar": False, "expanders": 0, "toggle": True}
        assert main_button(page, "Pause").is_visible()                         # the run buttons stay

        bookmark = browser.new_context(viewport=VIEW)
        contexts.append(bookmark)
        bookmark = bookmark.new_page()
        bookmark.goto(page.url)
        wait_for_metric_size(bookmark, BIG_PX)
        assert look(bookmark) == presenting                                    # a bookmark opens presenting
        shot(bookmark, "presenter_toy_lab_watching")                           # (another browser: read-only)
        shot(page, "presenter_toy_lab_running")

        page.locator(".st-key-present label").click()                          # and back
        page.wait_for_url(lambda url: "present=1" not in url, timeout=60_000)
        wait_for_metric_size(page, normal["metric_px"])
        assert look(page)["sidebar"]
    finally:
        free_runs(contexts)                                                     # free the server's run slots
        for context in contexts:
            context.close()


def test_training_page_presents_a_running_run(browser, server):
    contexts = []
    try:
        page = new_app_page(browser, server, "training?present=1", VIEW, contexts)
        assert look(page)["sidebar"] is False and look(page)["toggle"] is True
        main_button(page, "Start").click()
        wait_for_step_above(page, "Step", 1)
        expect(page.locator('[data-testid="stImage"]').first).to_be_visible(timeout=60_000)
        wait_for_metric_size(page, BIG_PX)
        assert look(page)["expanders"] == 0
        shot(page, "presenter_training_running")
    finally:
        free_runs(contexts)                                                     # free the server's run slots
        for context in contexts:
            context.close()
