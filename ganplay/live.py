"""Live training runs: a Trainer on a worker thread, steered by events, watched through snapshots.

    registry = RunRegistry(max_running=2)
    run = registry.create(config, dataset, max_steps=2000)   # raises ServerBusy past the cap
    run.start(); run.pause(); run.resume(); run.step_once(); run.stop()
    snap = run.snapshot()          # a consistent copy: state, metrics history, the latest sample grid ...
    run.heartbeat()                # the page calls this while someone watches

    run = registry.create(ring_cfg, TOYS["ring8"], compare=[minimax_cfg])   # side by side: lanes on one worker
    run.step_once("d")                                                       # one D update alone ("g": one G)
    snap.lanes[1].view                                                       # a PlaneView / LineView per lane

The worker never touches any UI. It publishes a lock-protected snapshot (bounded metric history, the current
grid as uint8, a thinned timeline of earlier grids; for point data the Toy lab's view of the game and the
mode / JSD probes). A run trains one or more *lanes* — the same data and seed under different recipes — one
step each in turn, so side-by-side panels advance together. A watchdog pauses a run nobody has watched for
`idle_pause_s` and stops it after `idle_stop_s`, freeing its models, so closed tabs do not train forever.
"""
from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import numpy as np
import torch

from ganplay.checkpoint import checkpoint_bytes
from ganplay.config import ConfigError, RunConfig
from ganplay.images import gif_bytes, make_grid
from ganplay.toy.modes import mode_metrics
from ganplay.toy.view import EVAL_SAMPLES, line_view, plane_view
from ganplay.trainer import StepMetrics, Trainer, TrainingDiverged

METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm")
PROBES = ("modes", "high_quality", "reverse_kl", "jsd")   # point data: measured at each redraw (NaN: not defined)
PARTS = ("both", "d", "g")
MAX_LANES = 4
REAL_DOTS = (450, 2000)      # real samples drawn for 2-D / 1-D data (GAN Lab draws 450), from a fixed seed
REAL_SEED = 12345
READY, RUNNING, PAUSED, FINISHED, STOPPED, DIVERGED, FAILED = (
    "ready", "running", "paused", "finished", "stopped", "diverged", "failed")
ENDED = (FINISHED, STOPPED, DIVERGED, FAILED)


class ServerBusy(RuntimeError):
    """Too many runs are training at once on this server."""


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
        self.frames: list[tuple[int, np.ndarray]] = []
        self.message = ""
        if self.points:
            dim = config.model.data_shape[0]
            self.real = dataset.sample(REAL_DOTS[dim == 1], torch.Generator().manual_seed(REAL_SEED)).numpy()
            self.eval_z = self.trainer.noise(EVAL_SAMPLES, torch.Generator().manual_seed(config.train.seed + 2))
        self.view, self.view_step = self.render(), 0

    @property
    def alive(self) -> bool:
        return self.trainer is not None and not self.message

    def render(self):
        """What the page draws now: the sample grid, or the game on the plane / the line (with its probes)."""
        t = self.trainer
        if not self.points:
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
            view = line_view(t, self.dataset, self.real, self.eval_z)
            jsd = view.jsd
        else:
            view, jsd = None, float("nan")
        nan = float("nan")
        self.probes.add(t.step_count, {
            "modes": modes.captured if modes else nan, "high_quality": modes.high_quality if modes else nan,
            "reverse_kl": modes.reverse_kl if modes else nan, "jsd": jsd})
        return view

    def snapshot(self) -> LaneSnapshot:
        return LaneSnapshot(self.name, self.config, self.history.copy(), self.probes.copy(), self.view,
                            self.view_step, self.message)


def preview_view(config: RunConfig, dataset):
    """What a new run of `config` would draw first (the untrained game), without starting anything."""
    return Lane(config, dataset, "cpu", 1).view


