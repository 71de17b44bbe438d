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

The parts: `distributions` (Gaussian, Mixture), `divergences` (D*, KL, JSD, W1, the value at D*),
`generator` (gradients, the separation sweep, generator losses) and `situations` (the lecture's presets).
Import everything from `ganplay.theory` itself.
"""

from ganplay.theory.distributions import Distribution, Gaussian, Mixture, as_mixture, plot_interval
from ganplay.theory.divergences import (
    LOG2,
    LOG4,
    js_divergence,
    kl_divergence,
    mean_optimal_d_on_fakes,
    optimal_discriminator,
    value_at_optimum,
    wasserstein1,
)
from ganplay.theory.generator import (
    GeneratorLoss,
    SeparationSweep,
    generator_losses,
    minimax_gradient,
    nonsaturating_gradient,
    separation,
    separation_sweep,
    wasserstein1_gradient,
)
from ganplay.theory.situations import SITUATIONS, Situation

__all__ = [
    "LOG2", "LOG4", "SITUATIONS", "Distribution", "Gaussian", "GeneratorLoss", "Mixture", "SeparationSweep",
    "Situation", "as_mixture", "generator_losses", "js_divergence", "kl_divergence", "mean_optimal_d_on_fakes",
    "minimax_gradient", "nonsaturating_gradient", "optimal_discriminator", "plot_interval", "separation",
    "separation_sweep", "value_at_optimum", "wasserstein1", "wasserstein1_gradient",
]
