"""The GAN game on the real line, computed exactly enough to lecture with (numpy only).

For one-dimensional data and generator distributions (a Gaussian or a Gaussian mixture) this module
gives the optimal discriminator D* = p_data / (p_data + p_g), the divergences the original GAN
objective is built on (Jensen–Shannon, Kullback–Leibler), the Wasserstein-1 distance, the value of
the game at D* (which equals 2·JSD − log 4), the generator's losses as functions of D(G(z)), and a
sweep that slides p_g onto p_data to show JSD saturating at log 2 while W1 keeps its slope.

Integrals use composite Gauss–Legendre quadrature on panels laid around every mixture component out
to ±40σ, with densities combined in log space, so they hold to ~1e-9 even when the two
distributions are far apart and their densities underflow where they would have to be compared.

    >>> from ganplay.theory import Gaussian, js_divergence
    >>> round(js_divergence(Gaussian(-20, 1), Gaussian(20, 1)), 6)   # log 2: nothing overlaps
    0.693147
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_erfc = np.frompyfunc(math.erfc, 1, 1)  # numpy has no erf; math.erfc is exact to double precision


@dataclass(frozen=True)
class Gaussian:
    """The normal distribution N(mu, sigma²)."""

    mu: float
    sigma: float

    def __post_init__(self) -> None:
        mu, sigma = float(self.mu), float(self.sigma)
        if not math.isfinite(mu):
            raise ValueError(f"mu must be finite, got {self.mu}")
        if not (math.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be positive and finite, got {self.sigma}")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "sigma", sigma)

    # A Gaussian is a one-component mixture; these let both types share every function below.
    @property
    def components(self) -> tuple[Gaussian, ...]:
        return (self,)

    @property
    def weights(self) -> tuple[float, ...]:
        return (1.0,)

    @property
    def mean(self) -> float:
        return self.mu

    @property
    def std(self) -> float:
        return self.sigma

    def logpdf(self, x) -> np.ndarray:
        z = (np.asarray(x, dtype=float) - self.mu) / self.sigma
        return -0.5 * z * z - math.log(self.sigma) - _LOG_SQRT_2PI

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def cdf(self, x) -> np.ndarray:
        z = (np.asarray(x, dtype=float) - self.mu) / (self.sigma * math.sqrt(2.0))
        # erfc(-z) keeps the left tail accurate where 1 + erf(z) would round to 0
        return 0.5 * np.asarray(_erfc(-z), dtype=float)

    def score(self, x) -> np.ndarray:
        """d/dx log p(x)."""
        return -(np.asarray(x, dtype=float) - self.mu) / self.sigma**2

    def sample(self, n: int, rng=None) -> np.ndarray:
        """n draws; rng is a numpy Generator or a seed."""
        return np.random.default_rng(rng).normal(self.mu, self.sigma, size=n)

    def shifted(self, delta: float) -> Gaussian:
        return Gaussian(self.mu + delta, self.sigma)


@dataclass(frozen=True)
class Mixture:
    """A mixture of Gaussians; weights are normalised to sum to 1 (equal when omitted)."""

    components: tuple[Gaussian, ...]
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        comps = tuple(self.components)
        if not comps or not all(isinstance(c, Gaussian) for c in comps):
            raise ValueError("components must be a non-empty sequence of Gaussian")
        w = np.ones(len(comps)) if self.weights is None else np.asarray(self.weights, dtype=float)
        if w.shape != (len(comps),):
            raise ValueError(f"need one weight per component, got {w.shape} for {len(comps)}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be non-negative with a positive sum, got {self.weights}")
        object.__setattr__(self, "components", comps)
        object.__setattr__(self, "weights", tuple(float(v) for v in w / w.sum()))

    @property
    def mean(self) -> float:
        return float(sum(w * c.mu for w, c in zip(self.weights, self.components)))

    @property
    def std(self) -> float:
        second = sum(w * (c.sigma**2 + c.mu**2) for w, c in zip(self.weights, self.components))
        return math.sqrt(max(second - self.mean**2, 0.0))

    def _weighted_logpdfs(self, x) -> np.ndarray:
        """log(w_k p_k(x)) for every component k, shape (K, *x.shape)."""
        with np.errstate(divide="ignore"):  # a zero weight is log 0 = -inf, which logsumexp handles
            log_w = np.log(np.asarray(self.weights))
        x = np.asarray(x, dtype=float)
        return np.stack([lw + c.logpdf(x) for lw, c in zip(log_w, self.components)])

    def logpdf(self, x) -> np.ndarray:
        return _logsumexp(self._weighted_logpdfs(x))

    def pdf(self, x) -> np.ndarray:
        return np.exp(self.logpdf(x))

    def cdf(self, x) -> np.ndarray:
        return sum(w * c.cdf(x) for w, c in zip(self.weights, self.components))

    def score(self, x) -> np.ndarray:
        """d/dx log p(x): the components' scores weighted by their responsibilities."""
        a = self._weighted_logpdfs(x)
        resp = np.exp(a - _logsumexp(a))
        return sum(r * c.score(x) for r, c in zip(resp, self.components))

    def sample(self, n: int, rng=None) -> np.ndarray:
        """n draws; rng is a numpy Generator or a seed."""
        rng = np.random.default_rng(rng)
        k = rng.choice(len(self.components), size=n, p=np.asarray(self.weights))
        mu = np.array([c.mu for c in self.components])
        sigma = np.array([c.sigma for c in self.components])
        return rng.normal(mu[k], sigma[k])

    def shifted(self, delta: float) -> Mixture:
        return Mixture(tuple(c.shifted(delta) for c in self.components), self.weights)


