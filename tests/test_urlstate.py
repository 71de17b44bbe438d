"""Settings in the URL (ganplay_app.urlstate) on the Training page and the Toy lab, under AppTest: set state →
URL → a fresh session opened from that URL → the same state; compact URLs; hostile values ignored with a
message that names the parameter, never a traceback."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganplay_app import resources, toy_ui, training_ui
from ganplay_app.urlstate import choice, number, several

PAGES = Path(__file__).resolve().parents[1] / "ganplay_app" / "pages"
TRAINING, TOY = str(PAGES / "training.py"), str(PAGES / "toy_lab.py")

# Every parameter of each page at a value that is not its preset's (dcgan / toy-ganlab): the round trip below
# fails when a page grows a parameter this list does not exercise.
TRAINING_URL = {"data": "folder", "preset": "dcgan", "loss": "hinge", "arch": "mlp", "lr_g": "0.003",
                "lr_d": "0.0004", "batch": "16", "d_steps": "3", "latent": "33", "prior": "uniform",
                "real_label": "0.75", "beta1_g": "0.1", "beta2_g": "0.95", "beta1_d": "0.2", "beta2_d": "0.97",
                "seed": "42", "precision": "bfloat16", "reuse_fake": "0", "steps": "500"}
TOY_URL = {"data": "moons", "recipe": "toy-ganlab", "loss": "hinge", "lr_g": "0.003", "lr_d": "0.004",
           "d_steps": "3", "g_steps": "2", "g_layers": "3", "g_width": "17", "d_layers": "2", "d_width": "19",
           "act": "tanh", "latent": "3", "prior": "normal", "batch": "256", "opt_g": "adam", "opt_d": "rmsprop",
           "real_label": "0.8", "seed": "9", "g_ema": "0.9", "compare": "wgan-gp,least-squares",
           "layers": "real,fake"}


@pytest.fixture
def opened(mnist_dir, monkeypatch):
    """opened(page, url) -> an AppTest session that opened `page` with the query parameters `url`."""
    monkeypatch.setenv("GANPLAY_DATA", str(mnist_dir))

    def open_(page: str, url: dict | None = None) -> AppTest:
        at = AppTest.from_file(page, default_timeout=60)
        at.query_params.update(url or {})
        at.run()
        assert not at.exception, at.exception
        return at

    yield open_
    resources.run_registry().stop_all()
    resources.run_registry.clear()


def url(at) -> dict:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def messages(at) -> list[str]:
    return [t.value for t in at.toast]


# -- the parsers -------------------------------------------------------------------------------------------------
def test_parsers_accept_known_values_and_say_why_they_refuse_others():
    assert number(1e-6, 100.0)("2e-4") == pytest.approx(2e-4)
    assert number(1, 10, integer=True)("3") == 3
    for text, reason in (("abc", "not a number"), ("1e9", "between"), ("nan", "between"), ("inf", "between")):
        with pytest.raises(ValueError, match=reason):
            number(1e-6, 100.0)(text)
    with pytest.raises(ValueError, match="whole number"):
        number(1, 10, integer=True)("2.5")
    assert choice([16, 32])("32") == 32
    with pytest.raises(ValueError, match="unknown batch size; choose from 16, 32"):
        choice([16, 32], "batch size")("17")
    assert several(["a", "b"])("b,a") == ["b", "a"] and several(["a", "b"])("") == []
    with pytest.raises(ValueError, match="named twice"):
        several(["a", "b"])("a,a")


# -- Training ---------------------------------------------------------------------------------------------------
def test_training_url_names_the_preset_and_only_the_changed_settings(opened):
    at = opened(TRAINING)
    assert url(at) == {}                                              # the default preset, nothing changed
    at.selectbox(key="tr_preset").set_value("dcgan").run()
    at.number_input(key="tr_lr_g").set_value(0.001).run()
    at.selectbox(key="tr_loss").set_value("hinge").run()
    assert url(at) == {"preset": "dcgan", "lr_g": "0.001", "loss": "hinge"}
    at.number_input(key="tr_lr_g").set_value(2e-4).run()            # back to the preset's value: left out
    assert url(at) == {"preset": "dcgan", "loss": "hinge"}

    fresh = opened(TRAINING, url(at))                                 # a student opens the bookmark
    for key in ("tr_preset", "tr_loss", "tr_lr_g", "tr_lr_d", "tr_batch", "tr_real_label", "tr_b1_g"):
        assert fresh.session_state[key] == at.session_state[key], key
    assert fresh.session_state["tr_loss"] == "hinge" and fresh.session_state["tr_real_label"] == 0.9
    assert url(fresh) == {"preset": "dcgan", "loss": "hinge"} and not messages(fresh)


def test_training_every_parameter_round_trips(opened):
    assert {p.key for p in training_ui.url_params(["mnist", "folder"])} == set(TRAINING_URL)
    at = opened(TRAINING, TRAINING_URL)
    assert not messages(at)
    assert url(at) == TRAINING_URL                                    # nothing dropped, nothing added
    ss = at.session_state
    assert (ss["tr_dataset"], ss["tr_preset"], ss["tr_family"], ss["tr_batch"], ss["tr_steps"]) == (
        "folder", "dcgan", "MLP (fully connected)", 16, 500)
    assert (ss["tr_lr_d"], ss["tr_b2_d"], ss["tr_reuse_fake"], ss["tr_precision"]) == (4e-4, 0.97, False, "bfloat16")


@pytest.mark.parametrize("param, value, reason", [
    ("lr_g", "abc", "not a number"), ("lr_g", "1e9", "between 1e-06 and 100"),
    ("preset", "nonsense", "unknown preset"), ("batch", "17", "unknown batch size"),
    ("d_steps", "2.5", "whole number"), ("reuse_fake", "maybe", "1 or 0"), ("data", "cifar", "unknown dataset"),
])
def test_training_hostile_values_are_ignored_with_a_message(opened, param, value, reason):
    at = opened(TRAINING, {"preset": "dcgan", "loss": "hinge", param: value})
    said = messages(at)
    assert len(said) == 1 and f"`{param}={value}` ignored" in said[0] and reason in said[0], said
    assert any(f"`{param}={value}` ignored" in c.value for c in at.caption)     # stays after the toast fades
    ss = at.session_state
    assert ss["tr_loss"] == "hinge"                                   # the valid ones still apply
    assert ss["tr_preset"] == ("lecture" if param == "preset" else "dcgan")
    assert param not in url(at)                                       # and the bad one leaves the URL


def test_training_settings_survive_a_visit_to_another_page_and_a_link_inside_the_app(opened):
    at = AppTest.from_file(str(PAGES.parents[1] / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page("ganplay_app/pages/training.py").run()
    at.selectbox(key="tr_preset").set_value("dcgan").run()
    at.number_input(key="tr_seed").set_value(5).run()
    assert url(at) == {"preset": "dcgan", "seed": "5"}
    at.query_params.clear()                          # what the browser's navigation does to the URL
    at.switch_page("ganplay_app/pages/toy_lab.py").run()
    for key in [k for k in at.session_state if k.startswith("tr_")]:
        del at.session_state[key]                    # in a browser, Streamlit forgets the widgets it stopped drawing
    at.query_params.clear()
    at.switch_page("ganplay_app/pages/training.py").run()
    assert not at.exception, at.exception
    assert (at.session_state["tr_preset"], at.session_state["tr_seed"]) == ("dcgan", 5)
    assert url(at) == {"preset": "dcgan", "seed": "5"}
    at.query_params.clear()
    at.query_params.update({"preset": "hinge", "lr_d": "0.01"})     # a link followed inside the app
    at.run()
    assert (at.session_state["tr_preset"], at.session_state["tr_lr_d"], at.session_state["tr_seed"]) == (
        "hinge", 0.01, 0)


# -- Toy lab ----------------------------------------------------------------------------------------------------
def test_toy_url_names_the_data_recipe_and_only_the_changed_settings(opened):
    at = opened(TOY)
    assert url(at) == {}
    at.selectbox(key="toy_data_choice").set_value("moons").run()
    at.selectbox(key="toy_preset").set_value("toy-ganlab").run()
    at.selectbox(key="toy_loss").set_value("least-squares").run()
    at.number_input(key="toy_lr_d").set_value(0.05).run()
    at.multiselect(key="toy_compare").set_value(["hinge"]).run()
    assert url(at) == {"data": "moons", "recipe": "toy-ganlab", "loss": "least-squares", "lr_d": "0.05",
                       "compare": "hinge"}
    fresh = opened(TOY, url(at))
    for key in ("toy_data_choice", "toy_preset", "toy_loss", "toy_lr_d", "toy_lr_g", "toy_compare", "toy_batch",
                "toy_opt_g", "toy_layers"):
        assert fresh.session_state[key] == at.session_state[key], key
    assert url(fresh) == url(at) and not messages(fresh)


def test_toy_every_parameter_round_trips(opened):
    keys = {p.key for p in toy_ui.url_params(toy_ui.TOYS)} | {"layers"}
    assert keys == set(TOY_URL)
    at = opened(TOY, TOY_URL)
    assert not messages(at)
    assert url(at) == TOY_URL
    ss = at.session_state
    assert (ss["toy_data_choice"], ss["toy_preset"], ss["toy_g_depth"], ss["toy_d_width"], ss["toy_opt_d"]) == (
        "moons", "toy-ganlab", 3, 19, "rmsprop")
    assert (ss["toy_g_ema"], ss["toy_compare"], ss["toy_layers"]) == (0.9, ["wgan-gp", "least-squares"],
                                                                      ["real", "fake"])


def test_toy_keeps_the_theory_pages_link_working(opened):
    at = opened(TOY, {"data": "theory", "recipe": "toy-1d", "mu": "-1,2", "sd": "0.5,0.7", "w": "0.3,0.7"})
    assert not messages(at)
    assert at.session_state["toy_data_choice"] == "theory" and at.session_state["toy_preset"] == "toy-1d"
    bad = opened(TOY, {"data": "theory"})                            # no p_data in the link
    assert any("`data=theory` ignored" in m and "mu, sd and w" in m for m in messages(bad))
    assert bad.session_state["toy_data_choice"] == "ring8"


@pytest.mark.parametrize("param, value, reason", [
    ("lr_g", "abc", "not a number"), ("lr_g", "1e9", "between 1e-06 and 10"), ("recipe", "dcgan", "unknown recipe"),
    ("data", "../etc/passwd", "unknown data"), ("compare", "hinge,nope", "unknown loss nope"),
    ("g_ema", "0.5", "unknown decay"), ("layers", "heat,<b>", "unknown layer"),
])
def test_toy_hostile_values_are_ignored_with_a_message(opened, param, value, reason):
    at = opened(TOY, {"recipe": "toy-ganlab", "loss": "hinge", param: value})
    said = messages(at)
    assert len(said) == 1 and f"`{param}={value}` ignored" in said[0] and reason in said[0], said
    assert at.session_state["toy_loss"] == "hinge"
    assert param not in url(at)


# -- presenter mode -----------------------------------------------------------------------------------------------
def test_presenter_mode_is_read_from_and_written_to_the_url(opened):
    app = str(PAGES.parents[1] / "streamlit_app.py")
    at = opened(app, {"present": "1"})                  # a bookmark opens presenting
    assert at.toggle(key="present").value is True and at.session_state["present"] is True
    css = " ".join(h.proto.body for h in at.get("html"))
    assert '[data-testid="stSidebar"]' in css and "3.4rem" in css
    at.toggle(key="present").set_value(False).run()
    assert "present" not in url(at)
    assert '[data-testid="stSidebar"]' not in " ".join(h.proto.body for h in at.get("html"))
    at.toggle(key="present").set_value(True).run()
    assert url(at) == {"present": "1"}
    bad = opened(app, {"present": "yes please"})
    assert bad.session_state["present"] is False and "present" not in url(bad)
    assert any("`present=yes please` ignored: must be 1 or 0" in m for m in messages(bad))
