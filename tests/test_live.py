"""ganplay.live: a run on a worker thread obeys its controls, ends cleanly, and the registry caps runs."""
import csv
import io
import os
import subprocess
import threading
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganplay.checkpoint import load_checkpoint
from ganplay.images import LABEL_BAND
from ganplay.live import METRICS
from ganplay.live.lane import REAL_SEED
from ganplay.live.snapshot import history_csv
from ganplay.live import (DIVERGED, FINISHED, IDLE_STOPPED, PAUSED, RUNNING, STOPPED, RunRegistry, ServerBusy,
                          TrainingRun)
from ganplay.presets import preset
from tests.conftest import ManualClock

SMALL = preset("lecture").replace(**{"train.batch_size": 16})
DIVERGING = preset("mlp-vanilla").replace(**{"train.loss": "least-squares", "train.lr_g": 100.0,
                                             "train.lr_d": 100.0})


def finished(run, timeout=120.0) -> bool:
    """Whether the worker exited within a generous timeout (a wait, not a measurement)."""
    run.join(timeout)
    return not run._thread.is_alive()


@pytest.fixture
def runs():
    made = []

    def make(config=SMALL, dataset=None, **kwargs):
        run = TrainingRun(config, dataset, **kwargs)
        made.append(run)
        return run

    yield make
    for run in made:
        run.stop()
        run.join(60)
        assert not (run._thread and run._thread.is_alive()), "worker thread outlived its run"


def test_start_pause_step_resume_stop(runs, mnist):
    run = runs(dataset=mnist, grid_every_s=0.05)
    assert run.snapshot().step == 0 and run.state == "ready"
    run.start()
    assert run.wait_until(lambda s: s.step >= 5)
    run.pause()
    assert run.state == PAUSED
    assert run.wait_idle(), "the worker never acknowledged the pause"
    assert run.snapshot().idle                    # what a page shows as "Paused": the step will not move
    paused_at = run.snapshot().step
    # three more times the worker looked, found the run paused and went back to waiting
    assert run.wait_idle(passes=3) and run.snapshot().step == paused_at, "a paused run kept training"
    assert run.step_once(wait_s=60), "the step never arrived"
    assert run.snapshot().step == paused_at + 1
    assert run.wait_idle(passes=3) and run.snapshot().step == paused_at + 1, "step once took more than one step"
    run.resume()
    assert run.state == RUNNING and not run.snapshot().idle
    assert run.wait_until(lambda s: s.step >= paused_at + 5)
    run.stop()
    assert finished(run)
    snap = run.snapshot()
    assert snap.state == STOPPED
    history = snap.history
    assert history["step"] == sorted(history["step"]) and len(history["step"]) == snap.step
    assert snap.grid.dtype.name == "uint8" and snap.grid.shape == (242, 242)
    assert snap.timeline_steps and snap.timeline_steps[-1] <= snap.step


def test_each_step_once_is_one_step_however_fast_they_come(runs, mnist):
    run = runs(dataset=mnist)
    assert run.wait_idle()                        # never started: nothing to wait for
    run.step_once("both")                         # asked again before the first one lands: both are taken
    assert run.step_once("both", wait_s=60)
    assert run.wait_idle(passes=2) and run.snapshot().step == 2 and run.state == PAUSED
    assert run.snapshot().grid_step == 2          # a single step always redraws


def test_the_timeline_takes_a_frame_each_interval_of_the_runs_clock(runs, mnist):
    clock = ManualClock()
    run = runs(dataset=mnist, grid_every_s=10.0, clock=clock)
    run.start()
    assert run.wait_until(lambda s: s.step >= 4)
    snap = run.snapshot()
    assert snap.timeline_steps == [1] and snap.grid_step == 1      # the clock stood still: only step 1 drew
    seen = snap.step
    clock.advance(9.5)
    assert run.wait_until(lambda s: s.step >= seen + 3)             # steps read 9.5 s: not yet a frame
    assert run.snapshot().timeline_steps == [1]
    clock.advance(0.5)
    assert run.wait_until(lambda s: len(s.timeline_steps) == 2)
    second = run.snapshot().timeline_steps[1]
    assert second > seen + 3
    assert run.wait_until(lambda s: s.step >= second + 3)
    snap = run.snapshot()
    assert snap.timeline_steps == [1, second] and snap.grid_step == second   # one frame per 10 s of clock


