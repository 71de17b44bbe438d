"""What the walkthrough at 1280×720 found on the Theory and Latent pages, checked in a real Chromium at that size:
labels that fit their buttons, an interpolation strip in one row, a density axis that holds still."""
from __future__ import annotations

import re

from tests.e2e.conftest import new_app_page, settle, shot
from tests.e2e.test_pages import metric_value, wait_until

VIEWPORT = {"width": 1280, "height": 720}

# Elements inside a button whose text is cut (an ellipsis): wider content than box.
TRUNCATED = """b => [b, ...b.querySelectorAll('*')].filter(e => e.scrollWidth > e.clientWidth + 1).length"""


def test_latent_buttons_show_their_labels_and_the_strip_is_one_row(browser, server):
    contexts = []
    try:
        page = new_app_page(browser, server, "latent", VIEWPORT, contexts)
        for name in ("Randomize", "Reset sliders"):
            button = page.get_by_role("button", name=name)
            assert button.evaluate(TRUNCATED) == 0, f"{name} is cut short"
        # the interpolation frames: the 10 images of the second image block, drawn 68 px wide
        frame_tops = """() => [...document.querySelectorAll('[data-testid="stMain"] img')]
            .map(i => i.getBoundingClientRect()).filter(r => Math.round(r.width) === 68).map(r => Math.round(r.top))"""
        page.wait_for_function(f"() => ({frame_tops})().length >= 10", timeout=30_000)   # images still loading
        tops = page.evaluate(frame_tops)
        assert len(tops) == 10 and len(set(tops)) == 1, tops
        shot(page, "latent-1280")
    finally:
        for context in contexts:
            context.close()


def test_training_says_d_has_won_with_the_theory_link_and_shows_coverage(browser, server):
    """The issue's silent failure, in a real Chromium: a minimax run whose D learns 25 times faster than G.
    The page says D has won, with the rates in use, links the Theory page, and shows the digit coverage."""
    contexts = []
    try:
        page = new_app_page(browser, server, "training", VIEWPORT, contexts)
        page.locator('[data-testid="stSelectbox"]').filter(has_text="Loss").first.click()
        page.get_by_role("option", name="Minimax (saturating)").first.click()
        settle(page)
        rate = page.get_by_label("D learning rate")
        rate.fill("5.0e-02")
        rate.press("Enter")
        settle(page)
        page.get_by_role("button", name="Start").click()
        finding = page.get_by_text("D has won").first
        finding.wait_for(timeout=120_000)          # Playwright waits on the page, no sleeping
        assert "Learning rates in use: G 0.003, D 0.05." in finding.inner_text()
        link = page.get_by_role("link", name=re.compile("why the minimax loss"))
        # the link is the element after the finding: the browser may draw the finding before it arrives
        link.first.wait_for(timeout=30_000)
        assert link.count() == 1
        page.get_by_text("Digits present").first.wait_for(timeout=120_000)   # the first probe: ~5 s of training
        shot(page, "training-d-won-1280")
        page.get_by_role("button", name="Stop").click()
        settle(page)
        link.click()
        page.get_by_text("What the generator's loss makes of D's verdict").first.wait_for(timeout=60_000)
    finally:
        for context in contexts:
            context.close()
