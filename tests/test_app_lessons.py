"""The Lessons page under Streamlit's AppTest: ?item= opens a card, Start trains the failing recipe through the run
registry, the prediction is revealed on Start, and the fix switches the running game (or starts the fixed
recipe where it cannot)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganplay.lessons.gallery import GALLERY
from ganplay.live import DIVERGED
from ganplay_app import resources, run_ui

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "ganplay_app" / "pages" / "lessons.py")


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setattr(run_ui, "STEP_WAIT_S", 50.0)

    def make(**query: str) -> AppTest:
        at = AppTest.from_file(PAGE, default_timeout=60)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
        assert not at.exception, at.exception
        return at

    yield make
    resources.run_registry().stop_all()
    resources.run_registry.clear()


def click(at, label) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def the_run(at):
    run = resources.run_registry().get(at.session_state["lessons_run_id"])
    assert run is not None
    return run


def test_opens_on_the_first_card_with_its_formula(app):
    at = app()
    assert at.selectbox[0].value == next(iter(GALLERY))
    assert at.selectbox[0].options == [GALLERY[s].title for s in GALLERY]
    assert at.latex and GALLERY[next(iter(GALLERY))].formula in at.latex[0].value
    assert at.query_params["item"] == next(iter(GALLERY))
    assert "lessons_run_id" not in at.session_state       # nothing trains until Start


def test_item_in_the_url_opens_that_card_and_a_bad_one_is_said_in_words(app):
    at = app(item="wgan-clipping")
    assert at.selectbox[0].value == "wgan-clipping"
    assert any(GALLERY["wgan-clipping"].asked in m.value for m in at.markdown)
    at = app(item="no-such-lesson")
    assert at.selectbox[0].value == next(iter(GALLERY))
    assert any("no-such-lesson" in w.value for w in at.warning)


def test_start_trains_the_failing_recipe(app):
    at = click(app(item="d-overpowers"), "Start")
    run = the_run(at)
    assert run.config.name == GALLERY["d-overpowers"].recipe.name
    assert run.wait_until(lambda s: s.step >= 5, 60)


def test_prediction_is_revealed_on_start(app):
    item = GALLERY["oscillation"]
    at = app(item="oscillation")
    assert not at.success and not at.warning            # nothing revealed before the run
    wrong = (item.prediction.correct + 1) % len(item.prediction.answers)
    at.radio[0].set_value(wrong).run()
    click(at, "Start")
    assert not at.radio                                  # the question turns into its answer
    assert any("Not quite" in w.value and item.prediction.answers[item.prediction.correct] in w.value
               for w in at.warning)
    click(at, "Reset")
    at.radio[0].set_value(item.prediction.correct).run()
    click(at, "Start")
    assert any("right" in s.value for s in at.success)


def test_fix_switches_the_running_games_loss(app):
    at = click(app(item="saturating-minimax"), "Start")
    run = the_run(at)
    assert run.wait_until(lambda s: s.step >= 5, 60)
    assert run.trainer.loss.name == "minimax"
    click(at, "Apply the fix")
    assert the_run(at) is run                              # the same run, not a new one
    assert run.wait_until(lambda s: s.config.train.loss == "nonsaturating" and s.step > 10, 60)
    assert run.trainer.config.train.loss == "nonsaturating"
    assert any("fixed live at iteration" in c.value and "loss → Non-saturating (BCE)" in c.value for c in at.caption)
    assert next(b for b in at.button if b.label == "Apply the fix").disabled


def test_a_fix_that_cannot_be_live_starts_the_fixed_recipe(app):
    item = GALLERY["divergence-nan"]
    at = click(app(item="divergence-nan"), "Start")
    first = the_run(at)
    assert first.wait_until(lambda s: s.state == DIVERGED, 60)
    at.run()
    assert any("Training diverged at step" in e.value for e in at.error)
    click(at, "Start the fixed recipe")
    second = the_run(at)
    assert second is not first and second.config.name == item.fix.recipe.name
    assert resources.run_registry().get(first.id) is None    # the diverged run was freed
    assert second.wait_until(lambda s: s.step >= 20, 60) and second.alive
