"""Your own images: a folder of PNG, JPEG or WebP files as an `ImageDataset`, loaded once into memory as uint8.

    ds = load_image_folder("photos/", size=64)     # FolderImages: (N, 64, 64) if all grey, else (N, 3, 64, 64)
    cfg = fit_config(preset("dcgan-64"), ds)        # model.channels from the data, train.dataset = "folder"
    Trainer(cfg, ds)                                # the one trainer, through the same ImageSource as MNIST

Layout: images directly in the folder are unlabelled (no classes); or one level of subfolders, one per class
(sorted names give labels 0, 1, ...). A folder holding both is refused rather than guessed at; hidden files and
folders (".DS_Store", "__MACOSX") are not looked at, nor anything deeper than one level.

Each image is decoded by Pillow (PNG, JPEG and WebP decoders only), turned upright by its EXIF orientation,
centre-cropped to a square and resized once with Lanczos to `size`. Channels come from the files: all grey
(modes L, LA, 1, I, F) -> 1 channel, stored (N, S, S) exactly like MNIST; anything else -> RGB (N, 3, S, S).
Transparency (RGBA, LA, palettes with a transparent colour) is laid over black, MNIST's background. A file that
cannot be decoded (corrupt, cut off, over MAX_IMAGE_PIXELS) is skipped and counted, never fatal; files with other
extensions are ignored and counted. The memory the images will take (N·C·S·S bytes) is checked against
`max_bytes` before any image is decoded.
"""
from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from ganplay.data.dataset import SUPPORTED_SIZES, ImageDataset
from ganplay.data.registry import DataError

FOLDER_DATASET = "folder"              # train.dataset of a model trained on a folder of images
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PIL_FORMATS = ("PNG", "JPEG", "WEBP")  # the only decoders Pillow may use on a user's file
MAX_DATASET_BYTES = 2 * 1024**3        # images in memory (N·C·S·S uint8 bytes): 2 GiB
MAX_IMAGE_PIXELS = 40_000_000          # one image's width × height (a 40-megapixel photo); larger ones are skipped
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


@dataclass(frozen=True, eq=False)
class FolderImages(ImageDataset):
    """An ImageDataset read from a folder of image files; says how many files it skipped."""

    unreadable: int = 0                # files with an image extension that did not decode
    ignored: int = 0                   # files with other extensions

    def describe(self) -> str:
        size = self.image_size
        colour = "RGB" if self.channels == 3 else "grey"
        classes = (f"{len(self.class_names)} classes ({', '.join(self.class_names[:5])}"
                   f"{', …' if len(self.class_names) > 5 else ''})" if self.class_names else "no classes")
        parts = [self.title, f"{len(self):,} images, {classes}", f"{size}×{size} {colour}"]
        if self.unreadable:
            parts.append(f"{self.unreadable} unreadable file{'s' * (self.unreadable != 1)} skipped")
        if self.ignored:
            parts.append(f"{self.ignored} other file{'s' * (self.ignored != 1)} ignored")
        return " · ".join(parts)

    def resized(self, size: int) -> FolderImages:
        """The same images at another size (bilinear, antialiased); loading at the right size is better."""
        if size == self.image_size:
            return self
        if size not in SUPPORTED_SIZES:
            raise ValueError(f"image size {size} not supported: choose one of {SUPPORTED_SIZES}")
        x = self.images if self.images.ndim == 4 else self.images[:, None]          # (N, C, S, S)
        chunks = [F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True,
                                align_corners=False).round_().clamp_(0, 255).to(torch.uint8)
                  for chunk in x.split(4096)]
        out = torch.cat(chunks)
        return dataclasses.replace(self, images=(out if self.images.ndim == 4 else out[:, 0]).contiguous())


def image_files(folder: Path) -> tuple[list[tuple[Path, int]], tuple[str, ...], int]:
    """([(file, label)], class names, files ignored) for a folder laid out as the module docstring says."""
    def visible(entries):
        return sorted((p for p in entries if not p.name.startswith((".", "__MACOSX"))), key=lambda p: p.name)

    try:
        entries = visible(folder.iterdir())
        loose = [p for p in entries if p.is_file()]
        classes = [p for p in entries if p.is_dir()
                   and any(f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir() if f.is_file())]
        class_files = {c.name: visible(f for f in c.iterdir() if f.is_file()) for c in classes}
    except OSError as error:
        raise DataError(f"{folder}: cannot be read ({error.strerror or error}).") from None
    loose_images = [p for p in loose if p.suffix.lower() in IMAGE_SUFFIXES]
    if classes and loose_images:
        raise DataError(f"{folder} holds {len(loose_images)} images directly and {len(classes)} class folders "
                        f"({', '.join(c.name for c in classes[:3])}…): put every image in a class folder, "
                        f"or none, so it is clear which images have which label.")
    if not classes:
        return [(p, 0) for p in loose_images], (), len(loose) - len(loose_images)
    files, ignored = [], len(loose)
    for label, name in enumerate(class_files):
        for p in class_files[name]:
            if p.suffix.lower() in IMAGE_SUFFIXES:
                files.append((p, label))
            else:
                ignored += 1
    return files, tuple(class_files), ignored


