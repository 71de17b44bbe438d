"""Tests for ganplay.trainer: a short real run on MNIST learns, runs repeat bit for bit, divergence is caught
before it spoils the weights, hyperparameters change on the fly, and bad settings are refused in words.

"Learns" is measured against a fixed held-out real batch and a fixed fake batch G_0(z) drawn before training:
- D: its BCE on (held-out real, G_0(z)) falls well below its value at initialisation (log 4 ~ 1.39 for small
  initial logits; DCGAN's N(0, 0.2) weights start far from it, which is why the test compares, not pins);
- G: the mean of G_T(z) moves close to the mean real image, and the trained D scores G_T(z) above G_0(z)
  (observed margins: lecture ~6, dcgan ~67, mlp-vanilla ~0.6 logits).
"""
import copy
import math

import pytest
import torch

from ganplay.config import ConfigError
from ganplay.data import ImageSource, load_dataset
from ganplay.losses import bce_d_loss
from ganplay.presets import PRESETS, preset
from ganplay.toy import TOYS
from ganplay.trainer import (POINT_SAMPLE_COUNT, SAMPLE_COUNT, StepMetrics, Trainer, TrainingDiverged,
                             resolve_precision, validate_run)


@pytest.fixture(scope="module")
def holdout(mnist_dir):
    return load_dataset("mnist", mnist_dir, part="holdout")


def d_logits(trainer: Trainer, x: torch.Tensor) -> torch.Tensor:
    """D's logits for one batch as training sees them (batch-norm statistics of this batch) but without dropout,
    computed on a copy so the trainer's D and its running statistics are untouched."""
    D = copy.deepcopy(trainer.discriminator).eval()
    for module in D.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.train()        # running averages mix real and fake batches: eval-mode BN misreads both
    with torch.no_grad():
        return D(x)


def separation(trainer: Trainer, real: torch.Tensor, fake: torch.Tensor) -> float:
    """D's BCE loss on a real and a fake batch: log 4 ~ 1.386 for a D that cannot tell them apart."""
    return bce_d_loss(d_logits(trainer, real), d_logits(trainer, fake)).item()


# (preset, steps, largest allowed ratio of the mean-image distance after/before). Observed on MNIST t10k with
# the presets' seed: lecture ~0.2, mlp-vanilla ~0.3, dcgan ~0.55 (its lr 2e-4 moves G's mean slowly at first).
LEARNING_RUNS = [
    pytest.param("lecture", 150, 0.5, id="lecture"),
    pytest.param("mlp-vanilla", 600, 0.6, marks=pytest.mark.slow, id="mlp-vanilla"),
    pytest.param("dcgan", 300, 0.75, marks=pytest.mark.slow, id="dcgan"),
]


@pytest.mark.parametrize("name, steps, distance_ratio", LEARNING_RUNS)
def test_short_run_learns(mnist, holdout, name, steps, distance_ratio):
    cfg = preset(name)
    trainer = Trainer(cfg, mnist, device="cpu")
    size = cfg.model.image_size
    real, _ = ImageSource(holdout, size).batch(SAMPLE_COUNT, torch.Generator().manual_seed(0))    # (64, 1, S, S)
    mean_real = real.mean(0)
    fake_0 = trainer.sample()                                   # G_0(fixed z), kept for the whole test
    separation_0 = separation(trainer, real, fake_0)
    distance_0 = (fake_0.mean(0) - mean_real).norm().item()

    for _ in range(steps):
        metrics = trainer.step()
    assert trainer.step_count == steps and math.isfinite(metrics.d_loss) and math.isfinite(metrics.g_loss)

    fake_t = trainer.sample()
    separation_t = separation(trainer, real, fake_0)
    distance_t = (fake_t.mean(0) - mean_real).norm().item()
    fooling = (d_logits(trainer, fake_t).mean() - d_logits(trainer, fake_0).mean()).item()
    report = (f"{name}: D loss on (real, G_0 z) {separation_0:.3f} -> {separation_t:.3f}; mean-image distance "
              f"{distance_0:.2f} -> {distance_t:.2f}; trained D logit G_T(z) - G_0(z) {fooling:.2f}")
    print(report)
    assert separation_t < 0.8 * separation_0, report         # D learned to tell real from the initial fakes
    assert distance_t < distance_ratio * distance_0, report   # G's samples moved towards the data
    assert fooling > 0, report                                # and look more real to D than where G started
    assert fake_t.min() >= -1 and fake_t.max() <= 1


