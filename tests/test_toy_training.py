"""Point models through the one Trainer: toy recipes learn, repeat bit for bit, and every loss, optimiser and
partial step works on (B, d) points; the Toy lab's views are checked against closed forms; live lanes step
together; and the CLI trains a toy recipe and writes its samples as CSV."""
import math
import re

import numpy as np
import pytest
import torch

from ganplay import theory
from ganplay.checkpoint import load_checkpoint, save_checkpoint
from ganplay.config import ConfigError
from ganplay.data import data_source, load_data
from ganplay.live import PAUSED, RUNNING, TrainingRun
from ganplay.losses import LOSSES, gradient_penalty
from ganplay.models import build_models, sample_latent
from ganplay.presets import preset
from ganplay.toy import MODE_SAMPLES, TOYS, LineView, PlaneView, mode_metrics, parse_csv
from ganplay.toy.view import (ARROW_CAP, ARROW_SCALE, MANIFOLD_2D, generator_push, js_on_grid, line_view,
                              manifold, plane_view, pushforward_density)
from ganplay.trainer import POINT_SAMPLE_COUNT, Trainer
from tests.test_cli import assert_user_error, ganplay

RING = TOYS["ring8"]
RING_CFG = preset("toy-ring")
SMALL_RING = RING_CFG.replace(**{"train.batch_size": 64})
LINE_CFG = preset("toy-1d")
BIMODAL = TOYS[LINE_CFG.train.dataset]


def params(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


# -- learning and repeating ---------------------------------------------------------------------------------------
def test_toy_ring_learns_the_modes_from_fixed_noise():
    trainer = Trainer(RING_CFG, RING, device="cpu")
    z = trainer.noise(MODE_SAMPLES, torch.Generator().manual_seed(7))        # (2500, 2), the same both times

    def measure():
        x = trainer.sample(z)                                               # (2500, 2)
        return mode_metrics(x.numpy(), RING.modes, RING.mode_sigma), (x.norm(dim=1) - 1).abs().mean().item()

    before, off_circle_before = measure()
    for _ in range(600):
        trainer.step()
    after, off_circle_after = measure()
    assert trainer.step_count == 600
    # Seeds 0-5 reach 6 to 8 of 8 modes at 600 iterations; the bounds leave room for other CPUs' rounding.
    assert after.captured >= before.captured + 4
    assert after.high_quality > before.high_quality + 0.01
    assert off_circle_after < 0.5 * off_circle_before          # the fakes moved onto the unit circle


def test_same_seed_repeats_a_toy_run_bit_for_bit():
    def run(seed):
        trainer = Trainer(SMALL_RING.replace(**{"train.seed": seed}), RING, device="cpu")
        for _ in range(40):
            trainer.step()
        trainer.train_d()
        trainer.train_g()
        return trainer.sample(), params(trainer.discriminator)

    (a, d_a), (b, d_b), (c, _) = run(3), run(3), run(4)
    assert a.shape == (POINT_SAMPLE_COUNT, 2)
    assert torch.equal(a, b) and same(d_a, d_b)
    assert not torch.equal(a, c)                                # the seed matters, so the equality above means something


def test_one_dimensional_run_brings_p_g_towards_p_data():
    trainer = Trainer(LINE_CFG, BIMODAL, device="cpu")
    real = BIMODAL.sample(2000, torch.Generator().manual_seed(1)).numpy()
    eval_z = trainer.noise(MODE_SAMPLES, torch.Generator().manual_seed(2))
    before = line_view(trainer, BIMODAL, real, eval_z)
    for _ in range(300):
        trainer.step()
    after = line_view(trainer, BIMODAL, real, eval_z)
    assert before.jsd > 0.6                  # an untrained G sits between the two modes: JSD near log 2
    assert after.jsd < 0.5 * before.jsd
    assert after.step == 300 and after.p_g_method == "change of variables"


# -- every loss, the penalty, partial steps, optimisers --------------------------------------------------------
@pytest.mark.parametrize("loss", list(LOSSES))
def test_every_loss_trains_on_points(loss):
    trainer = Trainer(SMALL_RING.replace(**{"train.loss": loss}), RING, device="cpu")
    for _ in range(5):
        m = trainer.step()
    values = [m.d_loss, m.g_loss, m.d_real, m.d_fake, m.d_grad_norm, m.g_grad_norm]
    assert all(math.isfinite(v) for v in values), values
    assert m.d_grad_norm > 0 and m.g_grad_norm > 0
    assert torch.isfinite(trainer.sample()).all()
    if LOSSES[loss].output == "probability":
        assert 0 < m.d_real < 1 and 0 < m.d_fake < 1
    if loss == "wgan":                                          # weight clipping after every D step
        bound = trainer.config.train.clip_value
        assert max(p.abs().max().item() for p in trainer.discriminator.parameters()) <= bound


def test_gradient_penalty_of_a_linear_critic_on_points():
    """D(x) = w·x has gradient w at every point, so GP = (‖w‖ − 1)² = (5 − 1)² = 16 exactly, whatever the mix."""
    w = torch.tensor([3.0, 4.0])
    real = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))       # (B, 2)
    fake = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    gp = gradient_penalty(lambda x: x @ w, real, fake, generator=torch.Generator().manual_seed(2))
    assert gp.item() == 16.0
    # per-sample norms on points: D(x) = ‖x‖²/2 has gradient x; norms 2 and 0.5 give ((2−1)² + (0.5−1)²)/2
    x = torch.tensor([[2.0, 0.0], [0.0, 0.5]])
    assert gradient_penalty(lambda p: 0.5 * p.square().sum(1), x, x.clone()).item() == pytest.approx(0.625)


