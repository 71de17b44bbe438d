"""The Toy lab page under Streamlit's AppTest: its buttons train real point GANs through the run registry, and
what it draws (tiles, Vega-Lite charts) follows the run."""
import json
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np
import pytest
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from ganplay.presets import preset
from ganplay.theory import SITUATIONS
from ganplay.toy import LineView
from ganplay.trainer import POINT_SAMPLE_COUNT
from ganplay_app import resources, run_ui, toy_ui

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "ganplay_app" / "pages" / "toy_lab.py")


@pytest.fixture
def app(monkeypatch):
    # A step button waits for its step at most STEP_WAIT_S (then the page says "Stepping…" and polls); a long
    # bound here makes "the click's redraw shows the step" hold however loaded the machine is (the wait ends as
    # soon as the step is published).
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


def button(at, label):
    return next(b for b in at.button if b.label == label)


def click(at, label) -> AppTest:
    button(at, label).click().run()
    assert not at.exception, at.exception
    return at


def tiles(at, label) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def the_run(at):
    run = resources.run_registry().get(at.session_state["toy_run_id"])
    assert run is not None
    return run


def frames(chart) -> dict:
    """A Vega-Lite chart's data as {name: DataFrame}: its named datasets, and its main data under ""."""
    out = {d.name: convert_arrow_bytes_to_pandas_df(d.data.data) for d in chart.proto.datasets}
    if chart.proto.data.data:
        out[""] = convert_arrow_bytes_to_pandas_df(chart.proto.data.data)
    return out


def layer(data: dict, name: str):
    """The rows of one layer (a named dataset, or the main data's rows whose `layer` is `name`); "real" and
    "fake" are the rows of the plane's samples dataset of that kind."""
    if name in ("real", "fake") and "samples" in data:
        samples = data["samples"]
        return samples[samples["kind"] == name]
    if name in data:
        return data[name]
    main = data.get("")
    return None if main is None or "layer" not in main else main[main["layer"] == name]


def charts(at) -> list[tuple[dict, dict]]:
    """Every st.vega_lite_chart as (spec, {name: DataFrame})."""
    return [(json.loads(c.proto.spec), frames(c)) for c in at.get("vega_lite_chart")]


def plane_charts(at) -> list[tuple[dict, dict]]:
    """The charts of the plane: those with D's heatmap layer."""
    return [(spec, data) for spec, data in charts(at) if layer(data, "heat") is not None and len(layer(data, "heat"))]


def test_page_opens_on_a_preview_of_the_untrained_game(app):
    at = app()
    assert at.session_state["toy_data_choice"] == "ring8" and at.session_state["toy_preset"] == "toy-ring"
    assert "toy_run_id" not in at.session_state                 # nothing trains before a button is pressed
    assert "Press **Play** to train" in at.info[0].value
    (spec, data), = plane_charts(at)
    assert spec["width"] == spec["height"] == 420
    assert len(layer(data, "fake")) == POINT_SAMPLE_COUNT and len(layer(data, "real")) == 450
    assert at.metric.len == 0 and not at.error


def test_iteration_trains_one_iteration(app):
    at = click(app(), "Iteration")
    t = the_run(at).trainer
    recipe = preset("toy-ring").train                      # the page's default recipe
    assert (t.step_count, t.d_updates, t.g_updates) == (1, recipe.d_steps, recipe.g_steps)
    assert tiles(at, "Iteration") == ["1"] and tiles(at, "Modes") == ["0 / 8"]
    assert 0.0 <= float(tiles(at, "D(x)")[0]) <= 1.0 and 0.0 <= float(tiles(at, "D(G(z))")[0]) <= 1.0
    assert the_run(at).state == "paused" and button(at, "Resume").disabled is False
    assert len(plane_charts(at)) == 1 and len(charts(at)) == 3            # the plane, losses, modes captured


