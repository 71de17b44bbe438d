"""Recorded training runs ("replays"): what the Training page shows of a run, saved so it plays back instantly
with no trainer, no model and no dataset (a busy lecture laptop, a class without MNIST).

    replay = record(preset("lecture"), load_data("mnist"), steps=3000)     # trains once, here
    save_replay("pretrained/replays/lecture-nonsaturating.npz", replay)
    replay = load_replay(path_or_uploaded_bytes)                           # ReplayError for anything odd
    snap = replay.snapshot(i)     # a RunSnapshot as a live run's at frame i: history up to its step, its grid
    replay.frame(i); replay.timeline_gif()                                 # what the page's exporters call

The command line records one: `python -m ganplay record --preset lecture --set train.loss=minimax --steps 3000
--out pretrained/replays/lecture-minimax.npz` (ganplay.cli_replay).

File format "ganplay-replay/1": a zip that `numpy.load(path, allow_pickle=False)` also opens, holding
`replay.json` (format, title, the recipe as config JSON, the record: steps, device, precision, why it
stopped; the metric names; the digit-coverage probes) and `.npy` arrays: `frames` (F, H, W) or (F, H, W, 3)
uint8 sample grids from the run's fixed noise, `frame_steps` (F,) int64, `history` (1 + metrics, N) float64
(row 0 is the step), `real_grid` uint8 (a few training images, optional). Nothing in it is ever unpickled or
executed; every size is checked from the zip's directory and each array's header before anything is read, so a
hostile file cannot make the reader allocate more than MAX_UNPACKED bytes. Files are written atomically and
hold no wall-clock times, so recording the same run twice gives the same bytes.
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ganplay.checkpoint import read_limited, write_atomic
from ganplay.config import ConfigError, RunConfig
from ganplay.images import gif_bytes, make_grid
from ganplay.live.lane import METRICS, REAL_SEED, History
from ganplay.live.snapshot import FINISHED, RunSnapshot

FORMAT = "ganplay-replay/1"
MAX_FILE_BYTES = 20 * 10**6          # a 5,000-step recording with 60 frames is under 2 MB
MAX_UNPACKED = 64 * 10**6            # all members together, as declared in the zip's directory
MAX_JSON_BYTES = 4 * 10**6
MAX_FRAMES = 240
MAX_GRID_SIDE = 4096
MAX_HISTORY_ROWS = 100_000
FRAMES = 48                          # frames a recording keeps by default
HISTORY_POINTS = 4000                # metric rows kept (thinned by halves past this, as live runs thin)
COVERAGE_EVERY = 100                 # steps between digit-coverage probes while recording
GIF_WIDTH = 480
REAL_GRID = 16
ARRAYS = {"frames": np.uint8, "frame_steps": np.int64, "history": np.float64, "real_grid": np.uint8}
REQUIRED = ("replay.json", "frames.npy", "frame_steps.npy", "history.npy")


class ReplayError(ValueError):
    """A replay file that cannot be used; the message says why in words a user can act on."""


@dataclass(frozen=True)
class Replay:
    title: str
    config: RunConfig
    frames: np.ndarray                   # (F, H, W) or (F, H, W, 3) uint8: G(fixed noise) at frame_steps
    frame_steps: tuple[int, ...]         # non-decreasing
    history: dict[str, np.ndarray]       # "step" and each metric, one value per recorded step
    record: dict                         # steps, device, precision, message (why it stopped early, if it did)
    coverage: dict | None = None         # digit judge probes: step, classes_present, confident_fraction, histograms
    real_grid: np.ndarray | None = None  # (H, W) uint8: a few fixed training images

    @property
    def steps(self) -> int:
        return int(self.record.get("steps", self.frame_steps[-1]))

    def frame(self, index: int) -> tuple[int, np.ndarray]:
        return self.frame_steps[index], self.frames[index]

    def coverage_at(self, step: int) -> dict | None:
        """The coverage history as a live run's snapshot holds it at `step` (probes up to then), or None."""
        cov = self.coverage
        if not cov:
            return None
        n = int(np.searchsorted(np.asarray(cov["step"]), step, side="right"))
        if n == 0:
            return None
        keys = ("step", "classes_present", "confident_fraction")
        return {**{k: list(cov[k][:n]) for k in keys}, "histogram": list(cov["histograms"][n - 1])}

    def snapshot(self, index: int = -1) -> RunSnapshot:
        """What a live run's snapshot would hold when its grid was frame `index`: the metric history up to that
        step, the grid, the coverage probes so far. The models are "freed": there is no checkpoint to export."""
        index = range(len(self.frame_steps))[index]
        step, grid = self.frame(index)
        n = int(np.searchsorted(self.history["step"], step, side="right"))
        history = {k: v[:n].tolist() for k, v in self.history.items()}
        last = index == len(self.frame_steps) - 1
        return RunSnapshot(run_id=f"replay:{self.title}", state=FINISHED, step=step, max_steps=self.steps,
                           seconds=0.0, steps_per_second=0.0, history=history, grid=grid, grid_step=step,
                           timeline_steps=list(self.frame_steps), message=self.record.get("message", "") if last
                           else "", config=self.config, freed=True, real_grid=self.real_grid,
                           coverage=self.coverage_at(step),
                           learning_rates=(self.config.train.lr_g, self.config.train.lr_d))

    def timeline_gif(self, duration_ms: int = 250, min_width: int = GIF_WIDTH) -> bytes:
        """Every frame as a GIF big enough for a slide, each labelled with its step (as a live run's)."""
        return gif_bytes(list(self.frames), duration_ms, labels=[f"step {s:,}" for s in self.frame_steps],
                         min_width=min_width)


