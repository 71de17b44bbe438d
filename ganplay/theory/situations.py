"""One-click situations for the lecture: preset (p_data, p_g) pairs, each with the lesson it shows."""

from __future__ import annotations

from dataclasses import dataclass

from ganplay.registry import Registry
from ganplay.theory.distributions import Distribution, Gaussian, Mixture


@dataclass(frozen=True)
class Situation:
    """A preset pair (p_data, p_g) and what it shows."""

    key: str
    label: str
    lesson: str
    p_data: Distribution
    p_g: Distribution


_BIMODAL = Mixture((Gaussian(-3.0, 0.8), Gaussian(3.0, 0.8)), (0.5, 0.5))

SITUATIONS: Registry[Situation] = Registry("theory situation", ((s.key, s) for s in (
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
)))
