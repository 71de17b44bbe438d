"""Where a run trains and whether its settings can run: the device and precision choices, and the checks that
turn settings no run can proceed with into a ConfigError in words a user can act on (`validate_run`, and the same
checks for the values `Trainer.set_hyperparameters` changes on the fly).

    validate_run(config)                         # before building anything
    resolve_precision("auto", auto_device())     # "bfloat16" where bf16 kernels are fast, else "float32"
"""
from __future__ import annotations

import math

import torch

from ganplay.config import PRECISIONS, ConfigError, RunConfig
from ganplay.losses import LOSSES
from ganplay.models import validate

MAX_SEED = 2**63 - 1
OPTIMIZERS = ("adam", "rmsprop", "sgd")


# Where live runs (the app's Training page and Toy lab, ganplay.live) train, whatever accelerator the server has:
# the run cap and the torch threads each run gets (ganplay.live.registry) are counted in CPU cores. The
# Training page's "auto (...)" precision label resolves for this device too, so it names what a run will use.
LIVE_DEVICE = torch.device("cpu")


def auto_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> "bfloat16" on a CUDA GPU with bf16 or a CPU with AVX512-BF16 or AMX (where bf16 convolutions
    are much faster than fp32), else "float32"; the other values as they are. Emulated bf16 is slower than fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        fast = torch.cuda.is_bf16_supported()
    elif device.type == "cpu":
        caps = torch.cpu.get_capabilities()
        fast = bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))
    else:
        fast = False
    return "bfloat16" if fast else "float32"


def validate_run(config: RunConfig) -> None:
    """Raise ConfigError, in words a user can act on, for settings no run can proceed with."""
    validate(config.model)
    t = config.train
    if t.loss not in LOSSES:
        raise ConfigError(f"train.loss: {LOSSES.unknown(t.loss)}")
    if t.clip_value <= 0 or t.gp_weight < 0:
        raise ConfigError("the clipping bound must be positive and the gradient-penalty weight not negative")
    for name in (t.optimizer, t.optimizer_d or t.optimizer):
        if name not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    if not 0 <= t.momentum < 1:
        raise ConfigError(f"momentum must be in [0, 1), got {t.momentum}")
    uses_bn = config.model.generator.batchnorm or config.model.discriminator.batchnorm
    if not 1 <= t.batch_size <= 4096:
        raise ConfigError(f"batch size must be between 1 and 4096, got {t.batch_size}")
    if uses_bn and t.batch_size < 2:
        raise ConfigError("batch norm needs at least 2 images per batch; raise the batch size or turn batch norm off")
    for name in ("lr_g", "lr_d"):
        check_learning_rate(name, getattr(t, name))
    for betas in (t.betas_g, t.betas_d):
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ConfigError(f"Adam betas must be two numbers in [0, 1), got {betas}")
    if not 0 <= t.g_ema < 1:
        raise ConfigError(f"the generator's weight-average decay must be in [0, 1) (0 = off), got {t.g_ema}")
    if not 0 <= t.seed < MAX_SEED:      # the fixed noise is seeded with seed + 1, torch takes < 2**63
        raise ConfigError(f"train.seed must be a whole number from 0 to {MAX_SEED - 1}, got {t.seed}")
    check_steps("D", t.d_steps)
    check_steps("G", t.g_steps)
    if not 0 < t.real_label <= 1:
        raise ConfigError(f"the real label must be in (0, 1], got {t.real_label}")
    if t.precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {t.precision!r}")


def check_learning_rate(name: str, lr: float) -> None:
    if not (math.isfinite(lr) and 0 < lr <= 100):
        raise ConfigError(f"{name} must be a positive number up to 100, got {lr}")


def check_steps(who: str, steps: int) -> None:
    if not 1 <= steps <= 100:
        raise ConfigError(f"{who} steps per iteration must be between 1 and 100, got {steps}")
