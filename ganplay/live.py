"""Live training runs: a Trainer on a worker thread, steered by events, watched through snapshots.

    registry = RunRegistry(max_running=2)
    run = registry.create(config, dataset, max_steps=2000)   # raises ServerBusy past the cap
    run.start(); run.pause(); run.resume(); run.step_once(); run.stop()
    snap = run.snapshot()          # a consistent copy: state, metrics history, the latest sample grid ...
    run.heartbeat()                # the page calls this while someone watches

The worker never touches any UI. It publishes a lock-protected snapshot (bounded metric history, the current
grid as uint8, a thinned timeline of earlier grids). A watchdog pauses a run nobody has watched for
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
from ganplay.config import RunConfig
from ganplay.data import ImageDataset
from ganplay.images import gif_bytes, make_grid
from ganplay.trainer import StepMetrics, Trainer, TrainingDiverged

METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm")
READY, RUNNING, PAUSED, FINISHED, STOPPED, DIVERGED, FAILED = (
    "ready", "running", "paused", "finished", "stopped", "diverged", "failed")
ENDED = (FINISHED, STOPPED, DIVERGED, FAILED)


class ServerBusy(RuntimeError):
    """Too many runs are training at once on this server."""


@dataclass
class RunSnapshot:
    run_id: str
    state: str
    step: int
    max_steps: int | None
    seconds: float                       # training time (pauses excluded)
    steps_per_second: float              # over the last few seconds
    history: dict[str, list[float]]      # "step" and each of METRICS, thinned to a bounded length
    grid: np.ndarray | None              # latest sample grid from the fixed noise, uint8
    grid_step: int
    timeline_steps: list[int] = field(default_factory=list)
    message: str = ""
    config: RunConfig | None = None


class TrainingRun:
    def __init__(self, config: RunConfig, dataset: ImageDataset, *, max_steps: int | None = None,
                 threads: int = 1, grid_every_s: float = 1.0, max_points: int = 2000, max_frames: int = 60,
                 idle_pause_s: float = 300.0, idle_stop_s: float = 900.0, device: str | None = "cpu"):
        self.id = uuid.uuid4().hex[:12]
        self.config = config
        self.trainer: Trainer | None = Trainer(config, dataset, device=device)   # validates the config
        self.max_steps = max_steps
        self.threads, self.grid_every_s = threads, grid_every_s
        self.max_points, self.max_frames = max_points, max_frames
        self.idle_pause_s, self.idle_stop_s = idle_pause_s, idle_stop_s
        self._lock = threading.Lock()          # guards everything the snapshot reads
        self._model_lock = threading.Lock()    # held while the worker steps; exporters take it too
        self._go = threading.Event()           # set: keep stepping
        self._stop = threading.Event()
        self._one_step = threading.Event()
        self._pending: dict = {}
        self._thread: threading.Thread | None = None
        self._state, self._message = READY, ""
        self._history: dict[str, list[float]] = {k: [] for k in ("step",) + METRICS}
        self._stride = 1                        # keep every `stride`-th step in the history
        self._frames: list[tuple[int, np.ndarray]] = []
        self._frame_stride = 1
        self._grid, self._grid_step = self._sample_grid(), 0
        self._recent: list[tuple[float, int]] = []   # (time, step) for the speed estimate
        self.last_seen = time.monotonic()
        self.ended_at: float | None = None

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

    def step_once(self) -> None:
        """Advance one step while paused (starts the worker if needed, without running on)."""
        with self._lock:
            if self._state in ENDED or self._state == RUNNING:
                return
            self._ensure_worker()
            self._state = PAUSED
        self._one_step.set()

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
        """lr_g, lr_d, d_steps: applied by the worker before its next step, without a restart."""
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
        last_grid = 0.0
        try:
            while not self._stop.is_set():
                if self._watchdog():
                    break
                single = self._one_step.is_set()
                if not (self._go.is_set() or single):
                    self._go.wait(0.1)
                    continue
                with self._model_lock:
                    if self.trainer is None:
                        break
                    self._apply_pending()
                    metrics = self.trainer.step()
                    now = time.monotonic()
                    grid = None
                    done = self.max_steps is not None and metrics.step >= self.max_steps
                    if single or done or now - last_grid >= self.grid_every_s:
                        grid, last_grid = self._sample_grid(), now
                self._one_step.clear()
                self._publish(metrics, grid, now)
                if done:
                    self._end(FINISHED, f"Finished {metrics.step} steps.")
        except TrainingDiverged as err:
            with self._model_lock:
                grid = self._sample_grid()
            with self._lock:
                self._grid = grid
            self._end(DIVERGED, str(err))
        except Exception as err:  # noqa: BLE001 - a worker must report, not vanish
            self._end(FAILED, f"The run failed: {type(err).__name__}: {err}")

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
        if pending and self.trainer is not None:
            self.trainer.set_hyperparameters(**pending)

    def _sample_grid(self) -> np.ndarray:
        return make_grid(self.trainer.sample(), nrow=8)

    def _publish(self, metrics: StepMetrics, grid: np.ndarray | None, now: float) -> None:
        with self._lock:
            if metrics.step % self._stride == 0:
                for key in self._history:
                    self._history[key].append(float(getattr(metrics, key)))
                if len(self._history["step"]) > self.max_points:
                    self._stride *= 2
                    self._history = {k: [v for s, v in zip(self._history["step"], vals) if s % self._stride == 0]
                                     for k, vals in self._history.items()}
            self._recent.append((now, metrics.step))
            self._recent = [(t, s) for t, s in self._recent if now - t <= 3.0]
            if grid is not None:
                self._grid, self._grid_step = grid, metrics.step
                self._add_frame(metrics.step, grid)

    def _add_frame(self, step: int, grid: np.ndarray) -> None:
        # Thin the timeline by halves so it always spans the whole run in at most max_frames frames.
        self._frames.append((step, grid))
        if len(self._frames) > self.max_frames:
            self._frames = self._frames[::2]

    def _end(self, state: str, message: str, free: bool = False) -> None:
        with self._lock:
            if self._state in ENDED:
                return
            self._state, self._message = state, message
            self.ended_at = time.monotonic()
        self._stop.set()
        self._go.set()               # wake a waiting worker so it sees the stop
        if free:
            self.free()

    def free(self) -> None:
        """Drop the models and data (a run nobody will come back to)."""
        with self._model_lock:
            self.trainer = None

    # -- reading ---------------------------------------------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        with self._lock:
            recent = self._recent
            speed = ((recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
                     if len(recent) > 1 and recent[-1][0] > recent[0][0] else 0.0)
            trainer = self.trainer
            return RunSnapshot(
                run_id=self.id, state=self._state, step=trainer.step_count if trainer else self._grid_step,
                max_steps=self.max_steps, seconds=trainer.seconds if trainer else 0.0,
                steps_per_second=speed if self._state == RUNNING else 0.0,
                history={k: list(v) for k, v in self._history.items()},
                grid=self._grid, grid_step=self._grid_step,
                timeline_steps=[s for s, _ in self._frames], message=self._message, config=self.config)

    def frame(self, index: int) -> tuple[int, np.ndarray]:
        with self._lock:
            return self._frames[index]

    def checkpoint(self) -> bytes:
        """The run as a ganplay checkpoint (same format as pretrained/), consistent between steps."""
        with self._model_lock:
            if self.trainer is None:
                raise RuntimeError("this run's models were freed")
            t = self.trainer
            return checkpoint_bytes(t.config, t.generator, t.discriminator, t.record())

    def timeline_gif(self, duration_ms: int = 250) -> bytes:
        with self._lock:
            frames = [g for _, g in self._frames] or [self._grid]
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

    def create(self, config: RunConfig, dataset: ImageDataset, **kwargs) -> TrainingRun:
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
