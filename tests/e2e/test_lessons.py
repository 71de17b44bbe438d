"""The Lessons page in a real Chromium at 1280 x 720: a bookmarked card (?item=) opens, a prediction and one
Start click run the failure, the Toy lab's plane redraws it, and the fix switches the same running game."""
from __future__ import annotations

import re

from tests.e2e.conftest import assert_no_exception, settle
from tests.e2e.test_pages import wait_until
from tests.e2e.test_toy_lab import iterations, laptop, plane_pixels, press_for_a_run, shot  # noqa: F401 - fixture


def test_a_bookmarked_card_runs_its_failure_and_its_fix(laptop):
    page = laptop("lessons?item=saturating-minimax")
    assert page.get_by_text(re.compile("G loss is flat and nothing moves")).count() == 1
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)      # the untrained preview
    shot(page, "lessons-card")

    page.get_by_text("It shrinks towards zero: G stops learning").click()
    settle(page)
    press_for_a_run(page, "Start")
    page.get_by_text("Your prediction was right").wait_for(timeout=30_000)
    wait_until(lambda: iterations(page) and iterations(page)[0] >= 30, timeout=60)
    first = plane_pixels(page)
    wait_until(lambda: plane_pixels(page) != first, timeout=30)       # the plane redraws while it trains
    assert_no_exception(page)
    shot(page, "lessons-running")

    page.get_by_role("button", name="Apply the fix").click()
    page.get_by_text(re.compile(r"fixed live at iteration [\d,]+: loss → Non-saturating")).wait_for(timeout=30_000)
    before = iterations(page)[0]
    wait_until(lambda: iterations(page)[0] >= before + 30, timeout=60)  # the same run trains on
    assert page.get_by_role("button", name="Apply the fix").is_disabled()
    assert_no_exception(page)
    shot(page, "lessons-fixed")
