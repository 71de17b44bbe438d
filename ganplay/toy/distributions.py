"""Toy data for the Toy lab: small 1-D and 2-D distributions in one registry, `TOYS`.

    toy = TOYS["ring8"]
    x = toy.sample(150, torch.Generator().manual_seed(0))    # (150, 2) float32, CPU
    toy.modes, toy.mode_sigma                                 # what ganplay.toy.modes.mode_metrics measures

Every `ToyDistribution` draws only from the torch.Generator it is given, so a seeded run repeats bit for bit.
The entries are the mode-collapse benchmarks of PacGAN and VEEGAN (`ring8`, `grid25`), GAN Lab's shapes in its
own unit-square coordinates (`line`, `two-gaussians`, `ring`, `three-blobs`), a few classic 2-D shapes
(`moons`, `spiral`, `circles`) and 1-D densities taken from `ganplay.theory`, whose exact pdf the 1-D view
compares against. `from_theory` turns any theory Gaussian or Mixture into a toy; the user's own points
become one through `ganplay.toy.userdata`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from ganplay.registry import Registry
from ganplay.theory import SITUATIONS, Distribution, Gaussian, Mixture, plot_interval

Sampler = Callable[[int, "torch.Generator | None"], torch.Tensor]   # (n, generator) -> (n, dim) float32


class ToyDataError(ValueError):
    """A toy data set that cannot be used; the message says why in plain words. (An unknown name in `TOYS` is
    a `ganplay.registry.UnknownNameError`, as for every registry.)"""


@dataclass(frozen=True, eq=False)
class ToyDistribution:
    """A named distribution the Toy lab can train on, with what the page needs to plot and score it."""

    name: str                                   # registry key
    title: str                                  # shown in menus
    dim: int                                    # 1 or 2 in the registry; any small dimension works
    summary: str                                # one sentence for the page
    source: str                                 # where the shape comes from
    extent: tuple[tuple[float, float], ...]     # per dimension (lo, hi): a plot range showing all the data
    modes: np.ndarray | None = None             # (K, dim) centres of a mixture of isotropic Gaussians, one sigma
    mode_sigma: float | None = None             # that sigma; set exactly when `modes` is (mode metrics need both)
    density: Distribution | None = None         # 1-D only: the ganplay.theory object with the exact pdf
    _sampler: Sampler = field(repr=False, kw_only=True)

    def __post_init__(self) -> None:
        if self.dim < 1 or len(self.extent) != self.dim:
            raise ToyDataError(f"{self.name}: need one (lo, hi) extent per dimension, got {self.extent}")
        extent = tuple((float(lo), float(hi)) for lo, hi in self.extent)
        if not all(lo < hi for lo, hi in extent):
            raise ToyDataError(f"{self.name}: every extent needs lo < hi, got {extent}")
        object.__setattr__(self, "extent", extent)
        if self.modes is not None:
            modes = np.array(self.modes, dtype=float).reshape(-1, self.dim)   # a copy, made read-only
            modes.setflags(write=False)
            object.__setattr__(self, "modes", modes)
        if (self.modes is None) != (self.mode_sigma is None):
            raise ToyDataError(f"{self.name}: give modes and mode_sigma together (mode metrics need both)")
        if self.mode_sigma is not None and not self.mode_sigma > 0:
            raise ToyDataError(f"{self.name}: mode_sigma must be positive, got {self.mode_sigma}")

    @property
    def class_names(self) -> tuple[str, ...]:
        """Toy data has no labels (the trainer asks every data source)."""
        return ()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n independent draws, (n, dim) float32 on the CPU, using only `generator`'s random stream."""
        if int(n) != n or n < 1:
            raise ValueError(f"n must be a positive whole number, got {n}")
        x = self._sampler(int(n), generator)
        return x.to(torch.float32).reshape(int(n), self.dim).contiguous()

    def describe(self) -> str:
        """One line for the UI and CLI: title · dimension · number of modes, where known."""
        parts = [self.title, f"{self.dim}-D"]
        if self.modes is not None:
            k = len(self.modes)
            parts.append(f"{k} mode" + ("" if k == 1 else "s"))
        return " · ".join(parts)


def get_toy(name: str) -> ToyDistribution:
    """TOYS[name]: an unknown name raises UnknownNameError listing the toy data sets."""
    return TOYS[name]


# ---- samplers: each returns a function (n, generator) -> (n, dim) tensor ------------------------------------