def test_a_stopped_run_shows_its_grid_at_the_step_it_stopped(runs, mnist):
    clock = ManualClock()                         # the clock stands still: no redraw is due after step 1
    run = runs(dataset=mnist, grid_every_s=10.0, clock=clock)
    run.start()
    assert run.wait_until(lambda s: s.step >= 6)
    assert run.snapshot().grid_step == 1          # between redraws, as the bug report saw (557 vs 551)
    run.stop(wait_s=60)
    assert finished(run)
    snap = run.snapshot()
    assert snap.step >= 6 and snap.grid_step == snap.step      # the page and the Grid PNG agree
    assert snap.timeline_steps[-1] == snap.step                # and so does the scrubber's last frame


def test_a_paused_run_shows_its_grid_at_the_step_it_paused(runs, mnist):
    clock = ManualClock()
    run = runs(dataset=mnist, grid_every_s=10.0, clock=clock)
    run.start()
    assert run.wait_until(lambda s: s.step >= 6)
    run.pause()
    assert run.wait_idle()
    snap = run.snapshot()
    assert snap.grid_step == snap.step and snap.timeline_steps[-1] == snap.step


def test_run_of_chosen_length_finishes_exactly(runs, mnist):
    run = runs(dataset=mnist, max_steps=12)
    run.start()
    assert finished(run)
    snap = run.snapshot()
    assert snap.state == FINISHED and snap.step == 12 and snap.grid_step == 12
    assert "12 steps" in snap.message


def test_hyperparameters_change_without_restart(runs, mnist):
    run = runs(dataset=mnist)
    run.start()
    assert run.wait_until(lambda s: s.step >= 2)
    run.set_hyperparameters(lr_g=1.5e-4, lr_d=3e-4, d_steps=3)
    before = run.snapshot().step
    assert run.wait_until(lambda s: s.step >= before + 2)
    t = run.trainer
    assert t.opt_g.param_groups[0]["lr"] == 1.5e-4 and t.opt_d.param_groups[0]["lr"] == 3e-4 and t.d_steps == 3
    assert t.step_count > before            # the same trainer went on: no restart


def test_diverging_run_ends_with_the_reason(runs, mnist):
    run = runs(DIVERGING, dataset=mnist)
    run.start()
    assert finished(run)
    snap = run.snapshot()
    assert snap.state == DIVERGED
    assert "diverged" in snap.message and "learning rate" in snap.message


def test_unwatched_run_pauses_then_stops_and_frees_its_models(runs, mnist):
    clock = ManualClock()
    run = runs(dataset=mnist, idle_pause_s=300.0, idle_stop_s=900.0, clock=clock)
    run.start()                                   # pressing Start counts as being watched, at 0 s
    assert run.wait_until(lambda s: s.step >= 2)
    clock.advance(299.0)
    seen = run.snapshot().step
    assert run.wait_until(lambda s: s.step >= seen + 2)      # the watchdog has looked at 299 s since
    assert run.state == RUNNING
    clock.advance(2.0)
    assert run.wait_until(lambda s: s.state == PAUSED), "an unwatched run kept training"
    assert "nobody" in run.snapshot().message
    run.resume()                                  # pressing Resume is watching again, at 301 s
    seen = run.snapshot().step
    assert run.wait_until(lambda s: s.step >= seen + 2) and run.state == RUNNING
    assert run.snapshot().message == ""
    clock.advance(301.0)
    assert run.wait_until(lambda s: s.state == PAUSED), "an unwatched run kept training"
    clock.advance(598.0)                          # 899 s unwatched
    assert run.wait_idle(passes=2) and run.state == PAUSED and run.trainer is not None
    last = run.snapshot()
    assert last.idle and last.state_seconds == 598.0          # paused by the watchdog at 602 s on the clock
    clock.advance(2.0)
    assert finished(run)
    assert run.state == STOPPED and run.trainer is None
    with pytest.raises(RuntimeError):
        run.checkpoint()
    snap = run.snapshot()                         # what a returning tab draws: the last state, models gone
    assert snap.freed and not last.freed and snap.message == IDLE_STOPPED and "freed" in snap.message
    assert (snap.step, snap.seconds, snap.history) == (last.step, last.seconds, last.history) and snap.seconds > 0
    assert snap.grid_step == last.step and snap.grid.shape == (242, 242)
    assert run.timeline_gif()[:3] == b"GIF"


