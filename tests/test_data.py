"""Tests for ganplay.data: the IDX reader, folder search, loading, holdout, resizing and sampling.

Real MNIST t10k files are found through $GANPLAY_DATA (e.g. GANPLAY_DATA=../shared/data/mnist); the tests fail,
never skip, when it is missing. Damaged and synthetic files are written into tmp_path only.
"""

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ganplay import data
from ganplay.data import (DATASETS, HOLDOUT_SEED, HOLDOUT_SIZE, DataError, ImageDataset, ImageSource,
                          find_data_dir, images_to_unit, load_dataset, read_idx)
from ganplay.registry import UnknownNameError

T10K_IMAGES, T10K_LABELS = DATASETS["mnist"].splits["t10k"]
TRAIN_IMAGES, TRAIN_LABELS = DATASETS["mnist"].splits["train"]
# Published class counts of the MNIST t10k labels, digits 0..9.
T10K_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
DOWNLOAD_COMMAND = "python -m ganplay data download mnist"


@pytest.fixture(scope="module")
def raw_labels(mnist_dir) -> bytes:
    return gzip.decompress((mnist_dir / T10K_LABELS).read_bytes())


def make_split(folder: Path, split: str, count: int, seed: int = 0, compress: bool = True) -> None:
    """Write a small valid synthetic split (random 28x28 images, labels 0..9) in IDX format."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=count, dtype=np.uint8)
    image_name, label_name = DATASETS["mnist"].splits[split]
    folder.mkdir(parents=True, exist_ok=True)
    for name, header, body in ((image_name, b"\x00\x00\x08\x03" + idx_dims(count, 28, 28), images.tobytes()),
                               (label_name, b"\x00\x00\x08\x01" + idx_dims(count), labels.tobytes())):
        content = header + body
        if compress:
            (folder / name).write_bytes(gzip.compress(content))
        else:
            (folder / name.removesuffix(".gz")).write_bytes(content)


def idx_dims(*dims: int) -> bytes:
    return b"".join(d.to_bytes(4, "big") for d in dims)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No $GANPLAY_DATA and an empty working directory, so only what a test sets up is found."""
    monkeypatch.delenv("GANPLAY_DATA", raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return workdir


# ----------------------------------------------------------------------------------------------- read_idx

def test_read_idx_real_images(mnist_dir):
    images = read_idx(mnist_dir / T10K_IMAGES)
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255


def test_read_idx_real_labels_match_published_counts(mnist_dir):
    labels = read_idx(str(mnist_dir / T10K_LABELS))   # str paths work too
    assert labels.shape == (10_000,) and labels.dtype == np.uint8
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert np.bincount(labels, minlength=10).tolist() == T10K_LABEL_COUNTS
    assert sum(T10K_LABEL_COUNTS) == 10_000


def test_read_idx_raw_file_equals_gz(mnist_dir, raw_labels, tmp_path):
    raw_path = tmp_path / "t10k-labels-idx1-ubyte"
    raw_path.write_bytes(raw_labels)
    assert np.array_equal(read_idx(raw_path), read_idx(mnist_dir / T10K_LABELS))


# kind -> how to damage a file, given the real labels (raw IDX bytes) and the real labels .gz bytes.
BROKEN_FILES = {
    "empty": lambda raw, gz: b"",
    "short-header": lambda raw, gz: b"\x00\x00\x08",
    "truncated-raw": lambda raw, gz: raw[:-1],
    "truncated-in-dims": lambda raw, gz: b"\x00\x00\x08\x03\x00\x00\x00\x01\x00\x00",
    "trailing-bytes": lambda raw, gz: raw + b"\x00",
    "wrong-magic": lambda raw, gz: b"\x00\x00\x08\x02" + raw[4:],
    "float-dtype": lambda raw, gz: b"\x00\x00\x0d\x01" + raw[4:],
    "not-idx-at-all": lambda raw, gz: b"PK\x03\x04 this is a zip file",
    "more-items-than-bytes": lambda raw, gz: b"\x00\x00\x08\x01" + idx_dims(20_000) + raw[8:],
    "absurd-dims": lambda raw, gz: b"\x00\x00\x08\x03" + idx_dims(2**31, 28, 28) + b"\x00" * 64,
    "zero-items": lambda raw, gz: b"\x00\x00\x08\x01" + idx_dims(0),
    "corrupt-gzip": lambda raw, gz: gz[:len(gz) // 2] + bytes(b ^ 0xFF for b in gz[len(gz) // 2:]),
    "truncated-gzip": lambda raw, gz: gz[:-20],
    "gzip-of-junk": lambda raw, gz: gzip.compress(b"hello, not an IDX file"),
    "gzip-then-junk": lambda raw, gz: gz + b"garbage",
}


@pytest.mark.parametrize("kind", BROKEN_FILES)
def test_read_idx_broken_file_raises_data_error_naming_it(kind, raw_labels, mnist_dir, tmp_path):
    path = tmp_path / f"{kind}-idx1-ubyte.gz"
    path.write_bytes(BROKEN_FILES[kind](raw_labels, (mnist_dir / T10K_LABELS).read_bytes()))
    with pytest.raises(DataError) as caught:
        read_idx(path)
    assert str(path) in str(caught.value)


def test_read_idx_missing_file_and_folder(tmp_path):
    for path in (tmp_path / "nope-idx1-ubyte.gz", tmp_path):
        with pytest.raises(DataError) as caught:
            read_idx(path)
        assert str(path) in str(caught.value)


def _mutate(base: bytes, draw) -> bytes:
    content = bytearray(base)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["flip", "cut", "append"]))
        if action == "flip" and content:
            content[draw(st.integers(0, min(len(content) - 1, 40)))] = draw(st.integers(0, 255))
        elif action == "cut":
            del content[draw(st.integers(0, len(content))):]
        else:
            content += draw(st.binary(max_size=8))
    return bytes(content)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data_strategy=st.data())
