"""Image datasets for the playground: MNIST and Fashion-MNIST, read straight from their IDX files.

How it works: `DATASETS` names each dataset and its four files; `find_data_dir` locates a folder holding
them (explicit root, then $GANPLAY_DATA, then ./data/<name>/, then OS package folders); `read_idx` parses
one IDX file (.gz or raw) strictly; `load_dataset` loads every split it finds into memory as an
`ImageDataset` and carves out a fixed evaluation holdout from the t10k split.

    from ganplay.data import load_dataset
    ds = load_dataset("mnist")
    x, y = ImageSource(ds, image_size=32).batch(64)   # x: (64, 1, 32, 32) float32 in [-1, 1], y: (64,) int64
    x = images_to_unit(ds.images[:8])                   # the one uint8 -> [-1, 1] conversion, (8, 1, 28, 28)

Every problem a user can fix (missing, damaged or partial files) raises `DataError`, whose message names
the file and says what to do. Fetching files is `ganplay.download`.

The parts: `registry` (DATASETS, DatasetSpec, DataError), `idx` (read_idx), `locate` (find_data_dir),
`dataset` (ImageDataset, the holdout, load_dataset), `folder` and `archive` (your own images: a folder, or a zip
upload, of PNG/JPEG/WebP files) and `source` (the batches a trainer draws, from images or from a toy
distribution of points). Import everything from `ganplay.data` itself.
"""

from ganplay.data.archive import MAX_ZIP_BYTES, MAX_ZIP_FILES, MAX_ZIP_UNPACKED_BYTES, extract_zip, load_image_zip
from ganplay.data.dataset import (
    HOLDOUT_SEED,
    HOLDOUT_SIZE,
    NATIVE_SIZE,
    SUPPORTED_SIZES,
    ImageDataset,
    holdout_indices,
    load_dataset,
)
from ganplay.data.folder import (
    FOLDER_DATASET,
    MAX_DATASET_BYTES,
    FolderImages,
    fit_config,
    holds_image_files,
    load_image_folder,
)
from ganplay.data.idx import _IDX_CACHE, MAX_IDX_BYTES, read_idx
from ganplay.data.locate import DATA_ENV_VAR, default_data_dir, download_dir, find_data_dir
from ganplay.data.registry import DATASETS, DataError, DatasetSpec, get_spec
from ganplay.data.source import DataSource, ImageSource, PointSource, data_source, images_to_unit, load_data
from ganplay.data.synthetic import SyntheticImages, synthetic_images

__all__ = [
    "DATA_ENV_VAR", "DATASETS", "DataError", "DataSource", "DatasetSpec", "ImageSource", "PointSource",
    "data_source", "images_to_unit", "load_data", "HOLDOUT_SEED", "HOLDOUT_SIZE", "ImageDataset",
    "MAX_IDX_BYTES", "NATIVE_SIZE", "SUPPORTED_SIZES", "default_data_dir", "find_data_dir", "get_spec",
    "holdout_indices", "load_dataset", "read_idx", "download_dir", "SyntheticImages", "synthetic_images",
    "FOLDER_DATASET", "MAX_DATASET_BYTES", "FolderImages", "fit_config", "holds_image_files", "load_image_folder",
    "MAX_ZIP_BYTES", "MAX_ZIP_FILES", "MAX_ZIP_UNPACKED_BYTES", "extract_zip", "load_image_zip",
]