def test_heartbeat_keeps_a_watched_run_going(runs, mnist):
    clock = ManualClock()
    run = runs(dataset=mnist, idle_pause_s=300.0, idle_stop_s=900.0, clock=clock)
    run.start()
    for _ in range(10):                           # 2,000 s on the clock, never more than 200 s unwatched
        clock.advance(200.0)
        run.heartbeat()
        seen = run.snapshot().step
        assert run.wait_until(lambda s: s.step >= seen + 2)  # the watchdog has looked since
    assert run.state == RUNNING and run.snapshot().message == ""


def test_checkpoint_and_gif_from_a_live_run(runs, mnist):
    run = runs(dataset=mnist, max_steps=6, grid_every_s=0.0)
    run.start()
    assert finished(run)
    ckpt = load_checkpoint(run.checkpoint())
    assert ckpt.record["steps"] == 6 and ckpt.discriminator is not None
    z = run.trainer.fixed_z
    assert torch.equal(ckpt.generator(z), run.trainer.sample())
    from PIL import Image
    import io
    gif = Image.open(io.BytesIO(run.timeline_gif()))
    assert gif.format == "GIF" and gif.n_frames == len(run.snapshot().timeline_steps)
    assert gif.width >= 480 and gif.width == 2 * 242 and gif.height == 2 * 242 + LABEL_BAND   # slide-sized


def test_metric_history_exports_as_csv_that_reads_back(runs, mnist):
    run = runs(dataset=mnist, max_steps=5)
    run.start()
    assert finished(run)
    history = run.snapshot().history
    rows = list(csv.reader(io.StringIO(history_csv(history).decode())))
    assert rows[0] == ["step", *METRICS]                          # a header row
    assert [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4, 5]       # one row per recorded step
    for i, key in enumerate(METRICS, start=1):
        assert [float(r[i]) for r in rows[1:]] == history[key]    # exactly the values recorded


def test_real_images_beside_the_samples_are_fixed_training_images(runs, mnist):
    first, second = runs(dataset=mnist), runs(dataset=mnist)
    grid = first.snapshot().real_grid
    assert grid.dtype.name == "uint8" and grid.shape == (2 + 4 * 30, 2 + 4 * 30)   # 4 x 4 digits of 28 px
    assert np.array_equal(grid, second.snapshot().real_grid)                     # the same ones every run
    picked = torch.randint(len(mnist), (16,), generator=torch.Generator().manual_seed(REAL_SEED))
    for i in (0, 15):                                   # first and last tile: the training images drawn
        r, c = divmod(i, 4)
        tile = grid[2 + 30 * r:30 + 30 * r, 2 + 30 * c:30 + 30 * c].astype(int)
        assert np.abs(tile - mnist.images[picked[i]].numpy().astype(int)).max() <= 1


def test_history_stays_bounded(runs, mnist):
    run = runs(dataset=mnist, max_steps=80, max_points=16, max_frames=4, grid_every_s=0.0)
    run.start()
    assert finished(run)
    snap = run.snapshot()
    assert len(snap.history["step"]) <= 16 and snap.history["step"][-1] >= 64
    assert len(snap.timeline_steps) <= 4 and snap.timeline_steps[0] == 1   # still spans the whole run


def test_registry_caps_concurrent_runs(mnist):
    registry = RunRegistry(max_running=2)
    try:
        first = registry.create(SMALL, mnist)
        registry.create(SMALL, mnist)
        with pytest.raises(ServerBusy, match="limit is 2"):
            registry.create(SMALL, mnist)
        first.stop()
        third = registry.create(SMALL, mnist)      # a stopped run frees its place
        assert registry.get(third.id) is third and registry.running() == 2
        registry.discard(third.id)
        assert registry.get(third.id) is None and third.trainer is None
    finally:
        registry.stop_all()


def test_registry_stops_runs_whose_session_is_gone(mnist):
    clock = ManualClock()
    registry = RunRegistry(max_running=1, forget_after_s=600.0, clock=clock)
    try:
        abandoned = registry.create(SMALL, mnist, idle_pause_s=100.0, idle_stop_s=200.0)   # never started
        clock.advance(150.0)
        with pytest.raises(ServerBusy):           # 150 s unwatched: it still holds its slot
            registry.create(SMALL, mnist)
        clock.advance(100.0)
        fresh = registry.create(SMALL, mnist)       # pruning ends the abandoned one and frees its slot
        assert abandoned.state == STOPPED and abandoned.trainer is None and fresh.alive
        assert registry.get(abandoned.id) is abandoned          # an ended run is kept a while (its page may ask)
        fresh.stop()
        clock.advance(601.0)
        registry.create(SMALL, mnist)
        assert registry.get(abandoned.id) is None and registry.get(fresh.id) is None
    finally:
        registry.stop_all()