@pytest.mark.parametrize("name", [
    "lecture",
    "mlp-vanilla",           # dropout: it draws from the trainer's generator, not torch's global state
])
def test_same_seed_gives_identical_samples(mnist, name):
    cfg = preset(name)
    first, second = Trainer(cfg, mnist, device="cpu"), Trainer(cfg, mnist, device="cpu")
    assert torch.equal(first.sample(), second.sample())
    for _ in range(5):
        first.step()
    for _ in range(5):
        second.step()
    assert torch.equal(first.sample(), second.sample())
    other = Trainer(cfg.replace(**{"train.seed": 1}), mnist, device="cpu")
    for _ in range(5):
        other.step()
    assert not torch.equal(first.sample(), other.sample())


def test_same_seed_repeats_when_run_one_after_another(mnist):
    """The dropout presets do repeat when nothing else touches the global RNG in between."""
    cfg = preset("mlp-vanilla")
    samples = []
    for _ in range(2):
        trainer = Trainer(cfg, mnist, device="cpu")
        for _ in range(5):
            trainer.step()
        samples.append(trainer.sample())
    assert torch.equal(*samples)


# A least-squares loss on the MLP with learning rate 100: D's logits reach ~1e19 after one Adam step, their
# squares overflow float32, and the generator's gradients become inf in the first step.
DIVERGING = {"train.loss": "least-squares", "train.lr_g": 100.0, "train.lr_d": 100.0}


def test_divergence_stops_before_the_bad_update(mnist):
    trainer = Trainer(preset("mlp-vanilla").replace(**DIVERGING), mnist, device="cpu")
    for _ in range(50):
        before = copy.deepcopy(trainer.generator.state_dict())
        steps_before = trainer.step_count
        try:
            trainer.step()
        except TrainingDiverged as err:
            message = str(err)
            break
    else:
        pytest.fail("lr 100 with the least-squares loss did not diverge within 50 steps")
    assert "diverged" in message and "learning rate" in message
    assert trainer.diverged == message
    assert trainer.step_count == steps_before
    for module in (trainer.generator, trainer.discriminator):
        assert all(torch.isfinite(p).all() for p in module.state_dict().values() if p.is_floating_point())
    if "generator" in message:                 # the generator's update was the bad one: it was not applied
        after = trainer.generator.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)
    with pytest.raises(TrainingDiverged, match="diverged"):
        trainer.step()
    assert trainer.record()["diverged"] == message


def test_set_hyperparameters(mnist):
    trainer = Trainer(preset("lecture"), mnist, device="cpu")
    trainer.step()
    state_before = len(trainer.opt_g.state)
    trainer.set_hyperparameters(lr_g=1e-3, lr_d=5e-4, d_steps=3)
    assert [g["lr"] for g in trainer.opt_g.param_groups] == [1e-3]
    assert [g["lr"] for g in trainer.opt_d.param_groups] == [5e-4]
    assert trainer.d_steps == 3
    assert len(trainer.opt_g.state) == state_before > 0          # Adam's moments are kept
    seen = trainer.images_seen
    trainer.step()
    assert trainer.images_seen - seen == trainer.config.train.batch_size * (3 + 1)   # 3 D batches + 1 G batch
    trainer.set_hyperparameters(lr_d=1e-4)                      # None leaves the others alone
    assert trainer.opt_g.param_groups[0]["lr"] == 1e-3 and trainer.d_steps == 3
    t = trainer.config.train                                    # the config (what a checkpoint records) follows
    assert (t.lr_g, t.lr_d, t.d_steps, t.g_steps) == (1e-3, 1e-4, 3, 1)


@pytest.mark.parametrize("kwargs", [
    {"lr_g": 0.0}, {"lr_g": -1e-3}, {"lr_d": float("nan")}, {"lr_d": float("inf")},
    {"d_steps": 0}, {"d_steps": 101},
])
def test_set_hyperparameters_refuses_bad_values(mnist, kwargs):
    trainer = Trainer(preset("lecture"), mnist, device="cpu")
    with pytest.raises(ConfigError):
        trainer.set_hyperparameters(**kwargs)
    assert trainer.opt_g.param_groups[0]["lr"] == preset("lecture").train.lr_g
    assert trainer.opt_d.param_groups[0]["lr"] == preset("lecture").train.lr_d
    assert trainer.d_steps == preset("lecture").train.d_steps


