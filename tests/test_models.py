"""Tests for ganplay.models and ganplay.presets: shapes and ranges for every preset, parameter counts worked out
by hand from each seed article's layer list, seed-specific details, class conditioning and config validation.
"""
import dataclasses
import re
from pathlib import Path

import pytest
import torch
from torch import nn

from ganplay.config import ConfigError
from ganplay.models import (DISCRIMINATORS, GENERATORS, build_models, parameter_count, sample_latent, validate)
from ganplay.models import balanced_labels, eval_mode
from ganplay.presets import PRESETS, preset
from ganplay.registry import UnknownNameError

SEEDS_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"   # ../shared/seeds beside the repo
SEED_FILE = re.compile(r"^\d{3}_[0-9a-f]+\.txt$")


def batch_for(name: str) -> int:
    return 2 if name == "dcgan-64" else 4      # >= 2 for batch norm in training mode; 64 px RGB is the slow one


@pytest.fixture(scope="module")
def models():
    """(G, D) of every preset, built once with a fixed seed."""
    return {name: build_models(cfg.model, seed=0) for name, cfg in PRESETS.items()}


def labels_for(name: str, n: int):
    return balanced_labels(n, PRESETS[name].model.num_classes)


@pytest.mark.parametrize("name", list(PRESETS))
def test_generator_output_shape_and_range(models, name):
    m = PRESETS[name].model
    G, _ = models[name]
    n = batch_for(name)
    z = sample_latent(m, n, torch.Generator().manual_seed(0))
    assert z.shape == (n, m.latent_dim)
    for mode in (True, False):
        G.train(mode)
        with torch.no_grad():
            x = G(z, labels_for(name, n))
        assert x.shape == (n, *m.sample_shape)
        if m.generator.output == "tanh":
            assert x.min() >= -1.0 and x.max() <= 1.0
        assert x.std() > 0                          # not a constant image
    G.train()


@pytest.mark.parametrize("name", list(PRESETS))
def test_discriminator_returns_logits(models, name):
    m = PRESETS[name].model
    _, D = models[name]
    n = batch_for(name)
    x = torch.rand(n, *m.sample_shape) * 2 - 1
    with torch.no_grad():
        logits = D(x, labels_for(name, n))
    assert logits.shape == (n,)
    assert logits.dtype == torch.float32
    assert not any(isinstance(module, nn.Sigmoid) for module in D.modules()), "D must return raw logits"


@pytest.mark.parametrize("name", list(PRESETS))
def test_discriminator_output_is_unbounded(name):
    """A logit is not squashed: scaling the last layer's weights scales the output past [0, 1]."""
    m = PRESETS[name].model
    _, D = build_models(m, seed=0)
    last = [module for module in D.modules() if isinstance(module, (nn.Linear, nn.Conv2d))][-1]
    with torch.no_grad():
        last.weight.mul_(1e4)
        x = torch.rand(batch_for(name), *m.sample_shape) * 2 - 1
        logits = D(x, labels_for(name, x.shape[0]))
    assert logits.abs().max() > 1.0


# -- parameter counts, layer by layer from the seed articles (weights + biases; BN has scale + shift) ----------

