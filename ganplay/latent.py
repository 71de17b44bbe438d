"""Latent-space maths for trained generators: interpolation, GANSpace directions, edits and 2-D slices.

    z0 = seed_code(cfg.model, seed=7)                               # (D,) one code from the model's prior
    pcs = principal_directions(G, k=10, prior=cfg.model.prior)       # GANSpace-style directions
    z = edit(z0, pcs.directions, amounts * pcs.std)                  # move along PC1..PCk
    codes = interpolate(z_a, z_b, n=16, method="spherical")          # (16, D), both endpoints included
    codes = latent_grid(z0, pcs.directions[0], pcs.directions[1], span=3.0, n=7)   # (49, D)
    images = generate(G, codes, y)                                   # (N, C, S, S) in [-1, 1]

Pure torch and numpy: the Latent space page reads widgets and calls these with plain values. Every function
that computes codes or images runs under `torch.inference_mode()` and is deterministic for a given seed.
"""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager
from typing import Callable, Iterator, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganplay.config import ModelConfig
from ganplay.images import gif_bytes, to_uint8, upscale
from ganplay.models import Generator, balanced_labels, sample_latent

_ANGLE_EPS = 1e-6       # radians: closer than this to 0 or pi, the great circle through a and b is not unique


def _as_t(t: float | Tensor | np.ndarray | list) -> Tensor:
    """t as float64: a scalar stays 0-d, a sequence becomes (T, 1) so it broadcasts over (D,)."""
    t = torch.as_tensor(t, dtype=torch.float64)
    return t[:, None] if t.dim() == 1 else t


@torch.inference_mode()
def lerp(a: Tensor, b: Tensor, t: float | Tensor) -> Tensor:
    """(1 - t) a + t b. a, b (D,); t a number -> (D,), or T numbers -> (T, D)."""
    t = _as_t(t)
    out = (1 - t) * a.double() + t * b.double()
    return torch.where(t == 1, b.double(), out).to(a.dtype)      # exact endpoint despite rounding


@torch.inference_mode()
def slerp(a: Tensor, b: Tensor, t: float | Tensor) -> Tensor:
    """Spherical interpolation: the direction moves along the great circle from a to b at constant angular speed
    while the length goes linearly from |a| to |b| (for equal lengths, the classic slerp of Shoemake / White).

    Parallel vectors fall back to lerp (the arc is a line); for antiparallel ones the great circle is not unique
    and a fixed one is taken, through the basis axis least aligned with a. a, b (D,); t a number or (T,).
    """
    t = _as_t(t)
    a64, b64 = a.double(), b.double()
    na, nb = a64.norm(), b64.norm()
    if na == 0 or nb == 0 or a.numel() < 2:
        return lerp(a, b, t)
    ua, ub = a64 / na, b64 / nb
    omega = torch.arccos((ua @ ub).clamp(-1.0, 1.0))
    if omega < _ANGLE_EPS:
        return lerp(a, b, t)
    if omega > math.pi - _ANGLE_EPS:
        axis = F.one_hot(ua.abs().argmin(), ua.numel()).double()
        perp = axis - (axis @ ua) * ua
        perp = perp / perp.norm()
        direction = torch.cos(math.pi * t) * ua + torch.sin(math.pi * t) * perp
    else:
        direction = (torch.sin((1 - t) * omega) * ua + torch.sin(t * omega) * ub) / torch.sin(omega)
    out = ((1 - t) * na + t * nb) * direction
    out = torch.where(t == 0, a64, torch.where(t == 1, b64, out))
    return out.to(a.dtype)


INTERPOLATIONS: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {"linear": lerp, "spherical": slerp}


@torch.inference_mode()
def interpolate(a: Tensor, b: Tensor, n: int, method: str = "linear") -> Tensor:
    """n codes (n, D) from a to b at evenly spaced t, a and b included exactly. method: "linear" | "spherical"."""
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose from {sorted(INTERPOLATIONS)}")
    if n < 2:
        raise ValueError(f"an interpolation needs at least 2 frames, got {n}")
    return INTERPOLATIONS[method](a, b, torch.linspace(0.0, 1.0, n, dtype=torch.float64))


