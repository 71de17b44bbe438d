"""What the generator feels: its gradients as p_g slides along the line, and its losses as functions of D.

The minimax, non-saturating and Wasserstein-1 gradients, a sweep of JSD, W1 and those gradients over the
separation between p_g and p_data, and the generator losses with their derivatives on a grid of D(G(z)).
The losses are `ganplay.losses`' own (same names, formulas and functions); this module adds how they look
as functions of D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganplay.losses import LOSSES
from ganplay.theory.distributions import Distribution
from ganplay.theory.divergences import _cdf_difference, _jsd_on, _log_densities


# ---------------------------------------------------------------------------------------------
# What the generator feels: gradients with respect to sliding p_g to the right
# ---------------------------------------------------------------------------------------------

def minimax_gradient(p_data: Distribution, p_g: Distribution) -> float:
    """d/dδ of C(G) = V(D*, G) when p_g is shifted by δ: the minimax generator's gradient.

    D* is optimal, so (envelope theorem) only the generator's term moves:
    dC/dδ = ∫ p_g(x) ∂_x log(1 − D*(x)) dx = ∫ p_data p_g / (p_data + p_g) · (s_g − s_data) dx,
    with s = d/dx log p the score. It equals 2·dJSD/dδ and vanishes when the supports barely overlap.
    """
    return _generator_gradients_on(p_data, p_g, *_log_densities(p_data, p_g))[0]


def nonsaturating_gradient(p_data: Distribution, p_g: Distribution) -> float:
    """d/dδ E_{x~p_g(·−δ)}[−log D*(x)] with D* held fixed: the non-saturating generator's gradient.

    = ∫ p_g(x) ∂_x(−log D*(x)) dx = ∫ p_g² / (p_data + p_g) · (s_g − s_data) dx, which grows, rather
    than vanishes, as p_g moves away from p_data.
    """
    return _generator_gradients_on(p_data, p_g, *_log_densities(p_data, p_g))[1]


def _generator_gradients_on(p_data, p_g, x, w, lp, lq) -> tuple[float, float]:
    """(minimax, non-saturating) gradients on a quadrature grid from `_log_densities`."""
    score_gap = p_g.score(x) - p_data.score(x)
    ls = np.logaddexp(lp, lq)
    minimax = np.sum(w * np.exp(lp + lq - ls) * score_gap)  # p_g·D* = p·q / (p + q)
    nonsaturating = np.sum(w * np.exp(2.0 * lq - ls) * score_gap)  # p_g·(1 − D*) = q² / (p + q)
    return float(minimax), float(nonsaturating)


def wasserstein1_gradient(p_data: Distribution, p_g: Distribution) -> float:
    """d/dδ W1(p_data, p_g(·−δ)) = ∫ sign(F_data − F_g) p_g dx; ±1 once the two are apart."""
    x, w, diff = _cdf_difference(p_data, p_g)
    return float(np.sum(w * np.sign(diff) * p_g.pdf(x)))


def separation(p_data: Distribution, p_g: Distribution) -> float:
    """mean(p_g) − mean(p_data)."""
    return p_g.mean - p_data.mean


@dataclass(frozen=True)
class SeparationSweep:
    """JSD, W1 and gradient magnitudes as p_g (its shape kept) slides along the line."""

    separation: np.ndarray  # mean(p_g) − mean(p_data) at each step
    jsd: np.ndarray  # nats
    w1: np.ndarray
    minimax_grad: np.ndarray  # |d C(G) / dδ| = 2 |dJSD/dδ|
    w1_grad: np.ndarray  # |dW1/dδ|
    nonsaturating_grad: np.ndarray  # |d E_g[−log D*] / dδ| with D* held fixed


def separation_sweep(p_data: Distribution, p_g: Distribution, separations) -> SeparationSweep:
    """Slide p_g so that mean(p_g) − mean(p_data) takes each value in `separations`."""
    seps = np.asarray(separations, dtype=float)
    rows = []
    for s in seps:
        q = p_g.shifted(p_data.mean + s - p_g.mean)
        x, w, lp, lq = _log_densities(p_data, q)
        minimax, nonsaturating = _generator_gradients_on(p_data, q, x, w, lp, lq)
        xc, wc, diff = _cdf_difference(p_data, q)  # one CDF grid for W1 and its gradient
        w1_grad = np.sum(wc * np.sign(diff) * q.pdf(xc))
        rows.append((_jsd_on(w, lp, lq), np.sum(wc * np.abs(diff)), abs(minimax), abs(w1_grad), abs(nonsaturating)))
    cols = np.array(rows, dtype=float).reshape(len(seps), 5).T
    return SeparationSweep(seps, *cols)


# ---------------------------------------------------------------------------------------------
# Generator losses as functions of the discriminator's verdict D = D(G(z))
# ---------------------------------------------------------------------------------------------

# The losses the Theory page compares, by their names in `ganplay.losses.LOSSES`. Titles, formulas and values
# come from those loss objects; only the derivatives in D below are the theory's own.
COMPARED_LOSSES = ("minimax", "nonsaturating", "least-squares")

# d loss / dD as LaTeX and as a closed form, D = D(G(z)): what the page sets beside the score derivative
_DERIVATIVES_IN_D = {
    "minimax": (r"-\frac{1}{1 - D}", lambda d: -1.0 / (1.0 - d)),
    "nonsaturating": (r"-\frac{1}{D}", lambda d: -1.0 / d),
    "least-squares": (r"D - 1", lambda d: d - 1.0),
}
# d loss / d score: through D = sigmoid(a) for the two log losses (dD/da = D(1 - D)); the least-squares
# discriminator has no sigmoid, so its score is D itself
_DERIVATIVES_IN_SCORE = {"minimax": r"-D", "nonsaturating": r"-(1 - D)", "least-squares": r"D - 1"}


@dataclass(frozen=True)
class GeneratorLoss:
    """One generator loss of `ganplay.losses` seen as a function of D = D(G(z)): values on a grid of D."""

    name: str  # key in ganplay.losses.LOSSES
    title: str  # the loss's title
    formula: str  # the loss's own LaTeX (GANLoss.g_formula)
    dd_latex: str  # derivative with respect to D
    dscore_latex: str  # derivative with respect to the discriminator's raw score (see below)
    loss: np.ndarray
    dloss_dd: np.ndarray
    dloss_dscore: np.ndarray


def generator_losses(d) -> dict[str, GeneratorLoss]:
    """Minimax, non-saturating and least-squares generator losses at D(G(z)) = d in [0, 1], keyed by loss name.

    The values are the real loss functions of `ganplay.losses` evaluated sample by sample at the score a
    with D(a) = d (a = logit(d) for a sigmoid discriminator, a = d for least squares), and `dloss_dscore` is
    their autograd derivative in a: what the generator actually receives through the discriminator's last
    layer. Minimax: −D, which vanishes when the discriminator confidently rejects fakes (D → 0);
    non-saturating: −(1 − D), which does not.
    """
    d = np.asarray(d, dtype=float)
    if np.any((d < 0) | (d > 1)):
        raise ValueError("D(G(z)) must lie in [0, 1]")
    flat = torch.from_numpy(d.reshape(-1))  # (N,) float64
    out = {}
    for name in COMPARED_LOSSES:
        gan_loss = LOSSES[name]
        score = torch.logit(flat) if gan_loss.output == "probability" else flat  # ±inf at the ends of [0, 1]
        per_sample = torch.func.vmap(gan_loss.g_loss)  # a batch of one, sample by sample
        slope = torch.func.vmap(torch.func.grad(gan_loss.g_loss))
        dd_latex, dd = _DERIVATIVES_IN_D[name]
        with np.errstate(divide="ignore"):  # the log losses' derivatives in D are infinite at the ends
            dloss_dd = dd(d)
        out[name] = GeneratorLoss(
            name, gan_loss.title, gan_loss.g_formula, dd_latex, _DERIVATIVES_IN_SCORE[name],
            per_sample(score).numpy().reshape(d.shape), dloss_dd, slope(score).numpy().reshape(d.shape),
        )
    return out
