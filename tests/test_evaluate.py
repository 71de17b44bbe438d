"""Tests for ganplay.evaluate: the Fréchet distance against closed forms, KL to uniform, the recognizable bar,
the whole evaluation on real held-out digits (passes) and on noise (fails), and the `eval` command.

Real MNIST comes from $GANPLAY_DATA (CI: ../shared/data/mnist); the bundled classifier from pretrained/.
"""
import json
import math

import numpy as np
import pytest
import torch

from ganplay.checkpoint import load_checkpoint, save_checkpoint
from ganplay.classifier import load_classifier
from ganplay.cli import main
from ganplay.data import load_dataset
from ganplay.evaluate import (MAX_CLASS_FRACTION, MIN_CLASSES_PRESENT, MIN_CONFIDENT_FRACTION, EvalReport,
                              dataset_sampler, evaluate, feature_distance, frechet_distance, generator_sampler,
                              is_recognizable, kl_to_uniform, real_reference_sets, to_classifier_input)
from ganplay.presets import preset
from ganplay.trainer import Trainer


# -- the Fréchet distance ------------------------------------------------------------------------------------
def test_frechet_distance_of_a_gaussian_to_itself_is_zero():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    assert feature_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_two_samples_of_one_gaussian_is_small():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(20000, 4)), rng.normal(size=(20000, 4))
    assert feature_distance(a, b) < 0.01


def test_frechet_distance_diagonal_closed_form():
    # N(mu1, diag(s1)) vs N(mu2, diag(s2)): |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    by_hand = (1 + 0 + 4) + ((1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 1) ** 2)   # 5 + 6
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(by_hand, rel=1e-10)


