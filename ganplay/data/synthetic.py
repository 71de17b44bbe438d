"""Labelled images made in memory, for smoke runs that must need no files (`python -m ganplay train --dry-run`).

    ds = synthetic_images(class_names=get_spec("mnist").class_names)   # an ImageDataset, 256 images of 28×28
    Trainer(preset("cdcgan"), ds)       # the one trainer, through the same ImageSource as MNIST

Image k shows one bright horizontal band whose height says its class, over dim noise, from a fixed seed: a
conditional model has a label that means something, and a dry run repeats bit for bit. The images are 28×28
like the real files, so a preset at 32 or 64 px gets them through the same resizing as MNIST.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ganplay.data.dataset import NATIVE_SIZE, ImageDataset

DIGITS = tuple(str(digit) for digit in range(10))


@dataclass(frozen=True, eq=False)
class SyntheticImages(ImageDataset):
    """An ImageDataset that says it is synthetic (no split, no holdout)."""

    def describe(self) -> str:
        size = self.image_size
        return f"{self.title} · {len(self):,} synthetic {size}×{size} images, {len(self.class_names)} classes"


def synthetic_images(n: int = 256, class_names: tuple[str, ...] = DIGITS, seed: int = 0,
                     title: str = "Synthetic") -> SyntheticImages:
    """n uint8 images (n, 28, 28) with labels 0, 1, ..., K-1, 0, ...; class k's band starts at row 28·k/K."""
    if n < 1 or not class_names:
        raise ValueError(f"need at least one image and one class, got n={n}, {len(class_names)} classes")
    k = len(class_names)
    labels = torch.arange(n) % k                                              # (n,)
    images = torch.randint(0, 64, (n, NATIVE_SIZE, NATIVE_SIZE), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(seed))    # (n, 28, 28) dim noise
    rows = torch.arange(NATIVE_SIZE)
    top = labels * NATIVE_SIZE // k                                           # (n,)
    band = (rows >= top[:, None]) & (rows < top[:, None] + max(2, NATIVE_SIZE // k))   # (n, 28)
    images[band] = 255                                                        # whole rows lit
    return SyntheticImages(name="synthetic", title=title, split="synthetic", part="train", images=images,
                           labels=labels, source=Path("<in memory>"), class_names=tuple(class_names))
