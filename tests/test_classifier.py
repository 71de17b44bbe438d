"""Tests for ganplay.classifier: the bundled classifier (size, card, no pickle, >= 98 % on the real holdout),
the shift augmentation, a one-batch training smoke run, saving and loading, and refusing bad files.

Real MNIST comes from $GANPLAY_DATA (CI: ../shared/data/mnist). Nothing here trains the classifier for real.
"""
import dataclasses
import json

import pytest
import torch

from ganplay import classifier as clf
from ganplay.checkpoint import CheckpointError
from ganplay.cli import main
from ganplay.data import HOLDOUT_SIZE, load_dataset


@pytest.fixture(scope="module")
def holdout():
    return load_dataset("mnist", part="holdout")


def test_bundled_classifier_is_small_and_resolved_from_the_repository():
    assert clf.PRETRAINED_PATH.is_file(), "run `python -m ganplay classifier train` to build it"
    assert clf.PRETRAINED_PATH.parent.name == "pretrained"
    assert clf.PRETRAINED_PATH.parent.parent == clf.PRETRAINED_PATH.parents[1]
    assert clf.PRETRAINED_PATH.stat().st_size < 2 * 2**20


def test_bundled_classifier_reaches_98_percent_on_the_holdout(holdout, monkeypatch):
    def no_pickle(*args, **kwargs):
        raise AssertionError("the classifier must load without unpickling")

    monkeypatch.setattr(torch, "load", no_pickle)
    model, card = clf.load_classifier()
    assert len(holdout) == HOLDOUT_SIZE
    measured = clf.accuracy(model, holdout)
    assert measured >= clf.MIN_ACCURACY
    # the card states what it was trained on and what it scores
    assert card["holdout_accuracy"] >= clf.MIN_ACCURACY
    assert abs(card["holdout_accuracy"] - measured) < 0.002      # float16 storage changes almost nothing
    assert card["train_count"] == 8000 and card["holdout_count"] == HOLDOUT_SIZE
    for key in ("seed", "epochs", "training_seconds", "command", "split"):
        assert key in card


def test_features_are_the_penultimate_layer():
    model = clf.DigitClassifier().eval()
    logits, features = model(torch.zeros(3, 1, 28, 28), return_features=True)
    assert logits.shape == (3, 10) and features.shape == (3, clf.FEATURE_DIM)
    assert torch.allclose(model.head(features), logits)


def test_random_shift_moves_images_by_at_most_the_margin():
    x = torch.full((200, 1, 28, 28), -1.0)
    x[:, :, 13, 13] = 1.0
    shifted = clf.random_shift(x, 2, torch.Generator().manual_seed(0))
    rows, cols = (shifted[:, 0] == 1.0).nonzero()[:, 1:].T
    assert (shifted == 1.0).sum() == 200                         # each bright pixel survives exactly once
    assert rows.min() == 11 and rows.max() == 15 and cols.min() == 11 and cols.max() == 15


def test_training_refuses_the_holdout(holdout):
    with pytest.raises(ValueError, match="holdout"):
        clf.train_classifier(holdout, holdout, epochs=1)


def test_one_epoch_smoke_and_round_trip(tmp_path, holdout):
    small = load_dataset("mnist", part="train")
    tiny = dataclasses.replace(small, images=small.images[:128], labels=small.labels[:128])
    model, card = clf.train_classifier(tiny, holdout, epochs=1, batch_size=64)
    path = clf.save_classifier(tmp_path / "c.safetensors", model, card)
    loaded, loaded_card = clf.load_classifier(path)
    assert loaded_card["train_count"] == 128 and loaded_card["epochs"] == 1
    x = torch.randn(4, 1, 28, 28).clamp(-1, 1)
    assert torch.allclose(loaded(x), model(x), atol=0.05)       # float16 storage


def test_loading_refuses_pickles_and_strangers(tmp_path):
    pickle_file = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, pickle_file)
    with pytest.raises(CheckpointError, match="pickle"):
        clf.load_classifier(pickle_file)
    with pytest.raises(CheckpointError, match="no such"):
        clf.load_classifier(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, other, metadata={"card": json.dumps({})})
    with pytest.raises(CheckpointError, match="not a ganplay classifier"):
        clf.load_classifier(other)


def test_cli_rejects_bad_epochs(capsys):
    assert main(["classifier", "train", "--epochs", "0"]) == 2
    assert capsys.readouterr().err.startswith("error:")