SEED_PARAMETER_COUNTS = {
    # seed 001: G Linear 100-256-512-1024-784 (ReLU, tanh); D Linear 784-1024-512-256-1 (ReLU, dropout)
    "mlp-vanilla": (
        100 * 256 + 256 + 256 * 512 + 512 + 512 * 1024 + 1024 + 1024 * 784 + 784,
        784 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 256 + 256 + 256 * 1 + 1,
    ),
    # seed 004: G Linear 64-256-512-1024-784, BatchNorm1d(n, 0.8) after each hidden Linear; D 784-512-256-128-1
    "mlp-batchnorm": (
        64 * 256 + 256 + 2 * 256 + 256 * 512 + 512 + 2 * 512 + 512 * 1024 + 1024 + 2 * 1024 + 1024 * 784 + 784,
        784 * 512 + 512 + 512 * 256 + 256 + 256 * 128 + 128 + 128 * 1 + 1,
    ),
    # seed 000: G Linear(96, 1024), BN1d(1024), Linear(1024, 128*7*7), BN1d(6272), ConvT(128, 64, 4), BN2d(64),
    # ConvT(64, 1, 4); D Conv(1, 32, 5), Conv(32, 64, 5), Linear(64*4*4, 64*4*4), Linear(1024, 1)
    "lsgan-dcgan": (
        96 * 1024 + 1024 + 2 * 1024 + 1024 * 6272 + 6272 + 2 * 6272
        + 128 * 64 * 4 * 4 + 64 + 2 * 64 + 64 * 1 * 4 * 4 + 1,
        1 * 32 * 5 * 5 + 32 + 32 * 64 * 5 * 5 + 64 + 1024 * 1024 + 1024 + 1024 * 1 + 1,
    ),
    # seed 002 (its torchsummary tables): G Linear(100, 8192) with bias, ConvT 512-256-128-64-3 (4x4, no bias),
    # BN2d after all but the last; D Conv 3-64-128-256-512 (4x4, no bias), BN2d on all but the first, Conv(512, 1, 4)
    "dcgan-64": (
        100 * 8192 + 8192 + 512 * 256 * 16 + 2 * 256 + 256 * 128 * 16 + 2 * 128 + 128 * 64 * 16 + 2 * 64
        + 64 * 3 * 16,
        3 * 64 * 16 + 64 * 128 * 16 + 2 * 128 + 128 * 256 * 16 + 2 * 256 + 256 * 512 * 16 + 2 * 512 + 512 * 1 * 16,
    ),
    # seed 003 at 32x32: G Dense(64, 8*8*256), [Upsample, Conv3x3 -> 128, BN], [Upsample, Conv3x3 -> 64, BN],
    # Conv3x3 -> 1; D Conv3x3 1-64 (stride 1), 64-128, 128-256 (stride 2), Dense(256*8*8, 1)
    "upsample-dcgan": (
        64 * 16384 + 16384 + 256 * 128 * 9 + 128 + 2 * 128 + 128 * 64 * 9 + 64 + 2 * 64 + 64 * 1 * 9 + 1,
        1 * 64 * 9 + 64 + 64 * 128 * 9 + 128 + 128 * 256 * 9 + 256 + 256 * 8 * 8 * 1 + 1,
    ),
}


def test_dcgan_64_matches_the_seed_summary_tables():
    assert SEED_PARAMETER_COUNTS["dcgan-64"] == (3_583_872, 2_765_568)   # "Total params" in seed 002


@pytest.mark.parametrize("name", list(SEED_PARAMETER_COUNTS))
def test_seed_preset_parameter_counts(models, name):
    G, D = models[name]
    assert (parameter_count(G), parameter_count(D)) == SEED_PARAMETER_COUNTS[name]


