"""The numbers that show each failure of the gallery, read from a trainer and the steps it just took.

    trace = train(trainer, 400)                  # steps, with G(fixed noise) kept every DRIFT_EVERY iterations
    evidence = measure("g_grad", trainer, trace, data)
    evidence.value, evidence.text                # a float for the tests, a phrase for the CLI and the page

Every metric is a pure reading: it never trains, and draws its noise from its own seeded generator, so a
measurement does not change the run it measures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ganplay.models import eval_mode
from ganplay.toy.modes import MODE_SAMPLES, mode_metrics
from ganplay.trainer import StepMetrics, Trainer, TrainingDiverged

RECENT = 20            # the step metrics (G's gradient, D(G(z))) average the last RECENT iterations
DRIFT_EVERY = 100      # iterations between the snapshots of G(fixed noise) that drift compares
DRIFT_WINDOW = 3       # drift: the mean over the last DRIFT_WINDOW intervals
CRITIC_POINTS = 512    # points between real and fake where the critic's gradient norm is read


@dataclass
class Trace:
    """What a stretch of training left behind: its step metrics, G(fixed noise) every DRIFT_EVERY iterations,
    and the trainer's message if it diverged."""

    steps: list[StepMetrics] = field(default_factory=list)
    snapshots: list[np.ndarray] = field(default_factory=list)
    diverged: str | None = None


@dataclass(frozen=True)
class Evidence:
    value: float
    text: str
    extra: dict = field(default_factory=dict)


def train(trainer: Trainer, steps: int) -> Trace:
    """`steps` iterations (fewer if the run diverges: the trainer's message is kept)."""
    trace = Trace(snapshots=[trainer.sample().numpy()])
    for i in range(1, steps + 1):
        try:
            trace.steps.append(trainer.step())
        except TrainingDiverged as err:
            trace.diverged = str(err)
            break
        if i % DRIFT_EVERY == 0:
            trace.snapshots.append(trainer.sample().numpy())
    return trace


def _recent_mean(trace: Trace, key: str) -> float:
    values = [getattr(m, key) for m in trace.steps[-RECENT:]]
    return float(np.mean(values)) if values else math.nan


def modes(trainer: Trainer, trace: Trace, data) -> Evidence:
    """Modes captured (PacGAN: at least one of 2,500 samples within 3 sigma of the mode)."""
    z = trainer.noise(MODE_SAMPLES, torch.Generator().manual_seed(trainer.config.train.seed + 2))
    stats = mode_metrics(trainer.sample(z).numpy(), data.modes, data.mode_sigma)
    return Evidence(stats.captured, f"{stats.captured} of {stats.total} modes, {stats.high_quality:.0%} high quality")


def diversity(images: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean pairwise distance between images (N, C, S, S), over that of `reference` images: about 1 for samples
    as varied as the data, 0 when every sample is the same image (G ignores z)."""
    def spread(x: torch.Tensor) -> float:
        flat = x.flatten(1).double()
        return float(torch.cdist(flat, flat).sum() / (len(flat) * (len(flat) - 1)))
    return spread(images) / spread(reference)


def classes(trainer: Trainer, trace: Trace, data) -> Evidence:
    """Digits present in 200 samples as the bundled classifier reads them (ganplay.live.coverage), with the
    samples' diversity against 200 training images in `extra` (the judge reads an image even when it is no
    digit, so both together show a collapse)."""
    from ganplay.live.coverage import PROBE_SEED_OFFSET, SAMPLES, measure as judge, shared_classifier

    z = trainer.noise(SAMPLES, torch.Generator().manual_seed(trainer.config.train.seed + PROBE_SEED_OFFSET))
    samples = trainer.sample(z)
    verdict = judge(samples, shared_classifier())
    real, _ = trainer.source.batch(SAMPLES, torch.Generator().manual_seed(trainer.config.train.seed + 4))
    spread = diversity(samples, real.float().cpu())
    top = max(range(10), key=lambda d: verdict["histogram"][d])
    return Evidence(verdict["classes_present"], f"{verdict['classes_present']} of 10 digits present "
                    f"({verdict['histogram'][top]:.0%} read as {top}s, {verdict['confident_fraction']:.0%} "
                    f"confidently), diversity {spread:.2f} of the data's", {"diversity": spread})


def g_grad(trainer: Trainer, trace: Trace, data) -> Evidence:
    """G's gradient norm, mean of the last RECENT iterations."""
    v = _recent_mean(trace, "g_grad_norm")
    return Evidence(v, f"‖∇G‖ = {v:.2e} ({trainer.loss.name})")


def d_fake(trainer: Trainer, trace: Trace, data) -> Evidence:
    """Mean D(G(z)) of the last RECENT iterations (with the mean D loss in the text)."""
    v = _recent_mean(trace, "d_fake")
    return Evidence(v, f"D(G(z)) = {v:.3f}, D loss {_recent_mean(trace, 'd_loss'):.3f}")


def drift(trainer: Trainer, trace: Trace, data) -> Evidence:
    """How far G(fixed noise) moves per DRIFT_EVERY iterations (mean distance per sample), over the last
    DRIFT_WINDOW intervals: large and lasting when the game oscillates, small when it settles."""
    snaps = trace.snapshots[-(DRIFT_WINDOW + 1):]
    if len(snaps) < 2:
        return Evidence(math.nan, "too few iterations to measure drift")
    moves = [np.linalg.norm(b - a, axis=1).mean() for a, b in zip(snaps[:-1], snaps[1:])]
    v = float(np.mean(moves))
    if getattr(data, "modes", None) is None:
        return Evidence(v, f"fakes move {v:.3f} per {DRIFT_EVERY} iterations")
    covered = modes(trainer, trace, data)
    return Evidence(v, f"fakes move {v:.3f} per {DRIFT_EVERY} iterations; {covered.text}",
                    {"modes": covered.value})


def diverged(trainer: Trainer, trace: Trace, data) -> Evidence:
    """The iteration the run diverged at (inf if it did not), with the trainer's message."""
    if trace.diverged is None:
        return Evidence(math.inf, f"no divergence in {len(trace.steps)} iterations")
    return Evidence(len(trace.steps) + 1, trace.diverged)


def critic_grad(trainer: Trainer, trace: Trace, data) -> Evidence:
    """Mean ‖∇ₓD(x̂)‖ on points x̂ between real and fake samples (where the gradient penalty reads it): 1 for
    the ideal Wasserstein critic."""
    rng = torch.Generator().manual_seed(trainer.config.train.seed + 4)
    real = data.sample(CRITIC_POINTS, rng).to(trainer.device)
    with torch.no_grad():
        fake = trainer.generator(trainer.noise(CRITIC_POINTS, rng))
    eps = torch.rand(CRITIC_POINTS, 1, generator=rng).to(trainer.device)
    x = (eps * real + (1 - eps) * fake).requires_grad_(True)
    D = trainer.discriminator
    with eval_mode(D):
        (grad,) = torch.autograd.grad(D(x).float().sum(), x)
    v = float(grad.norm(dim=1).mean())
    return Evidence(v, f"‖∇ₓD‖ = {v:.3g} ({trainer.loss.name})")


METRICS = {f.__name__: f for f in (modes, classes, g_grad, d_fake, drift, diverged, critic_grad)}


def measure(metric: str, trainer: Trainer, trace: Trace, data) -> Evidence:
    return METRICS[metric](trainer, trace, data)