def test_refused_set_hyperparameters_changes_nothing(mnist):
    trainer = Trainer(preset("lecture"), mnist, device="cpu")
    with pytest.raises(ConfigError):
        trainer.set_hyperparameters(lr_g=5e-3, lr_d=-1.0)
    assert trainer.opt_g.param_groups[0]["lr"] == preset("lecture").train.lr_g
    assert trainer.config == preset("lecture")                  # what a checkpoint would record: unchanged


@pytest.mark.parametrize("change, words", [
    ({"train.batch_size": 1}, "batch norm"),                  # lecture's G has batch norm
    ({"train.batch_size": 0}, "batch size"),
    ({"train.lr_g": 0.0}, "lr_g"),
    ({"train.lr_d": 0.0}, "lr_d"),
    ({"train.lr_d": 1000.0}, "lr_d"),
    ({"train.optimizer": "lbfgs"}, "optimizer must be one of adam, rmsprop, sgd"),
    ({"train.optimizer_d": "adagrad"}, "optimizer must be one of"),
    ({"train.momentum": 1.0}, "momentum"),
    ({"train.g_steps": 0}, "G steps"),
    ({"train.betas_g": [1.0, 0.9]}, "betas"),
    ({"train.betas_d": [0.5]}, "betas"),
    ({"train.d_steps": 0}, "D steps"),
    ({"train.real_label": 0.0}, "real label"),
    ({"train.real_label": 1.5}, "real label"),
    ({"model.image_size": 30}, "image_size"),
    ({"train.precision": "float16"}, "precision must be one of auto, float32, bfloat16"),
])
def test_validate_run_refuses_in_words(mnist, change, words):
    cfg = preset("lecture").replace(**change)
    with pytest.raises(ConfigError, match=words):
        validate_run(cfg)
    with pytest.raises(ConfigError, match=words):
        Trainer(cfg, mnist, device="cpu")


def test_validate_run_unknown_loss_lists_names():
    with pytest.raises(ConfigError, match="train.loss: unknown loss 'l1'; choose one of: nonsaturating"):
        validate_run(preset("lecture").replace(**{"train.loss": "l1"}))


def test_batch_of_one_is_fine_without_batch_norm():
    validate_run(preset("mlp-vanilla").replace(**{"train.batch_size": 1}))


def test_conditional_model_needs_enough_classes(mnist):
    with pytest.raises(ConfigError, match="10"):
        Trainer(preset("cdcgan").replace(**{"model.num_classes": 5}), mnist, device="cpu")


def fast(name: str):
    """The preset as is, except the 64 px RGB DCGAN gets a smaller batch so the smoke run stays quick."""
    cfg = preset(name)
    return cfg.replace(**{"train.batch_size": 16}) if name == "dcgan-64" else cfg


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_trains_two_steps(mnist, name):
    cfg = fast(name)
    data = TOYS[cfg.train.dataset] if cfg.model.is_points else mnist
    trainer = Trainer(cfg, data, device="cpu")
    g_before = [p.detach().clone() for p in trainer.generator.parameters()]
    for expected_step in (1, 2):
        metrics = trainer.step()
        assert isinstance(metrics, StepMetrics) and metrics.step == expected_step
        values = metrics.to_dict()
        assert all(math.isfinite(v) for v in values.values()), values
        assert metrics.d_grad_norm > 0 and metrics.g_grad_norm > 0
        if trainer.loss.output == "probability":
            assert 0 <= metrics.d_real <= 1 and 0 <= metrics.d_fake <= 1
    assert trainer.images_seen == 2 * cfg.train.batch_size * (cfg.train.d_steps + cfg.train.g_steps)
    assert any(not torch.equal(a, b) for a, b in zip(g_before, trainer.generator.parameters()))
    samples = trainer.sample()
    m = cfg.model
    count = POINT_SAMPLE_COUNT if m.is_points else SAMPLE_COUNT
    assert samples.shape == (count, *m.sample_shape)
    if not m.is_points:
        assert m.sample_shape == (m.channels, m.image_size, m.image_size)
    assert trainer.generator.training            # sample() switches to eval mode and back
    record = trainer.record()
    assert record["steps"] == 2 and record["diverged"] is None and record["dataset"] == data.describe()
    assert (record["d_updates"], record["g_updates"]) == (2 * cfg.train.d_steps, 2 * cfg.train.g_steps)


