"""The app through Streamlit's AppTest: every page runs, and the Theory page's widgets and URL drive the
numbers it shows, checked against closed forms and against ganplay.theory called directly."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from ganplay import theory
from ganplay.losses import LOSSES
from ganplay.theory import LOG2, LOG4, SITUATIONS, Gaussian, Mixture
from ganplay_app import HOME_PAGE, LESSONS

ROOT = Path(__file__).resolve().parents[1]
THEORY = "ganplay_app/pages/theory.py"
PAGES = [HOME_PAGE] + [lesson.page for lesson in LESSONS if lesson.page]


def open_app(page: str | None = None, **query: str) -> AppTest:
    """Run the app (home page), optionally with URL parameters, then switch to `page`."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=30)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> dict[str, float]:
    """The metric tiles as numbers, keyed by label ("≈ 0.0000" reads as 0, "1,234.5" as 1234.5)."""
    return {m.label: float(m.value.removeprefix("≈ ").replace(",", "")) for m in at.metric}


def assert_metrics(at: AppTest, p_data, p_g) -> None:
    """Every tile equals ganplay.theory's value to the 4 decimals shown."""
    jsd = theory.js_divergence(p_data, p_g)
    expected = {
        "JSD (nats)": jsd,
        "JSD (bits)": jsd / LOG2,
        "KL(p_data‖p_g)": theory.kl_divergence(p_data, p_g),
        "KL(p_g‖p_data)": theory.kl_divergence(p_g, p_data),
        "Wasserstein-1": theory.wasserstein1(p_data, p_g),
        "V(D*, G)": 2 * jsd - LOG4,
    }
    got = shown(at)
    assert set(got) == set(expected)
    for label, value in expected.items():
        assert got[label] == pytest.approx(value, abs=5.1e-5, rel=1e-4), label


CHARTS = ("densities", "separation", "losses")


def chart(at: AppTest, name: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    """A Vega-Lite chart on the page as (spec, {dataset name: DataFrame}), decoded from what Streamlit sends."""
    proto = at.get("vega_lite_chart")[CHARTS.index(name)].proto
    data = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in proto.datasets}
    return json.loads(proto.spec), data


def x_range(at: AppTest) -> list[float]:
    """The densities chart's x-axis: its curves' extent (the spec leaves the x-scale to the data)."""
    x = chart(at, "densities")[1]["p_g"]["x"]
    return [x.min(), x.max()]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(page):
    at = open_app(page)
    assert at.title, f"{page} shows no title"


def test_home_describes_every_lesson_and_links_the_built_ones():
    at = open_app()
    text = " ".join(s.value for s in at.subheader)
    for lesson in LESSONS:
        assert lesson.title in text
    assert len(at.get("page_link")) == sum(1 for lesson in LESSONS if lesson.page)


def test_theory_opens_on_the_slightly_shifted_situation():
    at = open_app(THEORY)
    s = SITUATIONS["shifted"]
    assert_metrics(at, s.p_data, s.p_g)
    got = shown(at)
    # N(0,1) against N(1,1): KL = Δμ²/2 both ways, W1 = Δμ
    assert got["KL(p_data‖p_g)"] == got["KL(p_g‖p_data)"] == 0.5
    assert got["Wasserstein-1"] == 1.0
    assert at.info[0].value == s.lesson
    assert at.button(key="situation_shifted").proto.type == "primary"
    assert len(at.get("vega_lite_chart")) == 3
    spec, data = chart(at, "densities")
    x = data["p_g"]["x"].to_numpy()
    np.testing.assert_allclose(data["p_g"]["y"], s.p_g.pdf(x))
    np.testing.assert_allclose(data["dstar"]["y"], theory.optimal_discriminator(s.p_data, s.p_g, x))


@pytest.mark.parametrize("key", list(SITUATIONS))
def test_situation_buttons_set_distributions_metrics_and_url(key):
    at = open_app(THEORY)
    at.button(key=f"situation_{key}").click().run()
    assert not at.exception
    s = SITUATIONS[key]
    assert_metrics(at, s.p_data, s.p_g)
    assert at.info[0].value == s.lesson
    assert at.button(key=f"situation_{key}").proto.type == "primary"
    p_g = theory.as_mixture(s.p_g)
    assert at.slider(key="gen_mu1").value == p_g.components[0].mu
    assert at.segmented_control(key="data_n").value == len(theory.as_mixture(s.p_data).components)
    # The URL carries the slide: reopening the app with it shows the same situation. (AppTest sees
    # URL writes made from Python; a slider dragged in a browser writes the URL in the frontend.)
    url = {name: at.query_params[name] for name in at.query_params}
    reopened = open_app(THEORY, **url)
    assert reopened.info[0].value == s.lesson
    assert [m.value for m in reopened.metric] == [m.value for m in at.metric]