# Layer order as the articles write it (activation/normalisation order matters to what the network learns).
SEED_LAYER_ORDER = {
    "lsgan-dcgan": (  # seed 000: Linear, ReLU, BatchNorm (activation before norm)
        ["Linear", "ReLU", "BatchNorm1d", "Linear", "ReLU", "BatchNorm1d", "Unflatten", "ConvTranspose2d", "ReLU",
         "BatchNorm2d", "ConvTranspose2d", "Tanh"],
        ["Conv2d", "LeakyReLU", "MaxPool2d", "Conv2d", "LeakyReLU", "MaxPool2d", "Flatten", "Linear", "LeakyReLU",
         "Linear"]),
    "mlp-batchnorm": (  # seed 004: Linear, BatchNorm1d, LeakyReLU
        ["Linear", "BatchNorm1d", "LeakyReLU"] * 3 + ["Linear", "Tanh"],
        ["Flatten"] + ["Linear", "LeakyReLU", "Dropout"] * 3 + ["Linear"]),
    "dcgan-64": (  # seed 002, without D's final Sigmoid (the losses take logits)
        ["Linear", "Unflatten"] + ["ConvTranspose2d", "BatchNorm2d", "ReLU"] * 3 + ["ConvTranspose2d", "Tanh"],
        ["Conv2d", "LeakyReLU"] + ["Conv2d", "BatchNorm2d", "LeakyReLU"] * 3 + ["Conv2d"]),
    "upsample-dcgan": (  # seed 003: Dense, LeakyReLU, Reshape, [UpSampling2D, Conv2D, BN, LeakyReLU] x 2, Conv2D
        ["Linear", "LeakyReLU", "Unflatten"] + ["Upsample", "Conv2d", "BatchNorm2d", "LeakyReLU"] * 2
        + ["Conv2d", "Tanh"],
        ["Conv2d", "LeakyReLU"] * 3 + ["Flatten", "Linear"]),
}


@pytest.mark.parametrize("name", list(SEED_LAYER_ORDER))
def test_seed_preset_layer_order(models, name):
    G, D = models[name]
    assert [type(m).__name__ for m in G.net] == SEED_LAYER_ORDER[name][0]
    assert [type(m).__name__ for m in D.net] == SEED_LAYER_ORDER[name][1]


# -- seed-specific settings ------------------------------------------------------------------------------------

def test_mlp_batchnorm_eps_is_the_articles_0_8(models):
    G, _ = models["mlp-batchnorm"]
    norms = [m for m in G.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == 3
    assert all(m.eps == 0.8 for m in norms)       # BatchNorm1d(n, 0.8): the second argument is eps


def test_mlp_vanilla_settings():
    cfg = preset("mlp-vanilla")
    assert cfg.train.lr_g == cfg.train.lr_d == 1e-4 and cfg.train.batch_size == 32
    assert cfg.model.latent_dim == 100 and cfg.model.prior == "normal"
    assert cfg.model.discriminator.dropout == 0.3


def test_dcgan_label_smoothing_and_betas():
    for name in ("dcgan", "dcgan-64"):
        t = preset(name).train
        assert t.real_label == 0.9
        assert t.betas_g == t.betas_d == (0.5, 0.999)
        assert t.lr_g == t.lr_d == 2e-4 and t.batch_size == 128


def test_dcgan_64_init_follows_seed(models):
    """Seed 002: conv weights ~ N(0, 0.2), BN scale ~ N(1, 0.02), BN shift 0."""
    G, D = models["dcgan-64"]
    big = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)][0]          # 512*256*16 weights
    assert big.weight.std().item() == pytest.approx(0.2, abs=0.005)
    assert big.weight.mean().item() == pytest.approx(0.0, abs=0.005)
    for net in (G, D):
        for bn in (m for m in net.modules() if isinstance(m, nn.BatchNorm2d)):
            assert (bn.weight - 1).abs().max() < 0.15 and bn.weight.std() > 0
            assert torch.equal(bn.bias, torch.zeros_like(bn.bias))


def test_lsgan_dcgan_uniform_prior():
    cfg = preset("lsgan-dcgan")
    assert cfg.model.prior == "uniform" and cfg.model.latent_dim == 96
    assert cfg.train.loss == "least-squares" and cfg.train.batch_size == 128
    z = sample_latent(cfg.model, 4096, torch.Generator().manual_seed(0))
    assert z.shape == (4096, 96)
    assert z.min() >= -1.0 and z.max() < 1.0
    assert z.mean().item() == pytest.approx(0.0, abs=0.01)
    assert z.var().item() == pytest.approx(1.0 / 3.0, abs=0.01)     # Var U[-1, 1) = (b - a)^2 / 12 = 1/3


