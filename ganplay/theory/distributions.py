"""The one-dimensional distributions the theory works with: a Gaussian and a mixture of Gaussians.

Both share one interface (components, weights, mean, std, logpdf, pdf, cdf, score, sample, shifted), so every
function in `ganplay.theory` takes either; `as_mixture` and `plot_interval` are small helpers over both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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


def _logsumexp(a: np.ndarray) -> np.ndarray:
    """log Σ_k exp(a_k) over axis 0, without overflow or underflow."""
    m = np.max(a, axis=0)
    m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.sum(np.exp(a - m), axis=0))
