"""bench.time_to_digits --every-steps and bench.recipes: checks at fixed steps, so the step at which a seed passes
the bar repeats on one thread whatever the machine's speed; a bad variant is refused before any training."""
import pytest
import torch

from bench import recipes
from bench.time_to_digits import time_to_recognizable
from ganplay.classifier import load_classifier
from ganplay.data import load_dataset


@pytest.fixture()
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_checks_every_n_steps_and_repeat_step_for_step(mnist, mnist_dir, one_thread):
    holdout = load_dataset("mnist", mnist_dir, part="holdout")
    classifier, _ = load_classifier()
    runs = [time_to_recognizable("lecture", 3, mnist, holdout, classifier, limit=1e-3, every=60.0, n=200,
                                 log=lambda *_: None, every_steps=12) for _ in range(2)]
    for run in runs:
        # the limit (1 ms) is spent within the first check, which comes after 12 steps, not after 60 s
        assert run["steps"] == 12 and run["seconds"] is None and run["trained"] > 0
    a, b = (run["report"] for run in runs)
    assert (a.confident_fraction, a.classes_present, a.classifier_fd) == \
           (b.confident_fraction, b.classes_present, b.classifier_fd)


def test_a_variant_that_changes_the_net_is_measured_as_that_net(mnist):
    rate = recipes.rates({"as shipped": [], "wider": ["model.generator.hidden=[128,64]",
                                                       "model.discriminator.hidden=[64,128]"]},
                         mnist, seconds=0.3, rounds=2, warmup=1)
    assert set(rate) == {"as shipped", "wider"}
    assert rate["wider"] < rate["as shipped"]          # four times the conv channels: clearly slower steps


@pytest.mark.parametrize("variant, message", [
    (["x"], "give the fields it changes"),
    (["x", "train.no_such_field=1"], "no_such_field"),
])
def test_a_bad_variant_is_refused_before_training(variant, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        recipes.main(["--rate-only", "--variant", *variant])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
