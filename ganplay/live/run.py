"""A live training run: lanes (one Trainer each) stepped in turn on a worker thread, steered by controls that
flip its state under one condition variable, watched through snapshots. See `ganplay.live` for the whole picture.

Every timing decision (the watchdog, the redraw cadence, the speed estimate) reads the run's `clock`, so a test
can drive time by hand. Callers that must see the worker act block on `wait_until` / `wait_idle` / `step_once(
wait_s=...)`, which the worker wakes, rather than sleeping and hoping it was long enough.
"""
from __future__ import annotations

import hmac
import os
import threading
import time
import uuid
from collections import deque
from typing import Callable

import numpy as np
import torch

from ganplay.checkpoint import Checkpoint, trainer_checkpoint_bytes
from ganplay.config import ConfigError, RunConfig
from ganplay.images import gif_bytes, make_grid
from ganplay.live.lane import REAL_SEED, Lane
from ganplay.live.painter import Painter
from ganplay.losses import LOSSES
from ganplay.live.snapshot import (DIVERGED, ENDED, FAILED, FINISHED, IDLE_STOPPED, MAX_LANES, PARTS, PAUSED,
                                   READY, RUNNING, STOPPED, RunSnapshot)
from ganplay.live.worker import WATCH_EVERY_S, RunWorker
from ganplay.resume import restore_training_state
from ganplay.trainer import LIVE_DEVICE, Trainer

__all__ = ["DIVERGED", "ENDED", "FAILED", "FINISHED", "IDLE_STOPPED", "MAX_LANES", "PARTS", "PAUSED", "READY", "RUNNING", "STOPPED",
           "WATCH_EVERY_S", "RunSnapshot", "TrainingRun"]

REAL_GRID = 16          # training images shown beside the samples
GIF_WIDTH = 480         # px: the exported GIF's frames are enlarged to at least this width


