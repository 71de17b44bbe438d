"""One training loop for every GAN variant: a variant is a `RunConfig`, never a new script.

    trainer = Trainer(preset("lecture"), load_dataset("mnist"))
    for _ in range(1000):
        metrics = trainer.step()           # D update(s), then one G update; returns a StepMetrics
    grid = trainer.sample()                # G(fixed noise), (64, C, S, S) in [-1, 1]

The trainer neither prints nor writes files: callers (CLI, app, benchmarks) decide what to show and save.
An update whose loss or gradient is NaN/inf is not applied (a D update already made in the same step stays);
the trainer stops with `TrainingDiverged` and keeps the reason in `trainer.diverged`. Data, noise and dropout
all draw from the trainer's own generator, so a seed repeats a run on the CPU bit for bit.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from ganplay.config import PRECISIONS, ConfigError, RunConfig
from ganplay.data import ImageDataset
from ganplay.losses import get_loss, gradient_penalty
from ganplay.models import build_models, sample_latent, validate
from ganplay.models.mlp import Dropout

SAMPLE_COUNT = 64      # the fixed evaluation noise batch: an 8 x 8 grid


class TrainingDiverged(RuntimeError):
    """The run produced NaN or inf; the message says where and what to try instead."""


@dataclass(frozen=True)
class StepMetrics:
    step: int              # generator updates done so far, this one included
    d_loss: float
    g_loss: float
    d_real: float          # mean D(x) on the real batch (a probability for BCE losses, a raw score otherwise)
    d_fake: float          # mean D(G(z)) on the fake batch, before D's update
    d_grad_norm: float
    g_grad_norm: float
    seconds: float         # wall time of this step

    def to_dict(self) -> dict:
        return asdict(self)


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
    try:
        get_loss(t.loss)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if t.clip_value <= 0 or t.gp_weight < 0:
        raise ConfigError("the clipping bound must be positive and the gradient-penalty weight not negative")
    if t.optimizer not in ("adam", "rmsprop"):
        raise ConfigError(f"optimizer must be 'adam' or 'rmsprop', got {t.optimizer!r}")
    uses_bn = config.model.generator.batchnorm or config.model.discriminator.batchnorm
    if not 1 <= t.batch_size <= 4096:
        raise ConfigError(f"batch size must be between 1 and 4096, got {t.batch_size}")
    if uses_bn and t.batch_size < 2:
        raise ConfigError("batch norm needs at least 2 images per batch; raise the batch size or turn batch norm off")
    for name in ("lr_g", "lr_d"):
        lr = getattr(t, name)
        if not (math.isfinite(lr) and 0 < lr <= 100):
            raise ConfigError(f"{name} must be a positive number up to 100, got {lr}")
    for betas in (t.betas_g, t.betas_d):
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ConfigError(f"Adam betas must be two numbers in [0, 1), got {betas}")
    if not 1 <= t.d_steps <= 100:
        raise ConfigError(f"D steps per G step must be between 1 and 100, got {t.d_steps}")
    if not 0 < t.real_label <= 1:
        raise ConfigError(f"the real label must be in (0, 1], got {t.real_label}")
    if t.precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {t.precision!r}")


class Trainer:
    def __init__(self, config: RunConfig, dataset: ImageDataset, device: str | torch.device | None = None):
        validate_run(config)
        self.config = config
        self.device = torch.device(device) if device is not None else auto_device()
        model, train = config.model, config.train
        self.loss = get_loss(train.loss)
        if model.num_classes and model.num_classes < len(dataset.class_names):
            raise ConfigError(f"the model has {model.num_classes} classes but {dataset.title} has "
                              f"{len(dataset.class_names)}")
        self.dataset = dataset
        data = dataset.resized(model.image_size)
        self._images = data.images.to(self.device)                    # (N, S, S) uint8
        self._labels = data.labels.to(self.device)                    # (N,) int64
        self.generator, self.discriminator = (m.to(self.device) for m in build_models(model, seed=train.seed))
        self.rng = torch.Generator(device="cpu").manual_seed(train.seed)
        for m in self.discriminator.modules():
            if isinstance(m, Dropout):
                m.generator = self.rng if self.device.type == "cpu" else None
        self.opt_g = self._optimizer(self.generator, train.lr_g, train.betas_g)
        self.opt_d = self._optimizer(self.discriminator, train.lr_d, train.betas_d)
        self.d_steps = train.d_steps
        self.precision = resolve_precision(train.precision, self.device)
        # BN layers see real and fake batches separately (as the seeds do); without BN one pass is equivalent.
        self._joint_d_pass = not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                     for m in self.discriminator.modules())
        self.fixed_z = self.noise(SAMPLE_COUNT, torch.Generator().manual_seed(train.seed + 1))
        self.fixed_y = (torch.arange(SAMPLE_COUNT, device=self.device) % model.num_classes
                        if model.num_classes else None)
        self.step_count = 0
        self.images_seen = 0
        self.seconds = 0.0
        self.diverged: str | None = None

    # -- setup -----------------------------------------------------------------------------------------------
    def _optimizer(self, module: torch.nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
        if self.config.train.optimizer == "rmsprop":
            return torch.optim.RMSprop(module.parameters(), lr=lr)
        # The fused kernel does Adam's update in one pass over each tensor instead of ~8 (same update rule).
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas, fused=fused)

    def set_hyperparameters(self, lr_g: float | None = None, lr_d: float | None = None,
                            d_steps: int | None = None) -> None:
        """Change what can change on the fly; the optimisers keep their state. All or nothing: a refused value
        changes nothing."""
        for lr in (lr_g, lr_d):
            if lr is not None and not (math.isfinite(lr) and 0 < lr <= 100):
                raise ConfigError(f"a learning rate must be a positive number up to 100, got {lr}")
        if d_steps is not None and not 1 <= d_steps <= 100:
            raise ConfigError(f"D steps per G step must be between 1 and 100, got {d_steps}")
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            if lr is not None:
                for group in opt.param_groups:
                    group["lr"] = lr
        if d_steps is not None:
            self.d_steps = d_steps

    # -- sampling --------------------------------------------------------------------------------------------
    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z from the configured prior, (n, latent_dim)."""
        return sample_latent(self.config.model, n, generator or self.rng).to(self.device)

    def _real_batch(self, n: int) -> tuple[Tensor, Tensor]:
        idx = torch.randint(len(self._images), (n,), generator=self.rng).to(self.device)
        x = self._images[idx].unsqueeze(1).float().div_(127.5).sub_(1.0)   # (B, 1, S, S) in [-1, 1]
        channels = self.config.model.channels
        if channels != 1:
            x = x.expand(-1, channels, -1, -1)
        return x, self._labels[idx]

    def _fake_labels(self, n: int) -> Tensor | None:
        k = self.config.model.num_classes
        return torch.randint(k, (n,), generator=self.rng).to(self.device) if k else None

    @torch.no_grad()
    def sample(self, z: Tensor | None = None, y: Tensor | None = None) -> Tensor:
        """G(z) in eval mode, on the CPU; defaults to the run's fixed noise batch."""
        z = self.fixed_z if z is None else z.to(self.device)
        y = self.fixed_y if y is None and z is self.fixed_z else y
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.generator(z, y).float().cpu()
        finally:
            self.generator.train(was_training)

    # -- one step --------------------------------------------------------------------------------------------
    def step(self) -> StepMetrics:
        if self.diverged:
            raise TrainingDiverged(self.diverged)
        start = time.perf_counter()
        G, D, loss, t = self.generator, self.discriminator, self.loss, self.config.train
        B = t.batch_size

        for i in range(self.d_steps):
            real, y_real = self._real_batch(B)
            y_fake = self._fake_labels(B)
            # With reuse_fake the last D step's fakes keep their graph, so G's update needs no second forward.
            keep_graph = t.reuse_fake and i == self.d_steps - 1
            with torch.set_grad_enabled(keep_graph), self._autocast():
                fake_g = G(self.noise(B), y_fake)
            fake = fake_g.detach()
            with self._autocast():
                if self._joint_d_pass:
                    labels = None if y_fake is None else torch.cat([y_real, y_fake])
                    # bf16 fakes stay bf16: D's first layer would cast the batch to bf16 under autocast anyway
                    real_logits, fake_logits = D(torch.cat([real.to(fake.dtype), fake]), labels).float().split(B)
                else:
                    real_logits, fake_logits = D(real, y_real).float(), D(fake, y_fake).float()
                d_loss = loss.d_loss(real_logits, fake_logits, t.real_label)
                if loss.penalty == "gp":
                    d_loss = d_loss + t.gp_weight * gradient_penalty(
                        lambda x: D(x, y_real).float(), real, fake, generator=self.rng)
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            d_norm = _grad_norm(D)
            self._check_finite("discriminator", d_loss, d_norm)
            self.opt_d.step()
            if loss.penalty == "clip":
                with torch.no_grad():
                    for p in D.parameters():
                        p.clamp_(-t.clip_value, t.clip_value)

        # Generator update: D's weights need no gradients here, only its input does.
        D.requires_grad_(False)
        try:
            with self._autocast():
                if not t.reuse_fake:
                    y_fake = self._fake_labels(B)
                    fake_g = G(self.noise(B), y_fake)
                g_loss = loss.g_loss(D(fake_g, y_fake).float())
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        finally:
            D.requires_grad_(True)
        g_norm = _grad_norm(G)
        self._check_finite("generator", g_loss, g_norm)
        self.opt_g.step()

        d_real, d_fake = loss.d_output(real_logits.detach()).mean(), loss.d_output(fake_logits.detach()).mean()
        values = torch.stack([d_loss.detach(), g_loss.detach(), d_real, d_fake]).tolist()
        self.step_count += 1
        self.images_seen += B * (self.d_steps + 1)
        seconds = time.perf_counter() - start
        self.seconds += seconds
        return StepMetrics(self.step_count, values[0], values[1], values[2], values[3], d_norm, g_norm, seconds)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16")

    def _check_finite(self, who: str, loss_value: Tensor, grad_norm: float) -> None:
        bad = None
        if not torch.isfinite(loss_value):
            bad = f"the {who} loss became {loss_value.item()}"
        elif not math.isfinite(grad_norm):
            bad = f"the {who}'s gradients became {grad_norm}"
        if bad is None:
            return
        t = self.config.train
        self.diverged = (
            f"Training diverged at step {self.step_count + 1}: {bad}, so the run stopped before the update "
            f"could spoil the weights. Learning rates were G {t.lr_g:g} / D {t.lr_d:g}. Try a smaller learning "
            f"rate (2e-4 is a safe start for Adam), a loss with bounded gradients (non-saturating or "
            f"least-squares), or batch norm in the generator.")
        raise TrainingDiverged(self.diverged)

    def record(self) -> dict:
        """The training record a checkpoint carries."""
        return {"steps": self.step_count, "images_seen": self.images_seen, "seconds": round(self.seconds, 3),
                "dataset": self.dataset.describe(), "diverged": self.diverged, "device": str(self.device),
                "precision": self.precision}


def _grad_norm(module: torch.nn.Module) -> float:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads).item() if grads else 0.0
