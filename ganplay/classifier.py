"""The MNIST digit classifier that judges generated digits: model, training and loading.

ganplay ships one trained copy in `pretrained/classifier.safetensors` (float16 weights, about 0.45 MB).
It is trained on the 8,000 "train" digits of the MNIST t10k split only and scored on the 2,000 held-out ones
(`load_dataset(..., part="holdout")`), which neither the classifier nor any bundled generator ever trains on.

    python -m ganplay classifier train              # rebuilds pretrained/classifier.safetensors (a few minutes)
    clf = load_classifier()                         # the bundled one; load_classifier(path) for another file
    logits, features = clf(images, return_features=True)   # images (B, 1, 28, 28) in [-1, 1]

The file is safetensors with a JSON card in its metadata (accuracy, split, counts, seed, epochs, time,
command), read and written through `ganplay.checkpoint` (`read_safetensors`, `write_atomic`), so loading
never unpickles anything.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save as st_save
from torch import nn

from ganplay.checkpoint import CheckpointError, read_safetensors, write_atomic
from ganplay.data import HOLDOUT_SEED, HOLDOUT_SIZE, ImageDataset, images_to_unit
from ganplay.models import eval_mode

FORMAT = "ganplay-classifier/1"
# Resolved from this file, never from the working directory: <repository root>/pretrained/classifier.safetensors.
PRETRAINED_PATH = Path(__file__).resolve().parents[1] / "pretrained" / "classifier.safetensors"
FEATURE_DIM = 128          # the penultimate layer: what the Fréchet distance compares
NUM_CLASSES = 10
MIN_ACCURACY = 0.98        # the bar the bundled classifier must clear on the holdout


class DigitClassifier(nn.Module):
    """(B, 1, 28, 28) in [-1, 1] -> logits (B, 10); two conv blocks, then a 128-unit feature layer."""

    def __init__(self, widths: tuple[int, int] = (16, 32), feature_dim: int = FEATURE_DIM):
        super().__init__()
        c1, c2 = widths
        self.widths, self.feature_dim = tuple(widths), feature_dim
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.MaxPool2d(2),                                                  # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.Conv2d(c2, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.MaxPool2d(2),                                                  # (B, c2, 7, 7)
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, feature_dim), nn.ReLU(),                    # (B, feature_dim)
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, NUM_CLASSES)

    def forward(self, x: torch.Tensor, return_features: bool = False):
        h = self.features(x)
        logits = self.head(self.dropout(h))
        return (logits, h) if return_features else logits


@torch.no_grad()
def classify(model: DigitClassifier, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax probabilities (N, 10) and penultimate features (N, FEATURE_DIM) in eval mode, in batches."""
    probs, feats = [], []
    with eval_mode(model):
        for chunk in images.split(batch_size):
            logits, h = model(chunk.float(), return_features=True)
            probs.append(logits.softmax(dim=1))
            feats.append(h)
    return torch.cat(probs), torch.cat(feats)


def accuracy(model: DigitClassifier, dataset: ImageDataset) -> float:
    """Share of the dataset's images whose most likely class is their label."""
    probs, _ = classify(model, images_to_unit(dataset.images))
    return (probs.argmax(dim=1) == dataset.labels).float().mean().item()


def random_shift(x: torch.Tensor, pixels: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by up to +-pixels in x and y (pad with the background, then crop at a random offset)."""
    b, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4, value=-1.0)                             # (B, 1, H + 2p, W + 2p)
    dy, dx = (torch.randint(0, 2 * pixels + 1, (b,), generator=generator) for _ in range(2))
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None].expand(b, 1, h, w + 2 * pixels)
    picked = padded.gather(2, rows)                                          # (B, 1, H, W + 2p)
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :].expand(b, 1, h, w)
    return picked.gather(3, cols)                                            # (B, 1, H, W)


def train_classifier(train: ImageDataset, holdout: ImageDataset, epochs: int = 6, batch_size: int = 128,
                     lr: float = 3e-3, seed: int = 0, shift: int = 2, widths: tuple[int, int] = (16, 32),
                     progress=None) -> tuple[DigitClassifier, dict]:
    """Train on `train` with random +-shift px shifts, one-cycle Adam; return the model and its card.

    `progress(epoch, epochs, holdout_accuracy)` is called after each epoch when given.
    """
    if train.part == "holdout" or (train.part == "all" and "t10k" in train.split):
        raise ValueError("the classifier must not train on the evaluation holdout: pass part='train'")
    torch.manual_seed(seed)
    rng = torch.Generator().manual_seed(seed)
    model = DigitClassifier(widths)
    x_all, y_all = images_to_unit(train.images), train.labels
    steps_per_epoch = -(-len(x_all) // batch_size)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    start = time.perf_counter()
    held_out = 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_all), generator=rng)
        for batch in order.split(batch_size):
            x = random_shift(x_all[batch], shift, rng) if shift else x_all[batch]
            loss = F.cross_entropy(model(x), y_all[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            schedule.step()
        held_out = accuracy(model, holdout)
        if progress:
            progress(epoch + 1, epochs, held_out)
    seconds = time.perf_counter() - start
    card = {
        "task": "MNIST digit classification, used to score generated digits",
        "holdout_accuracy": round(held_out, 4),
        "data": train.describe(),
        "split": (f"MNIST t10k: the {HOLDOUT_SIZE} digits at numpy default_rng({HOLDOUT_SEED}).permutation(10000)"
                  f"[:{HOLDOUT_SIZE}] are held out (ganplay.data.holdout_indices); it trains on the rest"),
        "train_count": len(train), "holdout_count": len(holdout),
        "seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr, "augmentation": f"random shifts of +-{shift} px",
        "training_seconds": round(seconds, 1), "threads": torch.get_num_threads(),
        "architecture": {"widths": list(model.widths), "feature_dim": model.feature_dim},
        "parameters": sum(p.numel() for p in model.parameters()),
    }
    return model.eval(), card


def classifier_bytes(model: DigitClassifier, card: dict) -> bytes:
    """float16 safetensors with the card (and the architecture it rebuilds from) as JSON metadata."""
    tensors = {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in model.state_dict().items()}
    return st_save(tensors, metadata={"format": FORMAT, "card": json.dumps(card, sort_keys=True)})


def save_classifier(path: str | os.PathLike, model: DigitClassifier, card: dict) -> Path:
    return write_atomic(path, classifier_bytes(model, card))


def load_classifier(path: str | os.PathLike | None = None) -> tuple[DigitClassifier, dict]:
    """(model in eval mode, card) from a classifier file; the bundled one when path is None. Never unpickles."""
    path = Path(path) if path is not None else PRETRAINED_PATH
    if not path.is_file():
        hint = " (rebuild it with `python -m ganplay classifier train`)" if path == PRETRAINED_PATH else ""
        raise CheckpointError(f"{path}: no such classifier file{hint}")
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a ganplay classifier file (format {meta.get('format')!r})")
    try:
        card = json.loads(meta.get("card", "{}"))
        arch = card.get("architecture", {})
        model = DigitClassifier(tuple(arch.get("widths", (16, 32))), int(arch.get("feature_dim", FEATURE_DIM)))
        expected = model.state_dict()
        if set(tensors) != set(expected) or any(tensors[k].shape != expected[k].shape for k in expected):
            raise CheckpointError(f"{path}: the classifier's weights do not match its architecture")
        model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    except (json.JSONDecodeError, TypeError, ValueError, AttributeError) as err:
        if isinstance(err, CheckpointError):
            raise
        raise CheckpointError(f"{path}: the classifier file is damaged ({err})") from None
    return model.eval(), card
