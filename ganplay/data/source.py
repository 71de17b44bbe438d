"""Where the trainer's real batches come from: one small interface for images and points.

    source = data_source(dataset_or_toy, cfg.model, device)
    x, y = source.batch(64, generator)    # x (64, *cfg.model.sample_shape) float32; y (64,) labels or None

`ImageSource` serves an `ImageDataset` at the model's image size and channels (uint8 in memory, scaled to
[-1, 1] per batch); `PointSource` serves a toy distribution (`ganplay.toy`), drawn fresh for every batch.
Both draw only from the generator they are given, so a seeded run repeats bit for bit.
"""
from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from ganplay.config import ConfigError, ModelConfig
from ganplay.registry import UnknownNameError


def images_to_unit(images: Tensor) -> Tensor:
    """uint8 images (B, H, W) or (B, C, H, W) -> float32 (B, C, H, W) in [-1, 1]: 0 -> -1, 255 -> +1
    (grey (B, H, W) becomes (B, 1, H, W)).

    The one uint8 -> [-1, 1] conversion in ganplay (its inverse is `ganplay.images.to_uint8`)."""
    # div, not div_: for float input .float() is the caller's own tensor, which must not change
    return (images.unsqueeze(1) if images.ndim == 3 else images).float().div(127.5).sub_(1.0)


class DataSource(Protocol):
    """What the trainer draws real batches from."""

    class_names: tuple[str, ...]

    def batch(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor | None]: ...

    def describe(self) -> str: ...


class ImageSource:
    """An image dataset at one size and channel count, held on the training device."""

    def __init__(self, dataset, image_size: int, channels: int = 1, device: torch.device | str = "cpu"):
        self.dataset = dataset
        self.class_names = dataset.class_names
        data = dataset.resized(image_size)
        self.images = data.images.to(device)                 # (N, S, S) or (N, 3, S, S) uint8
        self.labels = data.labels.to(device)                 # (N,) int64
        self.channels, self.device = channels, torch.device(device)

    def batch(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """A random batch with replacement: x (n, C, S, S) float32 in [-1, 1], y (n,) int64."""
        if n < 1:
            raise ValueError(f"a batch needs at least one image, got n = {n}")
        idx = torch.randint(len(self.images), (n,), generator=generator).to(self.device)
        x = images_to_unit(self.images[idx])
        if x.shape[1] != self.channels:
            x = x.expand(-1, self.channels, -1, -1)           # grey images repeated over RGB
        return x, self.labels[idx]

    def describe(self) -> str:
        return self.dataset.describe()


class PointSource:
    """A toy distribution of points (anything with `dim`, `sample(n, generator)` and `describe()`)."""

    class_names: tuple[str, ...] = ()

    def __init__(self, toy, device: torch.device | str = "cpu"):
        self.toy, self.device = toy, torch.device(device)

    def batch(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, None]:
        return self.toy.sample(n, generator).to(self.device), None      # (n, d)

    def describe(self) -> str:
        return self.toy.describe()


def data_source(data, model: ModelConfig, device: torch.device | str = "cpu") -> DataSource:
    """The source a model trains on: images for image models, points for point models (checked to fit)."""
    if model.is_points:
        dim = getattr(data, "dim", None)
        if dim is None:
            raise ConfigError("this model makes points: train it on a toy distribution (ganplay.toy.TOYS), "
                              "not on an image dataset")
        if (dim,) != tuple(model.data_shape):
            raise ConfigError(f"the model makes {model.data_shape[0]}-D points but the data is {dim}-D")
        return PointSource(data, device)
    if getattr(data, "dim", None) is not None:
        raise ConfigError("this model makes images: a toy distribution needs a point model "
                          "(model.data_shape = [d] and MLP nets)")
    data_channels = getattr(data, "channels", 1)
    if data_channels > model.channels:
        raise ConfigError(f"{data.title} has RGB images but the model makes grey ones (model.channels = "
                          f"{model.channels}): set model.channels = {data_channels} to train on colour")
    return ImageSource(data, model.image_size, model.channels, device)


def load_data(name: str, root=None):
    """What a config's `train.dataset` names: a toy distribution (`ganplay.toy.TOYS`) or an image dataset read
    from disk (`load_dataset`, which looks in `root`, $GANPLAY_DATA, ./data/<name>). Any other name raises
    UnknownNameError listing both registries' names, as `train.dataset` accepts either."""
    from ganplay.data.dataset import load_dataset
    from ganplay.data.registry import DATASETS, DataError
    from ganplay.toy import TOYS

    if name in TOYS:
        return TOYS[name]
    if name == "folder":      # ganplay.data.folder.FOLDER_DATASET: what a model trained on your own images says
        raise DataError("this config trained on your own images (train.dataset = folder): give their folder, "
                        "e.g. `python -m ganplay train --data DIR` with DIR holding the PNG/JPEG/WebP files")
    if name not in DATASETS:
        raise UnknownNameError("dataset", name, [*DATASETS, *TOYS])
    return load_dataset(name, root)