def test_normal_prior():
    z = sample_latent(preset("lecture").model, 4096, torch.Generator().manual_seed(0))
    assert z.mean().item() == pytest.approx(0.0, abs=0.01) and z.var().item() == pytest.approx(1.0, abs=0.01)
    assert z.min() < -1.0 and z.max() > 1.0


def test_upsample_dcgan_settings():
    cfg = preset("upsample-dcgan")
    assert cfg.model.image_size == 32 and cfg.model.latent_dim == 64
    assert cfg.train.betas_g == cfg.train.betas_d == (0.5, 0.9)
    assert cfg.model.generator.bn_momentum == pytest.approx(1 - 0.8)    # Keras momentum 0.8


def seed_presets():
    return [name for name, cfg in PRESETS.items() if SEED_FILE.match(cfg.source)]


def test_every_seed_article_has_a_preset():
    if not SEEDS_DIR.is_dir():
        pytest.fail(f"seed articles not found at {SEEDS_DIR} (expected ../shared/seeds beside the repository)")
    files = sorted(p.name for p in SEEDS_DIR.glob("*.txt"))
    assert len(files) >= 5
    used = {PRESETS[name].source for name in seed_presets()}
    assert set(files) <= used, f"seed articles without a preset: {sorted(set(files) - used)}"


@pytest.mark.parametrize("name", seed_presets())
def test_seed_source_exists(name):
    assert (SEEDS_DIR / PRESETS[name].source).is_file()


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_is_described_and_named(name):
    cfg = PRESETS[name]
    assert cfg.name == name and cfg.description and cfg.source
    assert preset(name) is cfg


def test_unknown_preset_lists_names():
    with pytest.raises(UnknownNameError, match="unknown preset 'nope'; choose one of: lecture, "):
        preset("nope")


# -- conditioning ------------------------------------------------------------------------------------------

def conditional_presets():
    return [name for name, cfg in PRESETS.items() if cfg.model.num_classes]


def test_there_is_a_conditional_preset():
    assert "cdcgan" in conditional_presets()


@pytest.mark.parametrize("name", conditional_presets())
def test_conditional_output_depends_on_label(models, name):
    m = PRESETS[name].model
    G, D = models[name]
    G.eval()
    z = sample_latent(m, 1, torch.Generator().manual_seed(0)).expand(m.num_classes, -1)    # one z, every class
    with torch.no_grad():
        images = G(z, torch.arange(m.num_classes))
        logits = D(images[:1].expand(m.num_classes, -1, -1, -1), torch.arange(m.num_classes))
    G.train()
    for k in range(1, m.num_classes):
        assert not torch.allclose(images[0], images[k]), f"class 0 and {k} give the same image for the same z"
    assert logits.unique().numel() == m.num_classes                  # same image, different label, new logit


@pytest.mark.parametrize("name", conditional_presets())
def test_conditional_models_require_labels(models, name):
    m = PRESETS[name].model
    G, D = models[name]
    with pytest.raises(ValueError, match="class labels"):
        G(torch.zeros(2, m.latent_dim))
    with pytest.raises(ValueError, match="class labels"):
        D(torch.zeros(2, m.channels, m.image_size, m.image_size))


def test_conditional_mlp_discriminator():
    """MLP conditioning concatenates the one-hot label to the flat image: 784 + 10 inputs."""
    cfg = preset("mlp-vanilla").replace(**{"model.num_classes": 10})
    G, D = build_models(cfg.model, seed=0)
    first = [m for m in D.modules() if isinstance(m, nn.Linear)][0]
    assert first.in_features == 784 + 10
    assert [m for m in G.modules() if isinstance(m, nn.Linear)][0].in_features == 100 + 10
    x = G(torch.zeros(3, 100), torch.tensor([0, 1, 2]))
    assert D(x, torch.tensor([0, 1, 2])).shape == (3,)