def test_threads_follow_the_runs_training(mnist):
    """A lone run trains on every core; a second run training halves each one's pool at its next step, and
    the share grows back when the other pauses (read from what each worker actually set)."""
    registry = RunRegistry(max_running=2, cores=4, reserve=0)
    try:
        first, second = registry.create(SMALL, mnist), registry.create(SMALL, mnist)
        assert registry.threads_per_run == 4
        assert first.step_once(wait_s=None) and first.applied_threads == 4      # nothing else trains
        second.start()
        assert second.wait_until(lambda s: s.step >= 1)
        assert registry.threads_for(first) == 2 and registry.threads_per_run == 2
        assert first.step_once(wait_s=None) and first.applied_threads == 2      # adjusted at its next step
        second.pause()
        assert second.wait_idle()
        assert first.step_once(wait_s=None) and first.applied_threads == 4      # alone again
        second.stop()
        assert registry.threads_for(first) == 4
    finally:
        registry.stop_all()


def test_the_registry_keeps_a_core_for_the_browser(monkeypatch):
    """By default one core is left to the browser and the page: a lone run on 2 cores trains on 1 thread, on 8
    cores on 7; a machine of one core still trains on it; GANPLAY_RESERVE_CORES=0 gives the runs every core."""
    monkeypatch.delenv("GANPLAY_RESERVE_CORES", raising=False)
    assert [RunRegistry(cores=n).threads_per_run for n in (1, 2, 8)] == [1, 1, 7]
    monkeypatch.setenv("GANPLAY_RESERVE_CORES", "0")
    assert RunRegistry(cores=2).threads_per_run == 2


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="holding a thread on a CPU needs Linux and two CPUs")
def test_a_lone_run_on_one_thread_is_held_on_one_cpu_and_let_go_when_a_second_trains(mnist):
    """On 2 cores with one kept for the browser, a lone run's worker is held on the last CPU (read from the
    kernel, for the worker's own thread); a second run training lets it go at its next step, and neither is
    held then; with no core reserved nothing is held."""
    last, free = max(os.sched_getaffinity(0)), os.sched_getaffinity(0)
    registry = RunRegistry(max_running=2, cores=2, reserve=1)
    try:
        first, second = registry.create(SMALL, mnist), registry.create(SMALL, mnist)
        assert first.step_once(wait_s=None) and first.applied_cpus == frozenset({last})
        assert os.sched_getaffinity(first._thread.native_id) == {last}
        second.start()
        assert second.wait_until(lambda s: s.step >= 1)
        assert first.step_once(wait_s=None) and first.applied_cpus is None
        assert os.sched_getaffinity(first._thread.native_id) == free                 # let go
        assert second.applied_cpus is None and os.sched_getaffinity(second._thread.native_id) == free
        second.pause()
        assert second.wait_idle()
        assert first.step_once(wait_s=None) and os.sched_getaffinity(first._thread.native_id) == {last}
    finally:
        registry.stop_all()
    assert RunRegistry(cores=2, reserve=0).cpus_for() is None and RunRegistry(cores=2, reserve=1).cpus_for() == {last}


def test_a_fixed_thread_count_is_kept(runs, mnist):
    run = runs(dataset=mnist, threads=1)
    assert run.step_once(wait_s=None) and run.applied_threads == 1


