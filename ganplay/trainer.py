"""One training loop for every GAN variant: a variant is a `RunConfig`, never a new script.

    trainer = Trainer(preset("lecture"), load_dataset("mnist"))
    for _ in range(1000):
        metrics = trainer.step()           # d_steps D updates, then g_steps G updates; returns a StepMetrics
    grid = trainer.sample()                # G(fixed noise), (64, C, S, S) in [-1, 1]

    toy = Trainer(preset("toy-ring"), TOYS["ring8"])   # the same loop on points: (B, 2) batches
    toy.train_d(); toy.train_g()           # one D update alone, one G update alone (the Toy lab's step buttons)

Real batches come from a data source (`ganplay.data.source`): images at the model's size and channels, or
points drawn from a toy distribution; the loop does not know which.

The trainer neither prints nor writes files: callers (CLI, app, benchmarks) decide what to show and save.
An update whose loss or gradient is NaN/inf is not applied (a D update already made in the same step stays);
the trainer stops with `TrainingDiverged` and keeps the reason in `trainer.diverged`. Data, noise and dropout
all draw from the trainer's own generator, so a seed repeats a run on the CPU bit for bit.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from ganplay.config import ConfigError, RunConfig
from ganplay.data import data_source
from ganplay.losses import LOSSES, gradient_penalty
from ganplay.models import balanced_labels, build_models, generate, sample_latent
from ganplay.models.mlp import Dropout
# what a run's setup needs, importable from here too (the trainer is where callers look for them)
from ganplay.runcheck import (LIVE_DEVICE, MAX_SEED, OPTIMIZERS, auto_device, check_learning_rate,  # noqa: F401
                              check_steps, resolve_precision, validate_run)

SAMPLE_COUNT = 64      # the fixed evaluation noise batch: an 8 x 8 grid
POINT_SAMPLE_COUNT = 200   # for point data: the fake dots the Toy lab draws, each with its arrow (GAN Lab: 150)


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
    penalty: float = 0.0   # WGAN-GP: the gradient penalty term (before its weight) at D's last update; else 0

    def to_dict(self) -> dict:
        return asdict(self)


class Trainer:
    def __init__(self, config: RunConfig, dataset, device: str | torch.device | None = None):
        """`dataset`: an `ImageDataset` for image models, a toy distribution (`ganplay.toy`) for point models."""
        validate_run(config)
        self.config = config
        self.device = torch.device(device) if device is not None else auto_device()
        model, train = config.model, config.train
        self.loss = LOSSES[train.loss]
        class_names = getattr(dataset, "class_names", ())
        if model.num_classes and model.num_classes < len(class_names):
            raise ConfigError(f"the model has {model.num_classes} classes but {dataset.title} has "
                              f"{len(class_names)}")
        if model.num_classes and not class_names:
            raise ConfigError(f"a class-conditional model needs labelled data; {dataset.title} has no classes")
        self.dataset = dataset
        self.source = data_source(dataset, model, self.device)
        self.generator, self.discriminator = (m.to(self.device) for m in build_models(model, seed=train.seed))
        self.rng = torch.Generator(device="cpu").manual_seed(train.seed)
        for m in self.discriminator.modules():
            if isinstance(m, Dropout):
                m.generator = self.rng if self.device.type == "cpu" else None
        # G's weights averaged over its updates (Yazici et al. 2019; StyleGAN's and BigGAN's "G_ema"): the
        # average does not train, it smooths out the oscillation of the game, and every sample comes from it.
        self.generator_ema = (copy.deepcopy(self.generator).requires_grad_(False) if train.g_ema > 0 else None)
        if self.generator_ema is not None:   # the tensor lists the average updates after every G step, made once
            self._average_pairs = (list(self.generator_ema.parameters()), list(self.generator.parameters()),
                                   list(self.generator_ema.buffers()), list(self.generator.buffers()))
        self.opt_g = self._optimizer(self.generator, train.optimizer, train.lr_g, train.betas_g)
        self.opt_d = self._optimizer(self.discriminator, train.optimizer_d or train.optimizer, train.lr_d,
                                     train.betas_d)
        self.d_steps, self.g_steps = train.d_steps, train.g_steps
        self.precision = resolve_precision(train.precision, self.device)
        # BN layers see real and fake batches separately (as the seeds do); without BN one pass is equivalent.
        self._joint_d_pass = not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                     for m in self.discriminator.modules())
        count = POINT_SAMPLE_COUNT if model.is_points else SAMPLE_COUNT
        self.fixed_z = self.noise(count, torch.Generator().manual_seed(train.seed + 1))
        self.fixed_y = balanced_labels(count, model.num_classes, self.device)
        self.step_count = 0          # iterations: d_steps D updates, then g_steps G updates
        self.d_updates = self.g_updates = 0
        self.images_seen = 0         # real and fake samples through D (and G) so far
        self.seconds = 0.0
        self.diverged: str | None = None
        self._last: dict[str, Tensor | float] = {}
        self._zero = torch.zeros((), device=self.device)

    # -- setup -----------------------------------------------------------------------------------------------
    def _optimizer(self, module: torch.nn.Module, name: str, lr: float,
                   betas: tuple[float, float]) -> torch.optim.Optimizer:
        momentum = self.config.train.momentum
        if name == "rmsprop":
            return torch.optim.RMSprop(module.parameters(), lr=lr, momentum=momentum)
        if name == "sgd":
            return torch.optim.SGD(module.parameters(), lr=lr, momentum=momentum)
        # The fused kernel does Adam's update in one pass over each tensor instead of ~8 (same update rule).
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas, fused=fused)

    def set_hyperparameters(self, lr_g: float | None = None, lr_d: float | None = None,
                            d_steps: int | None = None, g_steps: int | None = None,
                            loss: str | None = None) -> None:
        """Change what can change on the fly; the optimisers keep their state. All or nothing: a refused value
        changes nothing. `config` follows, so a checkpoint saved afterwards records the values in use.

        `loss`: another name in LOSSES, from the next update on (the Lessons page's fixes switch a running game,
        e.g. minimax -> non-saturating, weight clipping -> gradient penalty). The nets and both optimisers' state
        stay: every loss reads the same logits, so D's weights and Adam's moments remain meaningful, only the
        objective changes. What D(x) means follows the loss (a probability or a raw score)."""
        if loss is not None and loss not in LOSSES:
            raise ConfigError(f"train.loss: {LOSSES.unknown(loss)}")
        for name, lr in (("lr_g", lr_g), ("lr_d", lr_d)):
            if lr is not None:
                check_learning_rate(name, lr)
        for who, steps in (("D", d_steps), ("G", g_steps)):
            if steps is not None:
                check_steps(who, steps)
        for opt, lr in ((self.opt_g, lr_g), (self.opt_d, lr_d)):
            if lr is not None:
                for group in opt.param_groups:
                    group["lr"] = lr
        if d_steps is not None:
            self.d_steps = d_steps
        if g_steps is not None:
            self.g_steps = g_steps
        if loss is not None:
            self.loss = LOSSES[loss]
        lr_now_g, lr_now_d = self.learning_rates
        self.config = dataclasses.replace(self.config, train=dataclasses.replace(
            self.config.train, lr_g=lr_now_g, lr_d=lr_now_d, d_steps=self.d_steps, g_steps=self.g_steps,
            loss=self.loss.name))

    @property
    def learning_rates(self) -> tuple[float, float]:
        """(G's, D's) learning rates in use now (they may have changed since the start)."""
        return self.opt_g.param_groups[0]["lr"], self.opt_d.param_groups[0]["lr"]

    # -- sampling --------------------------------------------------------------------------------------------
    @property
    def sampler(self) -> torch.nn.Module:
        """The generator samples and checkpoints come from: G's weight average when `g_ema` is on, else G."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """z from the configured prior, (n, latent_dim)."""
        return sample_latent(self.config.model, n, generator or self.rng).to(self.device)

    def _fake_labels(self, n: int) -> Tensor | None:
        k = self.config.model.num_classes
        return torch.randint(k, (n,), generator=self.rng).to(self.device) if k else None

    @torch.no_grad()
    def sample(self, z: Tensor | None = None, y: Tensor | None = None) -> Tensor:
        """G(z) in eval mode, on the CPU, (n, *sample_shape); defaults to the run's fixed noise batch."""
        z = self.fixed_z if z is None else z.to(self.device)
        y = self.fixed_y if y is None and z is self.fixed_z else y
        return generate(self.sampler, z, y)

    # -- one step --------------------------------------------------------------------------------------------
    def step(self) -> StepMetrics:
        """One iteration: `d_steps` D updates, then `g_steps` G updates."""
        if self.diverged:
            raise TrainingDiverged(self.diverged)
        start = time.perf_counter()
        reuse = self.config.train.reuse_fake
        for i in range(self.d_steps):
            # With reuse_fake the last D step's fakes keep their graph, so G's first update needs no new forward.
            fake_g, y_fake = self._d_update(keep_graph=reuse and i == self.d_steps - 1)
        for j in range(self.g_steps):
            self._g_update(*((fake_g, y_fake) if reuse and j == 0 else (None, None)))
        return self._finish(start, self.d_steps, self.g_steps)

    def train_d(self) -> StepMetrics:
        """One discriminator update alone (the Toy lab's "D step"); the iteration count stays."""
        return self._partial(self._d_update, d=1, g=0)

    def train_g(self) -> StepMetrics:
        """One generator update alone (the Toy lab's "G step"); the iteration count stays."""
        return self._partial(self._g_update, d=0, g=1)

    def _partial(self, update, d: int, g: int) -> StepMetrics:
        if self.diverged:
            raise TrainingDiverged(self.diverged)
        start = time.perf_counter()
        update()
        return self._finish(start, d, g, count=False)

    def _d_update(self, keep_graph: bool = False) -> tuple[Tensor, Tensor | None]:
        """One D update on a real batch and a fresh fake batch; returns the fakes (with their graph if asked)."""
        G, D, loss, t = self.generator, self.discriminator, self.loss, self.config.train
        B = t.batch_size
        real, y_real = self.source.batch(B, self.rng)
        y_fake = self._fake_labels(B)
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
            penalty = None
            if loss.penalty == "gp":
                penalty = gradient_penalty(lambda x: D(x, y_real).float(), real, fake, generator=self.rng)
                d_loss = d_loss + t.gp_weight * penalty
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        d_norm = _grad_norm(D)
        self._check_finite("discriminator", d_loss, d_norm)
        self.opt_d.step()
        if loss.penalty == "clip":
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-t.clip_value, t.clip_value)
        self._last.update(d_loss=d_loss.detach(), real_logits=real_logits.detach(),
                          fake_logits=fake_logits.detach(), d_norm=d_norm)
        if penalty is not None:
            self._last["penalty"] = penalty.detach().float()
        self.d_updates += 1
        return fake_g, y_fake

    def _g_update(self, fake_g: Tensor | None = None, y_fake: Tensor | None = None) -> None:
        """One G update: on the given fakes (reuse_fake), else on a fresh batch."""
        G, D, loss = self.generator, self.discriminator, self.loss
        # D's weights need no gradients here, only its input does.
        D.requires_grad_(False)
        try:
            with self._autocast():
                if fake_g is None:
                    B = self.config.train.batch_size
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
        self.g_updates += 1
        if self.generator_ema is not None:
            self._update_average()
        self._last.update(g_loss=g_loss.detach(), g_norm=g_norm)

    @torch.no_grad()
    def _update_average(self) -> None:
        """avg <- avg + (1 - decay) (G - avg), the decay warming up as (1 + n) / (10 + n) over the first G
        updates so the average forgets the random start quickly; batch-norm statistics are copied from G.
        (torch's swa_utils.AveragedModel does the same but wraps G, which would rename a checkpoint's keys.)"""
        n = self.g_updates
        decay = min(self.config.train.g_ema, (1 + n) / (10 + n))
        avg_params, live_params, avg_buffers, live_buffers = self._average_pairs
        torch._foreach_lerp_(avg_params, live_params, 1.0 - decay)
        if avg_buffers:
            torch._foreach_copy_(avg_buffers, live_buffers)

    def _finish(self, start: float, d: int, g: int, count: bool = True) -> StepMetrics:
        last = self._last
        if "real_logits" not in last or "g_loss" not in last:   # a lone G or D step before any iteration
            self._fill_missing()
        d_real = self.loss.d_output(last["real_logits"]).mean()
        d_fake = self.loss.d_output(last["fake_logits"]).mean()
        penalty = last.get("penalty", self._zero)
        values = torch.stack([last["d_loss"], last["g_loss"], d_real, d_fake, penalty]).tolist()
        if count:
            self.step_count += 1
        self.images_seen += self.config.train.batch_size * (d + g)
        seconds = time.perf_counter() - start
        self.seconds += seconds
        return StepMetrics(self.step_count, values[0], values[1], values[2], values[3], last["d_norm"],
                           last["g_norm"], seconds, values[4])

    def d_outputs(self) -> tuple[np.ndarray, np.ndarray] | None:
        """D's outputs (as the loss reads them: probabilities, scores or critic values) on the last real and fake
        batches it judged, as float arrays; None before D has judged any."""
        last = self._last
        if "real_logits" not in last:
            return None
        return tuple(self.loss.d_output(last[k]).float().reshape(-1).cpu().numpy()
                     for k in ("real_logits", "fake_logits"))

    @torch.no_grad()
    def _fill_missing(self) -> None:
        """Metrics for the half of the game that has not moved yet, measured without an update."""
        t, D = self.config.train, self.discriminator
        B = t.batch_size
        if "real_logits" not in self._last:
            real, y_real = self.source.batch(B, self.rng)
            y_fake = self._fake_labels(B)
            fake = self.generator(self.noise(B), y_fake)
            real_logits, fake_logits = D(real, y_real).float(), D(fake, y_fake).float()
            self._last.update(d_loss=self.loss.d_loss(real_logits, fake_logits, t.real_label),
                              real_logits=real_logits, fake_logits=fake_logits, d_norm=0.0)
        if "g_loss" not in self._last:
            self._last.update(g_loss=self.loss.g_loss(self._last["fake_logits"]), g_norm=0.0)

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
        lr_g, lr_d = self.learning_rates
        self.diverged = (
            f"Training diverged at step {self.step_count + 1}: {bad}, so the run stopped before the update "
            f"could spoil the weights. Learning rates were G {lr_g:g} / D {lr_d:g}. Try a smaller learning "
            f"rate (2e-4 is a safe start for Adam), a loss with bounded gradients (non-saturating or "
            f"least-squares), or batch norm in the generator.")
        raise TrainingDiverged(self.diverged)

    def record(self) -> dict:
        """The training record a checkpoint carries."""
        return {"steps": self.step_count, "images_seen": self.images_seen, "seconds": round(self.seconds, 3),
                "d_updates": self.d_updates, "g_updates": self.g_updates, "dataset": self.source.describe(), "diverged": self.diverged, "device": str(self.device),
                "precision": self.precision}

    @classmethod
    def from_checkpoint(cls, source, dataset, device: str | torch.device | None = None, rank: int = 0) -> "Trainer":
        """A trainer that continues a saved run where it stopped (bit for bit on the CPU): `source` is a path,
        bytes or a loaded `Checkpoint`; `rank` picks the random state under torchrun (ganplay.resume)."""
        from ganplay.checkpoint import Checkpoint, load_checkpoint
        from ganplay.resume import restore_training_state

        ckpt = source if isinstance(source, Checkpoint) else load_checkpoint(source)
        trainer = cls(ckpt.config, dataset, device)
        restore_training_state(trainer, ckpt, rank)
        return trainer


def _grad_norm(module: torch.nn.Module) -> float:
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    return torch.nn.utils.get_total_norm(grads).item() if grads else 0.0