def test_a_new_mixture_component_reaches_the_url():
    at = open_app(THEORY)
    at.button(key="situation_mode_dropping").click().run()
    url = {name: at.query_params[name] for name in at.query_params}
    assert url == {"data_n": "2", "data_mu1": "-3", "data_sd1": "0.8", "data_w1": "0.5", "data_sd2": "0.8",
                   "data_w2": "0.5", "gen_mu1": "3", "gen_sd1": "0.8"}


def test_identical_distributions_show_exact_zeros():
    at = open_app(THEORY)
    at.button(key="situation_mode_dropping").click().run()
    at.button(key="situation_identical").click().run()
    values = {m.label: m.value for m in at.metric}
    assert values["JSD (nats)"] == values["Wasserstein-1"] == values["KL(p_g‖p_data)"] == "0.0000"
    assert values["V(D*, G)"] == f"{-LOG4:.4f}" == "-1.3863"


def test_far_apart_shows_jsd_at_log2_and_w1_at_the_distance():
    at = open_app(THEORY)
    at.button(key="situation_far_apart").click().run()
    got = shown(at)
    assert got["JSD (nats)"] == round(LOG2, 4) == 0.6931
    assert got["JSD (bits)"] == 1.0
    assert got["Wasserstein-1"] == 10.0
    assert got["KL(p_data‖p_g)"] == 50.0  # Δμ² / 2σ²
    # V = 2·JSD − log 4 is −1.7e-6 here: shown as a plain number that says it is nearly, not exactly, 0
    assert -1e-5 < theory.value_at_optimum(SITUATIONS["far_apart"].p_data, SITUATIONS["far_apart"].p_g) < 0
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["V(D*, G)"] == "≈ 0.0000"
    assert not any("e-" in value or "e+" in value for value in tiles.values()), tiles
    # the sweep plots JSD flat at log 2 out here, and a vanishing minimax gradient at the current separation
    sweep = chart(at, "separation")[1]["sweep"]
    separation, jsd, grad = (sweep[c].to_numpy() for c in ("x", "jsd", "minimax"))
    far = np.abs(separation) >= 10
    assert np.all(np.abs(jsd[far] - LOG2) < 1e-5)
    assert np.all(grad[far] < 1e-4)
    assert grad.max() > 0.3


def test_moving_either_mean_leaves_the_density_axis_where_it_was():
    at = open_app(THEORY)
    before = x_range(at)
    # the sliders' means span [-10, 10] and every σ is 1: 4σ beyond either end
    assert before == [-14.0, 14.0]
    for key, value in (("gen_mu1", 9.5), ("gen_mu1", -7.0), ("data_mu1", 4.0)):
        at.slider(key=key).set_value(value).run()
        assert x_range(at) == before, key
    at.button(key="situation_far_apart").click().run()
    assert x_range(at) == before
    at.slider(key="gen_sd1").set_value(2.0).run()     # a wider p_g needs room for its tails
    assert x_range(at) == [-18.0, 18.0]


def test_a_slider_step_changes_the_charts_data_but_not_their_specs():
    # The browser updates a Vega-Lite chart in place only while its spec stays the same (shared/docs/live-charts.md):
    # what moves with p_g (its curve, D*, the current separation, the mark and its label) must be data.
    at = open_app(THEORY)
    before = {name: chart(at, name) for name in CHARTS}
    at.slider(key="gen_mu1").set_value(1.5).run()
    after = {name: chart(at, name) for name in CHARTS}
    for name in CHARTS:
        assert after[name][0] == before[name][0], name
    assert not after["densities"][1]["p_g"].equals(before["densities"][1]["p_g"])
    assert after["separation"][1]["current"]["x"].tolist() == [1.5]
    assert before["separation"][1]["current"]["x"].tolist() == [1.0]
    mark = theory.mean_optimal_d_on_fakes(Gaussian(0, 1), Gaussian(1.5, 1))
    assert after["losses"][1]["mark_left"]["label"].tolist() == [f"your p_g: E[D*(G(z))] = {mark:.2f}"]
    # a situation (a wider sweep, other widths, a second component) and the widest σ change data only, too
    for act in (lambda: at.button(key="situation_far_apart").click().run(),
                lambda: at.button(key="situation_mode_covering").click().run(),
                lambda: at.slider(key="gen_sd1").set_value(5.0).run()):
        act()
        for name in CHARTS:
            assert chart(at, name)[0] == before[name][0], name


