"""What the generator feels: its gradients as p_g slides along the line, and its losses as functions of D.

The minimax, non-saturating and Wasserstein-1 gradients, a sweep of JSD, W1 and those gradients over the
separation between p_g and p_data, and the generator losses with their derivatives on a grid of D(G(z)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

@dataclass(frozen=True)
class GeneratorLoss:
    """One generator loss: its name, formulas (LaTeX) and values on a grid of D."""

    label: str
    loss_latex: str
    dd_latex: str  # derivative with respect to D
    dscore_latex: str  # derivative with respect to the discriminator's raw score (see below)
    loss: np.ndarray
    dloss_dd: np.ndarray
    dloss_dscore: np.ndarray


def generator_losses(d) -> dict[str, GeneratorLoss]:
    """Minimax, non-saturating and least-squares generator losses at D(G(z)) = d in [0, 1].

    `dloss_dscore` is the derivative the generator actually receives through the discriminator's
    last layer: for the two log losses D = sigmoid(a), so it is d/da; the least-squares
    discriminator has no sigmoid, so its score is D itself. Minimax: −D, which vanishes when the
    discriminator confidently rejects fakes (D → 0); non-saturating: −(1 − D), which does not.
    """
    d = np.asarray(d, dtype=float)
    if np.any((d < 0) | (d > 1)):
        raise ValueError("D(G(z)) must lie in [0, 1]")
    with np.errstate(divide="ignore"):  # the log losses are infinite at the ends of [0, 1]
        return {
            "minimax": GeneratorLoss(
                "minimax  log(1 − D)", r"\log\bigl(1 - D\bigr)", r"-\frac{1}{1 - D}", r"-D",
                np.log1p(-d), -1.0 / (1.0 - d), -d,
            ),
            "non_saturating": GeneratorLoss(
                "non-saturating  −log D", r"-\log D", r"-\frac{1}{D}", r"-(1 - D)",
                -np.log(d), -1.0 / d, -(1.0 - d),
            ),
            "least_squares": GeneratorLoss(
                "least squares  ½(D − 1)²", r"\tfrac12\bigl(D - 1\bigr)^2", r"D - 1", r"D - 1",
                0.5 * (d - 1.0) ** 2, d - 1.0, d - 1.0,
            ),
        }
