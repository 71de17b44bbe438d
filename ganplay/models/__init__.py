"""Generator and discriminator families, built from a `ModelConfig`.

    G, D = build_models(cfg.model)
    x = G(z, y)          # (B, *cfg.sample_shape): images (B, C, S, S) in [-1, 1] or points (B, d);
                         # y (B,) class ids or (B, K) soft labels, conditional only
    logits = D(x, y)     # (B,) raw logits, never a sigmoid: the losses decide what to do with them

Architectures are registered by name (`GENERATORS`, `DISCRIMINATORS`, and `mlp.ACTIVATIONS` for the
nonlinearities); menus and tests read those names. `validate` reports an unknown name as a ConfigError carrying
the registry's message, so a bad config is always a ConfigError and the choices read as in every lookup.
Class conditioning is handled here, once, for every architecture: the generator sees [z, one_hot(y)] and the
discriminator sees the image with one_hot(y) appended (as extra constant channels for conv nets).
"""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn
import torch.nn.functional as F

from ganplay.config import ConfigError, ModelConfig
from ganplay.models import conv, mlp
from ganplay.models.init import initialise
from ganplay.registry import Registry

GENERATORS: Registry = Registry("generator architecture", {
    "mlp": mlp.mlp_generator, "deconv": conv.deconv_generator, "upsample": conv.upsample_generator,
})
DISCRIMINATORS: Registry = Registry("discriminator architecture", {
    "mlp": mlp.mlp_discriminator, "strided": conv.conv_discriminator, "pool": conv.conv_discriminator,
})
IMAGE_SIZES = (28, 32, 64)
MAX_POINT_DIM = 64