def linear_critic_trainer(loss: str = "nonsaturating", w=(3.0, 4.0), b: float = 0.0, **changes) -> Trainer:
    """A point trainer whose D is exactly logit = w·x + b: one hidden unit, LeakyReLU of slope 1 (the identity)."""
    cfg = SMALL_RING.replace(**{"train.loss": loss, "model.discriminator.hidden": [1],
                                "model.discriminator.slope": 1.0, **changes})
    trainer = Trainer(cfg, RING, device="cpu")
    first, act, last = trainer.discriminator.net[1:]
    assert isinstance(act, torch.nn.LeakyReLU) and act.negative_slope == 1.0
    with torch.no_grad():
        first.weight.copy_(torch.tensor([w]))
        first.bias.zero_()
        last.weight.fill_(1.0)
        last.bias.fill_(b)
    return trainer


def test_the_trainers_penalty_is_the_linear_critics_closed_form():
    """The trainer's wgan-gp D loss with a linear critic is E[D(G(z))] − E[D(x)] + λ·16; the same seed draws the
    same batches for every λ, so the loss at λ = 10 exceeds the loss at λ = 0 by exactly 160."""
    losses = {}
    for weight in (0.0, 10.0):
        losses[weight] = linear_critic_trainer("wgan-gp", **{"train.gp_weight": weight}).train_d().d_loss
    assert losses[10.0] - losses[0.0] == pytest.approx(160.0, rel=1e-5)


def test_train_d_and_train_g_each_move_one_network():
    trainer = Trainer(SMALL_RING, RING, device="cpu")
    g0, d0 = params(trainer.generator), params(trainer.discriminator)
    trainer.train_d()
    g1, d1 = params(trainer.generator), params(trainer.discriminator)
    assert same(g0, g1) and not same(d0, d1)
    assert (trainer.step_count, trainer.d_updates, trainer.g_updates) == (0, 1, 0)
    trainer.train_g()
    g2, d2 = params(trainer.generator), params(trainer.discriminator)
    assert not same(g1, g2) and same(d1, d2)
    assert (trainer.step_count, trainer.d_updates, trainer.g_updates) == (0, 1, 1)
    assert trainer.record()["steps"] == 0 and trainer.record()["g_updates"] == 1