class TrainingRun(RunWorker):
    def __init__(self, config: RunConfig, dataset, *, max_steps: int | None = None,
                 threads: int | Callable[["TrainingRun"], int] = 1, grid_every_s: float = 1.0, max_points: int = 2000, max_frames: int = 60,
                 idle_pause_s: float = 300.0, idle_stop_s: float = 900.0, device: str | torch.device | None = LIVE_DEVICE,
                 compare: list[RunConfig] | tuple[RunConfig, ...] = (),
                 clock: Callable[[], float] = time.monotonic, resume: Checkpoint | None = None,
                 owner: str | None = None, cpus: Callable[["TrainingRun"], frozenset[int] | None] | None = None,
                 paint_aside: bool = False):
        """`compare`: more recipes trained beside `config` on the same data, step for step (side by side).
        `threads`: torch threads for the worker, or a function of the run asked before every step (the
        registry's share of the cores); `applied_threads` is what the worker last set. `cpus`: a function of the
        run, asked before every step, giving the CPUs its worker thread is held on (None: any; the registry's
        cpus_for); `applied_cpus` is what the worker last set. `paint_aside`: image lanes' pictures and digit
        probes are made on a thread of their own (ganplay.live.painter), off the training thread. `resume`: a checkpoint
        with a training state (its config is `config`) that the run continues from, at its step; CheckpointError
        (a ValueError) when it carries none.
        `clock` times every decision the run makes (watchdog, redraw cadence, speed); tests drive a fake one.
        `owner`: a secret of the session that started the run (`owned_by`); the run's id alone, shared in a link,
        only lets others watch."""
        self.id = uuid.uuid4().hex[:12]
        self._owner = owner
        self.config = config
        if len(compare) > MAX_LANES - 1:
            raise ConfigError(f"side by side takes at most {MAX_LANES} recipes, got {1 + len(compare)}")
        self.lanes = [Lane(c, dataset, device, max_points) for c in (config, *compare)]
        first = self.lanes[0]
        if resume is not None:     # weights, optimisers, random state and step counters, as Trainer.from_checkpoint
            restore_training_state(first.trainer, resume)
            first.view, first.view_step = first.render(), first.trainer.step_count
        self.real_grid = None if first.points else make_grid(      # (H, W) uint8: 16 fixed training images
            first.trainer.source.batch(REAL_GRID, torch.Generator().manual_seed(REAL_SEED))[0], nrow=4)
        self.max_steps = max_steps
        self.threads, self.grid_every_s = threads, grid_every_s
        self.applied_threads: int | None = None     # set by the worker before a step
        self.cpus, self.applied_cpus = cpus, None
        if paint_aside and not any(lane.points for lane in self.lanes):
            self.painter = Painter(self, os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None)
        self.max_frames = max_frames
        self.idle_pause_s, self.idle_stop_s = idle_pause_s, idle_stop_s
        self.clock = clock
        self._lock = threading.Lock()          # guards everything the snapshot reads and the control fields
        self._changed = threading.Condition(self._lock)   # notified whenever the worker or a control acts
        self._version = 0                      # bumped with every notify, so waiters never miss a change
        self._model_lock = threading.Lock()    # held while the worker steps; exporters take it too
        self._requests: deque[str] = deque()   # single steps asked for while paused, oldest first
        self._asked = self._served = 0         # single steps asked for / published, in order
        self._parks = 0                        # times the worker found nothing to do and went back to waiting
        self._idle = True                      # the worker is waiting with nothing to do (or not started)
        self._exited = False
        self._stale = False                    # trained since the last redraw (worker only)
        self._pending: dict = {}
        self._thread: threading.Thread | None = None
        self._state, self._message = READY, ""
        self._since = clock()                  # when the state last changed, on the run's clock
        self._recent: list[tuple[float, int]] = []   # (time, step) for the speed estimate
        self.last_seen = clock()
        self.ended_at: float | None = None

    def owned_by(self, token: str | None) -> bool:
        """Whether `token` is the secret of the session that started this run (constant-time comparison)."""
        return bool(token) and self._owner is not None and hmac.compare_digest(self._owner, token)

    def claim(self, token: str) -> bool:
        """Record `token` as the owner of a run made without one (e.g. continued from a checkpoint by the
        session that holds its id); True when `token` owns the run afterwards."""
        with self._lock:
            if self._owner is None:
                self._owner = token
        return self.owned_by(token)

    @property
    def trainer(self) -> Trainer | None:
        """The first lane's trainer (the only one, unless side by side); None once the run is freed."""
        return self.lanes[0].trainer

    # -- control (called from UI callbacks; they only flip state and wake the worker) -------------------------
    def start(self) -> None:
        with self._changed:
            if self._state in ENDED:
                return
            self._ensure_worker()
            self._set_state(RUNNING, "")       # a watchdog's "nobody is watching" no longer holds
            self._idle = False
            self.last_seen = self.clock()      # pressing a button is watching
            self._notify()

    resume = start

    def pause(self) -> None:
        with self._changed:
            if self._state == RUNNING:
                self._set_state(PAUSED)
                self._notify()

    def step_once(self, part: str = "both", wait_s: float | None = 0.0) -> bool:
        """Advance while paused (starts the worker if needed, without running on): one iteration ("both"),
        one D update alone ("d") or one G update alone ("g"). With `wait_s`, return once the step is published
        (or after wait_s seconds; None: however long it takes), so a page redrawn next shows it. Each call asks
        for one more step. True when this step has been published."""
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}, got {part!r}")
        with self._changed:
            if self._state in ENDED or self._state == RUNNING:
                return False
            self._ensure_worker()
            self._set_state(PAUSED)
            self._idle = False
            self.last_seen = self.clock()
            self._requests.append(part)
            self._asked += 1
            ticket = self._asked
            self._notify()
            if wait_s != 0.0:
                self._changed.wait_for(lambda: self._served >= ticket or self._state in ENDED, wait_s)
            return self._served >= ticket

    def _ensure_worker(self) -> None:
        # called with self._lock held
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name=f"ganplay-run-{self.id}", daemon=True)
            self._thread.start()

    def stop(self, reason: str = "Stopped.", wait_s: float = 0.0) -> None:
        """End the run. With `wait_s`, return once the worker has drawn its last picture and exited (or after
        wait_s seconds), so a page redrawn next shows the grid at the step the run stopped at."""
        self._end(STOPPED, reason)
        if wait_s and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait_s)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def heartbeat(self) -> None:
        self.last_seen = self.clock()

    def set_hyperparameters(self, **changes) -> None:
        """lr_g, lr_d, d_steps, g_steps, loss: applied to every lane by the worker before its next step. A loss
        name no registry has is refused here (ConfigError), before the worker could trip on it."""
        loss = changes.get("loss")
        if loss is not None and loss not in LOSSES:
            raise ConfigError(f"train.loss: {LOSSES.unknown(loss)}")
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

    @property
    def training(self) -> bool:
        """Running, or about to take single steps: it needs cores now."""
        return self._state == RUNNING or bool(self._requests)

    @property
    def steps_pending(self) -> int:
        """Single steps asked for and not yet published (0 once the run ended: they will never come)."""
        with self._lock:
            return self._steps_pending()

    def _steps_pending(self) -> int:
        # called with self._lock held
        return 0 if self._state in ENDED else self._asked - self._served

    # -- waiting (what a test, or a caller that must see a step land, blocks on instead of sleeping) ----------
    def wait_until(self, predicate: Callable[[RunSnapshot], bool], timeout: float = 60.0) -> bool:
        """Block until `predicate(snapshot)` holds, re-checked whenever the run changes. False after `timeout`
        real seconds, or once the worker has exited and the predicate still fails."""
        deadline = time.monotonic() + timeout    # the caller's patience: real time, whatever the run's clock
        while True:
            with self._changed:
                seen, exited = self._version, self._exited
            if predicate(self.snapshot(with_history=False)):
                return True
            with self._changed:
                remaining = deadline - time.monotonic()
                if exited or remaining <= 0:
                    return False
                self._changed.wait_for(lambda: self._version != seen, remaining)

    def wait_idle(self, timeout: float = 60.0, passes: int = 1) -> bool:
        """Block until the worker has `passes` more times found nothing to do (not running, no step asked for,
        its picture up to date) and gone back to waiting: its acknowledgement that a pause took hold. An ended
        run: until its worker exited. True at once for a run never started; False after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            target = self._parks + passes
            self._changed.wait_for(lambda: self._parks >= target or self._state in ENDED or self._thread is None,
                                   timeout)
            if self._state not in ENDED:
                return self._parks >= target or self._thread is None
        self.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive()

    def _set_state(self, state: str, message: str | None = None) -> None:
        # called with self._lock held
        if state != self._state:
            self._state, self._since = state, self.clock()
        if message is not None:
            self._message = message

    def _notify(self) -> None:
        # called with self._lock held
        self._version += 1
        self._changed.notify_all()


    def _end(self, state: str, message: str, free: bool = False) -> None:
        with self._changed:
            if self._state in ENDED:
                return
            self._set_state(state, message)
            self.ended_at = self.clock()
            self._notify()           # wakes the worker, and whoever waits for a step that will not come
        if free:
            self.free()

    def free(self) -> None:
        """Drop the models and data (a run nobody will come back to); what the page shows of it stays."""
        with self._model_lock:
            with self._lock:                   # a snapshot sees every lane freed, or none
                for lane in self.lanes:
                    lane.free()
            if self.painter is not None:
                self.painter.forget()

    # -- reading ---------------------------------------------------------------------------------------------
    def snapshot(self, with_history: bool = True) -> RunSnapshot:
        """A consistent copy of the run's state; without history, only the last lane.RECENT_ROWS metric rows."""
        with self._lock:
            recent = self._recent
            speed = ((recent[-1][1] - recent[0][1]) / (recent[-1][0] - recent[0][0])
                     if len(recent) > 1 and recent[-1][0] > recent[0][0] else 0.0)
            first = self.lanes[0]
            lanes = [lane.snapshot(with_history) for lane in self.lanes]
            return RunSnapshot(
                run_id=self.id, state=self._state, step=first.step,
                max_steps=self.max_steps, seconds=sum(lane.seconds for lane in self.lanes),
                steps_per_second=speed if self._state == RUNNING else 0.0,
                history=lanes[0].history, grid=None if first.points else first.view, grid_step=first.view_step,
                timeline_steps=[s for s, _ in first.frames], message=self._message, config=self.config,
                lanes=lanes, freed=first.trainer is None,
                steps_pending=self._steps_pending(), idle=self._idle,
                state_seconds=self.clock() - self._since, real_grid=self.real_grid, coverage=lanes[0].coverage,
                coverage_refusal=lanes[0].coverage_refusal, learning_rates=lanes[0].learning_rates,
                d_outputs=lanes[0].d_outputs)

    def frame(self, index: int) -> tuple[int, np.ndarray]:
        with self._lock:
            return self.lanes[0].frames[index]

    def checkpoint(self, lane: int = 0) -> bytes:
        """One lane as a ganplay checkpoint (same format as pretrained/, resumable with `train --resume`),
        consistent between steps."""
        with self._model_lock:
            t = self.lanes[lane].trainer
            if t is None:
                raise RuntimeError("this run's models were freed")
            return trainer_checkpoint_bytes(t)

    def samples_csv(self, lane: int = 0) -> bytes:
        """A point lane's generator samples on its fixed evaluation noise (2,500 points) as CSV: x,y or x."""
        from ganplay.toy import to_csv

        with self._model_lock:
            chosen = self.lanes[lane]
            if chosen.trainer is None or not chosen.points:
                raise RuntimeError("no point samples: the models were freed, or this lane makes images")
            return to_csv(chosen.trainer.sample(chosen.eval_z).numpy()).encode()

    def timeline_gif(self, duration_ms: int = 250, min_width: int = GIF_WIDTH) -> bytes:
        """The timeline of sample grids as a GIF big enough for a slide, each frame labelled with its step."""
        with self._lock:
            first = self.lanes[0]
            frames = first.frames or [(first.view_step, first.view)]
        return gif_bytes([g for _, g in frames], duration_ms, labels=[f"step {s:,}" for s, _ in frames],
                         min_width=min_width)
