"""Two image recipes side by side on the same batches: the Training page's "Side by side" mode.

    run = side_by_side(registry, [cfg_a, cfg_b], dataset, max_steps=2000)   # one run, one lane per recipe
    run.start()
    snap = run.snapshot(); snap.lanes[0].view, snap.lanes[1].view           # grids at the same step

A run's lanes (ganplay.live) each hold a Trainer seeded with the recipe's seed, and a Trainer draws its real
batches, its noise and any gradient penalty's random mix from that one generator. Two recipes that use it
differently (WGAN-GP draws a mix per D step, more D steps draw more batches) would drift onto different batches
after the first step. So each lane's data source here draws from a generator of its own, seeded with the same
seed: every lane sees the same real batches in the same order, whatever its loss. (The trainer still seeds its
noise and weights from the seed, so both recipes also start from the same G and D and the same fixed noise.)
"""
from __future__ import annotations

import torch

from ganplay.config import ConfigError, RunConfig
from ganplay.losses import LOSSES

DATA_SEED_OFFSET = 4       # the shared data stream: seed + 4 (grid noise seed + 1, point probes + 2, coverage + 3)


class SharedBatches:
    """A data source whose real batches come from its own generator, ignoring the trainer's: lanes given
    SharedBatches over the same data and seed draw identical batches in identical order."""

    def __init__(self, source, seed: int):
        self.source = source
        self.class_names = source.class_names
        self.generator = torch.Generator().manual_seed(seed + DATA_SEED_OFFSET)

    def batch(self, n: int, generator: torch.Generator | None = None):
        return self.source.batch(n, self.generator)

    def describe(self) -> str:
        return self.source.describe()


def recipe_name(config: RunConfig, changed: str) -> str:
    """What a lane is called: the part of its recipe that differs ("loss" or "lr")."""
    t = config.train
    if changed == "loss":
        return LOSSES[t.loss].title
    return f"lr {t.lr_g:.0e}" if t.lr_g == t.lr_d else f"lr G {t.lr_g:.0e} / D {t.lr_d:.0e}"


def side_by_side(registry, configs: list[RunConfig], dataset, max_steps: int | None = None, **kwargs):
    """A run training `configs` (two or more image recipes, one seed and batch size) step for step on one
    worker, every lane on the same real batches. Raises what registry.create raises (ServerBusy, ConfigError)."""
    first = configs[0]
    if len(configs) < 2:
        raise ConfigError("side by side needs at least two recipes")
    if any(c.model.is_points for c in configs):
        raise ConfigError("side by side here is for images; the Toy lab compares losses on points")
    if len({(c.train.seed, c.train.batch_size) for c in configs}) > 1:
        raise ConfigError("side-by-side recipes must share the seed and the batch size, or they cannot see the "
                          "same batches")
    run = registry.create(first, dataset, compare=list(configs[1:]), max_steps=max_steps, **kwargs)
    for lane in run.lanes:          # before the worker starts: no step has drawn a batch yet
        lane.trainer.source = SharedBatches(lane.trainer.source, first.train.seed)
    return run