# -- validation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, words", [
    ({"model.generator.arch": "transformer"}, "generator architecture 'transformer'; choose one of: mlp, deconv"),
    ({"model.discriminator.arch": "transformer"}, "discriminator architecture 'transformer'; choose one of: mlp"),
    ({"model.image_size": 30}, "image_size"),
    ({"model.latent_dim": 0}, "latent_dim"),
    ({"model.latent_dim": 5000}, "latent_dim"),
    ({"model.channels": 2}, "channels"),
    ({"model.num_classes": -1}, "num_classes"),
    ({"model.prior": "cauchy"}, "prior"),
    ({"model.generator.hidden": []}, "widths"),
    ({"model.discriminator.hidden": [64, 0]}, "widths"),
    ({"model.generator.activation": "gelu"}, "activation"),
    ({"model.discriminator.dropout": 1.0}, "dropout"),
])
def test_validate_rejects_bad_configs(change, words):
    cfg = preset("lecture").replace(**change)     # replace() checks types only, never values
    with pytest.raises(ConfigError, match=words):
        validate(cfg.model)
    with pytest.raises(ConfigError):
        build_models(cfg.model)


@pytest.mark.parametrize("change", [
    {"model.generator.hidden": [64, 32, 16]},          # 3 doublings cannot reach 28
    {"model.discriminator.strides": [2]},              # one stride for two conv layers
    {"model.discriminator.head": "dense"},
    # six stride-2 4x4 convs (padding 1) shrink 28 px to nothing: 14, 7, 3, 1, 0
    {"model.discriminator.hidden": [8, 8, 8, 8, 8, 8], "model.discriminator.kernel": 4},
])
def test_build_rejects_impossible_architectures(change):
    cfg = preset("lecture").replace(**change)
    with pytest.raises(ConfigError):
        build_models(cfg.model)


@pytest.mark.parametrize("change", [
    {"model.discriminator.strides": [0, 2]},      # once ZeroDivisionError while sizing the conv stack
    {"model.discriminator.kernel": -1},           # once a torch RuntimeError (negative dimension)
    {"model.discriminator.kernel": 0},
    {"model.discriminator.padding": -5},
    {"model.generator.bn_eps": -1.0},
    {"model.generator.slope": float("nan")},
])
def test_conv_geometry_errors_are_config_errors(change):
    cfg = preset("lecture").replace(**change)
    with pytest.raises(ConfigError):
        validate(cfg.model)
    with pytest.raises(ConfigError):
        build_models(cfg.model)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_validates(name):
    validate(PRESETS[name].model)
    assert PRESETS[name].model.generator.arch in GENERATORS
    assert PRESETS[name].model.discriminator.arch in DISCRIMINATORS


def test_seeded_build_is_reproducible():
    m = preset("lecture").model
    (g1, d1), (g2, d2) = build_models(m, seed=3), build_models(m, seed=3)
    for a, b in ((g1, g2), (d1, d2)):
        assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    g3, _ = build_models(m, seed=4)
    assert not all(torch.equal(p, q) for p, q in zip(g1.parameters(), g3.parameters()))


def test_model_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset("lecture").model.latent_dim = 3


def test_a_config_asking_for_a_huge_model_is_refused_before_allocating():
    from ganplay.config import GeneratorConfig, ModelConfig
    huge = ModelConfig(generator=GeneratorConfig(arch="mlp", hidden=(8192,) * 50))   # 3.3e9 parameters, 13 GB of float32
    with pytest.raises(ConfigError, match="3,295,986,448 parameters"):
        build_models(huge)                        # counted on the meta device: nothing was allocated


def test_seeded_dropout_keeps_one_minus_p_rescaled_and_repeats():
    from ganplay.models.mlp import Dropout

    drop = Dropout(0.3)
    x = torch.ones(1000, 1000)
    drop.generator = torch.Generator().manual_seed(7)
    a = drop(x)
    drop.generator = torch.Generator().manual_seed(7)
    b = drop(x)
    assert torch.equal(a, b)
    kept = a != 0
    assert kept.float().mean().item() == pytest.approx(0.7, abs=0.003)           # 1e6 draws: sd 0.00046
    assert torch.allclose(a[kept], torch.full_like(a[kept], 1 / 0.7))
    assert a.mean().item() == pytest.approx(1.0, abs=0.005)                      # unbiased in expectation
    assert torch.equal(drop.eval()(x), x)


