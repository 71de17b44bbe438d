"""Image datasets for the playground: MNIST and Fashion-MNIST, read straight from their IDX files.

How it works: `DATASETS` names each dataset and its four files; `find_data_dir` locates a folder holding
them (explicit root, then $GANPLAY_DATA, then ./data/<name>/, then OS package folders); `read_idx` parses
one IDX file (.gz or raw) strictly; `load_dataset` loads every split it finds into memory as an
`ImageDataset` and carves out a fixed evaluation holdout from the t10k split.

    from ganplay.data import load_dataset
    ds = load_dataset("mnist").resized(32)
    x, y = ds.sample(64)          # x: (64, 1, 32, 32) float32 in [-1, 1], y: (64,) int64

Every problem a user can fix (missing, damaged or partial files) raises `DataError`, whose message names
the file and says what to do. Fetching files is `ganplay.download`.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


class DataError(Exception):
    """A data problem the user can fix; the message names the file and the fix."""


DATA_ENV_VAR = "GANPLAY_DATA"
HOLDOUT_SIZE = 2000
HOLDOUT_SEED = 0
NATIVE_SIZE = 28
SUPPORTED_SIZES = (28, 32, 64)
# Largest IDX payload we agree to read (1 GiB; MNIST train images are 47 MB), so a header claiming
# 2**31 images is rejected before any allocation.
MAX_IDX_BYTES = 1 << 30


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, fetch, verify and label one dataset."""

    name: str                                   # registry key, used in paths and commands
    title: str                                  # shown to people: "Fashion-MNIST"
    splits: dict[str, tuple[str, str]]          # split -> (images file, labels file), canonical .gz names
    md5: dict[str, str]                         # canonical file name -> published md5 of the .gz
    mirrors: tuple[str, ...]                    # base URLs, tried in order
    class_names: tuple[str, ...]
    system_dirs: tuple[Path, ...] = ()          # where an OS package installs the files
    system_package: str | None = None           # that package's name, for error messages

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(f for pair in self.splits.values() for f in pair)

    @property
    def download_command(self) -> str:
        return f"python -m ganplay data download {self.name}"


