"""Which datasets exist: `DATASETS` maps each name to a `DatasetSpec` (its files, checksums, mirrors, class
names and where an OS package puts it), and `DataError` is the one error a user can fix about the files.
An unknown dataset name is a `ganplay.registry.UnknownNameError`, as for every other registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganplay.registry import Registry


class DataError(Exception):
    """A data problem the user can fix; the message names the file and the fix."""


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

DATASETS: Registry[DatasetSpec] = Registry("dataset", {
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
})


def get_spec(name: str) -> DatasetSpec:
    """DATASETS[name]: an unknown name raises UnknownNameError listing the datasets."""
    return DATASETS[name]