def test_the_first_registry_imports_what_the_first_optimiser_step_needs_in_the_background():
    """torch.optim reaches torch._dynamo on a run's first step (about 1.6 s on 2 cores); the app's registry is
    made when a page loads, so a Start pressed later does not wait for that import. A fresh interpreter: this
    test process has imported it long ago."""
    code = ("import sys\n"
            "from ganplay.live import RunRegistry\n"
            "from ganplay.live.registry import warm_up\n"
            "assert 'torch._dynamo' not in sys.modules\n"
            "RunRegistry(max_running=1)\n"
            "thread = warm_up()\n"
            "assert thread.name == 'ganplay-warm-up' and warm_up() is thread\n"   # once per process
            "thread.join(60)\n"
            "print('torch._dynamo' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


# -- pictures and digit probes drawn off the training thread (ganplay.live.painter) ------------------------------

def test_a_painted_picture_is_the_one_the_worker_would_draw_and_is_drawn_off_its_thread(runs, mnist):
    """With paint_aside, the grid of a step comes from the painter's thread (never an eval-mode forward of G on
    the worker's), and it is bit for bit the grid of a plain Trainer of the same recipe at that step."""
    from ganplay.images import make_grid
    from ganplay.trainer import Trainer

    clock = ManualClock()                          # the clock stands still: step 1's redraw is the only one
    run = runs(dataset=mnist, grid_every_s=10.0, clock=clock, paint_aside=True)
    forwards = []
    run.trainer.sampler.register_forward_hook(       # copied into the painter's shadow along with the weights
        lambda m, args, out: forwards.append((threading.current_thread().name, m.training)))
    run.start()
    assert run.wait_until(lambda s: s.step >= 5 and s.grid_step == 1)
    run.pause()
    assert run.wait_idle()
    snap = run.snapshot()
    assert snap.grid_step == snap.step and snap.timeline_steps == [1, snap.step]   # the pause drew its own step
    drawn_in = {name.split("-")[1] for name, training in forwards if not training}
    assert drawn_in == {"paint", "run"} and run.painter.painted >= 1                 # the run's: the pause only
    assert [name.split("-")[1] for name, training in forwards if not training][-1] == "run"

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)                       # the run's worker trains on one thread
    try:
        plain = Trainer(SMALL, mnist, device="cpu")
        plain.step()
        assert np.array_equal(run.lanes[0].frames[0][1], make_grid(plain.sample(), nrow=8))
    finally:
        torch.set_num_threads(torch_threads)


def test_a_run_painted_aside_shows_its_grid_at_the_step_it_stopped(runs, mnist):
    clock = ManualClock()
    run = runs(dataset=mnist, grid_every_s=10.0, clock=clock, paint_aside=True)
    run.start()
    assert run.wait_until(lambda s: s.step >= 6)
    assert run.snapshot().grid_step == 1
    run.stop(wait_s=60)
    assert finished(run)
    snap = run.snapshot()
    assert snap.step >= 6 and snap.grid_step == snap.step and snap.timeline_steps[-1] == snap.step
    assert not run.painter._thread.is_alive()      # the painter ends with its run
    assert run.painter._shadows                    # its copy of G, until the run frees its models
    run.free()
    assert not run.painter._shadows and run.trainer is None


def test_digit_probes_painted_aside_keep_their_cadence_and_verdicts(runs, mnist):
    """The painter judges G's samples at the steps the worker hands it: a probe every `every_steps` steps (the
    clock stands still), each for the step it was taken at, and the last one the very verdict of G then."""
    from ganplay.live.coverage import measure, shared_classifier

    clock = ManualClock()
    run = runs(dataset=mnist, grid_every_s=10.0, clock=clock, paint_aside=True)
    probe = run.lanes[0].coverage
    probe.every_steps = 3
    run.start()
    assert run.wait_until(lambda s: s.coverage is not None and len(s.coverage["step"]) >= 3)
    run.pause()
    assert run.wait_idle()
    steps = run.snapshot().coverage["step"]
    assert run.painter.painted >= len(steps)
    assert steps[0] == 3.0 and all(b - a >= 3 for a, b in zip(steps, steps[1:]))
    # the probe's fixed noise, judged again now by hand, after one more probe taken at the paused step
    probe.every_steps = 0
    last = probe.take(run.trainer)
    assert last == (run.trainer.step_count, run.trainer.seconds)
    assert measure(run.trainer.sample(probe.z, probe.y), shared_classifier())["histogram"] == \
        probe.judge(lambda: run.trainer.sample(probe.z, probe.y))["histogram"]


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="holding a thread on a CPU needs Linux and two CPUs")
def test_the_registry_paints_on_another_cpu_than_the_held_run(mnist):
    last, free = max(os.sched_getaffinity(0)), os.sched_getaffinity(0)
    registry = RunRegistry(max_running=2, cores=2, reserve=1)
    try:
        run = registry.create(SMALL, mnist)
        assert run.painter is not None
        run.start()
        assert run.wait_until(lambda s: s.step >= 3 and run.painter.painted >= 1)
        assert run.applied_cpus == frozenset({last})
        assert os.sched_getaffinity(run.painter._thread.native_id) == free - {last}
    finally:
        registry.stop_all()
