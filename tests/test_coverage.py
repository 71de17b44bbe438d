"""ganplay.live.coverage: the digit judge's live probe agrees with `classify` run by hand, is kept in the
snapshot once the run passes the probe interval (driven by steps), and is absent for data it cannot judge."""
import math

import torch

from ganplay.classifier import classify, load_classifier
from ganplay.evaluate import to_classifier_input
from ganplay.live import TrainingRun
from ganplay.live.coverage import SAMPLES, CoverageProbe, measure, shared_classifier
from ganplay.presets import preset
from ganplay.toy import TOYS
from ganplay.trainer import Trainer

SMALL = preset("lecture").replace(**{"train.batch_size": 16})


def by_hand(images):
    """The histogram, digits present and confident share, straight from `classify` on a fresh classifier."""
    probs, _ = classify(load_classifier()[0], to_classifier_input(images))
    top, predicted = probs.max(dim=1)
    histogram = [float((predicted == d).sum()) / len(predicted) for d in range(10)]
    return histogram, sum(h >= 0.01 for h in histogram), float((top >= 0.9).float().mean())


def test_the_classifier_is_loaded_once():
    assert shared_classifier() is shared_classifier()


def test_a_probe_on_a_fixed_generator_matches_classify(mnist):
    trainer = Trainer(SMALL, mnist, device="cpu")
    for _ in range(30):
        trainer.step()
    probe = CoverageProbe(SMALL, trainer, every_steps=10, every_s=math.inf)
    assert probe.z.shape == (SAMPLES, SMALL.model.latent_dim) and probe.history() is None
    assert probe.maybe_measure(trainer) and not probe.maybe_measure(trainer)   # due again only 10 steps on
    histogram, present, confident = by_hand(trainer.sample(probe.z))
    h = probe.history()
    assert h["histogram"] == histogram and sum(histogram) == 1.0
    assert h["step"] == [30.0] and h["classes_present"] == [present] and h["confident_fraction"] == [confident]
    again = measure(trainer.sample(probe.z), shared_classifier())          # fixed noise: the same verdict
    assert again["histogram"] == histogram
    # the same noise every time: a second probe of an unchanged G repeats the first
    assert torch.equal(probe.z, CoverageProbe(SMALL, trainer).z)


def test_the_snapshot_carries_coverage_after_the_probe_interval(mnist):
    run = TrainingRun(SMALL, mnist, max_steps=12, device="cpu")
    probe = run.lanes[0].coverage
    probe.every_steps, probe.every_s = 5, math.inf           # by steps only: no timing in the test
    try:
        assert run.snapshot().coverage is None and run.snapshot().coverage_refusal is None
        run.start()
        assert run.wait_until(lambda s: s.state == "finished", timeout=120)
        snap = run.snapshot()
        histogram, present, confident = by_hand(run.trainer.sample(probe.z))   # G as it is at step 12
    finally:
        run.stop()
        run.join(60)
    assert snap.coverage["step"] == [5.0, 10.0]              # step 12 is not 5 steps past 10
    assert len(snap.coverage["histogram"]) == 10
    assert snap.learning_rates == (SMALL.train.lr_g, SMALL.train.lr_d)
    probe.every_steps = 2                                     # one more probe, by hand, on the final G
    assert probe.maybe_measure(run.trainer) and probe.history()["histogram"] == histogram
    assert probe.history()["classes_present"][-1] == present and probe.history()["confident_fraction"][-1] == confident


def test_points_have_no_digit_coverage():
    config = preset("toy-ring")
    run = TrainingRun(config, TOYS["ring8"], max_steps=3, device="cpu")
    snap = run.snapshot()
    assert snap.coverage is None and "only knows MNIST digits" in snap.coverage_refusal
    assert not run.lanes[0].coverage.due(100, 100.0)


def test_a_missing_classifier_file_stops_the_probe_not_the_run(mnist, monkeypatch, tmp_path):
    import ganplay.live.coverage as coverage

    shared_classifier.cache_clear()
    monkeypatch.setattr(coverage, "load_classifier", lambda: load_classifier(tmp_path / "gone.safetensors"))
    run = TrainingRun(SMALL, mnist, max_steps=4, device="cpu")
    run.lanes[0].coverage.every_steps = 2
    try:
        run.start()
        assert run.wait_until(lambda s: s.state == "finished", timeout=120)
    finally:
        run.stop()
        run.join(60)
        shared_classifier.cache_clear()          # the next test loads the real one again
    snap = run.snapshot()
    assert snap.step == 4 and snap.coverage is None and "no such classifier file" in snap.coverage_refusal


def test_the_recognizable_bar_is_evals_bar():
    from ganplay.live.coverage import recognizable
    balanced = {"histogram": [0.1] * 10, "classes_present": 10, "confident_fraction": 0.8}
    assert recognizable(balanced)                                                     # exactly at the bar
    assert not recognizable({**balanced, "confident_fraction": 0.79})
    assert not recognizable({**balanced, "classes_present": 9})
    lopsided = [0.26, 0.74 / 9 * 1] + [0.74 / 9] * 8
    assert not recognizable({**balanced, "histogram": lopsided})                      # one digit above 25 %


def test_an_untrained_generator_is_not_recognizable(mnist):
    trainer = Trainer(SMALL, mnist, device="cpu")
    trainer.step()
    probe = CoverageProbe(SMALL, trainer, every_steps=1, every_s=math.inf)
    assert probe.maybe_measure(trainer)
    assert probe.history()["recognizable_at"] is None