def _mixture_sampler(means, sigmas, weights=None) -> Sampler:
    """Gaussian mixture with per-component, per-axis sigmas: means (K, d), sigmas (K,) or (K, d), weights (K,)."""
    means = torch.as_tensor(np.asarray(means, dtype=np.float32))                          # (K, d)
    sigmas = torch.as_tensor(np.asarray(sigmas, dtype=np.float32)).reshape(len(means), -1)  # (K, 1) or (K, d)
    weights = torch.ones(len(means)) if weights is None else torch.as_tensor(weights, dtype=torch.float32)

    def sample(n: int, g: torch.Generator | None) -> torch.Tensor:
        k = torch.multinomial(weights, n, replacement=True, generator=g)                   # (n,) component
        return means[k] + sigmas[k] * torch.randn(n, means.shape[1], generator=g)
    return sample


def _curve_sampler(curve: Callable[[torch.Tensor], torch.Tensor], noise: float) -> Sampler:
    """A point at uniform parameter u in [0, 1) along `curve` (u (n,) -> (n, 2)), plus N(0, noise²) per axis."""
    def sample(n: int, g: torch.Generator | None) -> torch.Tensor:
        x = curve(torch.rand(n, generator=g))
        return x + noise * torch.randn(x.shape, generator=g)
    return sample


def _moons(u: torch.Tensor) -> torch.Tensor:
    # u < ½: the outer half circle (cos t, sin t); u ≥ ½: the inner one (1 − cos t, ½ − sin t); t ∈ [0, π].
    # Centred by subtracting the shape's mean (½, ¼): the halves' means are (0, 2/π) and (1, ½ − 2/π).
    inner = u >= 0.5
    t = math.pi * (2.0 * u - inner.float())
    x = torch.where(inner, 1.0 - torch.cos(t), torch.cos(t)) - 0.5
    y = torch.where(inner, 0.5 - torch.sin(t), torch.sin(t)) - 0.25
    return torch.stack([x, y], dim=1)


def _spiral(u: torch.Tensor) -> torch.Tensor:
    # Archimedes' spiral r = t, angle t for t in [0, 3π] (one and a half turns), scaled to radius 1.
    t = 3.0 * math.pi * u
    return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3.0 * math.pi)


def _circles(u: torch.Tensor) -> torch.Tensor:
    # u < ½: the circle of radius 1, else radius ½; the angle reuses u's position within its half.
    inner = u >= 0.5
    angle = 2.0 * math.pi * (2.0 * u - inner.float())
    r = torch.where(inner, 0.5, 1.0)
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)


def _ganlab_line(u: torch.Tensor) -> torch.Tensor:
    return torch.stack([0.8 - 0.75 * u, 0.6 + 0.3 * u], dim=1)


def _ganlab_ring(u: torch.Tensor) -> torch.Tensor:
    angle = 2.0 * math.pi * u
    return torch.stack([0.5 + 0.3 * torch.cos(angle), 0.45 + 0.25 * torch.sin(angle)], dim=1)


# ---- the entries ---------------------------------------------------------------------------------------------

def _mixture_toy(name, title, summary, source, extent, means, sigma, weights=None) -> ToyDistribution:
    """A 2-D mixture of isotropic Gaussians with one sigma: its modes are what mode_metrics scores."""
    means = np.asarray(means, dtype=float)
    return ToyDistribution(name, title, means.shape[1], summary, source, extent, modes=means, mode_sigma=sigma,
                           _sampler=_mixture_sampler(means, np.full(len(means), sigma), weights))


def from_theory(p: Distribution, name: str = "theory-1d", title: str | None = None,
                summary: str | None = None, source: str = "ganplay.theory") -> ToyDistribution:
    """A 1-D toy from a theory Gaussian or Mixture: the same density, sampled with torch."""
    if not isinstance(p, (Gaussian, Mixture)):
        raise ToyDataError(f"from_theory needs a ganplay.theory Gaussian or Mixture, got {type(p).__name__}")
    comps = p.components
    sigmas = [c.sigma for c in comps]
    one_sigma = all(s == sigmas[0] for s in sigmas)      # mode metrics apply only then
    if title is None:
        title = (f"N({p.mu:g}, {p.sigma:g}²)" if isinstance(p, Gaussian)
                 else f"Mixture of {len(comps)} Gaussians")
    if summary is None:
        summary = f"A 1-D density from the Theory page: mean {p.mean:.3g}, standard deviation {p.std:.3g}."
    return ToyDistribution(
        name, title, 1, summary, source, (plot_interval(p, width=4.0),),
        modes=np.array([[c.mu] for c in comps]) if one_sigma else None,
        mode_sigma=sigmas[0] if one_sigma else None,
        density=p,
        _sampler=_mixture_sampler([[c.mu] for c in comps], sigmas, p.weights),
    )


