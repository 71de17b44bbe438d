"""Your own images (ganplay.data.folder, ganplay.data.archive): real image files written with Pillow into tmp
folders, loaded, trained on through the one Trainer, and through the command line; zips checked before unpacking.
"""
import dataclasses
import io
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganplay.checkpoint import load_checkpoint, save_checkpoint
from ganplay.config import ConfigError
from ganplay.data import (DataError, ImageDataset, ImageSource, data_source, extract_zip, fit_config,
                          holds_image_files, images_to_unit, load_data, load_image_folder, load_image_zip)
from ganplay.evaluate import digit_judge_refusal, evaluate
from ganplay.presets import preset
from ganplay.trainer import Trainer
from tests.test_cli import assert_user_error, ganplay


def grey(path, value, size=(30, 20)):
    Image.new("L", size, value).save(path)


def rgb(path, colour, size=(40, 30)):
    Image.new("RGB", size, colour).save(path)


@pytest.fixture
def mixed(tmp_path):
    """Class folders: cats/ 3 grey PNGs; dogs/ an RGB JPEG, an RGBA PNG, a WebP, a corrupt PNG and a text file."""
    root = tmp_path / "pets"
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    for i, value in enumerate((10, 120, 250)):
        grey(root / "cats" / f"c{i}.png", value)
    rgb(root / "dogs" / "a.jpg", (250, 10, 10))
    Image.new("RGBA", (25, 25), (255, 0, 0, 128)).save(root / "dogs" / "b.png")     # half-transparent red
    Image.new("RGB", (32, 32), (0, 0, 255)).save(root / "dogs" / "c.webp", lossless=True)
    (root / "dogs" / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()                                                    # not a class
    grey(root / ".hidden" / "x.png", 0)
    return root


def test_class_folders_colour_and_skipped_files(mixed):
    ds = load_image_folder(mixed, 28)
    assert ds.images.shape == (6, 3, 28, 28) and ds.images.dtype == torch.uint8 and ds.channels == 3
    assert ds.class_names == ("cats", "dogs")
    assert ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert (ds.unreadable, ds.ignored) == (1, 1)
    assert ds.describe() == ("pets · 6 images, 2 classes (cats, dogs) · 28×28 RGB · 1 unreadable file skipped · "
                             "1 other file ignored")
    centre = ds.images[:, :, 14, 14].tolist()
    assert centre[:3] == [[10] * 3, [120] * 3, [250] * 3]          # grey repeated over RGB
    assert abs(centre[3][0] - 250) <= 3 and centre[3][1] <= 12        # JPEG red, up to compression error
    assert centre[4] == [128, 0, 0]                                    # RGBA over black: 255 · 128/255
    assert centre[5] == [0, 0, 255]                                    # lossless WebP


def test_an_all_grey_unlabelled_folder_is_stored_like_mnist(tmp_path):
    for i in range(4):
        grey(tmp_path / f"{i}.png", 40 * i)
    Image.new("LA", (20, 20), (200, 0)).save(tmp_path / "transparent.png")    # grey + alpha: still grey
    ds = load_image_folder(tmp_path, 32)
    assert ds.images.shape == (5, 32, 32) and ds.channels == 1
    assert ds.class_names == () and ds.labels.tolist() == [0] * 5
    assert ds.images[:, 16, 16].tolist() == [0, 40, 80, 120, 0]
    assert "5 images, no classes · 32×32 grey" in ds.describe() and "skipped" not in ds.describe()
    x = images_to_unit(ds.images)
    assert x.shape == (5, 1, 32, 32) and x[1, 0, 0, 0].item() == pytest.approx(40 / 127.5 - 1)


def stripes(width, height):
    """Columns 0-9 and 30-39 at 100 (cropped away), 10-19 black, 20-29 white; transposed when tall."""
    a = np.zeros((20, 40), np.uint8)
    a[:, :10] = a[:, 30:] = 100
    a[:, 20:30] = 255
    return a if width > height else np.ascontiguousarray(a.T)


@pytest.mark.parametrize("wide", [True, False])
def test_centre_crop_then_resize_keeps_the_middle_square(tmp_path, wide):
    Image.fromarray(stripes(40, 20) if wide else stripes(20, 40)).save(tmp_path / "x.png")
    image = load_image_folder(tmp_path, 28).images[0]                  # (28, 28)
    profile = image[0] if wide else image[:, 0]                          # across the stripes
    constant = image == (profile[None, :] if wide else profile[:, None])
    assert constant.all()                                                # the other way nothing changes
    assert profile[:11].tolist() == [0] * 11 and profile[17:].tolist() == [255] * 11
    assert not ((profile > 60) & (profile < 140)).any()                  # nothing of the cropped 100s


def test_resizing_a_loaded_folder(tmp_path):
    rgb(tmp_path / "a.png", (200, 100, 0))
    ds = load_image_folder(tmp_path, 28)
    bigger = ds.resized(64)
    assert bigger.images.shape == (1, 3, 64, 64) and bigger.images[0, :, 30, 30].tolist() == [200, 100, 0]
    assert ds.resized(28) is ds
    with pytest.raises(ValueError, match="choose one of"):
        ds.resized(48)


def test_the_memory_estimate_refuses_before_decoding(tmp_path):
    for i in range(4):
        rgb(tmp_path / f"{i}.png", (i, 0, 0))
    assert len(load_image_folder(tmp_path, 28, max_bytes=4 * 3 * 28 * 28)) == 4     # exactly at the limit
    with pytest.raises(DataError, match=r"4 images at 28×28 with 3 channels need 0\.00 GB of memory, over the "
                                        r"0\.00 GB limit; use fewer images or a smaller image size"):
        load_image_folder(tmp_path, 28, max_bytes=4 * 3 * 28 * 28 - 1)


def test_folders_that_hold_nothing_usable_are_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="holds no PNG, JPEG or WebP images"):
        load_image_folder(empty)
    (empty / "readme.md").write_text("hi")
    with pytest.raises(DataError, match="1 other files ignored"):
        load_image_folder(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(b"nope")
    (broken / "b.jpg").write_bytes(b"\xff\xd8\xff nope")
    with pytest.raises(DataError, match="none of its 2 image files could be read"):
        load_image_folder(broken)
    with pytest.raises(DataError, match="no such folder"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="not a folder"):
        load_image_folder(broken / "a.png")
    mixed = tmp_path / "mixed"
    (mixed / "cls").mkdir(parents=True)
    grey(mixed / "loose.png", 0)
    grey(mixed / "cls" / "in.png", 0)
    with pytest.raises(DataError, match="holds 1 images directly and 1 class folders"):
        load_image_folder(mixed)
    with pytest.raises(DataError, match="image size 48 not supported"):
        load_image_folder(mixed / "cls", 48)


def test_what_a_data_folder_holds_decides_its_kind(tmp_path, mnist_dir, mixed):
    assert holds_image_files(mixed) and not holds_image_files(mnist_dir)
    assert not holds_image_files(tmp_path / "missing")
    flat = tmp_path / "flat"
    flat.mkdir()
    rgb(flat / "a.webp", (1, 2, 3))
    assert holds_image_files(flat)


# -- training on them: the one Trainer ------------------------------------------------------------------------
def test_an_rgb_folder_trains_an_rgb_model(mixed):
    ds = load_image_folder(mixed, 32)
    cfg = fit_config(preset("upsample-dcgan"), ds).replace(**{"train.batch_size": 4})
    assert (cfg.model.channels, cfg.train.dataset, cfg.model.num_classes) == (3, "folder", 0)
    trainer = Trainer(cfg, ds, device="cpu")
    x, y = trainer.source.batch(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 3, 32, 32) and y.tolist() and set(y.tolist()) <= {0, 1}
    trainer.step()
    assert trainer.step_count == 1 and trainer.sample().shape[1] == 3


def test_rgb_data_for_a_grey_model_is_refused_and_grey_data_is_expanded(mixed, tmp_path):
    ds = load_image_folder(mixed, 28)
    with pytest.raises(ConfigError, match="pets has RGB images but the model makes grey ones"):
        data_source(ds, preset("lecture").model)
    for i in range(2):
        grey(tmp_path / f"{i}.png", 255 * i)
    greys = load_image_folder(tmp_path, 28)
    x, _ = ImageSource(greys, 28, channels=3).batch(4, torch.Generator().manual_seed(0))
    assert x.shape == (4, 3, 28, 28) and torch.equal(x[:, 0], x[:, 2])


def test_a_conditional_preset_needs_labelled_images(tmp_path):
    rgb(tmp_path / "a.png", (9, 9, 9))
    ds = load_image_folder(tmp_path, 28)
    with pytest.raises(ConfigError, match="a class-conditional model needs labelled data; .* has no classes"):
        Trainer(fit_config(preset("cdcgan"), ds), ds, device="cpu")


def test_the_digit_judge_declines_what_is_not_mnist(mixed, tmp_path):
    assert digit_judge_refusal(preset("lecture")) is None
    assert "trained on Fashion-MNIST" in digit_judge_refusal(preset("lecture").replace(**{
        "train.dataset": "fashion-mnist"}))
    ds = load_image_folder(mixed, 28)
    cfg = fit_config(preset("lecture"), ds).replace(**{"train.batch_size": 4})
    trainer = Trainer(cfg, ds, device="cpu")
    trainer.step()
    path = save_checkpoint(tmp_path / "pets.safetensors", trainer)
    message = ("no digit scores: the digit judge only knows MNIST digits and this generator was trained on your "
               "own images (a folder or zip), 3-channel colour images")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate(path)
    rgb_mnist = preset("lecture").replace(**{"model.channels": 3})
    assert "3-channel colour images" in digit_judge_refusal(rgb_mnist)


# -- the command line -------------------------------------------------------------------------------------------
def test_cli_trains_on_an_rgb_folder_and_samples_an_rgb_grid(tmp_path):
    folder = tmp_path / "colours"
    folder.mkdir()
    for i in range(6):
        rgb(folder / f"{i}.jpg", (40 * i, 200, 255 - 40 * i), size=(50 + i, 40))
    out = tmp_path / "c.safetensors"
    result = ganplay("train", "--preset", "dcgan", "--data", str(folder), "--steps", "3", "--threads", "1",
                     "--set", "train.batch_size=4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "dcgan: colours · 6 images, no classes · 28×28 RGB on cpu" in result.stderr
    ckpt = load_checkpoint(out)
    assert (ckpt.config.model.channels, ckpt.config.train.dataset, ckpt.record["steps"]) == (3, "folder", 3)
    png = tmp_path / "grid.png"
    result = ganplay("sample", str(out), "--n", "16", "--scale", "1", "--out", str(png))
    assert result.returncode == 0, result.stderr
    grid = Image.open(png)
    assert grid.mode == "RGB" and grid.size == (2 + 4 * 30, 2 + 4 * 30)     # 4×4 tiles of 28 px, 2 px borders
    line = assert_user_error(ganplay("eval", str(out), "--n", "10"))
    assert "no digit scores: the digit judge only knows MNIST digits" in line and "colour images" in line


def test_cli_refuses_a_conditional_preset_on_unlabelled_images(tmp_path):
    rgb(tmp_path / "a.png", (1, 1, 1))
    line = assert_user_error(ganplay("train", "--preset", "cdcgan", "--data", str(tmp_path), "--steps", "1",
                                     "--out", str(tmp_path / "x.safetensors")))
    assert "class-conditional model needs labelled data" in line


# -- zips -------------------------------------------------------------------------------------------------------
def png_bytes(colour=(200, 0, 0), size=(20, 20)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def make_zip(entries) -> bytes:
    """entries: (name or ZipInfo, bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buf.getvalue()


def test_a_zip_with_one_top_folder_of_classes(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))        # where load_image_zip unpacks
    data = make_zip([("faces/", b""), ("faces/red/a.png", png_bytes((255, 0, 0))),
                     ("faces/red/b.png", png_bytes((250, 0, 0))), ("faces/blue/c.png", png_bytes((0, 0, 255))),
                     ("__MACOSX/faces/._a.png", b"junk"), ("faces/.DS_Store", b"junk")])
    ds = load_image_zip(data, 28, title="faces.zip")
    assert ds.images.shape == (3, 3, 28, 28) and ds.class_names == ("blue", "red")
    assert ds.labels.tolist() == [0, 1, 1] and ds.title == "faces.zip"
    assert ds.images[:, :, 5, 5].tolist() == [[0, 0, 255], [255, 0, 0], [250, 0, 0]]
    assert list(scratch.iterdir()) == []                             # unpacked, loaded, removed


def symlink_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize("entries, says", [
    ([("ok.png", png_bytes()), ("../evil.png", png_bytes())], "an entry climbs out of its folder ('../evil.png')"),
    ([("a\\..\\..\\evil.png", png_bytes())], "an entry climbs out of its folder"),
    ([("/tmp/evil.png", png_bytes())], "it names an absolute path ('/tmp/evil.png')"),
    ([("C:/evil.png", png_bytes())], "it names an absolute path ('C:/evil.png')"),
    ([(symlink_entry("link.png"), b"/etc/passwd")], "it holds a symbolic link ('link.png')"),
    ([(f"{i}.png", png_bytes()) for i in range(4)], "it has 4 entries, over the 3 limit"),
    ([("big.png", bytes(3_000_000))], "its files would unpack to 3 MB, over the 2 MB limit"),
])
def test_dangerous_or_oversized_zips_are_refused_before_anything_is_written(tmp_path, entries, says):
    box = tmp_path / "box"
    box.mkdir()
    with pytest.raises(DataError, match="this zip was refused and nothing was unpacked") as caught:
        extract_zip(make_zip(entries), box, max_files=3, max_unpacked=2_000_000)
    assert says in str(caught.value)
    assert list(box.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["box"]


def test_a_zip_over_the_upload_limit_or_not_a_zip_is_refused(tmp_path):
    data = make_zip([("a.png", png_bytes())])
    with pytest.raises(DataError, match=r"it is 0\.0 MB, over the 0 MB limit"):
        extract_zip(data, tmp_path, max_bytes=len(data) - 1)
    with pytest.raises(DataError, match="not a readable zip file"):
        load_image_zip(b"PK\x03\x04 definitely not", 28)
    with pytest.raises(DataError, match="holds no PNG, JPEG or WebP images"):
        load_image_zip(make_zip([("readme.txt", b"hi")]), 28, title="notes.zip")
    assert list(tmp_path.iterdir()) == []


def test_an_rgb_image_dataset_pads_to_32_and_scales_to_64_like_grey_mnist():
    images = torch.randint(0, 256, (2, 3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    ds = ImageDataset("x", "X", "t10k", "all", images, torch.zeros(2, dtype=torch.int64), Path("."), ())
    padded = ds.resized(32).images
    assert padded.shape == (2, 3, 32, 32) and torch.equal(padded[:, :, 2:30, 2:30], images)
    assert padded[:, :, :2].sum() == 0 and ds.resized(64).images.shape == (2, 3, 64, 64)
    flat = dataclasses.replace(ds, images=torch.full((1, 3, 28, 28), 77, dtype=torch.uint8))
    assert flat.resized(64).images.unique().tolist() == [77]


def test_a_config_trained_on_your_own_images_asks_for_their_folder():
    with pytest.raises(DataError, match="trained on your own images .* --data DIR"):
        load_data("folder")


def test_the_preview_shows_every_class(tmp_path):
    """The images are stored class by class; the preview spreads over the set, so a two-class folder shows both."""
    from ganplay.data.folder import preview_grid

    for cls, colour in (("blue", (0, 0, 255)), ("red", (255, 0, 0))):
        (tmp_path / cls).mkdir()
        for i in range(20):
            rgb(tmp_path / cls / f"{i}.png", colour)
    grid = preview_grid(load_image_folder(tmp_path, 28), 16)          # (2 rows of 8 tiles, RGB)
    tiles = [grid[2 + r * 30 + 14, 2 + c * 30 + 14].tolist() for r in range(2) for c in range(8)]
    assert tiles[:8] == [[0, 0, 255]] * 8 and tiles[8:] == [[255, 0, 0]] * 8
