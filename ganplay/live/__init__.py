"""Live training runs: a Trainer on a worker thread, steered by its controls, watched through snapshots.

    registry = RunRegistry(max_running=2)
    run = registry.create(config, dataset, max_steps=2000)   # raises ServerBusy past the cap
    run.start(); run.pause(); run.resume(); run.step_once(); run.stop()
    snap = run.snapshot()          # a consistent copy: state, metrics history, the latest sample grid ...
    run.heartbeat()                # the page calls this while someone watches

    run = registry.create(ring_cfg, TOYS["ring8"], compare=[minimax_cfg])   # side by side: lanes on one worker
    run.step_once("d")                                                       # one D update alone ("g": one G)
    snap.lanes[1].view                                                       # a PlaneView / LineView per lane

    run.wait_until(lambda s: s.step >= 5, timeout=60)    # block until the worker publishes it (no sleeping)
    run.pause(); run.wait_idle()                          # until the worker acknowledged the pause
    TrainingRun(..., clock=fake)                          # every timing decision reads this clock
    snap.idle, snap.steps_pending, snap.freed             # settled? steps asked for? models dropped (no checkpoint)?

The worker never touches any UI. It publishes a lock-protected snapshot (bounded metric history, the current
grid as uint8, a thinned timeline of earlier grids; for point data the Toy lab's view of the game and the
mode / JSD probes). A run trains one or more *lanes* — the same data and seed under different recipes — one
step each in turn, so side-by-side panels advance together. A watchdog pauses a run nobody has watched for
`idle_pause_s` and stops it after `idle_stop_s`, freeing its models, so closed tabs do not train forever.
Controls and worker meet under one condition variable: each control wakes the worker, each step or state change
wakes whoever waits, so tests (and a step button) wait for the worker instead of guessing how long it takes.
A run the watchdog freed keeps its step, curves, grid and timeline, so a tab that comes back can still show them.

Modules: `run` (TrainingRun: controls, waits, reading), `worker` (its thread's loop, publishing, watchdog),
`snapshot` (state names, RunSnapshot), `lane` (one recipe's Trainer and what it draws), `coverage` (the digit
judge's probe of G's fixed noise every few seconds: snap.coverage), `registry`. What the history means in words:
`ganplay.diagnose`.
"""
from ganplay.live.lane import METRICS, PROBES, History, Lane, LaneSnapshot, preview_view
from ganplay.live.registry import RunRegistry, ServerBusy
from ganplay.live.run import (DIVERGED, ENDED, FAILED, FINISHED, IDLE_STOPPED, MAX_LANES, PARTS, PAUSED, READY,
                              RUNNING, STOPPED, RunSnapshot, TrainingRun)

__all__ = [
    "DIVERGED", "ENDED", "FAILED", "FINISHED", "IDLE_STOPPED", "MAX_LANES", "METRICS", "PARTS", "PAUSED", "PROBES", "READY",
    "RUNNING", "STOPPED", "History", "Lane", "LaneSnapshot", "RunRegistry", "RunSnapshot", "ServerBusy",
    "TrainingRun", "preview_view",
]