def test_g_steps_and_d_steps_per_iteration():
    trainer = Trainer(SMALL_RING.replace(**{"train.g_steps": 2, "train.d_steps": 3}), RING, device="cpu")
    trainer.step()
    assert (trainer.step_count, trainer.d_updates, trainer.g_updates) == (1, 3, 2)
    trainer.set_hyperparameters(g_steps=1, d_steps=1)
    trainer.step()
    assert (trainer.step_count, trainer.d_updates, trainer.g_updates) == (2, 4, 3)


@pytest.mark.parametrize("changes, g_type, d_type", [
    ({"train.optimizer": "sgd", "train.momentum": 0.9}, torch.optim.SGD, torch.optim.SGD),
    ({"train.optimizer": "rmsprop", "train.momentum": 0.5}, torch.optim.RMSprop, torch.optim.RMSprop),
    ({"train.optimizer": "adam", "train.optimizer_d": "sgd", "train.momentum": 0.9}, torch.optim.Adam,
     torch.optim.SGD),
    ({"train.optimizer": "sgd", "train.optimizer_d": "rmsprop"}, torch.optim.SGD, torch.optim.RMSprop),
])
def test_optimizers_are_the_torch_classes_asked_for(changes, g_type, d_type):
    cfg = SMALL_RING.replace(**{**changes, "train.lr_g": 0.05, "train.lr_d": 0.02})
    trainer = Trainer(cfg, RING, device="cpu")
    assert type(trainer.opt_g) is g_type and type(trainer.opt_d) is d_type
    assert trainer.learning_rates == (0.05, 0.02)
    for opt in (trainer.opt_g, trainer.opt_d):
        if not isinstance(opt, torch.optim.Adam):
            assert opt.param_groups[0]["momentum"] == changes.get("train.momentum", 0.0)
    trainer.step()
    assert all(torch.isfinite(p).all() for p in trainer.generator.parameters())


def test_toy_ganlab_preset_is_sgd_with_two_d_steps():
    trainer = Trainer(preset("toy-ganlab"), TOYS["two-gaussians"], device="cpu")
    assert type(trainer.opt_g) is type(trainer.opt_d) is torch.optim.SGD
    trainer.step()
    assert (trainer.d_updates, trainer.g_updates) == (2, 1)
    assert trainer.sample().abs().max() <= 1.0                  # GAN Lab's tanh output


# -- the generator's weight average (train.g_ema) ------------------------------------------------------------------
def test_the_weight_average_is_the_warmed_up_moving_average_of_g():
    cfg = SMALL_RING.replace(**{"train.g_ema": 0.9})
    trainer = Trainer(cfg, RING, device="cpu")
    w0 = params(trainer.generator)
    assert same(params(trainer.generator_ema), w0)                 # the average starts at G's initial weights
    trainer.step()
    w1 = params(trainer.generator)
    # first G update: decay min(0.9, (1 + 1) / (10 + 1)) = 2/11, so avg = 2/11 w0 + 9/11 w1
    for a, x0, x1 in zip(trainer.generator_ema.parameters(), w0, w1):
        torch.testing.assert_close(a, 2 / 11 * x0 + 9 / 11 * x1, rtol=1e-6, atol=1e-7)
    for _ in range(30):
        trainer.step()
    averages = params(trainer.generator_ema)
    trainer.step()                                                    # n = 32: decay (1 + 32) / (10 + 32) < 0.9
    for a, a_prev, x in zip(trainer.generator_ema.parameters(), averages, trainer.generator.parameters()):
        torch.testing.assert_close(a, 33 / 42 * a_prev + 9 / 42 * x, rtol=1e-5, atol=1e-6)
    assert trainer.g_updates == 32