class TrainingRun:
    def __init__(self, config: RunConfig, dataset, *, max_steps: int | None = None,
                 threads: int = 1, grid_every_s: float = 1.0, max_points: int = 2000, max_frames: int = 60,
                 idle_pause_s: float = 300.0, idle_stop_s: float = 900.0, device: str | None = "cpu",
                 compare: list[RunConfig] | tuple[RunConfig, ...] = ()):
        """`compare`: more recipes trained beside `config` on the same data, step for step (side by side)."""
        self.id = uuid.uuid4().hex[:12]
        self.config = config
        if len(compare) > MAX_LANES - 1:
            raise ConfigError(f"side by side takes at most {MAX_LANES} recipes, got {1 + len(compare)}")
        self.lanes = [Lane(c, dataset, device, max_points) for c in (config, *compare)]
        self.max_steps = max_steps
        self.threads, self.grid_every_s = threads, grid_every_s
        self.max_frames = max_frames
        self.idle_pause_s, self.idle_stop_s = idle_pause_s, idle_stop_s
        self._lock = threading.Lock()          # guards everything the snapshot reads
        self._model_lock = threading.Lock()    # held while the worker steps; exporters take it too
        self._go = threading.Event()           # set: keep stepping
        self._stop = threading.Event()
        self._one_step = threading.Event()
        self._stepped = threading.Event()      # set when a single step has been published
        self._one_part = "both"
        self._pending: dict = {}
        self._thread: threading.Thread | None = None
        self._state, self._message = READY, ""
        self._recent: list[tuple[float, int]] = []   # (time, step) for the speed estimate
        self.last_seen = time.monotonic()
        self.ended_at: float | None = None

    @property
    def trainer(self) -> Trainer | None:
        """The first lane's trainer (the only one, unless side by side); None once the run is freed."""
        return self.lanes[0].trainer

    # -- control (called from UI callbacks; they only flip events) -------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._state in ENDED:
                return
            self._ensure_worker()
            self._state = RUNNING
        self._go.set()

    resume = start

    def pause(self) -> None:
        self._go.clear()
        with self._lock:
            if self._state == RUNNING:
                self._state = PAUSED

    def step_once(self, part: str = "both", wait_s: float = 0.0) -> None:
        """Advance while paused (starts the worker if needed, without running on): one iteration ("both"),
        one D update alone ("d") or one G update alone ("g"). With `wait_s`, return once the step is published
        (or after wait_s seconds), so a page redrawn next shows it."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        with self._lock:
            if self._state in ENDED or self._state == RUNNING:
                return
            self._ensure_worker()
            self._state = PAUSED
            self._one_part = part
            self._stepped.clear()
        self._one_step.set()
        if wait_s:
            self._stepped.wait(wait_s)

    def _ensure_worker(self) -> None:
        # called with self._lock held
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=f"ganplay-run-{self.id}", daemon=True)
            self._thread.start()

    def stop(self, reason: str = "Stopped.") -> None:
        self._end(STOPPED, reason)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def heartbeat(self) -> None:
        self.last_seen = time.monotonic()

    def set_hyperparameters(self, **changes) -> None:
        """lr_g, lr_d, d_steps, g_steps: applied to every lane by the worker before its next step."""
        with self._lock:
            self._pending.update({k: v for k, v in changes.items() if v is not None})
        if self._thread is None and self.trainer is not None:   # not started: apply now
            with self._model_lock:
                self._apply_pending()

    @property
    def state(self) -> str:
        return self._state

    @property
    def alive(self) -> bool:
        return self._state not in ENDED

    # -- worker ----------------------------------------------------------------------------------------------
    def _work(self) -> None:
        torch.set_num_threads(self.threads)   # this thread's pool only
        last_view = 0.0
        try:
            while not self._stop.is_set():
                if self._watchdog():
                    break
                single = self._one_step.is_set()
                if not (self._go.is_set() or single):
                    self._go.wait(0.1)
                    continue
                part = self._one_part if single else "both"
                with self._model_lock:
                    if self.trainer is None:
                        break
                    self._apply_pending()
                    results = [self._step_lane(lane, part) for lane in self.lanes]
                    now = time.monotonic()
                    step = self.trainer.step_count
                    done = self.max_steps is not None and step >= self.max_steps
                    redraw = single or done or now - last_view >= self.grid_every_s
                    views = [lane.render() if lane.trainer is not None else lane.view for lane in self.lanes] \
                        if redraw else None
                    if redraw:
                        last_view = now
                self._one_step.clear()
                self._publish(results, views, step, now, counted=part == "both")
                if single:
                    self._stepped.set()
                if not any(lane.alive for lane in self.lanes):
                    self._end(DIVERGED, self.lanes[0].message or next(l.message for l in self.lanes if l.message))
                elif done:
                    self._end(FINISHED, f"Finished {step} steps.")
        except Exception as err:  # noqa: BLE001 - a worker must report, not vanish
            self._end(FAILED, f"The run failed: {type(err).__name__}: {err}")

    def _step_lane(self, lane: Lane, part: str) -> StepMetrics | None:
        """One step of one lane; a lane that diverges keeps its last picture and stops, the others go on."""
        if not lane.alive:
            return None
        t = lane.trainer
        try:
            return t.step() if part == "both" else (t.train_d() if part == "d" else t.train_g())
        except TrainingDiverged as err:
            lane.message = str(err)
            lane.view = lane.render()
            return None

    def _watchdog(self) -> bool:
        idle = time.monotonic() - self.last_seen
        if idle > self.idle_stop_s:
            self._end(STOPPED, "Stopped: nobody watched this run for a while.", free=True)
            return True
        if idle > self.idle_pause_s and self._go.is_set():
            self.pause()
            with self._lock:
                self._message = "Paused: nobody is watching. Press Resume to go on."
        return False

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            for lane in self.lanes:
                if lane.trainer is not None:
                    lane.trainer.set_hyperparameters(**pending)

    def _publish(self, results: list[StepMetrics | None], views: list | None, step: int, now: float,
                 counted: bool) -> None:
        with self._lock:
            for i, (lane, metrics) in enumerate(zip(self.lanes, results)):
                if metrics is not None and counted:
                    lane.history.add(metrics.step, metrics.to_dict())
                if views is not None:
                    lane.view, lane.view_step = views[i], lane.trainer.step_count if lane.trainer else step
                    if not lane.points and (metrics is not None or not lane.frames):
                        self._add_frame(lane, lane.view_step, lane.view)
            self._recent.append((now, step))
            self._recent = [(t, s) for t, s in self._recent if now - t <= 3.0]

    def _add_frame(self, lane: Lane, step: int, grid: np.ndarray) -> None:
        # Thin the timeline by halves so it always spans the whole run in at most max_frames frames.
        lane.frames.append((step, grid))
        if len(lane.frames) > self.max_frames:
            lane.frames = lane.frames[::2]

    def _end(self, state: str, message: str, free: bool = False) -> None:
        with self._lock:
            if self._state in ENDED:
                return
            self._state, self._message = state, message
            self.ended_at = time.monotonic()
        self._stop.set()
        self._stepped.set()          # nobody waits for a step that will not come
        self._go.set()               # wake a waiting worker so it sees the stop
        if free:
            self.free()

    def free(self) -> None:
        """Drop the models and data (a run nobody will come back to)."""
        with self._model_lock:
            for lane in self.lanes:
                lane.trainer = None

    # -- reading ---------------------------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        with self._lock:
            recent = self._recent
            speed = ((recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
                     if len(recent) > 1 and recent[-1][0] > recent[0][0] else 0.0)
            trainer, first = self.trainer, self.lanes[0]
            lanes = [lane.snapshot() for lane in self.lanes]
            return RunSnapshot(
                run_id=self.id, state=self._state, step=trainer.step_count if trainer else first.view_step,
                max_steps=self.max_steps, seconds=sum(l.trainer.seconds for l in self.lanes if l.trainer),
                steps_per_second=speed if self._state == RUNNING else 0.0,
                history=lanes[0].history, grid=None if first.points else first.view, grid_step=first.view_step,
                timeline_steps=[s for s, _ in first.frames], message=self._message, config=self.config,
                lanes=lanes)

    def frame(self, index: int) -> tuple[int, np.ndarray]:
        with self._lock:
            return self.lanes[0].frames[index]

    def checkpoint(self, lane: int = 0) -> bytes:
        """One lane as a ganplay checkpoint (same format as pretrained/), consistent between steps."""
        with self._model_lock:
            t = self.lanes[lane].trainer
            if t is None:
                raise RuntimeError("this run's models were freed")
            return checkpoint_bytes(t.config, t.generator, t.discriminator, t.record())

    def timeline_gif(self, duration_ms: int = 250) -> bytes:
        with self._lock:
            first = self.lanes[0]
            frames = [g for _, g in first.frames] or [first.view]
        return gif_bytes(frames, duration_ms)


class RunRegistry:
    """Process-wide list of runs with a cap on how many train at once."""

    def __init__(self, max_running: int | None = None, forget_after_s: float = 600.0):
        # Server settings come from the environment: GANPLAY_MAX_RUNS (default 2), and the watchdog's
        # GANPLAY_IDLE_PAUSE_S / GANPLAY_IDLE_STOP_S (defaults 300 s / 900 s: hidden tabs throttle timers).
        self.max_running = max_running or int(os.environ.get("GANPLAY_MAX_RUNS", "2"))
        self.forget_after_s = forget_after_s
        self.idle_pause_s = float(os.environ.get("GANPLAY_IDLE_PAUSE_S", "300"))
        self.idle_stop_s = float(os.environ.get("GANPLAY_IDLE_STOP_S", "900"))
        self._runs: dict[str, TrainingRun] = {}
        self._lock = threading.Lock()

    def create(self, config: RunConfig, dataset, **kwargs) -> TrainingRun:
        with self._lock:
            self._prune()
            busy = sum(r.alive for r in self._runs.values())
            if busy >= self.max_running:
                raise ServerBusy(f"The server is busy: {busy} training run{'s' if busy > 1 else ''} already "
                                 f"going (the limit is {self.max_running}). Try again when one stops.")
            kwargs.setdefault("threads", self.threads_per_run)
            kwargs.setdefault("idle_pause_s", self.idle_pause_s)
            kwargs.setdefault("idle_stop_s", self.idle_stop_s)
            run = TrainingRun(config, dataset, **kwargs)
            self._runs[run.id] = run
            return run

    @property
    def threads_per_run(self) -> int:
        """Torch threads per run so that all runs at the cap together use the cores, no more (contended
        thread pools collapse)."""
        return max(1, (os.cpu_count() or 2) // self.max_running)

    def get(self, run_id: str | None) -> TrainingRun | None:
        with self._lock:
            return self._runs.get(run_id) if run_id else None

    def discard(self, run_id: str) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is not None:
            run.stop()
            run.free()

    def running(self) -> int:
        with self._lock:
            return sum(r.alive for r in self._runs.values())

    def _prune(self) -> None:
        now = time.monotonic()
        for run in self._runs.values():
            if run.alive and now - run.last_seen > run.idle_stop_s:   # e.g. created, never started, tab gone
                run._end(STOPPED, "Stopped: nobody watched this run for a while.", free=True)
        for run_id, run in list(self._runs.items()):
            if not run.alive and run.ended_at is not None and now - run.ended_at > self.forget_after_s:
                run.free()
                del self._runs[run_id]

    def stop_all(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop()
        for run in runs:
            run.join(5.0)
