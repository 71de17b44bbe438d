"""What a person sees, in a real Chromium against a real server: pages load, sliders move plots, runs train."""
from __future__ import annotations

import re
import time

from PIL import Image
from playwright.sync_api import expect

from tests.e2e.conftest import assert_no_exception, settle, shot

PANEL_REDRAW_MS = 30_000     # a paused run's panel redraws every 5 s; generous for a loaded machine


def metric_value(page, label: str) -> str:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return tile.locator('[data-testid="stMetricValue"]').inner_text().strip()


def steps(page) -> int:
    return int(metric_value(page, "Step").split(" /")[0].replace(",", ""))


def settled_step(page) -> int:
    """The step a paused run shows once its worker has settled: the state label reads Paused (which it does only
    once the worker acknowledged), and across two more redraws of the panel (its seconds count on) the step
    stays put."""
    state = page.get_by_text(re.compile(r"^Run: "))
    expect(state).to_have_text(re.compile(r"Run: Paused for \d+ s"), timeout=60_000)
    step = steps(page)            # the tiles are drawn before the label: this is the step it stopped at
    for _ in range(2):
        seen = state.inner_text()
        expect(state).not_to_have_text(seen, timeout=PANEL_REDRAW_MS)
        assert steps(page) == step, "a paused run kept training"
    return step


def plot_data(page, index: int = 0) -> str:
    """The JSON of a rendered plotly chart's traces, read from the DOM (what the browser actually drew)."""
    return page.evaluate(
        "i => JSON.stringify(document.querySelectorAll('.js-plotly-plot')[i].data.map(t => [t.x, t.y]))", index)


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("timed out waiting for the page")


def test_every_page_loads_without_an_exception(open_page):
    for path, heading in [("", "ganplay"), ("theory", "real line"), ("training", "Training"),
                          ("latent", "Latent")]:
        page = open_page(path)
        assert heading.lower() in page.locator("h1").first.inner_text().lower()
        assert_no_exception(page)
        shot(page, f"page-{path or 'home'}")


def test_a_training_run_grows_digits_pauses_and_stops(open_page):
    page = open_page("training")
    page.get_by_role("button", name="Start").click()
    wait_until(lambda: page.locator('[data-testid="stMetric"]').count() >= 5
               and steps(page) >= 3)
    grid = page.locator('[data-testid="stImage"] img').first
    first_src = grid.get_attribute("src")
    wait_until(lambda: steps(page) >= 150, timeout=90)
    wait_until(lambda: grid.get_attribute("src") != first_src)      # the grid refreshes by itself
    shot(page, "training-running")

    page.get_by_role("button", name="Pause").click()
    paused = settled_step(page)
    page.get_by_role("button", name="Step once").click()
    step_tile = page.locator('[data-testid="stMetric"]').filter(has_text="Step").first
    expect(step_tile.locator('[data-testid="stMetricValue"]')).to_have_text(
        re.compile(rf"^{paused + 1:,}\b"), timeout=60_000)
    assert settled_step(page) == paused + 1, "Step once took more than one step"
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").click()   # not the toolbar's
    page.get_by_text("Stopped.").wait_for()
    settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Grid (PNG)").click()
    image = Image.open(download.value.path())
    assert image.format == "PNG" and image.size == (484, 484)       # 8 x 8 digits, drawn at 2x
    shot(page, "training-stopped")


def test_a_latent_slider_changes_the_image_and_the_gif_has_every_frame(open_page):
    page = open_page("latent")
    image = page.locator('[data-testid="stImage"] img').first
    before = image.get_attribute("src")
    slider = page.get_by_role("slider").first             # PC1
    slider.focus()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    wait_until(lambda: image.get_attribute("src") != before)
    settle(page)
    shot(page, "latent-after-slider")
    with page.expect_download() as download:
        page.get_by_role("button", name="Animated GIF").click()
    gif = Image.open(download.value.path())
    assert gif.format == "GIF" and gif.n_frames == 10      # the page's default frame count


def test_a_pickle_upload_is_refused_in_the_browser(open_page, tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    page = open_page("latent")
    page.locator('input[type="file"]').set_input_files(
        files=[{"name": "model.safetensors", "mimeType": "application/octet-stream",
                "buffer": pickle.dumps(Evil())}])
    page.get_by_text("That file was refused").wait_for(timeout=30_000)
    assert_no_exception(page)
    assert not (tmp_path / "pwned").exists()
    shot(page, "latent-bad-upload")