def load_image_folder(folder: str | os.PathLike, size: int = 64, *, max_bytes: int = MAX_DATASET_BYTES,
                      title: str | None = None) -> FolderImages:
    """Every readable image under `folder`, centre-cropped and resized to size × size, in memory as uint8."""
    if size not in SUPPORTED_SIZES:
        raise DataError(f"image size {size} not supported: choose one of {SUPPORTED_SIZES}")
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DataError(f"{folder}: no such folder.")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder; give the folder that holds the images.")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise DataError(f"{folder}: no permission to read this folder.")
    files, class_names, ignored = image_files(folder)
    if not files:
        raise DataError(f"{folder} holds no PNG, JPEG or WebP images (directly, or one folder deep as classes)"
                        + (f"; {ignored} other files ignored" if ignored else "") + ".")

    # Pass 1, headers only: which files open, and is any of them in colour? Then the memory check.
    opened, unreadable, colour = [], 0, False
    for path, label in files:
        mode = _header_mode(path)
        if mode is None:
            unreadable += 1
            continue
        opened.append((path, label))
        colour = colour or mode not in GREY_MODES
    channels = 3 if colour else 1
    need = len(opened) * channels * size * size
    if need > max_bytes:
        raise DataError(f"{folder}: {len(opened):,} images at {size}×{size} with {channels} channel"
                        f"{'s' * (channels > 1)} need {need / 1e9:.2f} GB of memory, over the "
                        f"{max_bytes / 1e9:.2f} GB limit; use fewer images or a smaller image size.")

    # Pass 2: decode, crop, resize. A file can still fail here (cut off after its header).
    images = torch.empty((len(opened), channels, size, size), dtype=torch.uint8)
    labels, kept = [], 0
    for path, label in opened:
        pixels = _decode(path, size, "RGB" if colour else "L")
        if pixels is None:
            unreadable += 1
            continue
        images[kept] = pixels
        labels.append(label)
        kept += 1
    if kept == 0:
        raise DataError(f"{folder}: none of its {len(files)} image files could be read (all corrupt or "
                        f"unsupported).")
    images = images[:kept]
    return FolderImages(
        name=FOLDER_DATASET, title=title or folder.resolve().name or str(folder), split="folder", part="all",
        images=(images if colour else images[:, 0]).contiguous(), labels=torch.tensor(labels, dtype=torch.int64),
        source=folder.resolve(), class_names=class_names, unreadable=unreadable, ignored=ignored)


def _open(path: Path) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(path, formats=PIL_FORMATS)
    if image.width * image.height > MAX_IMAGE_PIXELS:
        image.close()
        raise ValueError(f"over {MAX_IMAGE_PIXELS:,} pixels")
    return image


def _header_mode(path: Path) -> str | None:
    """The image's mode from its header ("L", "RGB", ...), None if it is not an image Pillow may open."""
    try:
        with _open(path) as image:
            if image.mode == "P" and image.palette is not None and image.palette.mode in GREY_MODES:
                return "L"
            return image.mode
    except (OSError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None


def _decode(path: Path, size: int, mode: str) -> torch.Tensor | None:
    """(C, size, size) uint8 of one file: upright, transparency over black, centre square, Lanczos resize."""
    try:
        with _open(path) as image:
            image.draft(mode, (size, size))             # JPEG: decode at a reduced scale, still >= size
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)
            image = image.convert(mode)
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            # Crop first, then resize: resize(box=...) would let Lanczos read pixels outside the square.
            square = image.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
            pixels = torch.frombuffer(bytearray(square.tobytes()), dtype=torch.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    return pixels.view(size, size, -1).permute(2, 0, 1)        # (C, S, S)


def holds_image_files(folder: str | os.PathLike) -> bool:
    """True when `folder` holds image files (directly or one level deep) and no IDX files: what `--data` means."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        return False
    try:
        entries = list(folder.iterdir())
        if any("ubyte" in p.name.lower() or "idx" in p.name.lower() for p in entries):
            return False
        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in entries if p.is_file()) or any(
            f.suffix.lower() in IMAGE_SUFFIXES for d in entries if d.is_dir() for f in d.iterdir())
    except OSError:
        return False


def preview_grid(data: ImageDataset, n: int = 16):
    """n images spread evenly over the set (so every class shows: they are stored class by class), tiled 8 to a
    row: uint8 (H, W) for grey, (H, W, 3) for RGB (ganplay.images.make_grid)."""
    import torch

    from ganplay.data.source import images_to_unit
    from ganplay.images import make_grid

    index = torch.linspace(0, len(data) - 1, min(n, len(data))).round().long()
    return make_grid(images_to_unit(data.images[index]), nrow=8)


def fit_config(config, data: ImageDataset):
    """`config` set to train on `data`: its channels, train.dataset "folder"; the classes stay the preset's."""
    return config.replace(**{"model.channels": data.channels, "train.dataset": FOLDER_DATASET})
