"""Convolutional generators and discriminators (the DCGAN-style nets of seeds 000, 002 and 003).

Generators project z to a small feature map and grow it to the image size:
- "deconv": each 4x4 stride-2 transposed convolution doubles the map, the last one emits the image
  (seed 002's project-and-reshape DCGAN; seed 000's least-squares generator with fc layers first);
- "upsample": nearest 2x upsampling + 3x3 convolution per block, then a 3x3 output convolution (seed 003).
Discriminators shrink the image with strided convolutions ("strided") or convolution + max-pool ("pool"),
then end in fc layers ("linear" head) or one convolution covering the last map ("conv" head).
Weights, DCGAN's N(0, init_std) among them, are set by `ganplay.models.init` from the caller's generator.
"""
from __future__ import annotations

import torch
from torch import nn

from ganplay.config import ConfigError, ModelConfig
from ganplay.models.mlp import activation, discriminator_head


def _base_size(image_size: int, doublings: int) -> int:
    base, rest = divmod(image_size, 2 ** doublings)
    if rest or base < 1:
        raise ConfigError(f"{doublings} upsampling steps cannot reach image size {image_size}: "
                          f"use {'fewer' if base < 1 else 'a different number of'} generator widths")
    return base


def _norm_act(cfg_g, layer: nn.Module, bn: nn.Module | None) -> list[nn.Module]:
    act = activation(cfg_g.activation, cfg_g.slope)
    if bn is None:
        return [layer, act]
    return [layer, bn, act] if cfg_g.norm_first else [layer, act, bn]


def _projection(cfg: ModelConfig, in_features: int, channels: int, base: int) -> list[nn.Module]:
    """fc layers and a linear projection to a (channels, base, base) map."""
    g = cfg.generator
    layers: list[nn.Module] = []
    width = in_features
    for out in g.fc + (channels * base * base,):
        linear = nn.Linear(width, out)
        if g.project_act:
            bn = nn.BatchNorm1d(out, eps=g.bn_eps, momentum=g.bn_momentum) if g.project_norm else None
            layers += _norm_act(g, linear, bn)
        else:
            layers.append(linear)
        width = out
    layers.append(nn.Unflatten(1, (channels, base, base)))
    return layers


def deconv_generator(cfg: ModelConfig, in_features: int) -> nn.Module:
    g = cfg.generator
    widths = g.hidden
    base = _base_size(cfg.image_size, len(widths))
    layers = _projection(cfg, in_features, widths[0], base)
    for c_in, c_out in zip(widths, widths[1:]):
        conv = nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=g.bias)
        bn = nn.BatchNorm2d(c_out, eps=g.bn_eps, momentum=g.bn_momentum) if g.batchnorm else None
        layers += _norm_act(g, conv, bn)
    layers += [nn.ConvTranspose2d(widths[-1], cfg.channels, 4, 2, 1, bias=g.bias), nn.Tanh()]
    return nn.Sequential(*layers)


def upsample_generator(cfg: ModelConfig, in_features: int) -> nn.Module:
    g = cfg.generator
    widths = g.hidden
    base = _base_size(cfg.image_size, len(widths) - 1)
    layers = _projection(cfg, in_features, widths[0], base)
    for c_in, c_out in zip(widths, widths[1:]):
        conv = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=g.bias)
        bn = nn.BatchNorm2d(c_out, eps=g.bn_eps, momentum=g.bn_momentum) if g.batchnorm else None
        layers += [nn.Upsample(scale_factor=2, mode="nearest")] + _norm_act(g, conv, bn)
    layers += [nn.Conv2d(widths[-1], cfg.channels, 3, 1, 1, bias=True), nn.Tanh()]
    return nn.Sequential(*layers)


class _FlattenKeepingLayout(torch.autograd.Function):
    """x.flatten(1), whose gradient goes back in x's memory layout. A channels-last map flattens to (B, C*H*W) in
    NCHW order (a copy); autograd's own backward hands the layer before a gradient in NCHW strides, and the
    elementwise backward of an activation or batch norm whose saved input is channels-last then takes a slow
    mixed-layout path many times slower than the plain one (LeakyReLU's backward on `lecture`'s 64x64x7x7 map), and so
    does the convolution's backward after it. The values are the same; only their layout in memory differs."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return x.flatten(1)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape).contiguous(memory_format=torch.channels_last)


class Flatten(nn.Flatten):
    """nn.Flatten() for a conv net's head: a channels-last input gets its gradient back channels-last (see
    _FlattenKeepingLayout; bench/throughput.py measures the step)."""

    def forward(self, x):
        if (self.start_dim == 1 and self.end_dim == -1 and x.dim() == 4 and x.requires_grad
                and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)):
            return _FlattenKeepingLayout.apply(x)
        return super().forward(x)


def conv_discriminator(cfg: ModelConfig, in_channels: int) -> nn.Module:
    d = cfg.discriminator
    pool = d.arch == "pool"
    strides = d.strides or (1 if pool else 2,) * len(d.hidden)
    if len(strides) != len(d.hidden):
        raise ConfigError("discriminator strides need one entry per conv layer")
    pad = (d.kernel - 1) // 2 if d.padding < 0 else d.padding
    layers: list[nn.Module] = []
    size, c_in = cfg.image_size, in_channels
    for i, (c_out, stride) in enumerate(zip(d.hidden, strides)):
        layers.append(nn.Conv2d(c_in, c_out, d.kernel, stride, pad, bias=d.bias))
        if d.batchnorm and i > 0:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(activation(d.activation, d.slope))
        size = (size + 2 * pad - d.kernel) // stride + 1
        if pool:
            layers.append(nn.MaxPool2d(2, 2))
            size //= 2
        if size < 1:
            raise ConfigError(f"the discriminator's conv layers shrink a {cfg.image_size}px image to nothing")
        c_in = c_out
    if d.head == "conv":
        layers.append(nn.Conv2d(c_in, 1, size, 1, 0, bias=d.bias))     # (B, 1, 1, 1)
    elif d.head == "linear":
        layers += [Flatten(), *discriminator_head(cfg, c_in * size * size, d.fc)]
    else:
        raise ConfigError(f"discriminator head must be 'linear' or 'conv', got {d.head!r}")
    return nn.Sequential(*layers)

