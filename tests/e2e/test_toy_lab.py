"""The Toy lab in a real Chromium: a run plays and redraws its plane, pauses and steps, a bad CSV is refused in
words and a good one trains, side by side shows every lane, and the Theory page's link hands over its p_data."""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import assert_no_exception, free_runs, new_app_page, settle
from tests.e2e.conftest import shot as page_shot
from tests.e2e.test_pages import wait_until

LAPTOP = {"width": 1280, "height": 720}
BUSY = "The server is busy"


@pytest.fixture
def laptop(browser, server):
    """laptop("toy_lab") -> a page at 1280 x 720, the script finished, no exception shown. Each test's run is
    discarded (Reset) at the end, so the server's two-run cap is free for the next test."""
    contexts = []
    yield lambda path: new_app_page(browser, server, path, LAPTOP, contexts)
    free_runs(contexts)
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    """The page's screenshot, the mouse moved off the buttons first (a hover tooltip would hide the page)."""
    page.mouse.move(1, 1)
    page.wait_for_timeout(300)
    page_shot(page, name)


def iterations(page) -> list[int]:
    """Every lane's "Iteration" tile, as numbers."""
    tiles = page.locator('[data-testid="stMetric"]').filter(has_text=re.compile(r"^Iteration"))
    return [int(t.locator('[data-testid="stMetricValue"]').inner_text().replace(",", "")) for t in tiles.all()]


def press_for_a_run(page, label: str, timeout: float = 30.0) -> None:
    """Press a button that creates the run; if runs left by earlier tests still fill the server's cap, wait for
    the watchdog to free them (a few seconds in these tests) and press again."""
    deadline = time.monotonic() + timeout
    while True:
        page.get_by_role("button", name=label, exact=True).click()
        settle(page)
        if page.get_by_text(BUSY).count() == 0:
            return
        assert time.monotonic() < deadline, "the server stayed busy"
        page.wait_for_timeout(1000)


def plane_pixels(page, index: int = 0) -> str:
    """What the browser drew for a Vega-Lite chart: its canvas as a data URL (or its SVG markup)."""
    return page.evaluate("""i => {
        const chart = document.querySelectorAll('[data-testid="stVegaLiteChart"]')[i];
        if (!chart) return null;
        const canvas = chart.querySelector('canvas');
        return canvas ? canvas.toDataURL() : (chart.querySelector('svg') || {}).outerHTML || null;
    }""", index)


def combobox(page, label: str):
    """The text box of the selectbox or multiselect labelled `label` (Streamlit 1.67 draws them as comboboxes)."""
    return page.get_by_role("combobox", name=label, exact=True)


def choose(page, label: str, *options: str) -> None:
    """Pick `options` in the selectbox or multiselect labelled `label`: open it, type the option's text (so the
    option is in the list's visible part) and click it; a list that did not open on a busy machine is reopened."""
    for option in options:
        for attempt in range(3):
            box = combobox(page, label)
            box.click()
            page.keyboard.type(option)
            try:
                page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
                break
            except Exception:                 # noqa: BLE001 - Playwright's timeout: close the list, try again
                if attempt == 2:
                    raise
                page.keyboard.press("Escape")
        page.keyboard.press("Escape")         # a multiselect stays open after its picks
        settle(page)


def test_play_redraws_the_plane_then_pause_and_d_step(laptop):
    page = laptop("toy_lab")
    # Vega's code loads on first use, after the script has finished: wait for the chart, then count
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=60_000)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 1       # the untrained preview
    press_for_a_run(page, "Play")
    wait_until(lambda: iterations(page) and iterations(page)[0] >= 5)
    first = plane_pixels(page)
    assert first
    wait_until(lambda: iterations(page)[0] >= 60, timeout=60)
    wait_until(lambda: plane_pixels(page) != first)              # the plane redraws itself while it trains
    assert page.locator('[data-testid="stMetric"]').filter(has_text="Modes").count() == 1
    assert_no_exception(page)
    shot(page, "toy-lab-running")

    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    settle(page)
    # The first single step redraws the latest state (what the last automatic redraw showed may be a few
    # iterations old: see test_toy_training's test_a_paused_run_shows_its_last_iteration); from then on a D or
    # G update alone leaves the iteration count where it is and Iteration adds exactly one.
    page.get_by_role("button", name="D step").click()
    settle(page)
    paused = iterations(page)
    for label in ("D step", "G step"):
        page.get_by_role("button", name=label).click()
        settle(page)
        assert iterations(page) == paused, label
    page.get_by_role("button", name="Iteration", exact=True).click()
    wait_until(lambda: iterations(page) == [paused[0] + 1])
    settle(page)


