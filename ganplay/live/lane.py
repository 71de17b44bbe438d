"""One lane of a live run: a Trainer, its bounded metric history and, for point data, the probes (modes, JSD)
and the Toy lab's view of the game, redrawn from fixed real dots and fixed noise so every frame is comparable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganplay.config import RunConfig
from ganplay.images import make_grid
from ganplay.live.coverage import CoverageProbe
from ganplay.losses import LOSSES
from ganplay.toy.modes import mode_metrics
from ganplay.toy.view import EVAL_SAMPLES, line_view, plane_view
from ganplay.trainer import LIVE_DEVICE, Trainer

METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "penalty")
PROBES = ("modes", "high_quality", "reverse_kl", "jsd")   # point data: measured at each redraw (NaN: not defined)
REAL_DOTS = (450, 2000)      # real samples drawn for 2-D / 1-D data (GAN Lab draws 450), from a fixed seed
REAL_SEED = 12345
RECENT_ROWS = 200            # a snapshot without history keeps this many metric rows: the smoothed tiles (an EMA over
                             # ~20) and the diagnosis (ganplay.diagnose looks back 50, and 200 for runaway losses)


@dataclass
class LaneSnapshot:
    """One recipe of a run: its name, metrics, and what it draws now."""

    name: str
    config: RunConfig
    history: dict[str, list[float]]      # "step" and each of METRICS, thinned to a bounded length
    probes: dict[str, list[float]]       # point data: "step" and each of PROBES, measured at each redraw
    view: object | None                  # image models: the grid (uint8); point models: a PlaneView / LineView
    view_step: int
    message: str = ""                    # why this lane stopped (it diverged), if it did
    coverage: dict | None = None         # digit runs, after the first probe: ganplay.live.coverage's history
    coverage_refusal: str | None = None  # why the digit judge cannot read this lane's samples, if it cannot
    learning_rates: tuple[float, float] = (0.0, 0.0)   # (G, D) in use now, not the recipe's starting ones
    d_outputs: list = None               # image lanes: OutputHistograms columns (step, edges, real, fake)


class History:
    """Columns of numbers keyed by name, one row per record, thinned by halves past `max_points` rows."""

    def __init__(self, keys: tuple[str, ...], max_points: int):
        self.keys, self.max_points = ("step",) + keys, max_points
        self.columns: dict[str, list[float]] = {k: [] for k in self.keys}
        self.stride = 1                      # keep every `stride`-th step

    def add(self, step: int, values: dict) -> None:
        if step % self.stride:
            return
        for key in self.keys:
            self.columns[key].append(float(step if key == "step" else values[key]))
        if len(self.columns["step"]) > self.max_points:
            self.stride *= 2
            keep = [i for i, s in enumerate(self.columns["step"]) if int(s) % self.stride == 0]
            self.columns = {k: [v[i] for i in keep] for k, v in self.columns.items()}

    def copy(self) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self.columns.items()}


class OutputHistograms:
    """D's outputs on a real and a fake batch as histograms over time: one column (step, bin edges, real shares,
    fake shares) per redraw, thinned by halves past `max_columns` so the columns always span the whole run.
    Probabilities share fixed bins on [0, 1]; scores and critic values are binned over each column's own range."""

    BINS = 20

    def __init__(self, probability: bool, max_columns: int = 64):
        self.probability, self.max_columns = probability, max_columns
        self.columns: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, step: int, outputs: tuple[np.ndarray, np.ndarray] | None) -> None:
        if outputs is None or (self.columns and self.columns[-1][0] == step):
            return
        real, fake = (o[np.isfinite(o)] for o in outputs)
        if self.probability:
            edges = np.linspace(0.0, 1.0, self.BINS + 1)
        else:
            both = np.concatenate([real, fake])
            lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
            edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, self.BINS + 1)
        shares = [np.histogram(np.clip(o, edges[0], edges[-1]), edges)[0] / max(len(o), 1) for o in (real, fake)]
        self.columns.append((step, edges, *shares))
        if len(self.columns) > self.max_columns:
            self.columns = self.columns[::2]