_IDX_SPLITS = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "t10k": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        splits=_IDX_SPLITS,
        md5={
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        class_names=tuple(str(digit) for digit in range(10)),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        splits=_IDX_SPLITS,
        md5={
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
        system_package="dataset-fashion-mnist",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registry entry for `name`, or a DataError listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.") from None


def default_data_dir(name: str) -> Path:
    """./data/<name>/ under the current working directory: where downloads go and the third place searched."""
    return Path.cwd() / "data" / name


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Parse one IDX file (gzip-compressed or raw) into a read-only uint8 array.

    Accepts only magic 0x00000801 (labels, shape (N,)) and 0x00000803 (images, shape (N, H, W)); the payload
    must be exactly the size the header promises. Anything else raises DataError naming the file.
    """
    path = Path(path)
    fix = "delete it and download it again (e.g. `python -m ganplay data download mnist`)"
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw
            header = _read_up_to(stream, 4)
            if len(header) < 4:
                raise DataError(f"{path}: file is empty or shorter than an IDX header; {fix}.")
            zero1, zero2, dtype_code, ndim = header
            if zero1 or zero2 or dtype_code != 0x08 or ndim not in (1, 3):
                raise DataError(f"{path}: not an MNIST-style IDX file (magic bytes {header.hex()}, expected "
                                f"00000801 for labels or 00000803 for images); {fix}.")
            dims_bytes = _read_up_to(stream, 4 * ndim)
            if len(dims_bytes) < 4 * ndim:
                raise DataError(f"{path}: truncated inside the IDX header; {fix}.")
            dims = tuple(int.from_bytes(dims_bytes[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
            expected = math.prod(dims)
            if expected == 0 or expected > MAX_IDX_BYTES:
                raise DataError(f"{path}: implausible IDX header dimensions {dims}; {fix}.")
            # Read one byte more than promised so trailing junk is caught too.
            payload = _read_up_to(stream, expected + 1)
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; {fix}.") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:   # EOFError: the gzip stream is cut off
        raise DataError(f"{path}: corrupt or cut-off gzip data ({error}); {fix}.") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error}); {fix}.") from None
    if len(payload) != expected:
        found = f"only {len(payload):,}" if len(payload) < expected else "more"
        raise DataError(f"{path}: wrong length: its header {dims} promises {expected:,} bytes of data, "
                        f"found {found}; {fix}.")
    array = np.frombuffer(payload, dtype=np.uint8).reshape(dims)
    array.flags.writeable = False  # shared through the cache below; datasets copy out of it
    return array


def _read_up_to(stream, n_bytes: int, chunk_size: int = 1 << 20) -> bytearray:
    """Read at most n_bytes, growing only as real data arrives (a lying header cannot force a huge buffer)."""
    data = bytearray()
    while len(data) < n_bytes:
        chunk = stream.read(min(chunk_size, n_bytes - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _locate_file(folder: Path, canonical: str) -> Path | None:
    """The file for `canonical` (e.g. t10k-images-idx3-ubyte.gz) in folder: .gz or raw, '-idx' or '.idx'."""
    stem = canonical.removesuffix(".gz")
    for candidate in (stem + ".gz", stem, stem.replace("-idx", ".idx") + ".gz", stem.replace("-idx", ".idx")):
        if (folder / candidate).is_file():
            return folder / candidate
    return None


# (resolved path) -> ((mtime_ns, size), array): parsing gzip is the slow part and the app reloads often.
_IDX_CACHE: dict[Path, tuple[tuple[int, int], np.ndarray]] = {}


def _read_idx_cached(path: Path) -> np.ndarray:
    path = path.resolve()
    stat = path.stat()
    signature = (stat.st_mtime_ns, stat.st_size)
    cached = _IDX_CACHE.get(path)
    if cached is None or cached[0] != signature:
        cached = _IDX_CACHE[path] = (signature, read_idx(path))
    return cached[1]


def _complete_splits(spec: DatasetSpec, folder: Path) -> list[str]:
    return [split for split, pair in spec.splits.items() if all(_locate_file(folder, f) for f in pair)]


def _candidate_folders(spec: DatasetSpec, base: Path) -> list[Path]:
    """base/<name>/ and base itself, unless base is visibly another dataset's folder (e.g. .../mnist
    when looking for fashion-mnist: both use the same file names, so only the folder name tells them apart)."""
    folders = [base / spec.name]
    if base.name == spec.name or base.name not in DATASETS:
        folders.append(base)
    return folders


def find_data_dir(name: str, root: str | os.PathLike | None = None) -> Path:
    """The folder holding at least one complete split of dataset `name`; see the module docstring for the order.

    An explicit `root` is trusted: if it lacks the data, that is an error (no silent fallback). $GANPLAY_DATA
    (relative paths resolve against the current directory) must exist, but may hold other datasets only.
    """
    spec = get_spec(name)
    fix = (f"run `{spec.download_command}` (saves into ./data/{name}/), copy the files into ./data/{name}/, "
           f"or set {DATA_ENV_VAR}=/folder/holding/the/files")
    if spec.system_package:
        fix += f", or `apt-get install {spec.system_package}`"
    needed = " + ".join(spec.splits["t10k"])
    if root is not None:
        for folder in _candidate_folders(spec, Path(root).expanduser().absolute()):
            if _complete_splits(spec, folder):
                return folder.resolve()
        raise DataError(f"No {spec.title} files in {root} (or its {name}/ subfolder); it needs at least one "
                        f"split's images and labels, e.g. {needed}. Pass the right folder, or {fix}.")

    searched: list[str] = []
    env_value = os.environ.get(DATA_ENV_VAR)
    if env_value:
        env_base = Path(env_value).expanduser().absolute()
        if not env_base.is_dir():
            raise DataError(f"{DATA_ENV_VAR}={env_value} but {env_base} is not a folder (relative paths count "
                            f"from the current directory {Path.cwd()}). Set {DATA_ENV_VAR} to the folder "
                            f"holding the {spec.title} files, or unset it.")
        for folder in _candidate_folders(spec, env_base):
            if _complete_splits(spec, folder):
                return folder.resolve()
            searched.append(f"{folder}  (from ${DATA_ENV_VAR})")
    for folder in (default_data_dir(name), *spec.system_dirs):
        if _complete_splits(spec, folder):
            return folder.resolve()
        searched.append(str(folder))
    places = "\n".join(f"  - {place}" for place in searched)
    raise DataError(f"No {spec.title} data found. Looked in:\n{places}\nA folder counts when it holds one "
                    f"split's images and labels, e.g. {needed} (.gz or raw).\nTo fix: {fix}.")


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """A whole labelled image set in memory, plus where it came from."""

    name: str                      # registry key
    title: str                     # "MNIST"
    split: str                     # files used: "train", "t10k" or "train+t10k"
    part: str                      # "train" | "holdout" | "all"
    images: torch.Tensor = field(repr=False)   # (N, H, W) uint8, contiguous
    labels: torch.Tensor = field(repr=False)   # (N,) int64
    source: Path
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_size(self) -> int:
        return self.images.shape[-1]

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
            padded = torch.zeros((len(self), size, size), dtype=torch.uint8)
            padded[:, margin:margin + NATIVE_SIZE, margin:margin + NATIVE_SIZE] = self.images
            return dataclasses.replace(self, images=padded)
        # Chunked so 70k images never need one 1 GB float32 buffer.
        chunks = [F.interpolate(chunk[:, None].float(), size=(size, size), mode="bilinear", align_corners=False)
                  .round_().clamp_(0, 255).to(torch.uint8)[:, 0]           # (chunk, size, size)
                  for chunk in self.images.split(8192)]
        return dataclasses.replace(self, images=torch.cat(chunks).contiguous())

    def sample(self, batch_size: int,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A random batch with replacement: x (B, 1, S, S) float32 in [-1, 1], y (B,) int64."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        index = torch.randint(len(self), (batch_size,), generator=generator)
        x = self.images[index].unsqueeze(1).to(torch.float32).div_(127.5).sub_(1.0)  # 0 -> -1, 255 -> +1
        return x, self.labels[index]


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