def test_the_weight_average_control_sets_what_the_run_samples_from(app):
    at = app()
    assert at.selectbox(key="toy_g_ema").value == preset("toy-ring").train.g_ema == 0.98   # the recipe's own
    at = click(at, "Iteration")
    t = the_run(at).trainer
    assert t.generator_ema is not None and t.sampler is t.generator_ema
    assert any("fake dots from the moving average of G's weights (decay 0.98)" in c.value for c in at.caption)
    click(at, "Reset")
    at.selectbox(key="toy_g_ema").select(0.0).run()
    t = the_run(click(at, "Iteration")).trainer
    assert t.config.train.g_ema == 0.0 and t.sampler is t.generator
    assert not any("fake dots from the moving average" in c.value for c in at.caption)


def test_d_step_and_g_step_update_one_network_each(app):
    at = click(app(), "D step")
    run = the_run(at)
    assert (run.trainer.step_count, run.trainer.d_updates, run.trainer.g_updates) == (0, 1, 0)
    assert tiles(at, "Iteration") == ["0"]
    click(at, "G step")
    assert (run.trainer.step_count, run.trainer.d_updates, run.trainer.g_updates) == (0, 1, 1)
    assert tiles(at, "Iteration") == ["0"] and run is the_run(at)        # the same run went on


def test_a_step_slower_than_the_click_waits_says_stepping_until_it_lands(app, monkeypatch):
    at = click(app(), "D step")
    run = the_run(at)
    monkeypatch.setattr(run_ui, "STEP_WAIT_S", 0.2)
    with run._model_lock:                        # the worker cannot step: a machine too busy for the wait
        click(at, "G step")
        assert run_ui.STEPPING in [c.value for c in at.caption] and run.trainer.g_updates == 0
    assert run.wait_until(lambda s: s.steps_pending == 0), "the step never landed"
    at.run()
    assert not at.exception, at.exception
    assert run.trainer.g_updates == 1 and run_ui.STEPPING not in [c.value for c in at.caption]


def test_slow_motion_walks_one_iteration_in_five_phases(app):
    at = app()
    at.toggle(key="toy_slow").set_value(True).run()
    assert not at.exception
    for label in ("Play", "D step", "G step", "Iteration"):               # the phase walk is the only control
        assert button(at, label).disabled
    assert at.get("progress")[0].proto.text == "phase 1 of 5"
    seen = []
    for _ in range(5):
        click(at, "Next phase")
        t = the_run(at).trainer
        seen.append((at.get("progress")[0].proto.text, t.d_updates, t.g_updates))
    assert seen == [("phase 2 of 5", 0, 0), ("phase 3 of 5", 1, 0), ("phase 4 of 5", 1, 0),
                    ("phase 5 of 5", 1, 1), ("phase 1 of 5", 1, 1)]
    assert "1 · The generator draws fakes" in at.info[0].value


def test_side_by_side_trains_three_losses_in_step(app):
    at = app()
    at.multiselect(key="toy_compare").select("minimax").select("wgan-gp").run()
    click(at, "Iteration")
    run = the_run(at)
    assert [lane.config.train.loss for lane in run.lanes] == ["nonsaturating", "minimax", "wgan-gp"]
    assert [lane.trainer.step_count for lane in run.lanes] == [1, 1, 1]
    planes = plane_charts(at)
    assert len(planes) == 3 and all(spec["width"] == 290 for spec, _ in planes)
    assert tiles(at, "Iteration") == ["1", "1", "1"]
    assert any(c.value.startswith("3 recipes on the same data and seed") for c in at.caption)
    assert at.multiselect(key="toy_compare").disabled                    # locked while the run exists
    assert at.selectbox(key="toy_loss").disabled                         # each lane keeps its loss


def test_a_lone_runs_loss_switches_live(app):
    at = click(app(), "Iteration")
    run = the_run(at)
    trainer = run.trainer
    at.selectbox(key="toy_loss").select("minimax").run()
    click(at, "Iteration")
    assert the_run(at) is run and trainer.step_count == 2                 # the same run went on
    assert trainer.loss.name == "minimax" and run.snapshot().config.train.loss == "minimax"


