"""The process-wide list of live runs, with a cap on how many train at once (what the app shares between
sessions through st.cache_resource)."""
from __future__ import annotations

import os
import threading
import time
from typing import Callable

from ganplay.config import RunConfig
from ganplay.live.run import IDLE_STOPPED, STOPPED, TrainingRun


class ServerBusy(RuntimeError):
    """Too many runs are training at once on this server."""


class RunRegistry:
    """Process-wide list of runs with a cap on how many train at once."""

    def __init__(self, max_running: int | None = None, forget_after_s: float = 600.0,
                 clock: Callable[[], float] = time.monotonic):
        # Server settings come from the environment: GANPLAY_MAX_RUNS (default 2), and the watchdog's
        # GANPLAY_IDLE_PAUSE_S / GANPLAY_IDLE_STOP_S (defaults 300 s / 900 s: hidden tabs throttle timers).
        self.max_running = max_running or int(os.environ.get("GANPLAY_MAX_RUNS", "2"))
        self.forget_after_s = forget_after_s
        self.clock = clock                     # handed to every run it creates (tests drive a fake one)
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
            kwargs.setdefault("clock", self.clock)
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
        for run in self._runs.values():
            if run.alive and run.clock() - run.last_seen > run.idle_stop_s:   # e.g. never started, tab gone
                run._end(STOPPED, IDLE_STOPPED, free=True)
        for run_id, run in list(self._runs.items()):
            if not run.alive and run.ended_at is not None and run.clock() - run.ended_at > self.forget_after_s:
                run.free()
                del self._runs[run_id]

    def stop_all(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.stop()
        for run in runs:
            run.join(5.0)
