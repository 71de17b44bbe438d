"""The process-wide list of live runs, with a cap on how many train at once (what the app shares between
sessions through st.cache_resource)."""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

import torch

from ganplay.config import RunConfig
from ganplay.live.run import IDLE_STOPPED, STOPPED, TrainingRun


_warm_up: threading.Thread | None = None


def warm_up() -> threading.Thread:
    """Import, on a background thread and once per process, what the first run's first optimiser step imports
    (`torch._dynamo`, which torch.optim reaches lazily and which takes a noticeable while to import), so a Start pressed
    after the page has loaded does not wait for it. Returns the thread (already finished on later calls)."""
    global _warm_up
    if _warm_up is None:
        _warm_up = threading.Thread(target=lambda: __import__("torch._dynamo"), name="ganplay-warm-up",
                                    daemon=True)
        _warm_up.start()
    return _warm_up


class ServerBusy(RuntimeError):
    """Too many runs are training at once on this server."""


class RunRegistry:
    """Process-wide list of runs with a cap on how many train at once."""

    def __init__(self, max_running: int | None = None, forget_after_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic, cores: int | None = None,
                 reserve: int | None = None):
        # Server settings come from the environment: GANPLAY_MAX_RUNS (default 2), and the watchdog's
        # GANPLAY_IDLE_PAUSE_S / GANPLAY_IDLE_STOP_S (defaults 300 s / 900 s: hidden tabs throttle timers).
        self.max_running = max_running or int(os.environ.get("GANPLAY_MAX_RUNS", "2"))
        self.forget_after_s = forget_after_s
        self.clock = clock                     # handed to every run it creates (tests drive a fake one)
        self.idle_pause_s = float(os.environ.get("GANPLAY_IDLE_PAUSE_S", "300"))
        self.idle_stop_s = float(os.environ.get("GANPLAY_IDLE_STOP_S", "900"))
        # the cores the live runs share: what torch uses by default (and the CLI), at least one; less `reserve`
        # (GANPLAY_RESERVE_CORES, default 1) kept for the browser that shows the run and the page's own Python.
        # On a 2-core laptop with Chromium attached, a lone `lecture` run trains faster on 1 thread than on 2
        # (bench/page_overhead.py; bench/README.md "Training page overhead"): a pool of 2 threads waits at every
        # op for the one the browser preempted.
        self.cores = cores or max(1, torch.get_num_threads())
        self.reserve = reserve if reserve is not None else int(os.environ.get("GANPLAY_RESERVE_CORES", "1"))
        # the CPUs this process may use (read here, on the app's thread: a pinned worker sees only its own)
        self._cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        self._runs: dict[str, TrainingRun] = {}
        self._listed: tuple[TrainingRun, ...] = ()   # the runs, for workers to count without taking the lock
        self._lock = threading.Lock()
        warm_up()                              # the app makes one registry per process, when a page first needs it

    def create(self, config: RunConfig, dataset, **kwargs) -> TrainingRun:
        with self._lock:
            self._prune()
            busy = sum(r.alive for r in self._runs.values())
            if busy >= self.max_running:
                raise ServerBusy(f"The server is busy: {busy} training run{'s' if busy > 1 else ''} already "
                                 f"going (the limit is {self.max_running}). Try again when one stops.")
            kwargs.setdefault("threads", self.threads_for)
            kwargs.setdefault("cpus", self.cpus_for)
            # pictures and digit probes drawn on another core than the training thread's, where there is one
            kwargs.setdefault("paint_aside", (os.cpu_count() or 1) >= 2)
            kwargs.setdefault("idle_pause_s", self.idle_pause_s)
            kwargs.setdefault("idle_stop_s", self.idle_stop_s)
            kwargs.setdefault("clock", self.clock)
            run = TrainingRun(config, dataset, **kwargs)
            self._runs[run.id] = run
            self._listed = tuple(self._runs.values())
            return run

    def threads_for(self, run: TrainingRun | None = None) -> int:
        """Torch threads for `run`'s next step: the cores (less the reserve) split between the runs training now
        (`run` counts, since it is about to step), so a lone run uses them all and (runs x threads) never exceeds
        the cores (contended thread pools collapse). Each worker asks before every step, so a run that starts,
        pauses or stops elsewhere changes the others' share at their next step."""
        return max(1, (self.cores - self.reserve) // (self._others_training(run) + 1))

    def _others_training(self, run: TrainingRun | None) -> int:
        return sum(r.training for r in self._listed if r is not run)       # a tuple: safe to read unlocked

    def cpus_for(self, run: TrainingRun | None = None) -> frozenset[int] | None:
        """The CPU `run`'s worker thread is held on for its next step, or None (any this process may use).
        A lone run on one thread (a 2-core laptop, one core kept for the browser) is held on the last CPU, so the
        scheduler does not move it to the other core (cold caches) when the browser or the page's Python wakes
        (bench/README.md, "Training page overhead": the page went from 85 % to 89 % of the bare CLI at 1 thread). Asked before every step, like threads_for: when a second
        run starts training, the first is let go at its next step. Linux only (os.sched_setaffinity)."""
        lone_on_one_thread = self.reserve >= 1 and self.cores - self.reserve <= 1 and len(self._cpus) >= 2
        return frozenset(self._cpus[-1:]) if lone_on_one_thread and not self._others_training(run) else None

    @property
    def threads_per_run(self) -> int:
        """Threads a run would train on if it started now (bench/page_overhead.py's bare run uses the same)."""
        return self.threads_for()

    def get(self, run_id: str | None) -> TrainingRun | None:
        with self._lock:
            return self._runs.get(run_id) if run_id else None

    def discard(self, run_id: str) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
            self._listed = tuple(self._runs.values())
        if run is not None:
            run.stop()
            run.free()

    def running(self) -> int:
        with self._lock:
            return sum(r.alive for r in self._runs.values())

    def _prune(self) -> None:
        for run in self._runs.values():
            if run.alive and run.clock() - run.last_seen > run.idle_stop_s:   # e.g. never started, tab gone
                run._end(STOPPED, IDLE_STOPPED, free=True)
        for run_id, run in list(self._runs.items()):
            if not run.alive and run.ended_at is not None and run.clock() - run.ended_at > self.forget_after_s:
                run.free()
                del self._runs[run_id]
        self._listed = tuple(self._runs.values())

    def stop_all(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop()
        for run in runs:
            run.join(5.0)
