"""The Training page's replay and side-by-side modes in a real Chromium at 1280x720 (a lecture projector):
a bundled recording opens at its end, Play moves the grid on by itself, and side by side shows two grids at
one step. Screenshots land in ci-artifacts/screenshots/replay-*.png."""
from __future__ import annotations

import re
import time

from tests.e2e.conftest import assert_no_exception, new_app_page, settle, shot

VIEWPORT = {"width": 1280, "height": 720}


def grid_steps(page) -> list[int]:
    """The steps in the sample grids' captions, top to bottom."""
    texts = page.locator('[data-testid="stImageCaption"]').all_inner_texts()
    return [int(m.group(1)) for t in texts if (m := re.search(r"step (\d+)$", t))]


def wait_for(predicate, timeout_s: float = 60.0, every_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return False


def test_replay_plays_and_side_by_side_shows_two_grids(browser, server):
    contexts: list = []
    try:
        page = new_app_page(browser, server, "training", VIEWPORT, contexts)
        page.get_by_role("radio", name="Replay a recording").click()
        settle(page)
        assert wait_for(lambda: grid_steps(page) == [2000])         # the first recording, at its end
        page.get_by_role("img").first.wait_for()
        shot(page, "replay-1280")
        page.get_by_role("button", name="Play").click()
        assert wait_for(lambda: grid_steps(page) and grid_steps(page)[0] < 50)    # back to the start ...
        first = grid_steps(page)[0]
        assert wait_for(lambda: grid_steps(page) and grid_steps(page)[0] > first + 100, timeout_s=30)   # ... moving
        shot(page, "replay-playing-1280")
        page.get_by_role("button", name="Pause").click()
        settle(page)

        page.get_by_role("radio", name="Side by side").click()
        settle(page)
        page.get_by_role("button", name="Start").click()
        assert wait_for(lambda: len(grid_steps(page)) == 2 and min(grid_steps(page)) >= 20, timeout_s=90)
        steps = grid_steps(page)
        assert steps[0] == steps[1]                                  # both recipes drawn at one step
        shot(page, "replay-side-by-side-1280")
        page.get_by_role("button", name="Stop").click()
        settle(page)

        # Streamlit drops the values of widgets a run does not draw (AppTest does not): the switch keeps them
        page.get_by_role("radio", name="Train live").click()
        settle(page)
        assert page.get_by_label("G learning rate").input_value() == "3.0e-3"     # the lecture preset's
    finally:
        for context in contexts:
            context.close()


def test_a_pickle_opened_as_a_recording_is_refused(browser, server, tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    contexts: list = []
    try:
        page = new_app_page(browser, server, "training", VIEWPORT, contexts)
        page.get_by_role("radio", name="Replay a recording").click()
        settle(page)
        page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(
            files=[{"name": "run.npz", "mimeType": "application/octet-stream", "buffer": pickle.dumps(Evil())}])
        page.get_by_text("ganplay never unpickles files").wait_for(timeout=30_000)
        assert_no_exception(page)
        assert not (tmp_path / "pwned").exists()
        assert grid_steps(page) == [2000]            # the bundled recording still plays
        shot(page, "replay-bad-upload")
    finally:
        for context in contexts:
            context.close()