def test_a_drawn_distribution_is_what_the_run_trains_on(app):
    # The pad's lasso selection happens in the browser (plotly's selection event) and AppTest cannot make one,
    # so the drawing is put where the "Add the N selected points" button puts it: session state "toy_drawn".
    drawn = np.array([[-1.0, -1.0], [1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]])
    at = app()
    at.session_state["toy_drawn"] = drawn
    at.selectbox(key="toy_data_choice").select("drawn").run()
    assert not at.exception
    assert "4 points so far." in [c.value for c in at.caption]
    click(at, "Iteration")
    run = the_run(at)
    lane = run.lanes[0]
    assert lane.dataset.title == "Your drawing" and run.trainer.record()["dataset"] == "Your drawing · 2-D"
    # the real dots drawn on the plane are the drawing plus σ 0.02 noise
    (_, data), = plane_charts(at)
    real = layer(data, "real")[["x", "y"]].to_numpy()
    nearest = np.abs(real[:, None, :] - drawn[None, :, :]).max(axis=2).min(axis=1)
    assert len(real) == 450 and nearest.max() < 0.15
    assert tiles(at, "Iteration") == ["1"] and tiles(at, "Modes") == []        # a drawing has no mode metrics


def test_a_bad_csv_says_why_and_a_good_one_trains(app):
    at = app()
    at.selectbox(key="toy_data_choice").select("uploaded").run()
    assert at.file_uploader(key="toy_csv").label.startswith("A CSV file")
    at.file_uploader(key="toy_csv").set_value(("bad.csv", b"x,y\n1,2\n3,oops\n", "text/csv")).run()
    assert not at.exception
    assert [e.value for e in at.error] == ["That file cannot be used: Line 3: 'oops' is not a number."]
    assert "toy_run_id" not in at.session_state and not plane_charts(at)
    good = b"x,y\n0,0\n1,0\n0,1\n1,1\n"
    at.file_uploader(key="toy_csv").set_value(("square.csv", good, "text/csv")).run()
    assert not at.exception and not at.error
    assert "square.csv: 4 points in 2-D." in [c.value for c in at.caption]
    click(at, "Iteration")
    assert tiles(at, "Iteration") == ["1"] and the_run(at).trainer.record()["dataset"] == "square.csv · 2-D"


def test_the_theory_pages_link_opens_the_toy_lab_on_its_p_data(app):
    home = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    home.run()
    home.switch_page("ganplay_app/pages/theory.py").run()
    home.button(key="situation_mode_dropping").click().run()
    assert not home.exception
    link, = [p for p in home.get("page_link") if p.proto.page == "toy_lab"]
    query = dict(parse_qsl(link.proto.query_string))
    p_data = SITUATIONS["mode_dropping"].p_data
    assert query == toy_ui.theory_link_params(p_data)
    assert query == {"data": "theory", "recipe": "toy-1d", "mu": "-3,3", "sd": "0.8,0.8", "w": "0.5,0.5"}

    at = app(**query)                                       # what following the link opens
    assert at.session_state["toy_data_choice"] == "theory" and at.session_state["toy_preset"] == "toy-1d"
    assert at.selectbox(key="toy_data_choice").options[-1] == "From the Theory page (1-D)"
    assert len(charts(at)) == 2 and not plane_charts(at)     # the line: densities, and D against D*
    click(at, "Iteration")
    lane = the_run(at).snapshot().lanes[0]
    assert lane.config.model.data_shape == (1,) and isinstance(lane.view, LineView)
    assert the_run(at).lanes[0].dataset.density == p_data
    np.testing.assert_allclose(lane.view.p_data, p_data.pdf(lane.view.x))
    assert len(tiles(at, "JSD")) == 1 and 0 < float(tiles(at, "JSD")[0]) <= 0.694


def test_the_theory_option_needs_the_theory_pages_parameters(app):
    at = app(data="theory")                                  # no mu / sd / w: nothing to build p_data from
    assert "From the Theory page (1-D)" not in at.selectbox(key="toy_data_choice").options
    assert at.session_state["toy_data_choice"] == "ring8" and len(plane_charts(at)) == 1


