"""The optimal discriminator, the divergences and distances between two distributions, and the game's value.

D* = p_data / (p_data + p_g), KL, JSD, W1, V(D*, G) = 2·JSD − log 4 and E_g[D*], all in nats. Integrals use
composite Gauss–Legendre quadrature on panels laid around every mixture component out to ±40σ, with densities
combined in log space; the quadrature helpers here are shared with `ganplay.theory.generator`.
"""

from __future__ import annotations

import math

import numpy as np

from ganplay.theory.distributions import Distribution

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)


# ---------------------------------------------------------------------------------------------
# Quadrature
# ---------------------------------------------------------------------------------------------

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(16)
# Panel edges around each component, in units of its sigma: half-sigma panels where the mass is,
# wider ones in the tails, where every integrand is smooth and tiny. ±40σ is far past underflow.
_TAIL = np.array([9.0, 11.0, 14.0, 18.0, 24.0, 31.0, 40.0])
_UNIT_EDGES = np.concatenate([-_TAIL[::-1], np.arange(-8.0, 8.25, 0.5), _TAIL])


def _breakpoints(*dists: Distribution) -> np.ndarray:
    edges = [c.mu + c.sigma * _UNIT_EDGES for d in dists for c in d.components]
    return np.unique(np.concatenate(edges))


def _quadrature(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on each panel between consecutive edges (nodes ascending)."""
    half = 0.5 * np.diff(edges)[:, None]
    mid = 0.5 * (edges[:-1] + edges[1:])[:, None]
    return (mid + half * _GL_NODES).ravel(), (half * _GL_WEIGHTS).ravel()


def _log_densities(p: Distribution, q: Distribution):
    """Nodes, weights and log p, log q there: the shared start of every integral below."""
    x, w = _quadrature(_breakpoints(p, q))
    return x, w, p.logpdf(x), q.logpdf(x)


def _cdf_crossings(p: Distribution, q: Distribution, x: np.ndarray, diff: np.ndarray) -> np.ndarray:
    """Where F_p − F_q changes sign between the sorted points x, refined by bisection."""
    sign = np.where(np.abs(diff) < 1e-13, 0.0, np.sign(diff))  # ignore rounding-level noise
    nz = np.flatnonzero(sign)
    change = sign[nz[:-1]] != sign[nz[1:]]
    lo, hi = x[nz[:-1][change]], x[nz[1:][change]]
    sign_lo = sign[nz[:-1][change]]
    for _ in range(60):
        if lo.size == 0 or np.all(hi - lo <= 1e-13 * (1.0 + np.abs(lo))):
            break
        mid = 0.5 * (lo + hi)
        same = np.sign(p.cdf(mid) - q.cdf(mid)) == sign_lo
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    return 0.5 * (lo + hi)


def _cdf_difference(p: Distribution, q: Distribution):
    """Nodes, weights and F_p − F_q there, with panels split where the CDFs cross.

    |F_p − F_q| has a kink at each crossing; putting the crossings on panel edges keeps the
    quadrature at full accuracy.
    """
    edges = _breakpoints(p, q)
    x, w = _quadrature(edges)
    diff = p.cdf(x) - q.cdf(x)
    roots = _cdf_crossings(p, q, x, diff)
    if roots.size:
        x, w = _quadrature(np.unique(np.concatenate([edges, roots])))
        diff = p.cdf(x) - q.cdf(x)
    return x, w, diff


# ---------------------------------------------------------------------------------------------
# The optimal discriminator, divergences and distances (all in nats)
# ---------------------------------------------------------------------------------------------

def optimal_discriminator(p_data: Distribution, p_g: Distribution, x) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), the discriminator that maximises V(D, G)."""
    log_ratio = p_data.logpdf(x) - p_g.logpdf(x)
    return np.exp(-np.logaddexp(0.0, -log_ratio))  # sigmoid(log p_data − log p_g), stably


def kl_divergence(p: Distribution, q: Distribution) -> float:
    """KL(p ‖ q) = ∫ p log(p / q) dx."""
    _, w, lp, lq = _log_densities(p, q)
    return max(float(np.sum(w * np.exp(lp) * (lp - lq))), 0.0)


def js_divergence(p: Distribution, q: Distribution) -> float:
    """JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = (p + q) / 2; between 0 and log 2."""
    _, w, lp, lq = _log_densities(p, q)
    return _jsd_on(w, lp, lq)


def _jsd_on(w, lp, lq) -> float:
    lm = np.logaddexp(lp, lq) - LOG2
    total = 0.5 * np.sum(w * (np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm)))
    return float(np.clip(total, 0.0, LOG2))


def value_at_optimum(p_data: Distribution, p_g: Distribution) -> float:
    """C(G) = V(D*, G) = E_data[log D*(x)] + E_g[log(1 − D*(x))], integrated directly.

    Equals 2·JSD(p_data ‖ p_g) − log 4: −log 4 when p_g = p_data, approaching 0 as they separate.
    """
    _, w, lp, lq = _log_densities(p_data, p_g)
    ls = np.logaddexp(lp, lq)  # log(p_data + p_g); log D* = lp − ls, log(1 − D*) = lq − ls
    return float(np.sum(w * (np.exp(lp) * (lp - ls) + np.exp(lq) * (lq - ls))))


def wasserstein1(p: Distribution, q: Distribution) -> float:
    """W1(p, q) = ∫ |F_p(x) − F_q(x)| dx, the earth mover's distance on the real line."""
    _, w, diff = _cdf_difference(p, q)
    return float(np.sum(w * np.abs(diff)))


def mean_optimal_d_on_fakes(p_data: Distribution, p_g: Distribution) -> float:
    """E_{x~p_g}[D*(x)]: how real the optimal discriminator finds the generator's samples."""
    _, w, lp, lq = _log_densities(p_data, p_g)
    return float(np.sum(w * np.exp(lp + lq - np.logaddexp(lp, lq))))  # p_g·D* = p·q / (p + q)
