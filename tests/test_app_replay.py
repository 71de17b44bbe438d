"""The Training page's "Replay a recording" mode under AppTest: recordings play back with no dataset and no run,
the scrubber and Play move the grid, tiles and charts together, and a damaged file is skipped with a message."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganplay.data import load_dataset
from ganplay.presets import preset
from ganplay.replay import record, save_replay
from ganplay_app import resources

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "training.py")


@pytest.fixture(scope="module")
def replay_dir(mnist_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("replays")
    mnist = load_dataset("mnist", mnist_dir)
    base = preset("lecture").replace(**{"train.precision": "float32"})
    save_replay(folder / "a.npz", record(base, mnist, 30, frames=8, coverage_every=10, title="Non-saturating"))
    save_replay(folder / "b.npz", record(base.replace(**{"train.loss": "minimax"}), mnist, 12, frames=4,
                                         title="Minimax"))
    return folder


@pytest.fixture
def app(replay_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPLAY_REPLAYS", str(replay_dir))
    monkeypatch.setenv("GANPLAY_DATA", str(tmp_path))       # no dataset anywhere: replays need none
    monkeypatch.setenv("GANPLAY_SYSTEM_DATA", "off")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["tr_mode"] = "Replay a recording"
    at.run()
    assert not at.exception, at.exception
    yield at
    resources.run_registry.clear()


def captions(at) -> list[str]:
    return [img.caption for e in at.get("image") for img in e.proto.imgs]


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_a_recording_plays_back_without_data_or_a_run(app):
    at = app
    assert at.selectbox(key="rp_choice").options == ["Non-saturating", "Minimax"]    # the registry's loss order
    assert captions(at) == ["G(fixed noise) at step 30", "real digits"]              # opens at its end
    assert metric(at, "Step of 30") == "30"
    assert [d.label for d in at.get("download_button")] == ["Grid (PNG)", "Training GIF", "Metrics (CSV)"]
    assert len(at.get("vega_lite_chart")) >= 2                                          # the live page's charts
    assert resources.run_registry().running() == 0


def test_scrubbing_moves_grid_tiles_and_history_together(app):
    at = app
    at.select_slider(key="rp_frame").set_value(4).run()
    assert captions(at)[0] == "G(fixed noise) at step 10"
    assert metric(at, "Step of 30") == "10"
    assert metric(at, "Digits present").endswith("/10")        # the first coverage probe, at step 10
    at.select_slider(key="rp_frame").set_value(3).run()
    assert not any(m.label == "Digits present" for m in at.metric)   # step 8: before the first probe


def test_play_starts_from_the_beginning_and_stops_at_the_end(app):
    at = app
    at.button[0].click().run()                          # at the end: Play starts again from step 0
    assert at.session_state["rp_playing"] and captions(at)[0] == "G(fixed noise) at step 0"
    seen = [0]
    for _ in range(10):                                 # each refresh of the player advances one frame
        at.run()
        seen.append(int(captions(at)[0].rsplit(" ", 1)[1]))
        if not at.session_state["rp_playing"]:
            break
    assert seen[:8] == [0, 1, 3, 8, 10, 15, 22, 30]
    assert not at.session_state["rp_playing"] and at.button[0].label == "Play"


def test_switching_recordings_opens_the_other_at_its_end(app):
    at = app
    at.select_slider(key="rp_frame").set_value(2).run()
    at.selectbox(key="rp_choice").set_value(str(Path(at.selectbox(key="rp_choice").value).parent / "b.npz")).run()
    assert captions(at)[0] == "G(fixed noise) at step 12" and metric(at, "Step of 12") == "12"


def test_a_damaged_recording_is_skipped_with_a_message(replay_dir, tmp_path, monkeypatch):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a.npz").write_bytes((replay_dir / "a.npz").read_bytes())
    (folder / "broken.npz").write_bytes((replay_dir / "a.npz").read_bytes()[:5000])
    monkeypatch.setenv("GANPLAY_REPLAYS", str(folder))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["tr_mode"] = "Replay a recording"
    at.run()
    assert not at.exception, at.exception
    assert any("broken.npz was skipped" in w.value and "truncated" in w.value for w in at.warning)
    assert at.selectbox(key="rp_choice").options == ["Non-saturating"]
    resources.run_registry.clear()

