"""The Training page under Streamlit's AppTest, training for real on the MNIST files."""
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganplay_app import resources

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "training.py")


@pytest.fixture
def app(mnist_dir, monkeypatch):
    monkeypatch.setenv("GANPLAY_DATA", str(mnist_dir))
    made = []

    def make():
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        made.append(at)
        return at

    yield make
    resources.run_registry().stop_all()
    resources.run_registry.clear()


def button(at, label):
    return next(b for b in at.button if b.label == label)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def steps_shown(at):
    return int(metric(at, "Step").split(" / ")[0].replace(",", ""))


def rerun_until(at, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if predicate(at):
            return
        time.sleep(0.2)
    raise AssertionError("the page never showed the expected state")


def test_a_real_run_starts_pauses_resumes_and_stops(app):
    at = app()
    assert any("MNIST" in c.value and "t10k split" in c.value for c in at.caption)   # which split is in use
    at.number_input(key="tr_steps").set_value(0)
    button(at, "Start").click().run()
    assert not at.exception and not at.error
    rerun_until(at, lambda a: a.metric and steps_shown(a) >= 5)
    assert len(at.get("plotly_chart")) == 2 and len(at.get("image")) == 1    # curves and the sample grid
    assert 0.0 <= float(metric(at, "D(x)")) <= 1.0

    button(at, "Pause").click().run()
    time.sleep(0.3)
    at.run()
    paused_at = steps_shown(at)
    assert button(at, "Resume").disabled is False and button(at, "Pause").disabled is True
    time.sleep(0.5)
    at.run()
    assert steps_shown(at) == paused_at

    button(at, "Step once").click().run()
    assert steps_shown(at) == paused_at + 1

    button(at, "Resume").click().run()
    rerun_until(at, lambda a: steps_shown(a) >= paused_at + 3)
    button(at, "Stop").click().run()
    run = resources.run_registry().get(at.session_state["run_id"])
    run.join(10)
    at.run()
    assert run.state == "stopped" and not run._thread.is_alive()
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Checkpoint (.safetensors)", "Grid (PNG)", "Training GIF"]


def test_live_learning_rate_change_reaches_the_running_model(app):
    at = app()
    button(at, "Start").click().run()
    rerun_until(at, lambda a: a.metric and steps_shown(a) >= 2)
    at.number_input(key="tr_lr_g").set_value(5e-4).run()
    run = resources.run_registry().get(at.session_state["run_id"])
    before = run.snapshot().step
    rerun_until(at, lambda a: steps_shown(a) >= before + 2)
    assert run.trainer.opt_g.param_groups[0]["lr"] == pytest.approx(5e-4)
    assert at.number_input(key="tr_latent").disabled       # the rest is locked while the run goes


def test_diverging_run_ends_with_an_explanation(app):
    at = app()
    at.selectbox(key="tr_preset").select("mlp-vanilla").run()
    at.selectbox(key="tr_loss").select("least-squares").run()
    at.number_input(key="tr_lr_g").set_value(100.0).run()
    at.number_input(key="tr_lr_d").set_value(100.0).run()
    button(at, "Start").click().run()
    rerun_until(at, lambda a: any("diverged" in e.value for e in a.error))
    message = next(e.value for e in at.error if "diverged" in e.value)
    assert "learning rate" in message and "Try" in message
    assert not at.exception


def test_settings_no_run_can_use_are_refused_with_a_message(app):
    at = app()
    at.select_slider(key="tr_batch").set_value(1).run()     # the lecture DCGAN has batch norm
    button(at, "Start").click().run()
    assert any("batch norm" in e.value for e in at.error)
    assert "run_id" not in at.session_state


def test_concurrency_cap_shows_a_busy_message(app):
    resources.run_registry().max_running = 1
    first, second = app(), app()
    button(first, "Start").click().run()
    button(second, "Start").click().run()
    assert any("busy" in e.value for e in second.error)
    assert resources.run_registry().running() == 1


def test_precision_and_reuse_reach_the_run_and_presets_set_them(app):
    at = app()
    assert at.radio(key="tr_precision").value == "auto" and at.checkbox(key="tr_reuse_fake").value is False
    at.selectbox(key="tr_preset").select("dcgan").run()        # seed 002 scores D's fakes again, at float32
    assert at.checkbox(key="tr_reuse_fake").value is True and at.radio(key="tr_precision").value == "float32"
    at.radio(key="tr_precision").set_value("bfloat16").run()
    button(at, "Start").click().run()
    run = resources.run_registry().get(at.session_state["run_id"])
    train = run.trainer.config.train
    assert (train.precision, train.reuse_fake, train.batch_size) == ("bfloat16", True, 128)
    rerun_until(at, lambda a: a.metric and steps_shown(a) >= 1)
    assert "training at bfloat16" in next(m for m in at.metric if m.label == "Steps / s").help