def test_weight_clipping_bounds_the_critic(mnist):
    cfg = preset("wgan")
    trainer = Trainer(cfg, mnist, device="cpu")
    trainer.step()
    bound = cfg.train.clip_value
    params = torch.cat([p.detach().flatten() for p in trainer.discriminator.parameters()])
    assert params.abs().max() <= bound
    assert params.abs().max() == pytest.approx(bound)          # Kaiming init exceeds 0.01: something was clipped


def test_fixed_noise_is_fixed(mnist):
    trainer = Trainer(preset("cdcgan"), mnist, device="cpu")
    z = trainer.fixed_z.clone()
    trainer.step()
    assert torch.equal(trainer.fixed_z, z)
    assert trainer.fixed_y.tolist() == [i % 10 for i in range(SAMPLE_COUNT)]


@pytest.mark.parametrize("reuse", [True, False])
@pytest.mark.parametrize("name", ["mlp-batchnorm", "lecture", "cdcgan"])
def test_reuse_fake_scores_the_d_steps_fakes_again(mnist, name, reuse):
    """reuse_fake (seeds 002 and 004): G runs once a step and its update scores the very batch D was trained on;
    without it G's update draws new noise (seeds 000, 001)."""
    trainer = Trainer(preset(name).replace(**{"train.reuse_fake": reuse}), mnist, device="cpu")
    g_calls, d_inputs = [], []
    trainer.generator.register_forward_hook(lambda m, args, out: g_calls.append(out.detach().clone()))
    trainer.discriminator.register_forward_hook(lambda m, args, out: d_inputs.append(args[0].detach().clone()))
    trainer.step()
    assert len(g_calls) == (1 if reuse else 2)
    B = trainer.config.train.batch_size
    d_step_fake = d_inputs[0][B:] if len(d_inputs) == 2 else d_inputs[1]    # joint pass, or real then fake
    g_step_fake = d_inputs[-1]
    assert torch.equal(d_step_fake, g_calls[0])
    assert torch.equal(g_step_fake, g_calls[-1])
    assert torch.equal(g_step_fake, d_step_fake) == reuse


@pytest.mark.parametrize("loss", ["nonsaturating", "least-squares", "wgan-gp", "hinge"])
@pytest.mark.parametrize("name", ["lecture", "mlp-vanilla", "cdcgan"])
def test_bfloat16_runs_the_networks_in_bf16_and_keeps_fp32_weights(mnist, name, loss):
    cfg = preset(name).replace(**{"train.precision": "bfloat16", "train.loss": loss, "train.d_steps": 1})
    trainer = Trainer(cfg, mnist, device="cpu")
    out_dtypes = []
    trainer.discriminator.register_forward_hook(lambda m, args, out: out_dtypes.append(out.dtype))
    before = [p.detach().clone() for p in trainer.generator.parameters()]
    metrics = [trainer.step() for _ in range(2)][-1]
    assert set(out_dtypes) == {torch.bfloat16}
    assert all(math.isfinite(v) for v in metrics.to_dict().values())
    for module in (trainer.generator, trainer.discriminator):
        assert {p.dtype for p in module.parameters()} == {torch.float32}
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.generator.parameters()))
    assert trainer.sample().dtype == torch.float32


def test_float32_runs_the_networks_in_fp32(mnist):
    trainer = Trainer(preset("lecture").replace(**{"train.precision": "float32"}), mnist, device="cpu")
    out_dtypes = []
    trainer.discriminator.register_forward_hook(lambda m, args, out: out_dtypes.append(out.dtype))
    trainer.step()
    assert set(out_dtypes) == {torch.float32}


def test_auto_precision_is_bfloat16_only_where_bf16_is_fast(mnist):
    caps = torch.cpu.get_capabilities()
    fast = bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bfloat16" if fast else "float32")
    assert resolve_precision("float32", cpu) == "float32" and resolve_precision("bfloat16", cpu) == "bfloat16"
    assert resolve_precision("auto", torch.device("meta")) == "float32"
    trainer = Trainer(preset("lecture"), mnist, device="cpu")          # the lecture preset asks for "auto"
    assert trainer.precision == resolve_precision("auto", cpu)
    trainer.step()
    assert trainer.record()["precision"] == trainer.precision
