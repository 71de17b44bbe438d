"""The pictures and digit probes of a live run's image lanes, made on a thread of their own, off the training one.

A redraw (G on the fixed noise, the grid) each second and a coverage probe (200 samples and the digit judge)
every 5 s of training were work between two steps on a lone run's thread, which on a 2-core laptop has one core
while the browser and the page have the other (ganplay.live.registry). The worker copies the
sampler's weights and buffers into a shadow module between two steps (one copy per tensor) and hands the painter a job; the painter draws from the shadow, held off the run's CPU, while the run trains
on. The shadow holds the very weights of that step, in eval mode as `Trainer.sample` does, so a picture is the
one the worker would have drawn, bit for bit; it shows the step it was copied at.

One job at a time: while the painter is busy the worker offers nothing, and retries at its next step (a redraw
is never queued behind another). Pausing or stopping waits for the painter, then the worker draws the step it
stopped at itself (RunWorker._redraw).
"""
from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass

import numpy as np
import torch

from ganplay.images import make_grid
from ganplay.live.snapshot import FAILED
from ganplay.models import generate


@dataclass
class _Item:
    lane: object                    # ganplay.live.lane.Lane
    step: int
    shadow: torch.nn.Module
    z: torch.Tensor
    y: torch.Tensor | None
    outputs: tuple[np.ndarray, np.ndarray] | None    # D's outputs on its last batches (the histograms)
    view: bool                      # draw the grid
    probe: tuple[int, float] | None  # judge the digits, for (step, training seconds)


class Painter:
    def __init__(self, run, cpus: set[int] | None):
        """`run`: the TrainingRun (its `_painted` publishes, its `applied_cpus` says where its worker is held);
        `cpus`: the CPUs this process may use, read on the app's thread (a pinned worker sees only its own)."""
        self.run, self.cpus = run, frozenset(cpus) if cpus else None
        self._cond = threading.Condition()
        self._job: list[_Item] | None = None
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._shadows: dict[int, tuple[torch.nn.Module, list[torch.Tensor], list[torch.Tensor]]] = {}
        self.applied_cpus: frozenset[int] | None = None
        self.painted = 0                 # jobs done (tests read it)
        self.error: str | None = None

    @property
    def idle(self) -> bool:
        return not self._busy

    def paint(self, lanes, view: bool, probes: list) -> bool:
        """Called by the worker between steps with the model lock held: copy each image lane's sampler and hand
        the painter the job (a grid if `view`; a digit probe for the lanes whose entry in `probes` is its
        (step, seconds)). False, doing nothing, while the previous job is still being painted."""
        if self._busy or self._closed:
            return False
        items = []
        for i, (lane, probe) in enumerate(zip(lanes, probes)):
            t = lane.trainer
            if not lane.alive or lane.points or t is None or not (view or probe):
                continue
            items.append(_Item(lane, t.step_count, self._shadow(i, t.sampler), t.fixed_z, t.fixed_y,
                               t.d_outputs() if view else None, view, probe))
        if not items:
            return False
        with self._cond:
            self._job, self._busy = items, True
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"ganplay-paint-{self.run.id}",
                                                daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return True

    def drain(self, timeout: float | None = 60.0) -> None:
        """Wait until the job in hand (if any) is painted and published."""
        with self._cond:
            self._cond.wait_for(lambda: not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def forget(self) -> None:
        """Drop the shadow copies of G (the run freed its models); a job in hand keeps its own until it ends."""
        self._shadows = {}

    def _shadow(self, index: int, sampler: torch.nn.Module) -> torch.nn.Module:
        entry = self._shadows.get(index)
        if entry is None:
            shadow = copy.deepcopy(sampler)
            for p in shadow.parameters():
                p.requires_grad_(False)
                p.grad = None
            live = [*sampler.parameters(), *sampler.buffers()]
            entry = self._shadows[index] = (shadow, [*shadow.parameters(), *shadow.buffers()], live)
        else:
            with torch.no_grad():
                torch._foreach_copy_(entry[1], entry[2])
        return entry[0]

    def _hold(self) -> None:
        """Keep off the CPU the run's worker is held on (RunRegistry.cpus_for), where there is another."""
        held = self.run.applied_cpus
        want = (self.cpus - held) if held and self.cpus and self.cpus - held else self.cpus
        if want is not None and want != self.applied_cpus:
            os.sched_setaffinity(0, want)
            self.applied_cpus = want

    def _loop(self) -> None:
        torch.set_num_threads(1)         # this thread's pool only: the run's pool is the worker's
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._job is not None or self._closed)
                if self._job is None:
                    return
                job = self._job
            try:
                if hasattr(os, "sched_setaffinity"):
                    self._hold()
                for item in job:
                    self._paint(item)
            except Exception as err:  # noqa: BLE001 - a painter must report, not vanish
                self.error = f"{type(err).__name__}: {err}"
                self.run._end(FAILED, f"The run failed while drawing: {self.error}")
            finally:
                with self._cond:
                    self._job, self._busy = None, False
                    self.painted += 1
                    self._cond.notify_all()

    def _paint(self, item: _Item) -> None:
        probe = item.lane.coverage
        grid = make_grid(generate(item.shadow, item.z, item.y), nrow=8) if item.view else None
        verdict = probe.judge(lambda: generate(item.shadow, probe.z, probe.y)) if item.probe else None
        self.run._painted(item.lane, item.step, grid, item.outputs, item.probe, verdict)