class _LayerReached(Exception):
    """Raised by principal_directions' forward hook once it has the activations it needs."""


class PrincipalDirections(NamedTuple):
    directions: Tensor          # (k, D) orthonormal rows in latent space, PC1 first
    explained_variance: Tensor  # (k,) share of the layer's activation variance each component explains
    std: Tensor                 # (k,) std of prior codes' coordinates along each direction (a slider's unit)


def feature_layer(generator: Generator) -> int:
    """Index in `generator.net` whose output GANSpace analyses: the end of the first linear block.

    That is the first nn.Linear plus the batch norm / activation right after it: the projection of z to the
    first feature map in the conv generators, the first hidden layer in the MLPs. GANSpace uses such an early
    layer for BigGAN because it still describes the whole image, coarse pose and shape first.
    """
    net = generator.net
    i = next(i for i, m in enumerate(net) if isinstance(m, nn.Linear))
    while i + 1 < len(net) and isinstance(net[i + 1], (nn.BatchNorm1d, nn.ReLU, nn.LeakyReLU)):
        i += 1
    return i


@torch.inference_mode()
def principal_directions(generator: Generator, n_samples: int = 2000, k: int = 10, seed: int = 0,
                         layer: int | None = None, prior: str = "normal",
                         batch_size: int = 500) -> PrincipalDirections:
    """GANSpace (Härkönen et al. 2020) for one layer: PCA of activations, pulled back to latent space.

    1. Sample n codes z from the prior (`prior` is the model config's), run G and record the output of
       `generator.net[layer]` (default `feature_layer`) with a forward hook: A (N, F).
       Conditional models get the classes in turn, and each class's mean activation is subtracted, so the
       components describe style within a class (what z controls) rather than which digit it is.
    2. PCA: A - mean = U S Vᵀ; the coordinates of sample j are x_j = Vₖᵀ(a_j - mean), (N, k).
    3. Pull back to latent space by least squares: fit x ≈ (z - mean) M, M (D, k), and take W = pinv(M) (k, D):
       row i of W is the smallest latent step that moves PCA coordinate i by one and leaves the others alone
       (what GANSpace's regression of z on x estimates). QR makes the rows orthonormal while keeping their
       order (row 1 = PC1's direction).
    """
    cfg = ModelConfig(latent_dim=generator.latent_dim, prior=prior)
    z = sample_latent(cfg, n_samples, torch.Generator().manual_seed(seed))          # (N, D)
    y = balanced_labels(n_samples, generator.num_classes)
    layer = feature_layer(generator) if layer is None else layer
    chunks: list[Tensor] = []

    def record(_module, _inputs, out):
        chunks.append(out.flatten(1))
        raise _LayerReached          # the layers after this one are not needed: stop the forward pass here

    # A private eval-mode copy carries the hook: other sessions may be sampling from the shared model meanwhile.
    probe = copy.deepcopy(generator).eval()
    probe.net[layer].register_forward_hook(record)
    for start in range(0, n_samples, batch_size):
        try:
            probe(z[start:start + batch_size], None if y is None else y[start:start + batch_size])
        except _LayerReached:
            pass
    acts = torch.cat(chunks).float()                                                 # (N, F)
    if y is None:
        acts = acts - acts.mean(0)
    else:
        means = torch.zeros(generator.num_classes, acts.shape[1]).index_add_(0, y, acts)
        acts = acts - (means / torch.bincount(y, minlength=generator.num_classes)[:, None])[y]
    k = min(k, generator.latent_dim, acts.shape[1], n_samples - 1)
    _, s, v = _svd_lowrank(acts, min(k + 10, *acts.shape), 4, torch.Generator().manual_seed(seed))
    x = acts @ v[:, :k]                                                              # (N, k)
    explained = s[:k].double().square() / acts.double().square().sum()
    # GANSpace regresses z on x. Here the forward map x ≈ (z - mean) M is fitted instead and inverted: both give
    # W = pinv(M) as n grows, but z-on-x carries sampling noise of order sqrt(D / n) (the D - k latent
    # coordinates that x does not explain), while x-on-z only has the layer's nonlinearity as residual.
    m = torch.linalg.lstsq((z - z.mean(0)).double(), x.double()).solution            # (D, k)
    w = torch.linalg.pinv(m)                                                         # (k, D)
    q, r = torch.linalg.qr(w.T)                                                      # q (D, k)
    q = q * torch.sign(torch.diagonal(r))                                            # same sense as W's rows
    directions = q.T.float()
    return PrincipalDirections(directions, explained.float(), (z @ directions.T).std(0))