class Generator(nn.Module):
    """z (B, latent_dim) [+ y (B,)] -> samples (B, *sample_shape): images (B, C, S, S) or points (B, d)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.latent_dim, self.num_classes = cfg.latent_dim, cfg.num_classes
        self.sample_shape = cfg.sample_shape
        self.net = GENERATORS[cfg.generator.arch](cfg, cfg.latent_dim + cfg.num_classes)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            z = torch.cat([z, _one_hot(y, self.num_classes, z)], dim=1)
        return self.net(z).view(z.shape[0], *self.sample_shape)


class Discriminator(nn.Module):
    """samples (B, *sample_shape) [+ y (B,)] -> logits (B,)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.num_classes = cfg.num_classes
        self.is_mlp = cfg.discriminator.arch == "mlp"
        self.net = DISCRIMINATORS[cfg.discriminator.arch](cfg, cfg.channels + cfg.num_classes)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        if self.num_classes:
            onehot = _one_hot(y, self.num_classes, x)                     # (B, K)
            if self.is_mlp:
                x = torch.cat([x.flatten(1), onehot], dim=1)
            else:
                planes = onehot[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
                x = torch.cat([x, planes], dim=1)                          # (B, C + K, S, S)
        return self.net(x).view(-1)


def _one_hot(y: torch.Tensor | None, num_classes: int, like: torch.Tensor) -> torch.Tensor:
    if y is None:
        raise ValueError("this model is class-conditional: pass class labels y")
    if y.is_floating_point() and y.dim() == 2:
        # soft labels (B, K), used as given: e.g. a blend of two one-hots to morph a 3 into an 8
        if y.shape[1] != num_classes:
            raise ValueError(f"soft labels need {num_classes} columns, got {tuple(y.shape)}")
        return y.to(like.dtype)
    return F.one_hot(y.long(), num_classes).to(like.dtype)


def validate(cfg: ModelConfig) -> None:
    """Raise ConfigError with a readable message if the config cannot build a model."""
    g, d = cfg.generator, cfg.discriminator
    for field, registry, name in (("generator.arch", GENERATORS, g.arch),
                                  ("discriminator.arch", DISCRIMINATORS, d.arch),
                                  ("generator.activation", mlp.ACTIVATIONS, g.activation),
                                  ("discriminator.activation", mlp.ACTIVATIONS, d.activation)):
        if name not in registry:
            raise ConfigError(f"model.{field}: {registry.unknown(name)}")
    if cfg.is_points:
        if len(cfg.data_shape) != 1 or not 1 <= cfg.data_shape[0] <= MAX_POINT_DIM:
            raise ConfigError(f"points must have between 1 and {MAX_POINT_DIM} coordinates, got shape "
                              f"{cfg.data_shape}")
        if cfg.generator.arch != "mlp" or cfg.discriminator.arch != "mlp":
            raise ConfigError("points (the Toy lab's data) need MLP nets: set both archs to 'mlp'")
    elif cfg.image_size not in IMAGE_SIZES:
        raise ConfigError(f"image_size must be one of {IMAGE_SIZES}, got {cfg.image_size}")
    if cfg.generator.output not in ("tanh", "linear"):
        raise ConfigError(f"generator output must be 'tanh' or 'linear', got {cfg.generator.output!r}")
    if not 1 <= cfg.latent_dim <= 4096:
        raise ConfigError(f"latent_dim must be between 1 and 4096, got {cfg.latent_dim}")
    if cfg.channels not in (1, 3):
        raise ConfigError(f"channels must be 1 or 3, got {cfg.channels}")
    if not 0 <= cfg.num_classes <= 1000:
        raise ConfigError(f"num_classes must be between 0 and 1000, got {cfg.num_classes}")
    if cfg.prior not in ("normal", "uniform"):
        raise ConfigError(f"prior must be 'normal' or 'uniform', got {cfg.prior!r}")
    for part in (cfg.generator, cfg.discriminator):
        if not part.hidden or any(w < 1 or w > 8192 for w in part.hidden + part.fc):
            raise ConfigError("layer widths must be between 1 and 8192")
    if not 0 <= d.dropout < 1:
        raise ConfigError("dropout must be in [0, 1)")
    if not 1 <= d.kernel <= 15 or not -1 <= d.padding <= d.kernel or any(not 1 <= s <= 4 for s in d.strides):
        raise ConfigError("discriminator kernel must be 1-15, padding -1 (auto) to the kernel size, strides 1-4")
    if not (0 < g.bn_eps <= 10 and 0 <= g.bn_momentum <= 1 and 0 <= g.init_std <= 10 and 0 <= g.slope <= 1):
        raise ConfigError("generator batch-norm eps/momentum, init std or slope out of range")


# The one size limit, end to end: a model's checkpoint fits in MAX_CHECKPOINT_MB, the resumable kind included
# (G and D at float32, plus what ganplay.resume stores: a second G when samples come from its weight average, two
# optimiser tensors a parameter, as Adam keeps, and the random states). build_models refuses a bigger model, so
# whatever can train can also be saved, loaded (ganplay.checkpoint refuses bigger files), uploaded (the Latent
# page's uploader takes this size) and resumed. Decimal MB, because browsers count an upload widget's limit in
# 1000- or 1024-byte units: 10**6 fits under both. Every preset fits: lsgan-dcgan, the largest, needs about 110 MB.
MAX_CHECKPOINT_MB = 256
MAX_CHECKPOINT_BYTES = MAX_CHECKPOINT_MB * 10**6
_HEADER_BYTES = 64 * 1024          # the checkpoint's config, training record and card: a few KB in practice
_TENSOR_ENTRY_BYTES = 256          # one tensor's header entry (name, dtype, shape, offsets): about 120 bytes
_STATE_BYTES = 1 << 20             # random states (5 KB a rank under torchrun) and the last step's logits
_OPTIMIZER_SLOTS = 2               # tensors an optimiser keeps per parameter at most (Adam's two moments)


def checkpoint_size_bound(cfg: ModelConfig) -> int:
    """An upper bound of the bytes a checkpoint of this model takes, resumable with G's weight average (the
    largest kind), header included; counted on the meta device: nothing is allocated."""
    validate(cfg)
    with torch.device("meta"):
        nets = Generator(cfg), Discriminator(cfg)
    total = _HEADER_BYTES + _STATE_BYTES
    for copies, net in ((2, nets[0]), (1, nets[1])):          # G twice: the average and the G that trains
        state, params = net.state_dict().values(), list(net.parameters())
        total += copies * sum(t.numel() * t.element_size() for t in state)
        total += _OPTIMIZER_SLOTS * sum(t.numel() * t.element_size() for t in params)
        total += 4 * len(params)                                # each parameter's step count, one float32
        total += _TENSOR_ENTRY_BYTES * (copies * len(state) + (_OPTIMIZER_SLOTS + 1) * len(params))
    return total


def check_size(cfg: ModelConfig) -> None:
    """Raise ConfigError, naming the limit, for a model whose checkpoint could exceed MAX_CHECKPOINT_MB."""
    size = checkpoint_size_bound(cfg)
    if size > MAX_CHECKPOINT_BYTES:
        with torch.device("meta"):
            g, d = parameter_count(Generator(cfg)), parameter_count(Discriminator(cfg))
        raise ConfigError(f"this model is too big: G has {g:,} parameters and D {d:,}, a {size / 10**6:.0f} MB "
                          f"checkpoint with what resuming needs, and ganplay checkpoints are at most {MAX_CHECKPOINT_MB} MB "
                          f"(so that every model can be saved, loaded, uploaded and resumed); use fewer or narrower "
                          f"layers")


def build_models(cfg: ModelConfig, seed: int | None = None, *,
                 generator: torch.Generator | None = None) -> tuple[Generator, Discriminator]:
    """Build (G, D) for a config, their initial weights drawn from `generator`, else from a new generator seeded
    with `seed` (unseeded: from the OS's entropy). Never touches torch's global RNG, so a seed gives the same
    weights whatever other threads draw or seed meanwhile."""
    check_size(cfg)                    # counted first, allocating nothing: a config (or upload) cannot ask for 12 GB
    if generator is None:
        generator = torch.Generator().manual_seed(secrets.randbits(63) if seed is None else seed)
    with torch.device("meta"):         # built without memory (so without the default inits' global draws) ...
        nets = Generator(cfg), Discriminator(cfg)
    for net, part in zip(nets, (cfg.generator, cfg.discriminator)):
        net.to_empty(device="cpu")     # ... then every tensor is set from the caller's generator, G first
        # init_std is DCGAN's recipe for conv nets; the MLP recipes (seeds 001, 004) use torch's defaults
        initialise(net, part.init_std if part.arch != "mlp" else 0.0, generator)
        # oneDNN's CPU convolutions are fastest in channels-last layout (bench/throughput.py). Deciding it here,
        # for every net built, keeps a trained net and its reloaded checkpoint on the same kernels: bit-equal.
        if any(isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) for m in net.modules()):
            net.to(memory_format=torch.channels_last)
    return nets


def sample_latent(cfg: ModelConfig, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """n codes from the model's prior, (n, latent_dim), on the CPU: N(0, I) or U[-1, 1)."""
    shape = (n, cfg.latent_dim)
    if cfg.prior == "uniform":
        return torch.rand(shape, generator=generator) * 2.0 - 1.0
    return torch.randn(shape, generator=generator)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@contextmanager
def eval_mode(*modules: nn.Module) -> Iterator[None]:
    """Put the modules in eval mode (no dropout, batch-norm running statistics) for the block, then give each
    back the mode it had, also when the block raises: sampling must not flip a net that is being trained."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes):
            m.train(mode)


@torch.no_grad()
def generate(generator: nn.Module, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """generator(z, y) in eval mode, without gradients, as float32 on the CPU: how samples for the eye are made."""
    with eval_mode(generator):
        return generator(z, y).float().cpu()


def balanced_labels(n: int, num_classes: int, device: torch.device | str | None = None) -> torch.Tensor | None:
    """Class ids 0, 1, ..., K-1, 0, 1, ... (n,) int64, so every class gets n/K samples; None for an
    unconditional model (num_classes == 0)."""
    return torch.arange(n, device=device) % num_classes if num_classes else None
