"""The dataset in memory: `ImageDataset` (resizing, a one-line description), the fixed evaluation holdout
carved from the t10k split (`holdout_indices`), and `load_dataset`, which reads every split it finds.
Batches come from `ganplay.data.source.ImageSource`, the one path the trainer draws from.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganplay.data.idx import _read_idx_cached
from ganplay.data.locate import _locate_file, find_data_dir
from ganplay.data.registry import DataError, DatasetSpec, get_spec

HOLDOUT_SIZE = 2000
HOLDOUT_SEED = 0
NATIVE_SIZE = 28
SUPPORTED_SIZES = (28, 32, 64)


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A whole labelled image set in memory, plus where it came from."""

    name: str                      # registry key
    title: str                     # "MNIST"
    split: str                     # files used: "train", "t10k" or "train+t10k"
    part: str                      # "train" | "holdout" | "all"
    images: torch.Tensor = field(repr=False)   # (N, H, W) uint8 for grey, (N, 3, H, W) for RGB; contiguous
    labels: torch.Tensor = field(repr=False)   # (N,) int64
    source: Path
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

    @property
    def channels(self) -> int:
        """1 for grey images stored (N, H, W), else C of (N, C, H, W)."""
        return 1 if self.images.ndim == 3 else self.images.shape[1]

    def describe(self) -> str:
        """One line for the UI, saying which split and part is in use."""
        split = f"{self.split} split" + ("s" if "+" in self.split else "")
        amount = {
            "holdout": f"{len(self):,} held-out evaluation images",
            "all": f"all {len(self):,} images (training and held-out)",
            "train": f"{len(self):,} training images " + (f"({HOLDOUT_SIZE:,} held out for evaluation)"
                     if "t10k" in self.split else "(no held-out set: t10k split missing)"),
        }[self.part]
        size = "" if self.image_size == NATIVE_SIZE else f" · resized to {self.image_size}×{self.image_size}"
        return f"{self.title} · {split} · {amount}{size}"

    def resized(self, size: int) -> ImageDataset:
        """28: this object; 32: 2 px of background (0) padding per side; 64: bilinear upscaling, done once."""
        if size == self.image_size:
            return self
        if size not in SUPPORTED_SIZES or self.image_size != NATIVE_SIZE:
            raise ValueError(f"image size {size} not supported: choose one of {SUPPORTED_SIZES} "
                             f"(resizing starts from the {NATIVE_SIZE}×{NATIVE_SIZE} original)")
        if size == 32:
            margin = (size - NATIVE_SIZE) // 2
            padded = torch.zeros((*self.images.shape[:-2], size, size), dtype=torch.uint8)
            padded[..., margin:margin + NATIVE_SIZE, margin:margin + NATIVE_SIZE] = self.images
            return dataclasses.replace(self, images=padded)
        # Chunked so 70k images never need one 1 GB float32 buffer.
        grey = self.images.ndim == 3
        chunks = [F.interpolate((chunk[:, None] if grey else chunk).float(), size=(size, size), mode="bilinear",
                                align_corners=False).round_().clamp_(0, 255).to(torch.uint8)   # (chunk, C, S, S)
                  for chunk in self.images.split(8192)]
        images = torch.cat(chunks)
        return dataclasses.replace(self, images=(images[:, 0] if grey else images).contiguous())


def holdout_indices(n_t10k: int) -> np.ndarray:
    """Sorted positions in the t10k split that form the evaluation holdout (same on every machine)."""
    return np.sort(np.random.default_rng(HOLDOUT_SEED).permutation(n_t10k)[:HOLDOUT_SIZE])


def load_dataset(name: str = "mnist", root: str | os.PathLike | None = None,
                 part: str = "train") -> ImageDataset:
    """Load every split present; part "holdout" is HOLDOUT_SIZE fixed t10k images, "train" the rest, "all" both."""
    spec = get_spec(name)
    if part not in ("train", "holdout", "all"):
        raise ValueError(f"part must be 'train', 'holdout' or 'all', got {part!r}")
    folder = find_data_dir(name, root)
    splits = {split: _load_split(spec, folder, split) for split in spec.splits}
    splits = {split: arrays for split, arrays in splits.items() if arrays is not None}

    chosen_images, chosen_labels = [], []
    for split, (images, labels) in splits.items():
        in_holdout = np.zeros(len(labels), dtype=bool)   # only t10k images are ever held out
        if split == "t10k":
            if len(labels) <= HOLDOUT_SIZE:
                raise DataError(f"{folder}: the t10k split has only {len(labels):,} images, too few to hold "
                                f"out {HOLDOUT_SIZE:,} for evaluation; replace it with the real t10k files.")
            in_holdout[holdout_indices(len(labels))] = True
        keep = {"train": ~in_holdout, "holdout": in_holdout, "all": np.ones_like(in_holdout)}[part]
        chosen_images.append(images[keep])           # boolean indexing copies out of the read-only cache
        chosen_labels.append(labels[keep])
    if part == "holdout" and "t10k" not in splits:
        raise DataError(f"{folder}: the evaluation holdout comes from the t10k split, which is missing; "
                        f"add {' + '.join(spec.splits['t10k'])} (run `{spec.download_command}`).")
    return ImageDataset(
        name=spec.name, title=spec.title, split="+".join(splits), part=part,
        images=torch.from_numpy(np.ascontiguousarray(np.concatenate(chosen_images))),
        labels=torch.from_numpy(np.concatenate(chosen_labels).astype(np.int64)),
        source=folder, class_names=spec.class_names,
    )


def _load_split(spec: DatasetSpec, folder: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(images (N, 28, 28), labels (N,)) of one split, None if absent; a half-present split is an error."""
    image_file, label_file = (_locate_file(folder, f) for f in spec.splits[split])
    if image_file is None and label_file is None:
        return None
    if image_file is None or label_file is None:
        present = image_file or label_file
        missing = spec.splits[split][1] if image_file else spec.splits[split][0]
        raise DataError(f"{present} has no partner {missing} in {folder}: the {split} split is incomplete. "
                        f"Run `{spec.download_command}` again, or delete {present.name}.")
    images, labels = _read_idx_cached(image_file), _read_idx_cached(label_file)
    if images.ndim != 3 or images.shape[1:] != (NATIVE_SIZE, NATIVE_SIZE):
        raise DataError(f"{image_file}: expected {NATIVE_SIZE}×{NATIVE_SIZE} images, found shape {images.shape}.")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(f"{label_file}: expected {len(images):,} labels to match {image_file.name}, "
                        f"found shape {labels.shape}; the two files are from different releases.")
    if labels.max() >= len(spec.class_names):
        raise DataError(f"{label_file}: label {labels.max()} is outside 0..{len(spec.class_names) - 1}.")
    return images, labels
