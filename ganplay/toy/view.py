"""What the Toy lab draws, computed from a trainer between steps: `PlaneView` (2-D data) and `LineView` (1-D).

    view = plane_view(trainer, real, toy.extent, modes)   # numpy arrays only; ganplay.figures.toy draws them
    view = line_view(trainer, toy, real, eval_z)

The views hold plain numpy arrays, so the figures and the UI layer never touch torch. D and G are put in eval
mode while a view is computed (no dropout noise in the picture) and restored afterwards.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ganplay.models import eval_mode


@dataclass
class ModeStats:
    """Mode metrics of one sample set (see ganplay.toy.modes.mode_metrics)."""

    captured: int                  # modes with at least one high-quality sample
    total: int                     # modes of the data
    high_quality: float            # fraction of samples within `threshold` sigma of their nearest mode
    reverse_kl: float              # KL(histogram of high-quality samples over modes || uniform), nats
    counts: np.ndarray             # (K,) high-quality samples per mode


@dataclass
class PlaneView:
    """The 2-D game at one moment."""

    step: int
    real: np.ndarray               # (R, 2) real samples
    fake: np.ndarray               # (F, 2) G(fixed noise)
    arrows: np.ndarray             # (F, 2) tip - fake: where G's loss pushes each fake (-dL_G/dx, scaled)
    arrows_capped: np.ndarray      # (F,) bool: this arrow was shortened to stay readable
    heat_x: np.ndarray             # (W,) cell centres along x
    heat_y: np.ndarray             # (H,) cell centres along y
    heat: np.ndarray               # (H, W) D's output at the cell centres (probability or raw score)
    output: str                    # "probability" | "score" | "critic" (how to colour `heat`)
    extent: tuple[tuple[float, float], tuple[float, float]]   # ((x0, x1), (y0, y1)) of the plot
    segments: np.ndarray | None = None   # (M, 4) manifold segments x0, y0, x1, y1 (z is 1-D or 2-D)
    segment_opacity: np.ndarray | None = None   # (M,) in [0, 1]: the density G puts along each segment
    modes: ModeStats | None = None


@dataclass
class LineView:
    """The 1-D game at one moment: densities, the learned D against the optimal D*."""

    step: int
    x: np.ndarray                  # (P,) grid
    p_data: np.ndarray             # (P,) exact density of the data
    p_g: np.ndarray                # (P,) the generator's density (estimated, see `p_g_method`)
    p_g_method: str                # "change of variables" (1-D z) or "kernel density estimate"
    d_learned: np.ndarray          # (P,) D(x): a probability for BCE and least squares, a raw score otherwise
    d_star: np.ndarray | None      # (P,) p_data / (p_data + p_g), where it is what D should learn; else None
    output: str                    # "probability" | "score" | "critic"
    fake: np.ndarray               # (F,) G(fixed noise)
    real: np.ndarray               # (R,) real samples
    jsd: float                     # JSD(p_data, p_g) in nats, on the grid
    extent: tuple[float, float] = (0.0, 1.0)
    modes: ModeStats | None = None


# -- computing the views -------------------------------------------------------------------------------------

HEAT_CELLS = 30            # D is drawn on a 30 x 30 grid of cell centres, as GAN Lab does
MANIFOLD_2D = 16           # a 16 x 16 grid of 2-D noise pushed through G (480 segments to redraw)
MANIFOLD_1D = 201          # points of 1-D noise pushed through G
ARROW_SCALE = 0.01         # arrow = ARROW_SCALE * L^2 * (-dL_G/dx), L the plot's size (unit-free on any extent);
                           # fixed for the whole run, so a vanishing gradient shows as shrinking arrows
ARROW_CAP = 0.08           # longest arrow, as a fraction of L; longer ones are shortened and drawn dashed
LINE_POINTS = 400          # grid points of the 1-D view
EVAL_SAMPLES = 2500        # samples the mode metrics and the 1-D density estimate use (PacGAN's count)


def _prior_range(prior: str) -> tuple[float, float]:
    return (-1.0, 1.0) if prior == "uniform" else (-3.0, 3.0)


def _prior_density(z: np.ndarray, prior: str) -> np.ndarray:
    """p_z per coordinate, multiplied over the last axis."""
    if prior == "uniform":
        dens = np.where(np.abs(z) <= 1.0, 0.5, 0.0)
    else:
        dens = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return dens.prod(axis=-1)


def _d_output(trainer, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        logits = trainer.discriminator(torch.as_tensor(x, dtype=torch.float32, device=trainer.device)).float()
        return trainer.loss.d_output(logits).cpu().numpy()


def generator_push(trainer, x: torch.Tensor) -> np.ndarray:
    """-dL_G/dx for each sample x (B, d): where G's loss pushes it, before G moves (the per-sample gradient)."""
    x = x.detach().to(trainer.device).float().requires_grad_(True)
    trainer.discriminator.requires_grad_(False)
    try:
        # g_loss is a batch mean; times B it is the sum of per-sample losses, whose gradient is per sample
        total = trainer.loss.g_loss(trainer.discriminator(x).float()) * x.shape[0]
        (grad,) = torch.autograd.grad(total, x)
    finally:
        trainer.discriminator.requires_grad_(True)
    return (-grad).cpu().numpy()


