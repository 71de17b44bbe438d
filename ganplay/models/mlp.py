"""Fully connected generators and discriminators (the MLP GANs of seeds 001 and 004)."""
from __future__ import annotations

import math

import torch
from torch import nn

from ganplay.config import ModelConfig
from ganplay.registry import Registry

# name -> factory(slope) of a fresh module; `slope` is LeakyReLU's negative slope, the others ignore it
ACTIVATIONS: Registry = Registry("activation", {
    "relu": lambda slope: nn.ReLU(),
    "leaky_relu": nn.LeakyReLU,
    "elu": lambda slope: nn.ELU(),
    "tanh": lambda slope: nn.Tanh(),
})


class Dropout(nn.Dropout):
    """nn.Dropout that draws from `self.generator` when one is set (the trainer sets its own), so a run repeats
    exactly whatever else in the process uses torch's global random state."""

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        # A uniform draw against p is the same Bernoulli(1 - p) mask as bernoulli_(), and faster on a CPU.
        keep = torch.rand(x.shape, generator=self.generator, device=x.device, dtype=x.dtype) >= self.p
        return x * keep * (1.0 / (1.0 - self.p))


def activation(name: str, slope: float) -> nn.Module:
    """A fresh activation module by name (`slope` is LeakyReLU's negative slope)."""
    return ACTIVATIONS[name](slope)


def _features(cfg: ModelConfig) -> int:
    """Numbers in one sample: C*S*S for an image, d for a point."""
    return math.prod(cfg.sample_shape)


def mlp_generator(cfg: ModelConfig, in_features: int) -> nn.Module:
    """in_features -> hidden... -> C*S*S (or d) with tanh or linear output; each hidden layer is Linear [-> BN] -> act."""
    g = cfg.generator
    layers: list[nn.Module] = []
    width = in_features
    for out in g.hidden:
        layers.append(nn.Linear(width, out))
        block = [activation(g.activation, g.slope)]
        if g.batchnorm:
            bn = nn.BatchNorm1d(out, eps=g.bn_eps, momentum=g.bn_momentum)
            block = [bn] + block if g.norm_first else block + [bn]
        layers += block
        width = out
    layers.append(nn.Linear(width, _features(cfg)))
    if g.output == "tanh":
        layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def mlp_discriminator(cfg: ModelConfig, in_channels: int) -> nn.Module:
    """Flattened sample (+ one-hot label) -> hidden... -> 1 logit; each hidden layer is Linear -> act [-> dropout]."""
    d = cfg.discriminator
    conditional = in_channels - cfg.channels  # the label arrives already concatenated to the flat sample
    width = _features(cfg) + conditional
    return nn.Sequential(nn.Flatten(), *discriminator_head(cfg, width, d.hidden))


def discriminator_head(cfg: ModelConfig, width: int, sizes: tuple[int, ...]) -> list[nn.Module]:
    """Fully connected layers (Linear -> act [-> dropout]) of the given sizes, then one linear logit unit."""
    d = cfg.discriminator
    layers: list[nn.Module] = []
    for out in sizes:
        layers += [nn.Linear(width, out), activation(d.activation, d.slope)]
        if d.dropout:
            layers.append(Dropout(d.dropout))
        width = out
    return layers + [nn.Linear(width, 1)]