def missing_fields(spec: dict, data: dict) -> list[str]:
    """Fields a chart's layers encode that their data does not have (columns, or made by the layer's own
    transforms): Vega-Lite draws such a layer with nothing (a line whose colour field is missing is invisible)."""
    problems = []
    for i, part in enumerate(spec.get("layer", [spec])):
        name = part.get("data", {}).get("name", "")
        frame = layer(data, name) if name else data.get("")
        if frame is None:
            problems.append(f"layer {i}: no dataset {name!r}")
            continue
        made = {t["as"] for t in part.get("transform", []) if "as" in t}
        for channel, enc in part.get("encoding", {}).items():
            field = enc.get("field") if isinstance(enc, dict) else None
            if field is not None and field not in frame.columns and field not in made:
                problems.append(f"layer {i} ({name}): {channel} reads {field!r}, the data has {list(frame.columns)}")
    return problems


@pytest.mark.parametrize("query", [{}, {"data": "bimodal-1d", "recipe": "toy-1d"}], ids=["plane", "line"])
def test_every_chart_draws_fields_its_data_has(app, query):
    at = app(**query)
    at.multiselect(key="toy_compare").select("least-squares").run()
    click(at, "Iteration")
    drawn = charts(at)
    assert len(drawn) == (4 if not query else 6)        # per lane a plane (or the line and D), then two curves
    for spec, data in drawn:
        assert not missing_fields(spec, data), (spec.get("title"), missing_fields(spec, data))


def test_real_and_fake_dots_share_one_legend(app):
    """The plane's legend names each kind of dot once. With independent colour legends every layer that
    encodes colour with a legend draws its own, so the real and the fake layer would each list both kinds."""
    at = app()
    (spec, _), = plane_charts(at)
    independent = spec.get("resolve", {}).get("legend", {}).get("color") == "independent"
    dot_legends = [part for part in spec["layer"]
                   if part.get("encoding", {}).get("color", {}).get("field") == "kind"
                   and part["encoding"]["color"].get("legend", {}) is not None]
    assert len(dot_legends) >= 1
    assert not independent or len(dot_legends) == 1, f"{len(dot_legends)} legends of real and fake"


# -- a run link is not a remote control ------------------------------------------------------------------------
def test_a_shared_toy_run_link_only_watches_and_the_owner_keeps_control(app):
    owner = app(data="moons")
    owner.selectbox(key="toy_loss").set_value("least-squares").run()
    click(owner, "Play")
    run = the_run(owner)
    assert run.wait_until(lambda s: s.step >= 3)
    assert owner.query_params["run"] in (run.id, [run.id])
    watcher = app(run=run.id)
    controls = {"Play", "Resume", "Pause", "D step", "G step", "Iteration", "Reset", "Next phase"}
    assert controls.isdisjoint(b.label for b in watcher.button)
    assert not [t for t in watcher.toggle if t.key == "toy_slow"]
    assert any(f"run `{run.id}` (read-only) — started by another session" in i.value for i in watcher.info)
    assert watcher.selectbox(key="toy_loss").value == "least-squares" and watcher.selectbox(key="toy_loss").disabled
    assert watcher.number_input(key="toy_lr_g").disabled
    shown = int(tiles(watcher, "Iteration")[0].replace(",", ""))
    assert run.wait_until(lambda s: s.lanes[0].view_step >= shown + 3)      # the tile shows the drawn step
    watcher.run()
    assert int(tiles(watcher, "Iteration")[0].replace(",", "")) >= shown + 3     # it follows the run
    assert "toy_run_id" not in watcher.session_state and run.state == "running"
    click(owner, "Pause")
    assert run.state == "paused"
    click(watcher, "Start my own run from this recipe")
    mine = the_run(watcher)
    assert mine.id != run.id and mine.config.train.loss == "least-squares" and mine.lanes[0].dataset.name == "moons"
    assert run.state == "paused"                                   # the lecturer's run is untouched