def test_the_average_does_not_change_the_game_only_what_is_sampled(tmp_path):
    def run(g_ema):
        trainer = Trainer(SMALL_RING.replace(**{"train.g_ema": g_ema}), RING, device="cpu")
        for _ in range(50):
            trainer.step()
        return trainer

    plain, averaged = run(0.0), run(0.99)
    assert plain.generator_ema is None and plain.sampler is plain.generator
    # the same G and D weights bit for bit: the average draws no random numbers and feeds nothing back
    assert same(params(plain.generator), params(averaged.generator))
    assert same(params(plain.discriminator), params(averaged.discriminator))
    with torch.no_grad():
        expected = averaged.generator_ema(averaged.fixed_z)
    assert torch.equal(averaged.sample(), expected)                  # samples come from the average...
    assert not torch.allclose(averaged.sample(), plain.sample())      # ...which is not G itself
    path = save_checkpoint(tmp_path / "avg.safetensors", averaged)
    ckpt = load_checkpoint(path)
    assert ckpt.config.train.g_ema == 0.99
    with torch.no_grad():
        assert torch.equal(ckpt.generator(averaged.fixed_z), expected)   # the checkpoint holds the average


def test_the_average_takes_gs_batch_norm_statistics_as_they_are():
    cfg = SMALL_RING.replace(**{"train.g_ema": 0.9, "model.generator.batchnorm": True})
    trainer = Trainer(cfg, RING, device="cpu")
    for _ in range(3):
        trainer.step()
    live, avg = dict(trainer.generator.named_buffers()), dict(trainer.generator_ema.named_buffers())
    assert any(k.endswith("running_mean") for k in live) and live.keys() == avg.keys()
    assert all(torch.equal(avg[k], live[k]) for k in live)           # copied, not averaged
    assert int(live[next(k for k in live if k.endswith("num_batches_tracked"))]) > 0


@pytest.mark.parametrize("decay", [1.0, -0.1])
def test_a_weight_average_decay_outside_0_1_is_refused_in_words(decay):
    with pytest.raises(ConfigError, match=re.escape("weight-average decay must be in [0, 1)")):
        Trainer(SMALL_RING.replace(**{"train.g_ema": decay}), RING, device="cpu")


@pytest.mark.parametrize("changes, words", [
    ({"train.optimizer": "lbfgs"}, "optimizer must be one of adam, rmsprop, sgd"),
    ({"train.optimizer_d": "adagrad"}, "optimizer must be one of adam, rmsprop, sgd"),
    ({"train.momentum": 1.0}, "momentum must be in [0, 1)"),
    ({"train.g_steps": 0}, "G steps per iteration must be between 1 and 100"),
])
def test_bad_optimizer_settings_are_refused_in_words(changes, words):
    with pytest.raises(ConfigError, match=re.escape(words)):
        Trainer(SMALL_RING.replace(**changes), RING, device="cpu")


# -- data sources -------------------------------------------------------------------------------------------------
def test_data_source_refuses_mismatched_data_in_words(mnist):
    with pytest.raises(ConfigError, match="makes points: train it on a toy distribution"):
        data_source(mnist, RING_CFG.model)
    with pytest.raises(ConfigError, match="makes points: train it on a toy distribution"):
        Trainer(RING_CFG, mnist, device="cpu")
    with pytest.raises(ConfigError, match=r"makes images: a toy distribution needs a point model"):
        data_source(RING, preset("mlp-vanilla").model)
    with pytest.raises(ConfigError, match="the model makes 1-D points but the data is 2-D"):
        data_source(RING, LINE_CFG.model)
    with pytest.raises(ConfigError, match="the model makes 2-D points but the data is 1-D"):
        Trainer(RING_CFG, BIMODAL, device="cpu")
    x, y = data_source(RING, RING_CFG.model).batch(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 2) and x.dtype == torch.float32 and y is None
    assert load_data("ring8") is RING