# -- helpers: eval_mode, balanced_labels ---------------------------------------------------------------------
def test_eval_mode_switches_every_module_and_restores_each_one():
    dropout, batchnorm = nn.Dropout(0.5), nn.BatchNorm1d(3)
    batchnorm.eval()                                         # one in train mode, one in eval mode before
    with eval_mode(dropout, batchnorm):
        assert not dropout.training and not batchnorm.training
        x = torch.ones(4, 3)
        assert torch.equal(dropout(x), x)                    # no dropout noise inside the block
    assert dropout.training and not batchnorm.training       # each gets back its own mode


def test_eval_mode_restores_the_mode_when_the_block_raises():
    net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.3))
    net.train()
    with pytest.raises(RuntimeError, match="boom"):
        with eval_mode(net):
            assert not net[1].training                       # submodules follow the parent
            raise RuntimeError("boom")
    assert net.training and net[1].training


def test_balanced_labels_cycle_through_the_classes():
    assert balanced_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert balanced_labels(20, 10).bincount().tolist() == [2] * 10
    assert balanced_labels(5, 10).dtype == torch.int64
    assert balanced_labels(5, 0) is None                     # unconditional model: no labels
    assert balanced_labels(4, 2, device="meta").device.type == "meta"


# -- the one size limit (issue 13): what trains can be saved, loaded and uploaded ---------------------------

def _square_mlps(width: int):
    from ganplay.config import DiscriminatorConfig, GeneratorConfig, ModelConfig
    return ModelConfig(generator=GeneratorConfig(arch="mlp", hidden=(width, width)),
                       discriminator=DiscriminatorConfig(arch="mlp", hidden=(width, width)))