# -- recording ------------------------------------------------------------------------------------------------
def frame_plan(steps: int, count: int = FRAMES) -> list[int]:
    """The steps a recording keeps a grid at: 0, then about half the frames spaced evenly in log(step) (early
    training changes fastest) and half evenly in step, merged, dropping any that would nearly repeat a
    neighbour; the last is `steps`. At most count + 1 steps."""
    if steps < 1 or count < 2:
        raise ConfigError(f"a recording needs at least 1 step and 2 frames, got {steps} steps, {count} frames")
    half = count // 2
    even_gap = steps / (count - half)
    candidates = sorted({int(round(s)) for s in (*np.geomspace(1, steps, half),
                                                   *np.linspace(even_gap, steps, count - half))})
    kept = [0]
    for s in candidates:
        if s - kept[-1] >= max(1.0, min(0.3 * even_gap, 0.25 * kept[-1])) or s == steps:
            kept.append(s)
    if len(kept) > 2 and kept[-1] - kept[-2] < 0.3 * even_gap:   # `steps` itself is always kept
        del kept[-2]
    return kept


def record(config: RunConfig, dataset, steps: int, *, frames: int = FRAMES, title: str | None = None,
           device="cpu", history_points: int = HISTORY_POINTS, coverage_every: int = COVERAGE_EVERY,
           progress: Callable[[int], None] | None = None) -> Replay:
    """Train `config` on `dataset` for `steps` iterations (fewer if it diverges: the recording then ends there,
    with the reason in record["message"]) and keep what the Training page shows. Deterministic: the same
    config, data and thread count give the same replay."""
    import torch

    from ganplay.live.coverage import CoverageProbe
    from ganplay.trainer import Trainer, TrainingDiverged

    trainer = Trainer(config, dataset, device=device)
    if config.model.is_points:
        raise ConfigError("replays hold image grids: record an image model (the Toy lab trains points live)")
    plan = set(frame_plan(steps, frames))
    history = History(METRICS, history_points)
    probe = CoverageProbe(config, trainer, every_steps=coverage_every, every_s=math.inf)
    probes: list[list[float]] = []
    grids, grid_steps, message = [make_grid(trainer.sample(), nrow=8)], [0], ""
    real = trainer.source.batch(REAL_GRID, torch.Generator().manual_seed(REAL_SEED))[0]
    while trainer.step_count < steps:
        try:
            metrics = trainer.step()
        except TrainingDiverged as err:
            message = str(err)
            break
        history.add(metrics.step, metrics.to_dict())
        if probe.maybe_measure(trainer):
            probes.append(probe.histogram)
        if metrics.step in plan:
            grids.append(make_grid(trainer.sample(), nrow=8))
            grid_steps.append(metrics.step)
        if progress is not None:
            progress(metrics.step)
    if grid_steps[-1] != trainer.step_count:        # it diverged: the last frame shows where it stopped
        grids.append(make_grid(trainer.sample(), nrow=8))
        grid_steps.append(trainer.step_count)
    cov = probe.history()
    coverage = None if cov is None else {k: cov[k] for k in ("step", "classes_present", "confident_fraction")}
    if coverage is not None:
        coverage["histograms"] = probes
    return Replay(title=title or config.name, config=config, frames=np.stack(grids),
                  frame_steps=tuple(grid_steps),
                  history={k: np.asarray(v, np.float64) for k, v in history.columns.items()},
                  record={"steps": trainer.step_count, "device": str(trainer.device),
                          "precision": trainer.precision, "message": message,
                          "dataset": trainer.source.describe()},
                  coverage=coverage, real_grid=make_grid(real, nrow=4))


