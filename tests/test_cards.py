"""Tests for ganplay.cards: a card scored by the real evaluation, embedded in the checkpoint (weights and their
storage precision untouched) and written beside it as NAME.json."""
import json

import torch

from ganplay.cards import make_card, write_card
from ganplay.checkpoint import load_checkpoint, read_safetensors, save_checkpoint
from ganplay.presets import preset
from ganplay.trainer import Trainer


def test_a_card_is_scored_embedded_and_written_beside_a_half_precision_checkpoint(mnist, mnist_dir, tmp_path):
    trainer = Trainer(preset("lecture"), mnist, device="cpu")
    trainer.step()
    path = save_checkpoint(tmp_path / "g.safetensors", trainer, include_discriminator=False, half=True)
    weights_before, _ = read_safetensors(path)

    card = make_card(path, "Lecture, one step", "python -m ganplay train --preset lecture --steps 1", n=50,
                     data=mnist_dir)
    assert card["recipe"] == "lecture" and card["steps"] == 1
    scores = card["eval"]
    assert scores["command"] == "python -m ganplay eval g.safetensors --n 50 --seed 0"
    assert scores["n"] == 50 and scores["classifier_fd"] > 0 and "fid" not in scores
    assert scores["recognizable"] is False                        # one step draws no digits

    written, sidecar = write_card(path, card)
    assert load_checkpoint(written).card == card == json.loads(sidecar.read_text())
    weights_after, _ = read_safetensors(written)
    assert weights_after.keys() == weights_before.keys()
    for key, value in weights_before.items():                     # still float16, bit for bit
        assert value.dtype == torch.float16 or not value.is_floating_point()
        assert torch.equal(weights_after[key], value)
