"""What a live run looks like from outside: its state names and the consistent copy its readers get."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from ganplay.config import RunConfig
from ganplay.live.lane import LaneSnapshot

READY, RUNNING, PAUSED, FINISHED, STOPPED, DIVERGED, FAILED = (
    "ready", "running", "paused", "finished", "stopped", "diverged", "failed")
ENDED = (FINISHED, STOPPED, DIVERGED, FAILED)
PARTS = ("both", "d", "g")
MAX_LANES = 4
IDLE_STOPPED = ("Stopped: nobody watched this run for a while, so its models were freed for other runs. Its last "
                "state is kept below; press Start for a new run.")


@dataclass
class RunSnapshot:
    run_id: str
    state: str
    step: int
    max_steps: int | None
    seconds: float                       # training time (pauses excluded)
    steps_per_second: float              # over the last few seconds
    history: dict[str, list[float]]      # "step" and each of METRICS, thinned to a bounded length (first lane)
    grid: np.ndarray | None              # latest sample grid from the fixed noise, uint8 (first lane, images)
    grid_step: int
    timeline_steps: list[int] = field(default_factory=list)
    message: str = ""
    config: RunConfig | None = None
    lanes: list[LaneSnapshot] = field(default_factory=list)
    freed: bool = False                  # models dropped: no checkpoint or samples, only what is shown
    steps_pending: int = 0               # single steps asked for, not yet published
    idle: bool = True                    # the worker waits with nothing to do: what is shown will not move
    state_seconds: float = 0.0           # on the run's clock, since the state last changed
    real_grid: np.ndarray | None = None  # a fixed few training images (uint8), to compare with the samples
    coverage: dict | None = None         # first lane: the digit judge's probes (ganplay.live.coverage), or None
    coverage_refusal: str | None = None  # first lane: why the digit judge cannot read it (not MNIST digits)
    learning_rates: tuple[float, float] = (0.0, 0.0)   # first lane: (G, D) in use now
    d_outputs: list | None = None        # first lane, images: histograms of D's outputs over time (lane.py)


def history_csv(history: dict[str, list[float]]) -> bytes:
    """A metric history as CSV: a header row ("step" first, then the metrics), one row per recorded step."""
    keys = ["step", *(k for k in history if k != "step")]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(keys)
    for row in zip(*(history[k] for k in keys)):
        writer.writerow([int(row[0]), *(repr(float(v)) for v in row[1:])])
    return buf.getvalue().encode()