def test_frechet_distance_general_closed_form():
    # Commuting covariances S1 = Q diag(a) Q^T, S2 = Q diag(b) Q^T: Tr(S1 S2)^(1/2) = sum sqrt(a b).
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(5, 5)))
    a, b = np.array([1.0, 2.0, 3.0, 0.5, 0.1]), np.array([2.0, 2.0, 0.5, 4.0, 0.0])
    cov1, cov2 = (q * a) @ q.T, (q * b) @ q.T
    mu1, mu2 = np.zeros(5), np.full(5, 0.5)
    expected = 5 * 0.25 + a.sum() + b.sum() - 2 * np.sqrt(a * b).sum()
    assert frechet_distance(mu1, cov1, mu2, cov2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_is_real_and_finite_for_singular_covariances():
    rng = np.random.default_rng(3)
    few_a, few_b = rng.normal(size=(10, 64)), rng.normal(size=(10, 64))   # rank 9 covariances in 64-d
    distance = feature_distance(few_a, few_b)
    assert math.isfinite(distance) and distance > 0


# -- KL and the bar --------------------------------------------------------------------------------------------
def test_kl_to_uniform():
    assert kl_to_uniform([0.1] * 10) == pytest.approx(0.0, abs=1e-12)
    assert kl_to_uniform([100] * 10) == pytest.approx(0.0, abs=1e-12)
    assert kl_to_uniform([1] + [0] * 9) == pytest.approx(math.log(10))
    assert kl_to_uniform([0.5, 0.5] + [0] * 8) == pytest.approx(math.log(5))


def _report(confident=0.9, classes=10, histogram=None) -> EvalReport:
    histogram = histogram or [0.1] * 10
    return EvalReport(n=1000, classes_present=classes, kl_to_uniform=kl_to_uniform(histogram),
                      confident_fraction=confident, class_histogram=histogram, classifier_fd=1.0,
                      classifier_fd_real_baseline=1.0, recognizable=False)


def test_is_recognizable_at_the_boundaries():
    assert (MIN_CONFIDENT_FRACTION, MIN_CLASSES_PRESENT, MAX_CLASS_FRACTION) == (0.8, 10, 0.25)
    assert is_recognizable(_report(confident=0.8))
    assert not is_recognizable(_report(confident=0.799))
    assert not is_recognizable(_report(classes=9))
    at_limit = [0.25] + [0.75 / 9] * 9
    over = [0.251] + [0.749 / 9] * 9
    assert is_recognizable(_report(histogram=at_limit))
    assert not is_recognizable(_report(histogram=over))


# -- images ------------------------------------------------------------------------------------------------------
def test_to_classifier_input_brings_every_size_to_28():
    digit = torch.full((2, 1, 28, 28), -1.0)
    digit[:, :, 10:18, 12:16] = 1.0
    padded = torch.nn.functional.pad(digit, (2, 2, 2, 2), value=-1.0)
    assert torch.equal(to_classifier_input(padded), digit)
    big = torch.nn.functional.interpolate(digit, size=(64, 64), mode="bilinear").expand(-1, 3, -1, -1)
    small = to_classifier_input(big)
    assert small.shape == (2, 1, 28, 28)
    assert (small - digit).abs().mean() < 0.1


# -- whole evaluations on real digits -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def holdout():
    return load_dataset("mnist", part="holdout")


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()[0]


def test_real_reference_sets_are_disjoint_and_fixed(holdout):
    a, b = real_reference_sets(holdout, 1000)
    a2, _ = real_reference_sets(holdout, 1000)
    assert a.shape == b.shape == (1000, 1, 28, 28)
    assert torch.equal(a, a2)
    flat_a = {bytes(x.numpy().tobytes()) for x in a}
    assert not any(bytes(x.numpy().tobytes()) in flat_a for x in b[:200])


def test_real_held_out_digits_pass_the_bar(holdout, classifier):
    report = evaluate(dataset_sampler(holdout), n=1000, classifier=classifier, holdout=holdout)
    assert report.recognizable, report
    assert report.classes_present == 10
    assert report.confident_fraction > 0.95
    assert report.kl_to_uniform < 0.02
    # the "generator" draws from the same holdout, so its distance is of the order of the real baseline
    assert report.classifier_fd < 3 * report.classifier_fd_real_baseline + 1e-6


def test_noise_fails_the_bar(holdout, classifier):
    def noise(n, rng):
        return torch.rand(n, 1, 28, 28, generator=rng) * 2 - 1

    report = evaluate(noise, n=500, classifier=classifier, holdout=holdout)
    assert not report.recognizable
    assert report.classifier_fd > 10 * report.classifier_fd_real_baseline


def test_evaluate_refuses_more_samples_than_the_holdout_can_match(holdout, classifier):
    with pytest.raises(ValueError, match="n must be"):
        evaluate(dataset_sampler(holdout), n=1001, classifier=classifier, holdout=holdout)


def test_conditional_generators_get_balanced_labels_and_a_class_accuracy(holdout, classifier):
    cfg = preset("cdcgan")
    trainer = Trainer(cfg, load_dataset("mnist", part="train"), device="cpu")
    images, labels = generator_sampler(trainer.generator, cfg.model)(50, torch.Generator().manual_seed(0))
    assert images.shape == (50, 1, 28, 28)
    assert trainer.generator.training                           # sampled in eval mode, then handed back as it was
    assert torch.bincount(labels).tolist() == [5] * 10
    report = evaluate(generator_sampler(trainer.generator, cfg.model), n=100, classifier=classifier,
                      holdout=holdout)
    assert report.class_accuracy is not None and 0 <= report.class_accuracy <= 1
    assert not report.recognizable                              # an untrained generator draws no digits


# -- the command line ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    trainer = Trainer(preset("lecture"), load_dataset("mnist", part="train"), device="cpu")
    for _ in range(2):
        trainer.step()
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    save_checkpoint(path, trainer)
    assert load_checkpoint(path).record["steps"] == 2
    return path


def test_eval_command_prints_a_table(tiny_checkpoint, capsys):
    assert main(["eval", str(tiny_checkpoint), "--n", "200"]) == 0
    out = capsys.readouterr().out
    for field in ("classes present", "KL to uniform", "confident", "Fréchet distance",
                  "digit-classifier features; not an Inception FID", "real vs real", "recognizable", "histogram"):
        assert field in out


def test_eval_command_json(tiny_checkpoint, capsys):
    assert main(["eval", str(tiny_checkpoint), "--n", "200", "--json", "--seed", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 200 and report["seed"] == 3
    for field in ("classes_present", "kl_to_uniform", "confident_fraction", "class_histogram", "classifier_fd",
                  "classifier_fd_real_baseline", "recognizable"):
        assert field in report
    assert "fid" not in report
    assert report["recognizable"] is False
    assert sum(report["class_histogram"]) == pytest.approx(1.0)


def test_eval_command_errors_are_one_line(tmp_path, capsys):
    missing = tmp_path / "nothing.safetensors"
    assert main(["eval", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
    assert main(["eval", str(missing), "--n", "5000"]) == 2
