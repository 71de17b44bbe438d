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
        tops = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMain"] img')]
            .map(i => i.getBoundingClientRect()).filter(r => Math.round(r.width) === 68).map(r => Math.round(r.top))""")
        assert len(tops) == 10 and len(set(tops)) == 1, tops
        shot(page, "latent-1280")
    finally:
        for context in contexts:
            context.close()


def test_theory_axis_holds_still_and_far_apart_reads_plainly(browser, server):
    contexts = []
    try:
        page = new_app_page(browser, server, "theory", VIEWPORT, contexts)
        x_range = lambda: page.evaluate("() => document.querySelectorAll('.js-plotly-plot')[0].layout.xaxis.range")
        before, w1 = x_range(), metric_value(page, "Wasserstein-1")
        assert before == [-14, 14]
        slider = page.get_by_role("slider").nth(2)        # p_g's mean (p_data's mean and std come first)
        slider.focus()
        for _ in range(20):
            page.keyboard.press("ArrowRight")
        wait_until(lambda: metric_value(page, "Wasserstein-1") != w1)
        settle(page)
        assert x_range() == before
        page.get_by_role("button", name=re.compile("far apart", re.I)).first.click()
        wait_until(lambda: metric_value(page, "Wasserstein-1") == "10.000")
        settle(page)
        assert metric_value(page, "V(D*, G)") == "≈ 0.0000" and x_range() == before
        shot(page, "theory-far-apart-1280")
    finally:
        for context in contexts:
            context.close()