def test_a_bad_csv_is_refused_in_words_and_a_good_one_trains(laptop):
    page = laptop("toy_lab")
    choose(page, "Data", "Your own: a CSV file")
    uploader = page.locator('input[type="file"]')
    uploader.set_input_files(files=[{"name": "bad.csv", "mimeType": "text/csv", "buffer": b"x,y\n1,2\n3,oops\n"}])
    page.get_by_text("That file cannot be used").wait_for(timeout=30_000)
    settle(page)
    error = page.locator('[data-testid="stAlert"]').filter(has_text="That file cannot be used").inner_text()
    assert "Line 3" in error and "'oops' is not a number" in error
    shot(page, "toy-lab-csv-error")

    uploader.set_input_files(files=[{"name": "square.csv", "mimeType": "text/csv",
                                     "buffer": b"x,y\n0,0\n1,0\n0,1\n1,1\n"}])
    page.get_by_text("square.csv: 4 points in 2-D.").wait_for(timeout=30_000)
    settle(page)
    assert page.get_by_text("That file cannot be used").count() == 0
    press_for_a_run(page, "Iteration")
    wait_until(lambda: iterations(page) == [1])
    assert_no_exception(page)


def test_side_by_side_draws_every_lane(laptop):
    page = laptop("toy_lab")
    choose(page, "Side by side: also train with", "Minimax (saturating)", "Wasserstein + gradient penalty")
    tags = page.locator('[data-testid="stMultiSelectTagsContainer"]').first.inner_text()
    assert "Minimax (saturating)" in tags and "Wasserstein + gradient penalty" in tags, tags
    press_for_a_run(page, "Iteration")
    wait_until(lambda: iterations(page) == [1, 1, 1])
    settle(page)
    assert page.get_by_text(re.compile(r"^3 recipes on the same data and seed")).count() == 1
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    wait_until(lambda: charts.count() == 5)                      # three planes, then the losses and modes
    for i in range(3):
        assert plane_pixels(page, i)
    shot(page, "toy-lab-side-by-side")
    # each lane's plane fits its column (and the window): none is cut off or drawn under its neighbour
    overflow = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')]
        .slice(0, 3).map(chart => {
            const drawn = chart.querySelector('canvas').getBoundingClientRect();
            const column = chart.closest('[data-testid="stColumn"]').getBoundingClientRect();
            return Math.max(drawn.right - column.right, drawn.right - window.innerWidth, column.left - drawn.left);
        })""")
    assert all(px <= 1 for px in overflow), f"planes overflow their columns by {overflow} px at 1280 x 720"


def test_the_theory_pages_link_opens_the_toy_lab_with_its_p_data(laptop):
    page = laptop("theory")
    link = page.get_by_role("link", name=re.compile("in the Toy lab"))
    handed = parse_qs(urlsplit(link.get_attribute("href")).query)
    assert handed["data"] == ["theory"] and handed["recipe"] == ["toy-1d"] and {"mu", "sd", "w"} <= set(handed)
    link.click()
    page.wait_for_url(re.compile(r"/toy_lab\?"), timeout=30_000)
    settle(page)
    arrived = parse_qs(urlsplit(page.url).query)
    assert all(arrived[k] == handed[k] for k in ("mu", "sd", "w")), page.url
    assert combobox(page, "Data").input_value() == "From the Theory page (1-D)"
    assert combobox(page, "Recipe").input_value() == "toy-1d"
    wait_until(lambda: page.locator('[data-testid="stVegaLiteChart"]').count() == 2)   # the line: densities, D vs D*
    assert_no_exception(page)
    shot(page, "toy-lab-from-theory")
    page.reload()
    settle(page)
    assert combobox(page, "Data").input_value() == "From the Theory page (1-D)"


def test_a_data_choice_in_the_url_survives_a_reload(laptop):
    """The data menu is bound to the URL, so the address bar can be shared: ?data=moons opens the moons, and
    the address it leaves behind still does."""
    page = laptop("toy_lab?data=moons")
    assert combobox(page, "Data").input_value() == "Two moons (2-D)"
    page.reload()
    settle(page)
    assert combobox(page, "Data").input_value() == "Two moons (2-D)", page.url
