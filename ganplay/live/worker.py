"""The worker side of a live run: the loop on the run's thread that steps every lane, redraws, publishes what
it did under the run's condition variable, and watches for a run nobody watches.

`RunWorker` is the part of `TrainingRun` that only its thread calls; the fields it uses (lanes, the locks,
the request queue, the clock) are set up in `TrainingRun.__init__`.
"""
from __future__ import annotations

import math
import os

import numpy as np
import torch

from ganplay.live.lane import Lane
from ganplay.live.painter import Painter
from ganplay.live.snapshot import DIVERGED, ENDED, FAILED, FINISHED, IDLE_STOPPED, PAUSED, RUNNING, STOPPED
from ganplay.trainer import StepMetrics, TrainingDiverged

WATCH_EVERY_S = 0.1     # real seconds a waiting worker sleeps between looks at the clock (for the watchdog)


class RunWorker:
    _free_cpus: set[int] | None = None              # the worker thread's CPUs before it was first held on one
    painter: Painter | None = None                  # draws the image lanes off the training thread, if set

    def _work(self) -> None:
        last_view = -math.inf
        try:
            while not self._watchdog():
                with self._changed:
                    if self._state in ENDED:
                        break
                    single = bool(self._requests)
                    part = self._requests[0] if single else ("both" if self._state == RUNNING else None)
                    if part is None and not self._stale:
                        self._parks += 1
                        self._idle = True
                        self._notify()
                        self._changed.wait(WATCH_EVERY_S)    # woken by the controls; the timeout lets the
                        continue                             # watchdog read the clock
                    self._idle = False
                if part is None:                             # paused between redraws: show where it stopped
                    self._redraw()
                    continue
                self._apply_threads()
                with self._model_lock:
                    if self.trainer is None:
                        break
                    self._apply_pending()
                    results = [self._step_lane(lane, part) for lane in self.lanes]
                    now = self.clock()
                    step = self.trainer.step_count
                    done = self.max_steps is not None and step >= self.max_steps
                    views = None
                    if self.painter is not None and not (single or done):    # drawn aside, off this thread
                        if self._offer_painter(now - last_view >= self.grid_every_s):
                            last_view = now
                        self._stale = True           # a pause or stop draws the step it stopped at itself
                    else:
                        for lane in self.lanes:      # every few seconds or steps, not every step
                            if lane.alive:
                                lane.coverage.maybe_measure(lane.trainer, self._lock)
                        redraw = single or done or now - last_view >= self.grid_every_s
                        views = self._render_all() if redraw else None
                        if redraw:
                            last_view = now
                        self._stale = not redraw
                self._publish(results, views, step, now, counted=part == "both", single=single)
                if not any(lane.alive for lane in self.lanes):
                    self._end(DIVERGED, self.lanes[0].message or next(l.message for l in self.lanes if l.message))
                elif done:
                    self._end(FINISHED, f"Finished {step} steps.")
            if self._stale:                  # stopped between redraws: the picture shows the step it stopped at
                self._redraw()
        except Exception as err:  # noqa: BLE001 - a worker must report, not vanish
            self._end(FAILED, f"The run failed: {type(err).__name__}: {err}")
        finally:
            if self.painter is not None:
                self.painter.close()
            with self._changed:
                self._exited = True
                self._notify()

    def _apply_threads(self) -> None:
        """Size this thread's torch pool (set_num_threads in a thread sets that thread's pool only) for the next
        step: a fixed count, or the registry's share of the cores given the runs training now; and hold the
        thread on the CPUs the registry gives it, or let it go (RunRegistry.cpus_for)."""
        wanted = self.threads(self) if callable(self.threads) else self.threads
        if wanted != self.applied_threads:
            torch.set_num_threads(wanted)
            self.applied_threads = wanted
        cpus = self.cpus(self) if self.cpus is not None else None
        if cpus != self.applied_cpus:                # held on a CPU (or let go): this thread only (pid 0)
            if self._free_cpus is None:
                self._free_cpus = os.sched_getaffinity(0)
            os.sched_setaffinity(0, cpus or self._free_cpus)
            self.applied_cpus = cpus

    def _offer_painter(self, view: bool) -> bool:
        """Hand the painter a redraw (if `view`) and the digit probes due, when it is free (model lock held).
        True when it took a redraw; a redraw it could not take is offered again after the next step."""
        if not self.painter.idle:
            return False
        probes = [lane.coverage.take(lane.trainer) if lane.alive else None for lane in self.lanes]
        return self.painter.paint(self.lanes, view, probes) and view

    def _painted(self, lane: Lane, step: int, grid: np.ndarray | None, outputs, probe, verdict) -> None:
        """The painter's results for `lane` at `step`, published as the worker's own would be."""
        with self._changed:
            if grid is not None and step > lane.view_step:      # never over a newer picture (a pause's redraw)
                lane.outputs.add(step, outputs)
                lane.view, lane.view_step = grid, step
                if not lane.frames or lane.frames[-1][0] != step:
                    self._add_frame(lane, step, grid)
            if verdict is not None:
                lane.coverage.record(probe, verdict)
            self._notify()

    def _render_all(self) -> list:
        """Every lane's picture now (called with the model lock held); a stopped lane keeps its last one."""
        return [lane.render() if lane.alive else lane.view for lane in self.lanes]

    def _redraw(self) -> None:
        self._stale = False
        if self.painter is not None:
            self.painter.drain()             # its picture first, so this one (the step it stopped at) comes last
        with self._model_lock:
            if self.trainer is None:
                return
            step = self.trainer.step_count
            if self.painter is None:
                views = self._render_all()
            else:                            # a lane the painter already drew at this step keeps that picture
                views = [lane.render() if lane.alive and lane.view_step != lane.trainer.step_count else lane.view
                         for lane in self.lanes]
        with self._changed:
            for lane, view in zip(self.lanes, views):
                lane.view, lane.view_step = view, lane.trainer.step_count if lane.trainer else step
                # the timeline ends where the run paused or stopped, so the scrubber's last frame is this one
                if not lane.points and lane.alive and (not lane.frames or lane.frames[-1][0] != lane.view_step):
                    self._add_frame(lane, lane.view_step, lane.view)
            self._notify()

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
        idle = self.clock() - self.last_seen
        if idle > self.idle_stop_s:
            self._end(STOPPED, IDLE_STOPPED, free=True)
            return True
        if idle > self.idle_pause_s:
            with self._changed:
                if self._state == RUNNING:
                    self._set_state(PAUSED, "Paused: nobody is watching. Press Resume to go on.")
                    self._notify()
        return False

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if pending:
            for lane in self.lanes:
                if lane.trainer is not None:
                    lane.trainer.set_hyperparameters(**pending)
                    lane.config = lane.trainer.config      # a switched loss shows in the snapshot's recipe
            with self._lock:
                self.config = self.lanes[0].config

    def _publish(self, results: list[StepMetrics | None], views: list | None, step: int, now: float,
                 counted: bool, single: bool) -> None:
        with self._changed:
            for i, (lane, metrics) in enumerate(zip(self.lanes, results)):
                if metrics is not None and counted:
                    lane.history.add(metrics.step, metrics.to_dict())
                if views is not None:
                    lane.view, lane.view_step = views[i], lane.trainer.step_count if lane.trainer else step
                    if not lane.points and (metrics is not None or not lane.frames):
                        self._add_frame(lane, lane.view_step, lane.view)
            self._recent.append((now, step))
            recent = [(t, s) for t, s in self._recent if now - t <= 3.0]
            self._recent = recent if len(recent) >= 2 else self._recent[-2:]   # slow steps: still a speed
            if single:
                self._requests.popleft()
                self._served += 1
            self._notify()

    def _add_frame(self, lane: Lane, step: int, grid: np.ndarray) -> None:
        # Thin the timeline by halves so it always spans the whole run in at most max_frames frames.
        lane.frames.append((step, grid))
        if len(lane.frames) > self.max_frames:
            lane.frames = lane.frames[::2]