Distribution = Gaussian | Mixture


def as_mixture(p: Distribution) -> Mixture:
    """p as a Mixture (a Gaussian becomes a one-component mixture)."""
    return p if isinstance(p, Mixture) else Mixture((p,), (1.0,))


def plot_interval(*dists: Distribution, width: float = 4.0) -> tuple[float, float]:
    """An x-range showing every component out to `width` standard deviations."""
    comps = [c for d in dists for c in d.components]
    return min(c.mu - width * c.sigma for c in comps), max(c.mu + width * c.sigma for c in comps)


# ---------------------------------------------------------------------------------------------
# Quadrature
# ---------------------------------------------------------------------------------------------

def _logsumexp(a: np.ndarray) -> np.ndarray:
    """log Σ_k exp(a_k) over axis 0, without overflow or underflow."""
    m = np.max(a, axis=0)
    m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.sum(np.exp(a - m), axis=0))


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


# ---------------------------------------------------------------------------------------------
# One-click situations for the lecture
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Situation:
    """A preset pair (p_data, p_g) and what it shows."""

    key: str
    label: str
    lesson: str
    p_data: Distribution
    p_g: Distribution


_BIMODAL = Mixture((Gaussian(-3.0, 0.8), Gaussian(3.0, 0.8)), (0.5, 0.5))

SITUATIONS: dict[str, Situation] = {s.key: s for s in (
    Situation(
        "identical", "Identical",
        "p_g = p_data: D* is ½ everywhere, every divergence is 0 and V(D*, G) sits at its "
        "minimum −log 4. This is the game's equilibrium.",
        Gaussian(0.0, 1.0), Gaussian(0.0, 1.0),
    ),
    Situation(
        "shifted", "Slightly shifted",
        "A small shift: D* leans towards the data on the left and the fakes on the right, and "
        "JSD, KL and W1 are all small and still changing smoothly.",
        Gaussian(0.0, 1.0), Gaussian(1.0, 1.0),
    ),
    Situation(
        "far_apart", "Far apart",
        "The supports barely overlap: D* is a step from 1 to 0, JSD is stuck at log 2 (1 bit) "
        "and no longer tells the generator which way to move. W1 still equals the distance.",
        Gaussian(-5.0, 1.0), Gaussian(5.0, 1.0),
    ),
    Situation(
        "mode_dropping", "Mode dropping",
        "Bimodal data, a generator that covers one mode. KL(p_data ‖ p_g) is huge (mass of the "
        "data where p_g has none); KL(p_g ‖ p_data) is only about log 2: reverse KL forgives a "
        "dropped mode.",
        _BIMODAL, Gaussian(3.0, 0.8),
    ),
    Situation(
        "mode_covering", "Mode covering",
        "The same data, a wide generator that spreads over both modes. Now the KLs swap: "
        "KL(p_data ‖ p_g) is modest, KL(p_g ‖ p_data) punishes the fakes placed between the modes.",
        _BIMODAL, Gaussian(0.0, 3.1),
    ),
)}