# -- writing --------------------------------------------------------------------------------------------------
def _member(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))     # no clock: same run, same bytes
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data, compresslevel=9)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def replay_bytes(replay: Replay) -> bytes:
    metrics = [k for k in replay.history if k != "step"]
    meta = {"format": FORMAT, "title": replay.title, "config": replay.config.to_dict(), "record": replay.record,
            "metrics": metrics, "coverage": replay.coverage}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        _member(zf, "replay.json", json.dumps(meta, sort_keys=True).encode())
        _member(zf, "frames.npy", _npy(replay.frames.astype(np.uint8)))
        _member(zf, "frame_steps.npy", _npy(np.asarray(replay.frame_steps, np.int64)))
        _member(zf, "history.npy", _npy(np.stack([replay.history[k] for k in ("step", *metrics)])
                                        .astype(np.float64)))
        if replay.real_grid is not None:
            _member(zf, "real_grid.npy", _npy(replay.real_grid.astype(np.uint8)))
    return buf.getvalue()


def save_replay(path: str | os.PathLike, replay: Replay) -> Path:
    return write_atomic(path, replay_bytes(replay))


# -- reading (every check before anything is allocated) ---------------------------------------------------------
def _read_source(source: str | os.PathLike | bytes) -> bytes:
    data = read_limited(source, MAX_FILE_BYTES, ReplayError, "replay")
    if data[:1] == b"\x80":
        raise ReplayError("this is a pickle file; ganplay never unpickles files because that can run arbitrary "
                          "code. A replay is a zip of JSON and .npy arrays written by `python -m ganplay record`")
    if data[:4] != b"PK\x03\x04":
        raise ReplayError("this is not a ganplay replay (a replay is a .npz zip written by "
                          "`python -m ganplay record`)")
    return data


def _array(zf: zipfile.ZipFile, name: str, dtype, ndims: tuple[int, ...], max_items: int) -> np.ndarray:
    """One .npy member, its header checked (dtype, rank, declared size against the member's size) first."""
    info = zf.getinfo(f"{name}.npy")
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, found = read_header(f, max_header_size=10_000)
        except (ValueError, SyntaxError) as err:
            raise ReplayError(f"{name}: not a valid .npy array ({err})") from None
        if found.hasobject or found != np.dtype(dtype):
            raise ReplayError(f"{name}: holds {found}, a replay stores {np.dtype(dtype)}")
        if len(shape) not in ndims or fortran:
            raise ReplayError(f"{name}: shape {shape} has the wrong number of dimensions")
        items = math.prod(shape)
        if items > max_items or items * found.itemsize > info.file_size:
            raise ReplayError(f"{name}: declares shape {shape}, more than the file holds or a replay needs")
        data = f.read(items * found.itemsize)
    if len(data) != items * found.itemsize:
        raise ReplayError(f"{name}: the array is truncated")
    return np.frombuffer(data, dtype=found).reshape(shape)


