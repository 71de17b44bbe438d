"""The Toy lab's side of ganplay: tiny GANs on 1-D and 2-D points, with the game itself made visible.

    from ganplay.toy import TOYS, mode_metrics
    ring = TOYS["ring8"]                          # a ToyDistribution: sample(n, generator) -> (n, 2)
    trainer = Trainer(preset("toy-ring"), ring)   # the one Trainer, on points instead of images
    stats = mode_metrics(trainer.sample(z).numpy(), ring.modes, ring.mode_sigma)

The parts: `distributions` (the registry TOYS: PacGAN's ring and grid, moons, spiral, circles, GAN Lab's four,
1-D mixtures from ganplay.theory), `userdata` (points drawn on the page or read from a CSV), `modes` (PacGAN /
VEEGAN mode metrics), `view` (what the page draws: D over the plane, the push on each fake, the manifold; on the
line p_g, D and D*) and `presets` (the toy recipes, also in ganplay.presets.PRESETS).
"""

from ganplay.toy.distributions import TOYS, ToyDataError, ToyDistribution, from_theory, get_toy
from ganplay.toy.modes import MODE_SAMPLES, mode_metrics
from ganplay.toy.userdata import MAX_POINTS, from_points, parse_csv, to_csv
from ganplay.toy.view import LineView, ModeStats, PlaneView

__all__ = [
    "MAX_POINTS", "MODE_SAMPLES", "TOYS", "LineView", "ModeStats", "PlaneView", "ToyDataError", "ToyDistribution",
    "from_points", "from_theory", "get_toy", "mode_metrics", "parse_csv", "to_csv",
]
