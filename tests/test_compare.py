"""Side by side on MNIST (ganplay.compare, ganplay.figures.compare, the Training page's "Side by side" mode):
both recipes see the same real batches, start from the same weights, show their grids at the same step, and
the overlaid chart's spec stays the same while the data grows."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganplay.compare import SharedBatches, side_by_side
from ganplay.config import ConfigError
from ganplay.data import data_source, load_dataset
from ganplay.figures.compare import RECIPE_COLORS, compare_chart, merged_history
from ganplay.live import ENDED, RunRegistry
from ganplay.presets import preset
from ganplay_app import resources

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "training.py")


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset("mnist", mnist_dir)


@pytest.fixture
def registry():
    reg = RunRegistry(max_running=2, cores=1)
    yield reg
    reg.stop_all()


def recipes(*losses):
    base = preset("lecture").replace(**{"train.seed": 3})
    return [base.replace(name=loss, **{"train.loss": loss}) for loss in losses]


def next_real_batch(lane) -> torch.Tensor:
    """The real batch this lane's next D step will draw (from a copy of its data generator's state)."""
    shared = lane.trainer.source
    copy = torch.Generator().set_state(shared.generator.get_state())
    return shared.source.batch(lane.config.train.batch_size, copy)[0]


def test_both_lanes_see_the_same_real_batches_even_with_a_gradient_penalty(registry, mnist):
    # WGAN-GP draws its penalty's random mix from the trainer's generator, which would shift every later batch
    cfgs = recipes("nonsaturating", "wgan-gp")
    run = side_by_side(registry, cfgs, mnist, max_steps=10)
    reference = SharedBatches(data_source(mnist, cfgs[0].model), cfgs[0].train.seed)   # the stream, drawn alone
    for step in range(4):
        expected = reference.batch(64)[0]
        for lane in run.lanes:
            assert torch.equal(next_real_batch(lane), expected), (step, lane.name)
        assert run.step_once("both", wait_s=60)
    snap = run.snapshot()
    assert [lane.view_step for lane in snap.lanes] == [4, 4]


def test_without_shared_batches_the_lanes_drift_apart(registry, mnist):
    """Why side_by_side swaps the data source: a plain run's lanes share only the trainer's seed."""
    a, b = recipes("nonsaturating", "wgan-gp")
    run = registry.create(a, mnist, compare=[b], max_steps=10)
    assert torch.equal(run.lanes[0].trainer.rng.get_state(), run.lanes[1].trainer.rng.get_state())
    assert run.step_once("both", wait_s=60)
    assert not torch.equal(run.lanes[0].trainer.rng.get_state(), run.lanes[1].trainer.rng.get_state())


def test_same_start_then_grids_at_the_same_step(registry, mnist):
    run = side_by_side(registry, recipes("minimax", "nonsaturating"), mnist, max_steps=3)
    first = run.snapshot()
    np.testing.assert_array_equal(first.lanes[0].view, first.lanes[1].view)   # same G weights, same noise
    run.start()
    assert run.wait_until(lambda s: s.state in ENDED, timeout=120)
    snap = run.snapshot()
    assert snap.state == "finished"
    assert [lane.view_step for lane in snap.lanes] == [3, 3]
    assert [lane.history["step"] for lane in snap.lanes] == [[1.0, 2.0, 3.0]] * 2
    assert not np.array_equal(snap.lanes[0].view, snap.lanes[1].view)          # the losses differ


def test_recipes_must_share_seed_and_batch(registry, mnist):
    a, b = recipes("minimax", "nonsaturating")
    with pytest.raises(ConfigError, match="share the seed and the batch size"):
        side_by_side(registry, [a, b.replace(**{"train.seed": 4})], mnist)
    with pytest.raises(ConfigError, match="at least two"):
        side_by_side(registry, [a], mnist)
    assert registry.running() == 0


def test_merged_history_pads_a_lane_that_stopped():
    merged = merged_history([{"step": [1, 2, 3], "g_loss": [0.5, 0.6, 0.7]},
                             {"step": [1, 2], "g_loss": [1.0, 2.0]}], "g_loss")
    assert merged["step"] == [1, 2, 3] and merged["recipe0"] == [0.5, 0.6, 0.7]
    assert merged["recipe1"][:2] == [1.0, 2.0] and math.isnan(merged["recipe1"][2])


def test_compare_chart_spec_does_not_change_while_the_data_grows():
    def history(n):
        return {"step": list(range(1, n + 1)), "g_loss": list(np.linspace(0, 1, n))}

    names = ["Minimax (saturating)", "Non-saturating (BCE)"]
    data_a, spec_a = compare_chart([history(5), history(5)], names, "g_loss")
    data_b, spec_b = compare_chart([history(500), history(499)], names, "g_loss")
    assert spec_a == spec_b
    colour = spec_a["layer"][1]["encoding"]["color"]["scale"]
    assert colour == {"domain": names, "range": list(RECIPE_COLORS[:2])}
    assert sorted(set(data_b["mean"]["series"])) == sorted(names)
    assert spec_a["title"] == "G loss"
    assert len(data_a["raw"]) == 10


# -- the page ------------------------------------------------------------------------------------------------
@pytest.fixture
def app(mnist_dir, monkeypatch):
    monkeypatch.setenv("GANPLAY_DATA", str(mnist_dir))
    yield
    resources.run_registry().stop_all()
    resources.run_registry.clear()


def test_side_by_side_page_trains_two_recipes_and_shows_both_grids_at_one_step(app):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["tr_mode"] = "Side by side"
    at.run()
    assert not at.exception, at.exception
    assert any("half" in c.value for c in at.caption)          # each recipe gets half the machine
    at.number_input(key="cmp_steps").set_value(3)
    at.run()
    next(b for b in at.button if b.label == "Start").click().run()
    run = resources.run_registry().get(at.session_state["cmp_run_id"])
    assert [lane.name for lane in run.lanes] == ["A · Minimax (saturating)", "B · Non-saturating (BCE)"]
    assert run.wait_until(lambda s: s.state in ENDED, timeout=120)
    at.run()
    assert not at.exception, at.exception
    captions = [img.caption for e in at.get("image") for img in e.proto.imgs]
    assert captions == ["A · Minimax (saturating) · step 3", "B · Non-saturating (BCE) · step 3"]
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert [s["title"] for s in specs] == ["G loss", "mean D(G(z)), fake"]
    for spec in specs:       # one chart per metric, a colour per recipe
        assert spec["layer"][1]["encoding"]["color"]["scale"]["domain"] == [lane.name for lane in run.lanes]