# -- what the lab draws: the push, densities, JSD, D*, the manifold ------------------------------------------
@pytest.mark.parametrize("loss, push", [
    # per sample l = w·x + b; push = −∂L_G/∂x = −L_G'(l)·w
    ("nonsaturating", lambda l: torch.sigmoid(-l)),     # L_G = softplus(−l): −(−σ(−l)) = σ(−l)
    ("minimax", lambda l: torch.sigmoid(l)),            # L_G = −softplus(l): −(−σ(l)) = σ(l)
    ("least-squares", lambda l: 1.0 - l),               # L_G = ½(l − 1)²: −(l − 1)
    ("wgan", lambda l: torch.ones_like(l)),             # L_G = −l
    ("hinge", lambda l: torch.ones_like(l)),            # L_G = −l
])
def test_generator_push_is_the_per_sample_gradient_of_a_linear_critic(loss, push):
    w, b = torch.tensor([3.0, -4.0]), 0.5
    trainer = linear_critic_trainer(loss, tuple(w.tolist()), b)
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0)) * 0.3    # (16, 2): logits within ±4
    logits = x @ w + b
    expected = push(logits)[:, None] * w                                           # (16, 2)
    got = generator_push(trainer, x)
    assert got.shape == (16, 2)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-5, atol=1e-6)
    assert all(p.requires_grad for p in trainer.discriminator.parameters())        # D left trainable


def test_generator_push_is_per_sample_on_a_real_network():
    """With the 3 × 128 D, each sample's push is the gradient of its own loss: the same alone as in a batch."""
    trainer = Trainer(SMALL_RING, RING, device="cpu")
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
    batch = generator_push(trainer, x)
    for i in range(6):
        xi = x[i:i + 1].clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(torch.nn.functional.softplus(-trainer.discriminator(xi)).sum(), xi)
        np.testing.assert_allclose(batch[i], -grad[0].numpy(), rtol=1e-5, atol=1e-7)