def test_read_idx_fuzz_only_raises_data_error(data_strategy, raw_labels, tmp_path):
    draw = data_strategy.draw
    real_images_head = b"\x00\x00\x08\x03" + idx_dims(2, 28, 28) + bytes(range(256)) * 7   # 2 x 28 x 28 bytes
    source = draw(st.sampled_from(["random", "real-labels", "real-images-header", "tiny"]))
    base = {
        "random": draw(st.binary(max_size=64)),
        "real-labels": raw_labels[:8] + raw_labels[8:8 + draw(st.integers(0, 32))],
        "real-images-header": real_images_head[:draw(st.integers(0, len(real_images_head)))],
        "tiny": b"\x00\x00\x08\x03" + idx_dims(1, 2, 2) + b"\x01\x02\x03\x04",
    }[source]
    content = _mutate(base, draw)
    if draw(st.booleans()):
        compressed = gzip.compress(content)
        content = _mutate(compressed, draw) if draw(st.booleans()) else compressed
    path = tmp_path / "fuzz-idx-ubyte"
    path.write_bytes(content)
    try:
        array = read_idx(path)
    except DataError as error:
        assert str(path) in str(error)
    else:
        assert array.dtype == np.uint8 and array.ndim in (1, 3) and array.size > 0


# ---------------------------------------------------------------------------------------- find_data_dir

