"""What the Theory and Latent pages' speed work relies on, checked in a real Chromium (behaviour, not timings: the
figures are bench/theory_latency.py's and bench/latent_latency.py --browser's).

- Theory: a slider step redraws all three charts *in place*: the same canvas elements (not new charts mounted),
  new pixels, new tile values; a situation button does the same.
- Latent: a slider moved in the browser reaches the URL, and that URL opened in a new tab shows the same view.
"""
from __future__ import annotations

import re

from tests.e2e.conftest import new_app_page, settle, shot
from tests.e2e.test_pages import metric_value, wait_until

VIEWPORT = {"width": 1280, "height": 720}

# Marks each chart's canvas with a property and reports, per chart, whether its canvas still carries it and a
# sample of its pixels: a remounted chart would have a fresh canvas without the mark.
CHARTS_JS = """
mark => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map(el => {
  const c = el.querySelector('canvas');
  if (!c) return null;
  if (mark) c.__ganplay = true;
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let h = 0; for (let i = 0; i < px.length; i += 61) h = (h * 31 + px[i]) | 0;
  return [Boolean(c.__ganplay), h];
})
"""


def charts(page, mark: bool = False) -> list:
    return page.evaluate(CHARTS_JS, mark)


def test_theory_inputs_redraw_every_chart_in_place(browser, server):
    contexts = []
    try:
        page = new_app_page(browser, server, "theory", VIEWPORT, contexts)
        page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas').length"
                               " === 3", timeout=30_000)
        before, w1 = charts(page, mark=True), metric_value(page, "Wasserstein-1")
        assert len(before) == 3 and all(before)
        slider = page.get_by_role("slider").nth(2)          # p_g's mean
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        wait_until(lambda: metric_value(page, "Wasserstein-1") != w1)
        settle(page)
        after = charts(page)
        assert metric_value(page, "Wasserstein-1") == "1.5000"   # N(0, 1) against N(1.5, 1): W1 = |Δμ|
        assert [kept for kept, _ in after] == [True, True, True]            # the same canvases: updated in place
        assert all(a[1] != b[1] for a, b in zip(after, before))            # with new pixels in every chart
        page.get_by_role("button", name=re.compile("far apart", re.I)).first.click()
        wait_until(lambda: metric_value(page, "Wasserstein-1") == "10.000")
        settle(page)
        far = charts(page)
        assert [kept for kept, _ in far] == [True, True, True]
        assert metric_value(page, "V(D*, G)") == "≈ 0.0000"
        shot(page, "theory-in-place-1280")
    finally:
        for context in contexts:
            context.close()


def test_a_latent_link_opens_the_same_view_in_a_new_tab(browser, server):
    contexts = []
    try:
        page = new_app_page(browser, server, "latent?model=cdcgan&seed=5", VIEWPORT, contexts)
        pc1 = page.locator('[data-testid="stSlider"]').filter(has_text="PC1").first.locator('input[type="range"]')
        pc1.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        wait_until(lambda: "pc1=0.2" in page.evaluate("location.href"))
        settle(page)
        url = page.evaluate("location.href")
        assert "model=cdcgan" in url and "seed=5" in url
        image = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
        student = new_app_page(browser, server, url.split("/", 3)[3], VIEWPORT, contexts)
        pc1_there = student.locator('[data-testid="stSlider"]').filter(has_text="PC1").first
        assert pc1_there.locator('input[type="range"]').get_attribute("value") == "0.2"
        assert student.locator('[data-testid="stNumberInput"] input').first.input_value() == "5"
        assert not student.locator('[data-testid="stAlert"]').filter(has_text="ignored").count()
        # the same picture: Streamlit names media by their content, so the same image has the same address
        assert student.locator('[data-testid="stImage"] img').first.get_attribute("src").split("/")[-1] == \
            image.split("/")[-1]
        shot(student, "latent-from-link-1280")
    finally:
        for context in contexts:
            context.close()
