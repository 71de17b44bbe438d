"""ganplay.live: a run on a worker thread obeys its controls, ends cleanly, and the registry caps runs."""
import time

import pytest
import torch

from ganplay.checkpoint import load_checkpoint
from ganplay.live import DIVERGED, FINISHED, PAUSED, RUNNING, STOPPED, RunRegistry, ServerBusy, TrainingRun
from ganplay.presets import preset

SMALL = preset("lecture").replace(**{"train.batch_size": 16})
DIVERGING = preset("mlp-vanilla").replace(**{"train.loss": "least-squares", "train.lr_g": 100.0,
                                             "train.lr_d": 100.0})


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


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
        run.join(10)
        assert not (run._thread and run._thread.is_alive()), "worker thread outlived its run"


def test_start_pause_step_resume_stop(runs, mnist):
    run = runs(dataset=mnist, grid_every_s=0.05)
    assert run.snapshot().step == 0 and run.state == "ready"
    run.start()
    assert wait_for(lambda: run.snapshot().step >= 5)
    run.pause()
    assert run.state == PAUSED
    time.sleep(0.3)                          # let an in-flight step land
    paused_at = run.snapshot().step
    time.sleep(0.4)
    assert run.snapshot().step == paused_at, "a paused run kept training"
    run.step_once()
    assert wait_for(lambda: run.snapshot().step == paused_at + 1)
    time.sleep(0.3)
    assert run.snapshot().step == paused_at + 1, "step once took more than one step"
    run.resume()
    assert run.state == RUNNING
    assert wait_for(lambda: run.snapshot().step >= paused_at + 5)
    run.stop()
    run.join(10)
    snap = run.snapshot()
    assert snap.state == STOPPED and not run._thread.is_alive()
    history = snap.history
    assert history["step"] == sorted(history["step"]) and len(history["step"]) == snap.step
    assert snap.grid.dtype.name == "uint8" and snap.grid.shape == (242, 242)
    assert snap.timeline_steps and snap.timeline_steps[-1] <= snap.step


def test_run_of_chosen_length_finishes_exactly(runs, mnist):
    run = runs(dataset=mnist, max_steps=12)
    run.start()
    run.join(30)
    snap = run.snapshot()
    assert snap.state == FINISHED and snap.step == 12 and snap.grid_step == 12
    assert "12 steps" in snap.message


def test_hyperparameters_change_without_restart(runs, mnist):
    run = runs(dataset=mnist)
    run.start()
    assert wait_for(lambda: run.snapshot().step >= 2)
    run.set_hyperparameters(lr_g=1.5e-4, lr_d=3e-4, d_steps=3)
    before = run.snapshot().step
    assert wait_for(lambda: run.snapshot().step >= before + 2)
    t = run.trainer
    assert t.opt_g.param_groups[0]["lr"] == 1.5e-4 and t.opt_d.param_groups[0]["lr"] == 3e-4 and t.d_steps == 3
    assert t.step_count > before            # the same trainer went on: no restart


def test_diverging_run_ends_with_the_reason(runs, mnist):
    run = runs(DIVERGING, dataset=mnist)
    run.start()
    run.join(30)
    snap = run.snapshot()
    assert snap.state == DIVERGED
    assert "diverged" in snap.message and "learning rate" in snap.message


def test_unwatched_run_pauses_then_stops_and_frees_its_models(runs, mnist):
    run = runs(dataset=mnist, idle_pause_s=0.3, idle_stop_s=1.2)
    run.start()
    assert wait_for(lambda: run.state == PAUSED, 10), "an unwatched run kept training"
    assert "nobody" in run.snapshot().message
    run.join(10)
    assert run.state == STOPPED and run.trainer is None
    with pytest.raises(RuntimeError):
        run.checkpoint()


def test_heartbeat_keeps_a_watched_run_going(runs, mnist):
    run = runs(dataset=mnist, idle_pause_s=0.5, idle_stop_s=1.0)
    run.start()
    for _ in range(15):
        run.heartbeat()
        time.sleep(0.1)
    assert run.state == RUNNING


def test_checkpoint_and_gif_from_a_live_run(runs, mnist):
    run = runs(dataset=mnist, max_steps=6, grid_every_s=0.0)
    run.start()
    run.join(30)
    ckpt = load_checkpoint(run.checkpoint())
    assert ckpt.record["steps"] == 6 and ckpt.discriminator is not None
    z = run.trainer.fixed_z
    assert torch.equal(ckpt.generator(z), run.trainer.sample())
    from PIL import Image
    import io
    gif = Image.open(io.BytesIO(run.timeline_gif()))
    assert gif.format == "GIF" and gif.n_frames == len(run.snapshot().timeline_steps)


def test_history_stays_bounded(runs, mnist):
    run = runs(dataset=mnist, max_steps=80, max_points=16, max_frames=4, grid_every_s=0.0)
    run.start()
    run.join(60)
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
    registry = RunRegistry(max_running=1)
    try:
        abandoned = registry.create(SMALL, mnist, idle_pause_s=0.1, idle_stop_s=0.2)   # created, never started
        time.sleep(0.3)
        fresh = registry.create(SMALL, mnist)       # pruning ends the abandoned one and frees its slot
        assert abandoned.state == STOPPED and abandoned.trainer is None and fresh.alive
    finally:
        registry.stop_all()