def test_sliders_drive_the_metrics():
    at = open_app(THEORY)
    at.slider(key="gen_mu1").set_value(2.5).run()
    got = shown(at)
    assert got["Wasserstein-1"] == 2.5  # equal σ: W1 = |Δμ|
    assert got["KL(p_data‖p_g)"] == 3.125  # Δμ² / 2
    assert_metrics(at, Gaussian(0, 1), Gaussian(2.5, 1))
    assert at.button(key="situation_shifted").proto.type == "secondary"

    at.slider(key="gen_sd1").set_value(2.0).run()
    kl = math.log(2.0) + (1 + 2.5**2) / (2 * 4.0) - 0.5
    assert shown(at)["KL(p_data‖p_g)"] == pytest.approx(kl, abs=5.1e-5)
    assert_metrics(at, Gaussian(0, 1), Gaussian(2.5, 2.0))


def test_a_mixture_generator_can_be_built_with_the_component_controls():
    at = open_app(THEORY)
    at.segmented_control(key="gen_n").set_value(2).run()
    assert not at.exception
    at.slider(key="gen_mu2").set_value(-1.5).run()
    at.slider(key="gen_w2").set_value(0.25).run()
    p_g = Mixture((Gaussian(1.0, 1.0), Gaussian(-1.5, 1.0)), (1.0, 0.25))
    assert_metrics(at, Gaussian(0, 1), p_g)


def test_the_url_restores_a_slide():
    at = open_app(THEORY, data_n="2", data_mu1="-3", data_sd1="0.8", data_mu2="3", data_sd2="0.8",
                  data_w1="0.5", data_w2="0.5", gen_mu1="3", gen_sd1="0.8", grad_wrt="D")
    s = SITUATIONS["mode_dropping"]
    assert_metrics(at, s.p_data, s.p_g)
    assert at.info[0].value == s.lesson
    assert at.segmented_control(key="grad_wrt").value == "D"
    assert "∂D" in chart(at, "losses")[0]["hconcat"][1]["title"]


def test_invalid_url_values_fall_back_to_defaults():
    at = open_app(THEORY, gen_mu1="banana", data_sd1="-3", data_n="7", gen_w1="inf", grad_wrt="nonsense")
    s = SITUATIONS["shifted"]
    assert_metrics(at, s.p_data, s.p_g)
    assert at.segmented_control(key="data_n").value == 1
    assert at.segmented_control(key="grad_wrt").value == "score"


def test_loss_figure_follows_the_derivative_choice_and_marks_the_fakes():
    at = open_app(THEORY)
    at.button(key="situation_identical").click().run()
    assert "score" in chart(at, "losses")[0]["hconcat"][1]["title"]
    caption = " ".join(c.value for c in at.caption)
    assert "E[D*(G(z))] = 0.500" in caption  # D* = ½ everywhere when p_g = p_data
    at.segmented_control(key="grad_wrt").set_value("D").run()
    assert not at.exception
    assert "∂D" in chart(at, "losses")[0]["hconcat"][1]["title"]


def test_the_loss_table_shows_the_loss_registrys_own_titles_and_formulas():
    at = open_app(THEORY)
    table = next(m.value for m in at.markdown if "| generator loss |" in m.value)
    for name in ("minimax", "nonsaturating", "least-squares"):
        assert f"| {LOSSES[name].title} | ${LOSSES[name].g_formula}$ |" in table
    formulas = " ".join(x.value for x in at.latex)
    assert LOSSES["nonsaturating"].d_formula in formulas        # the discriminators', from ganplay.losses too
    assert LOSSES["least-squares"].d_formula in formulas