def fake_split_folder(folder: Path, split: str = "t10k", dataset: str = "mnist") -> Path:
    """A folder whose file names make a complete split (find_data_dir only checks names, not content)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in DATASETS[dataset].splits[split]:
        (folder / name).write_bytes(b"")
    return folder


def test_find_data_dir_prefers_explicit_root_over_env_and_cwd(clean_env, tmp_path, monkeypatch):
    explicit = fake_split_folder(tmp_path / "explicit")
    monkeypatch.setenv("GANPLAY_DATA", str(fake_split_folder(tmp_path / "from-env")))
    fake_split_folder(clean_env / "data" / "mnist")
    assert find_data_dir("mnist", root=explicit) == explicit.resolve()
    assert find_data_dir("mnist", root=str(explicit)) == explicit.resolve()


def test_find_data_dir_prefers_env_over_cwd_data(clean_env, tmp_path, monkeypatch):
    from_env = fake_split_folder(tmp_path / "from-env")
    fake_split_folder(clean_env / "data" / "mnist")
    monkeypatch.setenv("GANPLAY_DATA", str(from_env))
    assert find_data_dir("mnist") == from_env.resolve()


def test_find_data_dir_falls_back_to_cwd_data_folder(clean_env):
    local = fake_split_folder(clean_env / "data" / "mnist", split="train")
    assert find_data_dir("mnist") == local.resolve()


def test_find_data_dir_env_may_name_a_parent_or_a_relative_path(clean_env, tmp_path, monkeypatch):
    dataset_folder = fake_split_folder(tmp_path / "shared" / "mnist")
    monkeypatch.setenv("GANPLAY_DATA", str(tmp_path / "shared"))
    assert find_data_dir("mnist") == dataset_folder.resolve()
    # Relative values resolve against the working directory at call time, as CI sets ../shared/data/mnist.
    monkeypatch.setenv("GANPLAY_DATA", "../shared/mnist")
    assert find_data_dir("mnist") == dataset_folder.resolve()


def test_find_data_dir_env_naming_another_dataset_is_not_taken_for_this_one(clean_env, tmp_path, monkeypatch):
    mnist_folder = fake_split_folder(tmp_path / "mnist")   # same file names as Fashion-MNIST
    monkeypatch.setenv("GANPLAY_DATA", str(mnist_folder))
    try:
        found = find_data_dir("fashion-mnist")
    except DataError as error:
        assert str(mnist_folder / "fashion-mnist") in str(error)
    else:
        assert found != mnist_folder.resolve()   # e.g. the Debian package folder, if installed


def test_find_data_dir_needs_both_files_of_a_split(clean_env):
    local = clean_env / "data" / "mnist"
    local.mkdir(parents=True)
    (local / T10K_IMAGES).write_bytes(b"")
    (local / TRAIN_LABELS).write_bytes(b"")
    with pytest.raises(DataError):
        find_data_dir("mnist")
    (local / T10K_LABELS.removesuffix(".gz")).write_bytes(b"")   # a raw (uncompressed) partner counts
    assert find_data_dir("mnist") == local.resolve()


def test_find_data_dir_accepts_dotted_file_names(clean_env):
    local = clean_env / "data" / "mnist"
    local.mkdir(parents=True)
    (local / "t10k-images.idx3-ubyte").write_bytes(b"")
    (local / "t10k-labels.idx1-ubyte").write_bytes(b"")
    assert find_data_dir("mnist") == local.resolve()


def test_find_data_dir_missing_lists_places_and_the_fix(clean_env, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("GANPLAY_DATA", str(empty))
    with pytest.raises(DataError) as caught:
        find_data_dir("mnist")
    message = str(caught.value)
    assert DOWNLOAD_COMMAND in message and "GANPLAY_DATA" in message
    assert str(empty) in message and str(clean_env / "data" / "mnist") in message


def test_find_data_dir_explicit_root_without_data_does_not_fall_back(clean_env, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPLAY_DATA", str(fake_split_folder(tmp_path / "good")))
    with pytest.raises(DataError, match="python -m ganplay data download mnist"):
        find_data_dir("mnist", root=tmp_path / "wrong")


def test_find_data_dir_env_pointing_nowhere_is_an_error(clean_env, tmp_path, monkeypatch):
    fake_split_folder(clean_env / "data" / "mnist")
    monkeypatch.setenv("GANPLAY_DATA", str(tmp_path / "typo"))
    with pytest.raises(DataError, match="GANPLAY_DATA"):
        find_data_dir("mnist")


def test_unknown_dataset_lists_known_names():
    with pytest.raises(UnknownNameError, match="unknown dataset 'cifar'; choose one of: mnist, fashion-mnist"):
        find_data_dir("cifar")
    with pytest.raises(UnknownNameError, match="mnist"):
        load_dataset("cifar")


# ------------------------------------------------------------------------------------------ load_dataset

@pytest.fixture(scope="module")
def parts(mnist_dir) -> dict[str, ImageDataset]:
    return {part: load_dataset("mnist", root=mnist_dir, part=part) for part in ("train", "holdout", "all")}


def test_registry_entries_are_complete():
    for name, spec in DATASETS.items():
        assert spec.name == name and len(spec.class_names) == 10
        assert set(spec.md5) == set(spec.file_names) and len(spec.file_names) == 4
        assert all(len(digest) == 32 for digest in spec.md5.values()) and spec.mirrors
    assert DATASETS["fashion-mnist"].class_names[:2] == ("T-shirt/top", "Trouser")


def test_load_dataset_part_sizes_and_types(parts, mnist_dir):
    assert {part: len(ds) for part, ds in parts.items()} == {"train": 8000, "holdout": 2000, "all": 10_000}
    for part, ds in parts.items():
        assert ds.part == part and ds.split == "t10k" and ds.name == "mnist" and ds.title == "MNIST"
        assert ds.images.dtype == torch.uint8 and ds.images.is_contiguous() and ds.images.shape[1:] == (28, 28)
        assert ds.labels.dtype == torch.int64 and ds.labels.shape == (len(ds),)
        assert ds.image_size == 28 and ds.class_names == tuple("0123456789")
        assert ds.source == mnist_dir.resolve()


def test_load_dataset_holdout_is_the_fixed_t10k_permutation_and_disjoint(parts):
    all_images, all_labels = parts["all"].images.numpy(), parts["all"].labels.numpy()
    chosen = np.zeros(10_000, dtype=bool)
    chosen[np.random.default_rng(HOLDOUT_SEED).permutation(10_000)[:HOLDOUT_SIZE]] = True
    assert np.array_equal(parts["holdout"].images.numpy(), all_images[chosen])
    assert np.array_equal(parts["holdout"].labels.numpy(), all_labels[chosen])
    assert np.array_equal(parts["train"].images.numpy(), all_images[~chosen])
    # The t10k images are all distinct, so disjoint index sets mean no image is in both parts.
    holdout_rows = {row.tobytes() for row in parts["holdout"].images.numpy()}
    assert not holdout_rows & {row.tobytes() for row in parts["train"].images.numpy()}
    assert np.bincount(all_labels, minlength=10).tolist() == T10K_LABEL_COUNTS


def test_load_dataset_holdout_is_deterministic_across_calls_and_cache_clears(mnist_dir, parts):
    data._IDX_CACHE.clear()
    again = load_dataset("mnist", root=mnist_dir, part="holdout")
    assert again is not parts["holdout"]
    assert torch.equal(again.images, parts["holdout"].images) and torch.equal(again.labels, parts["holdout"].labels)


def test_load_dataset_returns_private_copies(mnist_dir):
    first = load_dataset("mnist", root=mnist_dir, part="all")
    first.images.zero_()
    assert load_dataset("mnist", root=mnist_dir, part="all").images.max() == 255


def test_load_dataset_finds_data_through_env(clean_env, mnist_dir, monkeypatch):
    monkeypatch.setenv("GANPLAY_DATA", str(mnist_dir))
    assert len(load_dataset()) == 8000


def test_load_dataset_cache_notices_a_replaced_file(tmp_path):
    make_split(tmp_path, "train", count=30, seed=1)
    first = load_dataset("mnist", root=tmp_path, part="all")
    make_split(tmp_path, "train", count=40, seed=2)
    os.utime(tmp_path / TRAIN_IMAGES, ns=(1, 1))   # a different mtime even on coarse-clock filesystems
    os.utime(tmp_path / TRAIN_LABELS, ns=(1, 1))
    assert len(first) == 30 and len(load_dataset("mnist", root=tmp_path, part="all")) == 40


def test_describe_says_which_split_and_part(parts):
    assert parts["train"].describe() == "MNIST · t10k split · 8,000 training images (2,000 held out for evaluation)"
    assert "t10k" in parts["holdout"].describe() and "2,000 held-out" in parts["holdout"].describe()
    assert "10,000" in parts["all"].describe()
    assert "32×32" in parts["train"].resized(32).describe()


def test_train_split_only_has_no_holdout(tmp_path):
    make_split(tmp_path, "train", count=50, compress=False)
    ds = load_dataset("mnist", root=tmp_path)
    assert len(ds) == 50 and ds.split == "train" and "no held-out" in ds.describe()
    with pytest.raises(DataError, match="t10k"):
        load_dataset("mnist", root=tmp_path, part="holdout")


def test_train_and_t10k_are_combined(tmp_path, mnist_dir):
    for name in (T10K_IMAGES, T10K_LABELS):
        shutil.copy(mnist_dir / name, tmp_path / name)
    make_split(tmp_path, "train", count=100)
    ds = load_dataset("mnist", root=tmp_path, part="train")
    assert ds.split == "train+t10k" and len(ds) == 8100 and "train+t10k splits" in ds.describe()
    assert len(load_dataset("mnist", root=tmp_path, part="holdout")) == HOLDOUT_SIZE


def test_half_split_and_mismatched_files_are_data_errors(tmp_path, mnist_dir):
    shutil.copy(mnist_dir / T10K_LABELS, tmp_path / T10K_LABELS)
    make_split(tmp_path, "train", count=10)
    (tmp_path / TRAIN_LABELS).unlink()
    shutil.copy(mnist_dir / T10K_IMAGES, tmp_path / T10K_IMAGES)
    with pytest.raises(DataError, match=TRAIN_LABELS):
        load_dataset("mnist", root=tmp_path)
    (tmp_path / TRAIN_IMAGES).unlink()
    shutil.copy(mnist_dir / T10K_LABELS, tmp_path / TRAIN_LABELS)     # 10,000 labels for ...
    make_split(tmp_path / "other", "train", count=10)
    shutil.copy(tmp_path / "other" / TRAIN_IMAGES, tmp_path / TRAIN_IMAGES)   # ... only 10 images
    with pytest.raises(DataError, match=TRAIN_LABELS):
        load_dataset("mnist", root=tmp_path)


def test_bad_part_is_a_value_error(mnist_dir):
    with pytest.raises(ValueError, match="holdout"):
        load_dataset("mnist", root=mnist_dir, part="test")


# ------------------------------------------------------------------------ resized, and the batches drawn

def test_resized_28_is_the_same_object_and_other_sizes_refused(parts):
    assert parts["train"].resized(28) is parts["train"]
    for size in (16, 30, 128):
        with pytest.raises(ValueError):
            parts["train"].resized(size)


def test_resized_32_pads_with_background(parts):
    original = parts["holdout"]
    padded = original.resized(32)
    assert padded.images.shape == (2000, 32, 32) and padded.images.dtype == torch.uint8
    assert padded.image_size == 32 and torch.equal(padded.labels, original.labels)
    assert torch.equal(padded.images[:, 2:30, 2:30], original.images)
    border = padded.images.clone()
    border[:, 2:30, 2:30] = 0
    assert border.count_nonzero() == 0
    assert padded.resized(32) is padded
    with pytest.raises(ValueError):
        padded.resized(64)   # resizing always starts from the 28x28 original


def test_resized_64_is_a_stored_bilinear_upscale(parts):
    original = parts["holdout"]
    big = original.resized(64)
    assert big.images.shape == (2000, 64, 64) and big.images.dtype == torch.uint8 and big.images.is_contiguous()
    # Downscaling back by block averages stays close to the original: the content was not shifted or flipped.
    shrunk = torch.nn.functional.interpolate(big.images[:, None].float(), size=(28, 28), mode="area")[:, 0]
    assert (shrunk - original.images.float()).abs().mean() < 12
    assert abs(big.images.float().mean() - original.images.float().mean()) < 1.0


def test_batch_shapes_range_and_values(parts):
    ds = parts["all"]
    x, y = ImageSource(ds, image_size=28).batch(4096, generator=torch.Generator().manual_seed(3))
    assert x.shape == (4096, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (4096,) and y.dtype == torch.int64
    assert x.min().item() == -1.0 and x.max().item() == 1.0   # MNIST has pure black and pure white pixels
    index = torch.randint(len(ds), (4096,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(y, ds.labels[index])
    assert torch.equal(x, ds.images[index].unsqueeze(1).float() / 127.5 - 1)


def test_batch_is_deterministic_for_a_seeded_generator(parts):
    source = ImageSource(parts["train"], image_size=32)
    first = source.batch(16, generator=torch.Generator().manual_seed(7))
    second = source.batch(16, generator=torch.Generator().manual_seed(7))
    other = source.batch(16, generator=torch.Generator().manual_seed(8))
    assert first[0].shape == (16, 1, 32, 32)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[0], other[0])
    with pytest.raises(ValueError, match="at least one"):
        source.batch(0)


def test_batch_repeats_grey_over_three_channels(parts):
    x, _ = ImageSource(parts["holdout"], image_size=28, channels=3).batch(8, torch.Generator().manual_seed(0))
    assert x.shape == (8, 3, 28, 28)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])


def test_images_to_unit_maps_the_ends_and_leaves_its_input_alone():
    images = torch.tensor([[[0, 255], [51, 204]]], dtype=torch.uint8)            # (1, 2, 2)
    x = images_to_unit(images)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    assert x.flatten().tolist() == pytest.approx([-1.0, 1.0, -0.6, 0.6])          # 51 / 127.5 - 1 = -0.6
    floats = torch.tensor([[[0.0, 255.0]]])
    images_to_unit(floats)
    assert floats.tolist() == [[[0.0, 255.0]]]                                    # no in-place change
