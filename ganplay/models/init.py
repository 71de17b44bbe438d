"""Initial weights drawn from a generator the caller owns, never from torch's global RNG.

    G = Generator(cfg) on the meta device, then .to_empty(device="cpu")
    initialise(G.net, std=cfg.generator.init_std, generator=torch.Generator().manual_seed(seed))

Why not torch's defaults: every layer's `reset_parameters` draws from the process-wide RNG, so two server threads
building models (or one seeding it for something else) interleave their draws and a seed no longer repeats a run.
The distributions are torch's own, drawn in the order torch would draw them (module order, weight before bias),
so a seeded generator gives exactly the weights `torch.manual_seed(seed)` used to give.
"""
from __future__ import annotations

import math

import torch
from torch import nn

_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def initialise(net: nn.Module, std: float, generator: torch.Generator) -> nn.Module:
    """Set every parameter and buffer of `net` (whose memory may be uninitialised), in place:
    - Linear and conv layers as torch's `reset_parameters` does: weight ~ kaiming_uniform(a=√5), that is
      U(-1/√fan_in, 1/√fan_in), and bias ~ U(-1/√fan_in, 1/√fan_in), with fan_in as torch counts it;
    - batch norm: scale 1, shift 0, fresh running statistics;
    - then, when std > 0 (DCGAN's recipe): conv weights ~ N(0, std), batch-norm scales ~ N(1, 0.02), shifts 0.
    A layer type this does not know is an error rather than a tensor left holding garbage."""
    for module in net.modules():
        if isinstance(module, _LAYERS):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, _NORMS):
            module.reset_parameters()              # deterministic: ones, zeros, running mean 0 / var 1, count 0
        elif any(True for _ in module.parameters(recurse=False)) or any(True for _ in module.buffers(recurse=False)):
            raise TypeError(f"ganplay.models.init does not know how to initialise {type(module).__name__}")
    if std > 0:
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.normal_(module.weight, 0.0, std, generator=generator)
            elif isinstance(module, _NORMS):
                nn.init.normal_(module.weight, 1.0, 0.02, generator=generator)
                nn.init.zeros_(module.bias)
    return net