_RING8_MEANS = [(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)) for k in range(8)]
_GRID25_MEANS = [(x, y) for x in (-4.0, -2.0, 0.0, 2.0, 4.0) for y in (-4.0, -2.0, 0.0, 2.0, 4.0)]
_PACGAN = "PacGAN (Lin et al. 2018); VEEGAN (Srivastava et al. 2017)"
_GANLAB = "GAN Lab (Kahng et al. 2018)"

TOYS: Registry[ToyDistribution] = Registry("toy data set", ((t.name, t) for t in (
    _mixture_toy(
        "ring8", "Ring of 8 Gaussians",
        "Eight tight Gaussians (σ 0.01) evenly spaced on the unit circle: the classic test of mode collapse.",
        _PACGAN, ((-1.5, 1.5), (-1.5, 1.5)), _RING8_MEANS, 0.01),
    _mixture_toy(
        "grid25", "Grid of 25 Gaussians",
        "Twenty-five Gaussians (σ 0.05) on the grid {−4, −2, 0, 2, 4}²: harder, with modes far apart.",
        _PACGAN, ((-5.0, 5.0), (-5.0, 5.0)), _GRID25_MEANS, 0.05),
    ToyDistribution(
        "moons", "Two moons", 2,
        "Two interleaving half circles with Gaussian noise 0.05, centred on the origin.",
        "scikit-learn's make_moons", ((-1.8, 1.8), (-1.1, 1.1)), _sampler=_curve_sampler(_moons, 0.05)),
    ToyDistribution(
        "spiral", "Spiral", 2,
        "One and a half turns of a spiral from the centre out to radius 1, with noise 0.02.",
        "ganplay", ((-1.2, 1.2), (-1.2, 1.2)), _sampler=_curve_sampler(_spiral, 0.02)),
    ToyDistribution(
        "circles", "Two circles", 2,
        "Two concentric circles of radius 1 and ½, with noise 0.03, half the points on each.",
        "scikit-learn's make_circles", ((-1.3, 1.3), (-1.3, 1.3)), _sampler=_curve_sampler(_circles, 0.03)),
    ToyDistribution(
        "line", "Line", 2,
        "GAN Lab's line: points along a segment from (0.8, 0.6) to (0.05, 0.9) with noise 0.01, "
        "in GAN Lab's unit square.",
        _GANLAB, ((0.0, 1.0), (0.0, 1.0)), _sampler=_curve_sampler(_ganlab_line, 0.01)),
    ToyDistribution(
        "two-gaussians", "Two Gaussians", 2,
        "GAN Lab's two Gaussians, in its unit square: a round one at (0.3, 0.7), σ 0.1, and a tall one at "
        "(0.7, 0.4), σ 0.05 across and 0.2 up.",
        _GANLAB, ((-0.05, 1.05), (-0.25, 1.15)),       # no modes: the blobs' sigmas differ, mode metrics do not apply
        _sampler=_mixture_sampler([(0.3, 0.7), (0.7, 0.4)], [(0.1, 0.1), (0.05, 0.2)])),
    ToyDistribution(
        "ring", "Ring", 2,
        "GAN Lab's ring, in its unit square: an ellipse centred at (0.5, 0.45) with half-axes 0.3 and 0.25, "
        "noise 0.025.",
        _GANLAB, ((0.0, 1.0), (0.0, 1.0)), _sampler=_curve_sampler(_ganlab_ring, 0.025)),
    _mixture_toy(
        "three-blobs", "Three disjoint blobs",
        "GAN Lab's three disjoint blobs, in its unit square: Gaussians of σ 0.025 at (0.35, 0.75), "
        "(0.75, 0.6) and (0.45, 0.35), equally likely.",
        _GANLAB, ((0.0, 1.0), (0.0, 1.0)), [(0.35, 0.75), (0.75, 0.6), (0.45, 0.35)], 0.025),
    from_theory(
        SITUATIONS["identical"].p_data, "gaussian-1d", "Gaussian (1-D)",
        "The standard normal N(0, 1): the Theory page's data distribution."),
    from_theory(
        SITUATIONS["mode_dropping"].p_data, "bimodal-1d", "Two modes (1-D)",
        "Two Gaussians at ±3 with σ 0.8: the Theory page's data for mode dropping and mode covering."),
    from_theory(
        Mixture((Gaussian(-4.0, 0.7), Gaussian(0.0, 0.7), Gaussian(4.0, 0.7))), "trimodal-1d", "Three modes (1-D)",
        "Three equally likely Gaussians at −4, 0 and 4 with σ 0.7: room for a generator to drop the middle one.",
        source="ganplay"),
)))