def test_models_are_refused_at_exactly_the_checkpoint_limit():
    """The widest model whose checkpoint fits MAX_CHECKPOINT_MB is accepted, one unit wider is refused, with the
    limit in the message; found by bisection on the meta device, so nothing is allocated."""
    import ganplay.checkpoint
    from ganplay.models import MAX_CHECKPOINT_BYTES, MAX_CHECKPOINT_MB, check_size, checkpoint_size_bound
    assert MAX_CHECKPOINT_BYTES == MAX_CHECKPOINT_MB * 10**6 == ganplay.checkpoint.MAX_BYTES
    lo, hi = 1, 8192                          # bound(lo) fits, bound(hi) does not
    assert checkpoint_size_bound(_square_mlps(lo)) <= MAX_CHECKPOINT_BYTES < checkpoint_size_bound(_square_mlps(hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if checkpoint_size_bound(_square_mlps(mid)) <= MAX_CHECKPOINT_BYTES else (lo, mid)
    check_size(_square_mlps(lo))              # just under: accepted
    with pytest.raises(ConfigError, match=rf"at most {MAX_CHECKPOINT_MB} MB"):
        build_models(_square_mlps(hi))        # just over: refused before anything is allocated
    # the bound by hand: float32 weights and biases of G (100-w-w-784) and D (784-w-w-1), 6 tensors each; G twice
    # (the weight average and the G that trains), two Adam moments and a step count per tensor of both, a 256-byte
    # header entry per stored tensor, 64 KiB of header and 1 MiB of random states
    w = lo
    g = 100 * w + w + w * w + w + w * 784 + 784
    d = 784 * w + w + w * w + w + w + 1
    by_hand = 4 * (2 * g + d) + 4 * 2 * (g + d) + 4 * 12 + 256 * (2 * 6 + 6 + 3 * 12) + 64 * 1024 + 2**20
    assert checkpoint_size_bound(_square_mlps(w)) == by_hand
    assert w == 2624


def test_the_old_parameter_cap_no_longer_outruns_the_checkpoint_limit():
    """24 million parameters per network were accepted before (the cap was 100 million) though their checkpoint
    could not be loaded; now the trainer refuses them first: the weights alone (190 MB) would fit the limit, the
    checkpoint that resuming needs (about 670 MB with Adam's moments and G's average) would not."""
    import ganplay.checkpoint
    from ganplay.config import DiscriminatorConfig, GeneratorConfig, ModelConfig
    cfg = ModelConfig(generator=GeneratorConfig(arch="mlp", hidden=(4500, 4500)),
                      discriminator=DiscriminatorConfig(arch="mlp", hidden=(4500, 4500)))
    with torch.device("meta"):
        from ganplay.models import Discriminator, Generator
        g, d = parameter_count(Generator(cfg)), parameter_count(Discriminator(cfg))
    assert 23_000_000 < min(g, d) and 4 * (g + d) < ganplay.checkpoint.MAX_BYTES < 4 * (4 * g + 3 * d)
    with pytest.raises(ConfigError, match="parameters"):
        build_models(cfg)


@pytest.mark.parametrize("name", ["lecture", "lsgan-dcgan", "cdcgan", "mlp-batchnorm", "toy-ring"])
def test_checkpoint_size_bound_holds_for_real_checkpoints(name, mnist):
    """The bound build_models checks is an upper bound of the largest real file, a resumable checkpoint of a run
    that averages G's weights, and a tight one (within the header and random-state allowances)."""
    from ganplay.checkpoint import trainer_checkpoint_bytes
    from ganplay.models import checkpoint_size_bound
    from ganplay.toy import TOYS
    from ganplay.trainer import Trainer
    cfg = preset(name).with_overrides(["train.batch_size=2", "train.g_ema=0.9"])
    trainer = Trainer(cfg, TOYS[cfg.train.dataset] if cfg.model.is_points else mnist, "cpu")
    trainer.step()                                                  # Adam's moments exist from the first step
    size = len(trainer_checkpoint_bytes(trainer, record={"dataset": "MNIST · t10k split · 8,000 images" * 4}))
    bound = checkpoint_size_bound(cfg.model)
    assert size <= bound < size + 2**21                              # within the allowances (2 MiB)


# -- initial weights come from the caller's generator, never torch's global RNG (issue 13) --------------------

def _weights(nets):
    return [t.clone() for net in nets for t in net.state_dict().values()]


def _another_thread_meddles(monkeypatch):
    """Make every init call first do what another server thread may do at that moment: seed and draw from torch's
    global RNG (as the Latent page and build_models used to). Deterministic, unlike a real race."""
    def meddling(original):
        def wrapper(*args, **kwargs):
            torch.manual_seed(1234)
            torch.rand(3)
            return original(*args, **kwargs)
        return wrapper
    for name in ("kaiming_uniform_", "uniform_", "normal_"):
        monkeypatch.setattr(nn.init, name, meddling(getattr(nn.init, name)))


@pytest.mark.parametrize("name", ["lecture", "dcgan", "mlp-vanilla", "upsample-dcgan", "toy-ring"])
def test_seeded_weights_ignore_the_global_rng(name, monkeypatch):
    m = preset(name).model
    reference = _weights(build_models(m, seed=5))
    _another_thread_meddles(monkeypatch)
    assert all(torch.equal(a, b) for a, b in zip(reference, _weights(build_models(m, seed=5))))


def test_build_models_leaves_the_global_rng_as_it_was():
    torch.manual_seed(99)
    before = torch.get_rng_state()
    build_models(preset("lecture").model, seed=1)
    build_models(preset("cdcgan").model)             # unseeded too
    assert torch.equal(torch.get_rng_state(), before)


def test_seeded_weights_repeat_while_a_thread_uses_the_global_rng():
    from tests.conftest import global_rng_hammered
    m = preset("lecture").model
    reference = _weights(build_models(m, seed=2))
    with global_rng_hammered():
        again = [_weights(build_models(m, seed=2)) for _ in range(3)]
    assert all(torch.equal(a, b) for run in again for a, b in zip(reference, run))


def test_initial_weights_keep_the_recipes_distributions():
    """torch's defaults where a recipe says nothing: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases
    (fan_in of a transposed conv: out_channels x k x k, as torch counts it); DCGAN's N(0, 0.02 or 0.2) conv
    weights and N(1, 0.02) batch-norm scales where init_std is set; batch norm shift 0 and fresh statistics."""
    G, D = build_models(preset("mlp-vanilla").model, seed=0)
    first = G.net[0]                                      # Linear(100, 256)
    bound = 1 / 100 ** 0.5
    for t in (first.weight, first.bias):
        assert -bound <= t.min() < -0.9 * bound and 0.9 * bound < t.max() <= bound
    assert abs(first.weight.std().item() - bound / 3 ** 0.5) < 0.01 * bound
    Gd, Dd = build_models(preset("dcgan").model, seed=0)
    std = preset("dcgan").model.generator.init_std
    convs = [mod for mod in Gd.modules() if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d))]
    big = max(convs, key=lambda c: c.weight.numel())
    assert abs(big.weight.std().item() - std) < 0.02 * std and abs(big.weight.mean().item()) < 0.02 * std
    bns = [mod for mod in (*Gd.modules(), *Dd.modules()) if isinstance(mod, nn.modules.batchnorm._BatchNorm)]
    assert bns
    for bn in bns:
        assert torch.equal(bn.bias, torch.zeros_like(bn.bias)) and torch.equal(bn.running_mean, torch.zeros_like(bn.bias))
        assert torch.equal(bn.running_var, torch.ones_like(bn.bias)) and bn.num_batches_tracked.item() == 0
        assert bn.weight.std() > 0 and abs(bn.weight.mean().item() - 1) < 0.02
    G0, _ = build_models(preset("lecture").model, seed=0)   # no init_std: torch's default, scale 1 exactly
    bn = next(mod for mod in G0.modules() if isinstance(mod, nn.modules.batchnorm._BatchNorm))
    assert torch.equal(bn.weight, torch.ones_like(bn.weight))