def _segments(points: np.ndarray, density: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive points -> (M, 4) segments, and the density G puts along each (mass / length), in [0, 1]."""
    segs = np.concatenate([points[:-1], points[1:]], axis=1)
    with np.errstate(invalid="ignore", over="ignore"):   # a diverging G: inf / NaN points give NaN segments
        length = np.linalg.norm(points[1:] - points[:-1], axis=1)
        mass = 0.5 * (density[:-1] + density[1:])
        return segs, mass / np.maximum(length, 1e-9)


def manifold(trainer) -> tuple[np.ndarray, np.ndarray] | None:
    """The generator's manifold as line segments with opacity, for 1-D or 2-D noise (else None).

    A regular z grid is pushed through G; each segment's opacity is the density G puts along it, p_z / |dG|
    (a discrete change of variables), scaled so the densest segment is opaque.
    """
    m = trainer.config.model
    if m.latent_dim not in (1, 2) or m.num_classes or m.data_shape != (2,):
        return None
    lo, hi = _prior_range(m.prior)
    if m.latent_dim == 1:
        z = np.linspace(lo, hi, MANIFOLD_1D)[:, None]
        x = trainer.sample(torch.as_tensor(z, dtype=torch.float32)).numpy()
        segs, dens = _segments(x, _prior_density(z, m.prior))
    else:
        g = np.linspace(lo, hi, MANIFOLD_2D)
        z = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1)                     # (n, n, 2)
        x = trainer.sample(torch.as_tensor(z.reshape(-1, 2), dtype=torch.float32)).numpy().reshape(z.shape)
        p = _prior_density(z, m.prior)                                              # (n, n)
        parts = [_segments(x[i], p[i]) for i in range(len(g))] + [_segments(x[:, j], p[:, j]) for j in range(len(g))]
        segs = np.concatenate([s for s, _ in parts])
        dens = np.concatenate([d for _, d in parts])
    top = np.quantile(dens, 0.98) if len(dens) else 1.0
    return segs, np.clip(np.sqrt(dens / max(top, 1e-12)), 0.05, 1.0)


def plane_view(trainer, real: np.ndarray, extent, modes: ModeStats | None = None) -> PlaneView:
    """The 2-D game now: real dots, G(fixed noise), D's output over the plane, arrows, the manifold."""
    G, D = trainer.generator, trainer.discriminator
    with eval_mode(G, D):
        fake_t = trainer.sample()                                                  # (F, 2)
        push = generator_push(trainer, fake_t)
        (x0, x1), (y0, y1) = extent
        hx = x0 + (np.arange(HEAT_CELLS) + 0.5) * (x1 - x0) / HEAT_CELLS
        hy = y0 + (np.arange(HEAT_CELLS) + 0.5) * (y1 - y0) / HEAT_CELLS
        cells = np.stack(np.meshgrid(hx, hy), axis=-1).reshape(-1, 2)             # row-major over y, then x
        heat = _d_output(trainer, cells).reshape(HEAT_CELLS, HEAT_CELLS)
        lines = manifold(trainer)
    size = max(x1 - x0, y1 - y0)
    # float64, and inf kept finite: a diverging run's push can overflow float32, and inf / inf would erase it
    arrows = np.nan_to_num(ARROW_SCALE * size * size * push.astype(np.float64), nan=0.0, posinf=1e300,
                           neginf=-1e300)
    length = np.hypot(arrows[:, 0] / 2, arrows[:, 1] / 2) * 2                       # no overflow at 1e300
    cap = ARROW_CAP * size
    capped = length > cap
    arrows[capped] *= (cap / length[capped])[:, None]
    return PlaneView(step=trainer.step_count, real=real, fake=fake_t.numpy(), arrows=arrows, arrows_capped=capped,
                     heat_x=hx, heat_y=hy, heat=heat, output=trainer.loss.output, extent=tuple(extent),
                     segments=None if lines is None else lines[0],
                     segment_opacity=None if lines is None else lines[1], modes=modes)


def kde(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gaussian kernel density estimate of 1-D samples on x (Scott's bandwidth)."""
    s = np.asarray(samples, dtype=float).ravel()
    bw = max(1.06 * s.std() * len(s) ** -0.2, 1e-3 * (1.0 + np.abs(s).max()))
    u = (x[:, None] - s[None, :]) / bw
    return np.exp(-0.5 * u * u).sum(axis=1) / (len(s) * bw * math.sqrt(2 * math.pi))


def pushforward_density(z: np.ndarray, x_of_z: np.ndarray, p_z: np.ndarray, x: np.ndarray) -> np.ndarray:
    """p_g on the regular grid x for x = G(z) with 1-D z, by change of variables: p_g(x) = Σ p_z(z) / |G'(z)|
    over the z with G(z) = x. On a dense z grid each interval [z_i, z_i+1] carries mass p_z dz spread evenly
    over the x interval it maps to, which sums every preimage (G need not be monotone); each grid point gets
    the mass of its bin divided by the bin's width."""
    mass = 0.5 * (p_z[:-1] + p_z[1:]) * np.diff(z)                                # (M,) per z interval
    a, b = np.minimum(x_of_z[:-1], x_of_z[1:]), np.maximum(x_of_z[:-1], x_of_z[1:])
    step = x[1] - x[0]
    edges = np.concatenate([x - step / 2, x[-1:] + step / 2])                      # x are the bin centres
    # the mass below each edge: each interval's mass spread evenly over [a, b]; a bin's mass / width = density
    share = np.clip((edges[:, None] - a[None, :]) / np.maximum(b - a, 1e-12)[None, :], 0.0, 1.0)   # (P+1, M)
    below = share @ mass
    return np.diff(below) / step


def js_on_grid(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """JSD(p, q) in nats from densities on a regular grid (0 log 0 = 0)."""
    dx = x[1] - x[0]
    p, q = p / max(p.sum() * dx, 1e-300), q / max(q.sum() * dx, 1e-300)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        tp = np.where(p > 0, p * np.log(p / m), 0.0)
        tq = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(min(max(0.5 * (tp.sum() + tq.sum()) * dx, 0.0), math.log(2)))


def line_view(trainer, toy, real: np.ndarray, eval_z: torch.Tensor, modes: ModeStats | None = None) -> LineView:
    """The 1-D game now: p_data, p_g, the learned D over D* = p_data / (p_data + p_g), and JSD."""
    m, t = trainer.config.model, trainer.config.train
    lo, hi = toy.extent[0]
    x = np.linspace(lo, hi, LINE_POINTS)
    p_data = toy.density.pdf(x) if toy.density is not None else kde(real, x)
    G, D = trainer.generator, trainer.discriminator
    with eval_mode(G, D):
        fake = trainer.sample().numpy().ravel()
        if m.latent_dim == 1 and not m.num_classes:
            z0, z1 = _prior_range(m.prior)
            span = 1.0 if m.prior == "uniform" else 6.0             # N(0, 1) out to 6 sigma
            z = np.linspace(z0 * span / abs(z0), z1 * span / abs(z1), 2001)
            xz = trainer.sample(torch.as_tensor(z[:, None], dtype=torch.float32)).numpy().ravel()
            p_g, method = pushforward_density(z, xz, _prior_density(z[:, None], m.prior), x), "change of variables"
        else:
            p_g, method = kde(trainer.sample(eval_z).numpy().ravel(), x), "kernel density estimate"
        d_learned = _d_output(trainer, x[:, None])
    # D* for BCE-type and least-squares losses (real target t, fake 0): t * p_data / (p_data + p_g)
    d_star = None
    if trainer.loss.name in ("nonsaturating", "minimax", "least-squares"):
        with np.errstate(divide="ignore", invalid="ignore"):
            d_star = t.real_label * np.where(p_data + p_g > 0, p_data / (p_data + p_g), np.nan)
    return LineView(step=trainer.step_count, x=x, p_data=p_data, p_g=p_g, p_g_method=method, d_learned=d_learned,
                    d_star=d_star, output=trainer.loss.output, fake=fake, real=np.asarray(real).ravel(),
                    jsd=js_on_grid(p_data, p_g, x), extent=(lo, hi), modes=modes)
