"""The failure gallery (ganplay.lessons): each demonstration shows its failure by its metric at its seed, and its
fix undoes it, so a demonstration that stops demonstrating fails here. Plus the live loss switch it relies on
(Trainer.set_hyperparameters(loss=...), TrainingRun passing it through).

The numbers: `python -m ganplay.lessons.gallery` prints every item's metric, failing recipe against fix.
"""
import math

import pytest
import torch

from ganplay.config import ConfigError
from ganplay.lessons.gallery import GALLERY, ITEMS, demonstrate
from ganplay.lessons.metrics import METRICS
from ganplay.live import TrainingRun
from ganplay.losses import LOSSES
from ganplay.toy import TOYS
from ganplay.trainer import Trainer

# What each failure reads at its seed (failing, fixed). A new gallery item without an entry here fails
# test_every_item_is_asserted, so none goes untested.
EXPECTED = {
    "mode-collapse": lambda bad, good: bad.value <= 1 and good.value == 3,
    "mode-collapse-mnist": lambda bad, good: (bad.value <= 3 and bad.extra["diversity"] < 0.3
                                              and good.value >= 7 and good.extra["diversity"] > 0.6),
    "saturating-minimax": lambda bad, good: good.value >= 1e3 * bad.value,
    "d-overpowers": lambda bad, good: bad.value < 0.01 and good.value > 0.2,
    "oscillation": lambda bad, good: (bad.value > 1.0 and bad.extra["modes"] == 0
                                      and good.value < bad.value / 10 and good.extra["modes"] == 8),
    "divergence-nan": lambda bad, good: (bad.value <= 20 and bad.text.startswith("Training diverged at step")
                                         and "Try a smaller learning rate" in bad.text and good.value == math.inf),
    "wgan-clipping": lambda bad, good: bad.value < 1e-3 and abs(good.value - 1.0) < 0.25,
}

STABLE_SLUGS = ["mode-collapse", "mode-collapse-mnist", "saturating-minimax", "d-overpowers", "oscillation",
                "divergence-nan", "wgan-clipping"]


def test_every_item_is_asserted_and_slugs_are_stable():
    assert set(EXPECTED) == set(GALLERY)
    assert list(GALLERY) == STABLE_SLUGS          # bookmarked ?item= links keep working


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.slug)
def test_item_is_consistent(item):
    assert item.metric in METRICS
    assert 0 <= item.prediction.correct < len(item.prediction.answers) >= 3
    assert item.fix.is_live != (item.fix.recipe is not None), "a fix is live, or a fresh recipe, not both"
    if item.fix.recipe is not None:
        assert item.fix.why_not_live, "the card must say why the fix cannot be live"
    if item.fix.is_live:           # every live change is one Trainer.set_hyperparameters accepts
        assert set(item.fix.live) <= {"loss", "lr_g", "lr_d", "d_steps", "g_steps"}


@pytest.fixture(autouse=True)
def _one_thread():
    """The demonstrations are tiny nets: one thread is as fast, and gives the numbers the CLI prints (it runs on
    one thread too)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def images(mnist_dir):
    from ganplay.data import load_dataset

    return load_dataset("mnist", root=mnist_dir)


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item.slug)
def test_failure_shows_and_fix_undoes_it(item, request):
    images = None if item.is_points else request.getfixturevalue("images")
    demo = demonstrate(item, images=images)
    print(demo.line())                                # pytest -s shows every item's numbers
    assert EXPECTED[item.slug](demo.failing, demo.fixed), demo.line()


def test_demonstration_is_reproducible():
    item = GALLERY["d-overpowers"]
    a, b = demonstrate(item), demonstrate(item)
    assert (a.failing.value, a.fixed.value) == (b.failing.value, b.fixed.value)


# -- the live loss switch ---------------------------------------------------------------------------------------
def _toy_trainer(loss="minimax") -> Trainer:
    trainer = Trainer(GALLERY["saturating-minimax"].recipe.replace(**{"train.loss": loss}), TOYS["ring8"], device="cpu")
    for _ in range(3):
        trainer.step()
    return trainer


def test_loss_switch_changes_the_objective_and_keeps_optimiser_state():
    trainer = _toy_trainer("minimax")
    adam_d = {id(p): s["step"].item() for p, s in trainer.opt_d.state.items()}
    fake = torch.tensor([-3.0, 0.0, 2.0])
    trainer.set_hyperparameters(loss="nonsaturating")
    assert trainer.loss is LOSSES["nonsaturating"]
    assert trainer.config.train.loss == "nonsaturating"       # a checkpoint saved now records it
    assert torch.allclose(trainer.loss.g_loss(fake), LOSSES["nonsaturating"].g_loss(fake))
    assert {id(p): s["step"].item() for p, s in trainer.opt_d.state.items()} == adam_d   # Adam's moments stay
    m = trainer.step()
    assert m.g_loss == pytest.approx(m.g_loss) and m.g_loss > 0    # -log D(G(z)) > 0; minimax's is < 0


def test_loss_switch_to_gradient_penalty_stops_clipping():
    trainer = Trainer(GALLERY["wgan-clipping"].recipe, TOYS["ring8"], device="cpu")
    trainer.step()
    bound = trainer.config.train.clip_value
    assert max(p.abs().max().item() for p in trainer.discriminator.parameters()) <= bound
    trainer.set_hyperparameters(loss="wgan-gp", lr_d=1e-2)
    for _ in range(3):
        trainer.step()
    assert max(p.abs().max().item() for p in trainer.discriminator.parameters()) > bound


def test_unknown_loss_is_refused_and_changes_nothing():
    trainer = _toy_trainer("minimax")
    before = (trainer.config, trainer.learning_rates, trainer.d_steps)
    with pytest.raises(ConfigError, match="nonsaturating"):      # the message lists the losses
        trainer.set_hyperparameters(lr_g=0.5, d_steps=2, loss="no-such-loss")
    assert (trainer.config, trainer.learning_rates, trainer.d_steps) == before
    assert trainer.loss.name == "minimax"


def test_training_run_passes_the_loss_switch_through():
    run = TrainingRun(GALLERY["saturating-minimax"].recipe, TOYS["ring8"], threads=1, max_frames=0)
    with pytest.raises(ConfigError):
        run.set_hyperparameters(loss="no-such-loss")
    run.set_hyperparameters(loss="nonsaturating", lr_d=1e-3)     # not started: applied at once
    assert run.trainer.loss.name == "nonsaturating" and run.trainer.learning_rates[1] == 1e-3
    assert run.snapshot(with_history=False).config.train.loss == "nonsaturating"
    assert run.snapshot(with_history=False).lanes[0].config.train.loss == "nonsaturating"