Z_GRID = np.linspace(-6.0, 6.0, 2001)
P_Z = np.exp(-0.5 * Z_GRID ** 2) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_pushforward_of_an_affine_map_is_a_gaussian(sign):
    """G(z) = ±2z + 1 with z ~ N(0, 1) has density N(1, 2²) (either orientation)."""
    x = np.linspace(-5.0, 7.0, 400)
    p = pushforward_density(Z_GRID, sign * 2.0 * Z_GRID + 1.0, P_Z, x)
    expected = np.exp(-0.5 * ((x - 1.0) / 2.0) ** 2) / (2.0 * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(p, expected, atol=1e-4)


def test_pushforward_of_the_square_is_chi_square_one():
    """G(z) = z² folds both halves of the line onto x > 0: p_g = exp(−x/2) / sqrt(2πx), summed over ±sqrt(x)."""
    x = np.linspace(-1.0, 6.0, 400)
    p = pushforward_density(Z_GRID, Z_GRID ** 2, P_Z, x)
    away = x >= 0.5
    expected = np.exp(-x[away] / 2) / np.sqrt(2 * math.pi * x[away])
    np.testing.assert_allclose(p[away], expected, rtol=1e-2)
    assert np.all(p[x < -0.05] == 0)                                   # no preimage: no density
    assert p.sum() * (x[1] - x[0]) == pytest.approx(1.0, abs=0.02)     # P(z² <= 6) = 0.986, plus the last bin


def test_js_on_grid_known_values():
    x = np.linspace(-8.0, 9.0, 4000)
    a, b = theory.Gaussian(0.0, 1.0), theory.Gaussian(1.0, 1.0)
    assert js_on_grid(a.pdf(x), a.pdf(x), x) == 0.0
    disjoint = js_on_grid(np.where(x < 0, 1.0, 0.0), np.where(x >= 0, 1.0, 0.0), x)
    assert disjoint == pytest.approx(math.log(2), abs=1e-12)
    # against ganplay.theory's own quadrature: JSD(N(0,1), N(1,1))
    assert js_on_grid(a.pdf(x), b.pdf(x), x) == pytest.approx(theory.js_divergence(a, b), abs=1e-6)


def test_line_view_d_star_and_densities():
    cfg = LINE_CFG.replace(**{"train.real_label": 0.9})
    trainer = Trainer(cfg, BIMODAL, device="cpu")
    for _ in range(5):
        trainer.step()
    real = BIMODAL.sample(500, torch.Generator().manual_seed(0)).numpy()
    eval_z = trainer.noise(500, torch.Generator().manual_seed(1))
    view = line_view(trainer, BIMODAL, real, eval_z)
    assert isinstance(view, LineView) and view.step == 5 and view.output == "probability"
    np.testing.assert_allclose(view.p_data, BIMODAL.density.pdf(view.x))           # the exact density
    np.testing.assert_allclose(view.d_star, 0.9 * view.p_data / (view.p_data + view.p_g))
    assert np.trapezoid(view.p_g, view.x) == pytest.approx(1.0, abs=1e-2)       # G's mass lies on the grid
    assert view.fake.shape == (POINT_SAMPLE_COUNT,) and 0.0 <= view.jsd <= math.log(2)
    assert ((0 <= view.d_learned) & (view.d_learned <= 1)).all()
    for loss in ("wgan", "wgan-gp", "hinge"):                  # a critic has no D* to learn
        critic = Trainer(LINE_CFG.replace(**{"train.loss": loss}), BIMODAL, device="cpu")
        assert line_view(critic, BIMODAL, real, eval_z).d_star is None
    two_d_noise = Trainer(LINE_CFG.replace(**{"model.latent_dim": 2}), BIMODAL, device="cpu")
    two_d_z = two_d_noise.noise(500, torch.Generator().manual_seed(1))
    assert line_view(two_d_noise, BIMODAL, real, two_d_z).p_g_method == "kernel density estimate"


def test_manifold_segments():
    trainer = Trainer(SMALL_RING, RING, device="cpu")
    segs, opacity = manifold(trainer)
    n = MANIFOLD_2D                                         # an n x n noise grid: n rows and n columns of n - 1
    assert segs.shape == (2 * n * (n - 1), 4) and opacity.shape == (2 * n * (n - 1),)
    assert opacity.min() >= 0.05 and opacity.max() == 1.0
    # the first segment runs from the corner of the z grid to its neighbour: G(lo, lo) to G(lo, lo + step), with
    # the grid over [-1, 1] for uniform noise and [-3, 3] for normal noise
    lo = -1.0 if SMALL_RING.model.prior == "uniform" else -3.0
    ends = trainer.sample(torch.tensor([[lo, lo], [lo, lo - 2 * lo / (n - 1)]])).numpy()
    np.testing.assert_allclose(segs[0], ends.ravel(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(segs[1:n - 1, :2], segs[:n - 2, 2:])     # one row of the grid: a polyline

    one = Trainer(SMALL_RING.replace(**{"model.latent_dim": 1}), RING, device="cpu")
    segs1, opacity1 = manifold(one)
    assert segs1.shape == (200, 4) and ((0.05 <= opacity1) & (opacity1 <= 1)).all()
    assert manifold(Trainer(SMALL_RING.replace(**{"model.latent_dim": 3}), RING, device="cpu")) is None
    assert manifold(Trainer(LINE_CFG, BIMODAL, device="cpu")) is None       # the line has no manifold to draw


# -- live lanes -----------------------------------------------------------------------------------------------
@pytest.fixture
def runs():
    made = []

    def make(config, data, **kwargs):
        run = TrainingRun(config, data, **{"grid_every_s": 0.0, "max_frames": 0, **kwargs})
        made.append(run)
        return run

    yield make
    for run in made:
        run.stop()
        run.join(60)
        assert not (run._thread and run._thread.is_alive()), "worker thread outlived its run"


def step_and_wait(run, part: str, lane_counts) -> None:
    """One step of `part`, waited for until the worker published it; then every lane shows it (a predicate on
    the lanes' trainers)."""
    assert run.step_once(part, wait_s=60.0), "the step never arrived"
    assert lane_counts(run)


def test_side_by_side_lanes_step_together(runs):
    minimax = SMALL_RING.replace(name="minimax", **{"train.loss": "minimax"})
    run = runs(SMALL_RING, RING, compare=[minimax])
    for k in (1, 2, 3):
        step_and_wait(run, "both", lambda r, k=k: all(lane.trainer.step_count == k for lane in r.lanes))
    snap = run.snapshot()
    assert [lane.name for lane in snap.lanes] == ["toy-ring", "minimax"]
    for lane in snap.lanes:
        assert lane.history["step"] == [1.0, 2.0, 3.0] and lane.view_step == 3
        assert isinstance(lane.view, PlaneView) and lane.view.fake.shape == (POINT_SAMPLE_COUNT, 2)
        assert lane.probes["step"] == [0.0, 1.0, 2.0, 3.0]                  # the untrained view, then each step
        assert all(0 <= m <= 8 for m in lane.probes["modes"]) and all(math.isfinite(q) for q in
                                                                      lane.probes["high_quality"])
        assert all(math.isnan(j) for j in lane.probes["jsd"])               # JSD is the line's probe
    a, b = run.lanes
    assert not same(params(a.trainer.generator), params(b.trainer.generator))  # same start, different losses

    d, g = 3 * SMALL_RING.train.d_steps + 1, 3 * SMALL_RING.train.g_steps + 1     # 3 iterations, then one each
    step_and_wait(run, "d", lambda r: all(lane.trainer.d_updates == d for lane in r.lanes))
    step_and_wait(run, "g", lambda r: all(lane.trainer.g_updates == g for lane in r.lanes))
    snap = run.snapshot()
    for lane, live in zip(snap.lanes, run.lanes):
        assert live.trainer.step_count == 3 and (live.trainer.d_updates, live.trainer.g_updates) == (d, g)
        assert lane.history["step"] == [1.0, 2.0, 3.0]                      # partial steps add no history row
        assert lane.view_step == 3
    assert run.state == PAUSED


def test_a_line_run_probes_jsd(runs):
    run = runs(LINE_CFG, BIMODAL)
    step_and_wait(run, "both", lambda r: r.trainer.step_count == 1)
    lane = run.snapshot().lanes[0]
    assert isinstance(lane.view, LineView) and lane.probes["step"] == [0.0, 1.0]
    assert all(0 < j <= math.log(2) for j in lane.probes["jsd"])
    assert lane.probes["modes"][-1] in (0, 1, 2)                            # the two Gaussians are its modes


def test_a_diverging_lane_stops_alone(runs):
    # least squares at lr 100 with Adam: G's gradients overflow in the first iteration (seed 0)
    wild = SMALL_RING.replace(name="wild", **{"train.loss": "least-squares", "train.lr_g": 100.0,
                                              "train.lr_d": 100.0})
    run = runs(SMALL_RING, RING, compare=[wild])
    for k in (1, 2, 3):
        step_and_wait(run, "both", lambda r, k=k: r.lanes[0].trainer.step_count == k)
    calm, diverged = run.snapshot().lanes
    assert "diverged" in diverged.message and "learning rate" in diverged.message
    stopped_at = run.lanes[1].trainer.step_count                # 0 here: the first iteration overflowed
    assert stopped_at < 3 and diverged.history["step"] == [float(s) for s in range(1, stopped_at + 1)]
    assert calm.message == "" and calm.history["step"] == [1.0, 2.0, 3.0]
    assert run.state == PAUSED                                   # the run goes on with the lane that still trains
    run.start()
    assert run.wait_until(lambda s: s.step >= 10)
    assert run.state == RUNNING and run.snapshot().lanes[1].message == diverged.message


# -- the command line ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy-cli") / "r.safetensors"
    result = ganplay("train", "--preset", "toy-ring", "--steps", "50", "--threads", "2", "--out", str(out))
    return result, out


def test_cli_trains_a_toy_recipe_without_any_data_files(toy_checkpoint):
    result, out = toy_checkpoint
    assert result.returncode == 0, result.stderr
    assert "toy-ring: Ring of 8 Gaussians · 2-D · 8 modes on cpu" in result.stderr
    assert "trained 50 steps" in result.stdout and f"saved {out}" in result.stdout
    ckpt = load_checkpoint(out)
    assert ckpt.config.model.data_shape == (2,) and ckpt.record["steps"] == 50
    assert ckpt.record["dataset"] == "Ring of 8 Gaussians · 2-D · 8 modes"


def test_cli_samples_a_point_model_as_csv(toy_checkpoint, tmp_path):
    _, checkpoint = toy_checkpoint
    out = tmp_path / "points.csv"
    result = ganplay("sample", str(checkpoint), "--n", "2500", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out} (2500 samples from toy-ring, 50 steps)" in result.stdout
    lines = out.read_text().splitlines()
    assert lines[0] == "x,y" and len(lines) == 1 + 2500
    points = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])     # (2500, 2)
    assert points.shape == (2500, 2)
    # the checkpoint's generator reproduces the file from the same seed (--seed defaults to 0)
    ckpt = load_checkpoint(checkpoint)
    z = sample_latent(ckpt.config.model, 2500, torch.Generator().manual_seed(0))
    with torch.inference_mode():
        expected = ckpt.generator(z).numpy()
    np.testing.assert_array_equal(points.astype(np.float32), expected)      # 9 digits read float32 back exactly
    np.testing.assert_array_equal(parse_csv(out.read_bytes()), points)     # the Toy lab can read it back


def test_cli_sample_refuses_the_wrong_format(toy_checkpoint, tmp_path):
    _, checkpoint = toy_checkpoint
    line = assert_user_error(ganplay("sample", str(checkpoint), "--out", str(tmp_path / "grid.png")))
    assert "toy-ring makes points: write them as CSV" in line
    image_ckpt = tmp_path / "images.safetensors"
    cfg = preset("mlp-vanilla")
    save_checkpoint(image_ckpt, config=cfg, generator=build_models(cfg.model, seed=0)[0])
    line = assert_user_error(ganplay("sample", str(image_ckpt), "--out", str(tmp_path / "points.csv")))
    assert "mlp-vanilla makes images: write them as a PNG grid" in line
    assert not (tmp_path / "grid.png").exists() and not (tmp_path / "points.csv").exists()


def test_cli_refuses_a_toy_recipe_on_data_of_another_dimension(tmp_path):
    out = tmp_path / "x.safetensors"
    line = assert_user_error(ganplay("train", "--preset", "toy-ring", "--dataset", "bimodal-1d", "--steps", "1",
                                     "--out", str(out)))
    assert "the model makes 2-D points but the data is 1-D" in line and not out.exists()


@pytest.mark.parametrize("scale", [0.1, 1.0, 1e20])
def test_plane_view_arrows_follow_the_push_and_are_capped(scale):
    """A critic w·x pushes every fake by w (L_G = −D): the arrow is ARROW_SCALE·L²·w, shortened to ARROW_CAP·L
    when longer, however large the push (a lane that diverged keeps its last picture, huge gradients and all)."""
    w = np.array([3.0, 4.0]) * scale                           # ‖w‖ = 5·scale
    trainer = linear_critic_trainer("wgan", tuple(w))
    view = plane_view(trainer, RING.sample(10).numpy(), RING.extent)
    size = 3.0                                                  # the ring's extent is [-1.5, 1.5]²
    wanted = ARROW_SCALE * size * size * w
    capped = np.linalg.norm(wanted) > ARROW_CAP * size
    if capped:
        wanted = wanted / np.linalg.norm(wanted) * ARROW_CAP * size
    assert view.arrows.shape == (POINT_SAMPLE_COUNT, 2) and view.arrows_capped.all() == capped
    np.testing.assert_allclose(view.arrows, np.broadcast_to(wanted, view.arrows.shape), rtol=1e-5)


def test_a_paused_run_shows_its_last_iteration(runs):
    """Pause, and the picture and its iteration count are the model's: the Toy lab's Iteration tile reads
    view_step, so a view left at the last timed redraw shows an older iteration than the one D step and G step
    then build on. (A long redraw interval makes the gap certain instead of a matter of timing.)"""
    run = runs(SMALL_RING, RING, grid_every_s=3600.0)
    run.start()
    assert run.wait_until(lambda s: s.step >= 5)
    run.pause()
    assert run.wait_idle(), "the worker never acknowledged the pause"
    assert run.snapshot().lanes[0].view_step == run.trainer.step_count, \
        f"paused at iteration {run.trainer.step_count}, the view shows {run.snapshot().lanes[0].view_step}"