def _meta(zf: zipfile.ZipFile) -> dict:
    try:
        meta = json.loads(zf.read("replay.json"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReplayError(f"replay.json does not parse: {err}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ReplayError(f"this file is not a {FORMAT} recording (replay.json says "
                          f"{meta.get('format') if isinstance(meta, dict) else meta!r})")
    return meta


def _checked_coverage(cov, steps: int) -> dict | None:
    if cov is None:
        return None
    keys = ("step", "classes_present", "confident_fraction", "histograms")
    if not isinstance(cov, dict) or any(not isinstance(cov.get(k), list) for k in keys):
        raise ReplayError("the coverage history is damaged")
    n = len(cov["step"])
    if any(len(cov[k]) != n for k in keys) or n > MAX_HISTORY_ROWS:
        raise ReplayError("the coverage history's columns have different lengths")
    try:
        out = {k: [float(v) for v in cov[k]] for k in keys[:3]}
        out["histograms"] = [[float(v) for v in h] for h in cov["histograms"]]
    except (TypeError, ValueError):
        raise ReplayError("the coverage history holds something other than numbers") from None
    if (any(len(h) != 10 for h in out["histograms"]) or any(s > steps for s in out["step"])
            or any(b < a for a, b in zip(out["step"], out["step"][1:]))):
        raise ReplayError("the coverage history does not fit the recording")
    return out


def load_replay(source: str | os.PathLike | bytes) -> Replay:
    """A replay from a path or bytes (an upload), checked throughout; ReplayError says what is wrong."""
    data = _read_source(source)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            missing = [n for n in REQUIRED if n not in names]
            extra = names - {*REQUIRED, "real_grid.npy"}
            if missing or extra:
                raise ReplayError(f"not a ganplay replay: missing {missing}, unexpected {sorted(extra)[:3]}")
            if sum(i.file_size for i in zf.infolist()) > MAX_UNPACKED or \
                    zf.getinfo("replay.json").file_size > MAX_JSON_BYTES:
                raise ReplayError(f"the replay declares more than {MAX_UNPACKED / 10**6:.0f} MB of contents")
            meta = _meta(zf)
            frames = _array(zf, "frames", np.uint8, (3, 4), MAX_FRAMES * MAX_GRID_SIDE**2 * 3)
            steps = _array(zf, "frame_steps", np.int64, (1,), MAX_FRAMES)
            history = _array(zf, "history", np.float64, (2,), (1 + len(METRICS)) * MAX_HISTORY_ROWS)
            real = (_array(zf, "real_grid", np.uint8, (2, 3), MAX_GRID_SIDE**2 * 3)
                    if "real_grid.npy" in names else None)
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError) as err:
        raise ReplayError(f"the replay is damaged or truncated ({err})") from None
    try:
        config = RunConfig.from_dict(meta.get("config"))
    except ConfigError as err:
        raise ReplayError(f"the replay's recipe is invalid: {err}") from None
    record = meta.get("record")
    metrics = meta.get("metrics")
    if not isinstance(record, dict) or not isinstance(metrics, list) or not set(metrics) <= set(METRICS):
        raise ReplayError("replay.json's record or metric names are damaged")
    if config.model.is_points:
        raise ReplayError("this recipe makes points; replays hold image grids")
    _check_frames(frames, steps, config)
    if history.shape[0] != 1 + len(metrics) or history.shape[1] > MAX_HISTORY_ROWS:
        raise ReplayError(f"the metric history has shape {history.shape}, expected {1 + len(metrics)} rows")
    if not np.isfinite(history[0]).all() or (np.diff(history[0]) < 0).any():
        raise ReplayError("the metric history's steps must be finite and in order")
    total = int(record.get("steps", steps[-1])) if isinstance(record.get("steps", 0), int) else -1
    if total < steps[-1]:
        raise ReplayError("the record's step count does not match the frames")
    if real is not None and (real.ndim == 3 and real.shape[-1] != 3 or max(real.shape[:2]) > MAX_GRID_SIDE):
        raise ReplayError(f"real_grid has shape {real.shape}, not an image")
    return Replay(title=str(meta.get("title") or config.name), config=config, frames=frames,
                  frame_steps=tuple(int(s) for s in steps),
                  history={k: history[i] for i, k in enumerate(("step", *metrics))}, record=record,
                  coverage=_checked_coverage(meta.get("coverage"), total), real_grid=real)


def _check_frames(frames: np.ndarray, steps: np.ndarray, config: RunConfig) -> None:
    colour = config.model.channels == 3
    if frames.ndim != (4 if colour else 3) or (colour and frames.shape[-1] != 3):
        raise ReplayError(f"frames have shape {frames.shape}, but the recipe makes "
                          f"{'colour' if colour else 'grey'} images")
    f, h, w = frames.shape[:3]
    if not 1 <= f <= MAX_FRAMES or max(h, w) > MAX_GRID_SIDE or min(h, w) < config.model.image_size:
        raise ReplayError(f"frames have shape {frames.shape}: not a grid of the recipe's "
                          f"{config.model.image_size}-pixel images")
    if len(steps) != f:
        raise ReplayError(f"{f} frames but {len(steps)} frame steps")
    if (steps < 0).any() or (np.diff(steps) < 0).any():
        raise ReplayError("the frame steps must be non-negative and in order")


def bundled_replays(folder: str | os.PathLike) -> list[Path]:
    """The recordings in a folder (`*.npz`), by name."""
    return sorted(Path(folder).glob("*.npz"))