@pytest.mark.parametrize("name", [n for n, c in PRESETS.items()
                                  if c.model.discriminator.arch == "strided" and c.model.discriminator.head == "linear"])
def test_conv_discriminator_head_hands_its_gradient_back_channels_last(name):
    """The flattening before D's fc head gives the layer before it a channels-last gradient, like its input: a
    gradient in NCHW strides sent LeakyReLU's and batch norm's backward down a mixed-layout path ~20x slower. The
    gradients are the very values autograd's own flatten gives."""
    cfg = PRESETS[name].model
    G, D = build_models(cfg, seed=0)
    x = G(sample_latent(cfg, 4, torch.Generator().manual_seed(1)), labels_for(name, 4)).detach()
    flat = next(i for i, m in enumerate(D.net) if isinstance(m, nn.Flatten))
    seen = []
    D.net[flat - 1].register_full_backward_hook(lambda m, grad_in, grad_out: seen.append(grad_out[0]))
    D(x.requires_grad_(), labels_for(name, 4)).sum().backward()
    assert seen[0].dim() == 4 and not seen[0].is_contiguous()
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
    grads = [p.grad.clone() for p in D.parameters()] + [x.grad.clone()]
    D.zero_grad()
    x.grad = None
    D.net[flat] = nn.Flatten()                                    # autograd's flatten: same values
    D(x, labels_for(name, 4)).sum().backward()
    assert all(torch.equal(a, b) for a, b in zip(grads, [p.grad for p in D.parameters()] + [x.grad]))