def _svd_lowrank(a: Tensor, q: int, niter: int, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """torch.pca_lowrank(a, q, center=False, niter) (Halko et al. 2009, algorithms 4.4 and 5.1), step for step,
    but with its random projection drawn from `generator`: torch's draws from the global RNG, which other
    server threads seed and draw from too. The same seed gives the same result as torch's with manual_seed.
    a (m, n) -> U (m, q), S (q,), V (n, q)."""
    tall = a.shape[0] >= a.shape[1]
    a = a if tall else a.mH                                                          # work on the tall side
    basis = torch.linalg.qr(a @ torch.randn(a.shape[1], q, dtype=a.dtype, generator=generator)).Q
    for _ in range(niter):                                                           # subspace iterations
        basis = torch.linalg.qr(a.mH @ basis).Q
        basis = torch.linalg.qr(a @ basis).Q
    u, s, vh = torch.linalg.svd(basis.mH @ a, full_matrices=False)
    u, v = basis @ u, vh.mH
    return (u, s, v) if tall else (v, s, u)


@torch.inference_mode()
def edit(z0: Tensor, directions: Tensor, amounts: Tensor | list[float]) -> Tensor:
    """z0 + Σ amounts[i] · directions[i]. z0 (D,) or (B, D); directions (k, D); amounts (k,) or (B, k)."""
    amounts = torch.as_tensor(amounts, dtype=directions.dtype)
    return z0 + amounts @ directions


@torch.inference_mode()
def latent_grid(z0: Tensor, dir_a: Tensor, dir_b: Tensor, span: float | tuple[float, float],
                n: int) -> Tensor:
    """A 2-D slice through z0: n × n codes (n*n, D), row-major. Column j moves along dir_a, row i along dir_b,
    both from -span to +span (a pair gives each its own span), so make_grid(images, nrow=n) shows the plane."""
    span_a, span_b = (span, span) if isinstance(span, (int, float)) else span
    a = torch.linspace(-span_a, span_a, n)
    b = torch.linspace(-span_b, span_b, n)
    offsets = b[:, None, None] * dir_b + a[None, :, None] * dir_a                  # (n, n, D)
    return (z0 + offsets).reshape(n * n, -1)


def raw_directions(latent_dim: int, dims: list[int]) -> Tensor:
    """Unit vectors (len(dims), D) along raw latent coordinates, for `edit` and `latent_grid`."""
    return torch.eye(latent_dim)[list(dims)]


def prior_std(prior: str) -> float:
    """Std of one latent coordinate under the prior: 1 for N(0, 1), 1/sqrt(3) for U[-1, 1)."""
    return 1 / math.sqrt(3) if prior == "uniform" else 1.0


@torch.inference_mode()
def axis_direction(axis: tuple[str, int], pcs: PrincipalDirections, model_cfg: ModelConfig) -> Tensor:
    """One prior standard deviation along a plane's axis: ("pc", i) the i-th principal direction, ("z", d) the raw
    coordinate z[d]. (D,)"""
    kind, i = axis
    if kind == "pc":
        return pcs.directions[i] * pcs.std[i]
    return raw_directions(model_cfg.latent_dim, [i])[0] * prior_std(model_cfg.prior)


def seed_code(model_cfg: ModelConfig, seed: int) -> Tensor:
    """The code (D,) a seed stands for: the first draw from the model's prior with that seed."""
    return sample_latent(model_cfg, 1, torch.Generator().manual_seed(int(seed)))[0]


@torch.inference_mode()
def explorer_code(model_cfg: ModelConfig, pcs: PrincipalDirections, seed: int, pc_sigmas: list[float],
                  dims: list[int] = (), dim_sigmas: list[float] = ()) -> Tensor:
    """The seed's code (D,) moved by pc_sigmas[i] standard deviations along principal direction i and by
    dim_sigmas[j] prior standard deviations along raw coordinate dims[j] (the Latent space page's sliders)."""
    k = len(pc_sigmas)
    z = edit(seed_code(model_cfg, seed), pcs.directions[:k], torch.tensor(pc_sigmas) * pcs.std[:k])
    if dims:
        z = edit(z, raw_directions(model_cfg.latent_dim, dims), torch.tensor(dim_sigmas) * prior_std(model_cfg.prior))
    return z


@torch.inference_mode()
def soft_labels(class_a: int, class_b: int, n: int, num_classes: int) -> Tensor:
    """n soft one-hot labels (n, K) going linearly from class_a to class_b (for a conditional generator)."""
    t = torch.linspace(0.0, 1.0, n)[:, None]
    eye = torch.eye(num_classes)
    return (1 - t) * eye[class_a] + t * eye[class_b]


@torch.inference_mode()
def generate(generator: Generator, z: Tensor, y: Tensor | int | None = None) -> Tensor:
    """Images (B, C, S, S) in [-1, 1] for codes z (B, D) or one code (D,). y: class ids (B,), one class for all,
    or soft labels (B, K); ignored by unconditional models."""
    z = z.reshape(-1, generator.latent_dim).float()
    if not generator.num_classes:
        y = None
    elif isinstance(y, int):
        y = torch.full((len(z),), y, dtype=torch.long)
    return generator(z, y)


@torch.inference_mode()
def code_for_class(generator: Generator, model_cfg: ModelConfig, probabilities: Callable[[Tensor], Tensor],
                   target: int, n_candidates: int = 256, seed: int = 0) -> tuple[Tensor, float]:
    """For an unconditional generator: among n prior codes, the one whose image `probabilities` (images ->
    (N, 10) class probabilities) calls `target` most confidently. Returns (code (D,), that probability)."""
    z = sample_latent(model_cfg, n_candidates, torch.Generator().manual_seed(int(seed)))
    probs = probabilities(generate(generator, z))[:, target]
    best = int(probs.argmax())
    return z[best], float(probs[best])


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run a block (or, as a decorator, a function) with n torch intra-op threads on this thread, then restore.

    A forward pass of one small image gains nothing from a second thread, and on a shared CPU every parallel
    region waits for a descheduled thread: on 2 busy cores one 28 px sample took ~340 ms with 2 threads and
    ~2 ms with 1 (bench/latent_latency.py).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def prediction_labels(probs: Tensor) -> list[str]:
    """'7 · 98%' for each row of class probabilities (N, K)."""
    conf, cls = probs.max(dim=1)
    return [f"{c} · {p:.0%}" for c, p in zip(cls.tolist(), conf.tolist())]


def morph_gif(images: Tensor, scale: int = 4, duration_ms: int = 150) -> bytes:
    """An animated GIF of interpolation frames (N, C, S, S), one GIF frame each, with a bar under each frame
    that fills from left to right. The bar also keeps frames distinct: Pillow merges identical consecutive
    frames, and the GIF must have exactly N of them."""
    frames = []
    n = len(images)
    for i, tile in enumerate(to_uint8(images)):                                    # tile (S, S, C)
        big = upscale(tile, scale)
        bar = np.full((max(2, scale), big.shape[1], big.shape[2]), 40, np.uint8)
        bar[:, :round(big.shape[1] * i / max(n - 1, 1))] = 200
        frame = np.concatenate([big, bar])
        frames.append(frame[:, :, 0] if frame.shape[2] == 1 else frame)
    return gif_bytes(frames, duration_ms=duration_ms)