class Lane:
    """A Trainer and what the page shows of it. For point data it also holds the fixed real dots it draws and
    the fixed noise its probes use, so every redraw is comparable."""

    def __init__(self, config: RunConfig, dataset, device, max_points: int):
        self.config = config
        self.name = config.name
        self.trainer: Trainer | None = Trainer(config, dataset, device=device)   # validates the config
        self.dataset = dataset
        self.history = History(METRICS, max_points)
        self.points = config.model.is_points
        self.probes = History(PROBES, max_points)
        self.outputs = OutputHistograms(LOSSES[config.train.loss].output == "probability")
        self.frames: list[tuple[int, np.ndarray]] = []
        self.message = ""
        self.coverage = CoverageProbe(config, self.trainer)
        self.learning_rates = self.trainer.learning_rates     # kept when the trainer is freed
        self._freed_at = (0, 0.0)            # (step, training seconds) when the trainer was dropped
        if self.points:
            dim = config.model.data_shape[0]
            self.real = dataset.sample(REAL_DOTS[dim == 1], torch.Generator().manual_seed(REAL_SEED)).numpy()
            self.eval_z = self.trainer.noise(EVAL_SAMPLES, torch.Generator().manual_seed(config.train.seed + 2))
        self.view, self.view_step = self.render(), 0

    @property
    def alive(self) -> bool:
        return self.trainer is not None and not self.message

    @property
    def step(self) -> int:
        """Iterations trained; still known once the trainer is freed."""
        return self.trainer.step_count if self.trainer is not None else self._freed_at[0]

    @property
    def seconds(self) -> float:
        return self.trainer.seconds if self.trainer is not None else self._freed_at[1]

    def free(self) -> None:
        """Drop the trainer (models, optimisers, data); keep the step, time, history and pictures for the page."""
        if self.trainer is not None:
            self._freed_at = (self.trainer.step_count, self.trainer.seconds)
            self.trainer = None

    def render(self):
        """What the page draws now: the sample grid, or the game on the plane / the line (with its probes)."""
        t = self.trainer
        if not self.points:
            self.outputs.add(t.step_count, t.d_outputs())
            return make_grid(t.sample(), nrow=8)
        modes = None
        if getattr(self.dataset, "modes", None) is not None and self.dataset.mode_sigma is not None:
            with torch.no_grad():
                samples = t.sample(self.eval_z).numpy()
            modes = mode_metrics(samples, self.dataset.modes, self.dataset.mode_sigma)
        if self.config.model.data_shape == (2,):
            view = plane_view(t, self.real, self.dataset.extent, modes)
            jsd = float("nan")
        elif self.config.model.data_shape == (1,):
            view = line_view(t, self.dataset, self.real, self.eval_z, modes)
            jsd = view.jsd
        else:
            view, jsd = None, float("nan")
        nan = float("nan")
        self.probes.add(t.step_count, {
            "modes": modes.captured if modes else nan, "high_quality": modes.high_quality if modes else nan,
            "reverse_kl": modes.reverse_kl if modes else nan, "jsd": jsd})
        return view

    def snapshot(self, with_history: bool = True) -> LaneSnapshot:
        history = (self.history.copy() if with_history          # else what the tiles and the diagnosis read
                   else {k: v[-RECENT_ROWS:] for k, v in self.history.columns.items()})
        if self.trainer is not None:
            self.learning_rates = self.trainer.learning_rates
        return LaneSnapshot(self.name, self.config, history,
                            self.probes.copy() if with_history else {}, self.view, self.view_step, self.message,
                            self.coverage.history(), self.coverage.refusal, self.learning_rates,
                            list(self.outputs.columns))


def preview_view(config: RunConfig, dataset):
    """What a new run of `config` would draw first (the untrained game), without starting anything."""
    return Lane(config, dataset, LIVE_DEVICE, 1).view
