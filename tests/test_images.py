"""Tests for ganplay.images: grid geometry, the [-1, 1] -> uint8 mapping, PNG and GIF encoding."""
import io

import numpy as np
import pytest
import torch
from PIL import Image

from ganplay.data import images_to_unit
from ganplay.images import LABEL_BAND, gif_bytes, make_grid, png_bytes, to_uint8, upscale


def test_grid_shape_for_an_8_by_8_grid():
    grid = make_grid(torch.zeros(64, 1, 28, 28), padding=2)
    assert grid.shape == (2 + 8 * (28 + 2), 2 + 8 * (28 + 2)) == (242, 242)
    assert grid.dtype == np.uint8


@pytest.mark.parametrize("n, nrow, shape", [
    (64, 10, (2 + 7 * 30, 2 + 10 * 30)),      # 10 columns, ceil(64 / 10) = 7 rows
    (10, None, (2 + 3 * 30, 2 + 4 * 30)),     # ceil(sqrt(10)) = 4 columns, 3 rows
    (1, None, (2 + 30, 2 + 30)),
])
def test_grid_shape_arithmetic(n, nrow, shape):
    assert make_grid(torch.zeros(n, 1, 28, 28), nrow=nrow).shape == shape


def test_grid_without_padding_and_rgb():
    grid = make_grid(torch.zeros(6, 3, 4, 5), nrow=3, padding=0)
    assert grid.shape == (2 * 4, 3 * 5, 3)


def test_tiles_land_in_row_major_order_with_grey_borders():
    # tile i is a constant image whose uint8 value is 10 * i
    values = torch.arange(6, dtype=torch.float32) * 10
    images = (values / 127.5 - 1).view(6, 1, 1, 1).expand(6, 1, 3, 3)
    grid = make_grid(images, nrow=3, padding=1, pad_value=7)
    assert grid.shape == (1 + 2 * 4, 1 + 3 * 4)
    for i in range(6):
        r, c = divmod(i, 3)
        tile = grid[1 + r * 4:1 + r * 4 + 3, 1 + c * 4:1 + c * 4 + 3]
        assert (tile == 10 * i).all(), f"tile {i}"
    assert (grid[0] == 7).all() and (grid[:, 0] == 7).all() and (grid[4] == 7).all()


def test_value_mapping():
    x = torch.tensor([-1.0, 1.0, 0.0, -0.5, 0.5, -2.0, 3.0]).view(1, 1, 1, 7)
    # round((v + 1) * 127.5): -1 -> 0, 1 -> 255, 0 -> 127.5 rounds half up to 128, -0.5 -> 63.75 -> 64,
    # 0.5 -> 191.25 -> 191; out-of-range values are clipped
    assert to_uint8(x)[0, 0, :, 0].tolist() == [0, 255, 128, 64, 191, 0, 255]


def test_every_pixel_value_survives_the_data_normalisation():
    """The data scales with images_to_unit (p -> p / 127.5 - 1); to_uint8 must give every uint8 value back."""
    x = images_to_unit(torch.arange(256, dtype=torch.uint8).view(1, 16, 16))      # (1, 1, 16, 16)
    assert to_uint8(x).reshape(-1).tolist() == list(range(256))
    assert to_uint8(x.numpy()).reshape(-1).tolist() == list(range(256))      # numpy input too


def test_to_uint8_layout():
    assert to_uint8(torch.zeros(2, 3, 4, 5)).shape == (2, 4, 5, 3)


def test_upscale_is_nearest_neighbour():
    image = np.array([[1, 2], [3, 4]], dtype=np.uint8)
    big = upscale(image, 3)
    assert big.shape == (6, 6)
    assert (big[:3, :3] == 1).all() and (big[3:, 3:] == 4).all()


@pytest.mark.parametrize("channels", [1, 3])
def test_png_decodes_to_the_same_array(channels):
    images = torch.rand(9, channels, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    grid = make_grid(images)
    data = png_bytes(grid)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = np.asarray(Image.open(io.BytesIO(data)))
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, grid)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_gif_has_one_frame_per_array(k):
    frames = [make_grid(torch.full((4, 1, 8, 8), -1.0 + 2.0 * i / k)) for i in range(k)]
    data = gif_bytes(frames, duration_ms=150)
    gif = Image.open(io.BytesIO(data))
    assert gif.format == "GIF"
    assert gif.n_frames == k
    assert gif.size == (frames[0].shape[1], frames[0].shape[0])
    if k > 1:
        assert gif.info.get("duration") == 150 and gif.info.get("loop") == 0


def test_gif_frames_keep_their_content():
    frames = [make_grid(torch.full((4, 1, 8, 8), v)) for v in (-1.0, 1.0)]
    gif = Image.open(io.BytesIO(gif_bytes(frames)))
    for i, frame in enumerate(frames):
        gif.seek(i)
        decoded = np.asarray(gif.convert("L"))
        assert np.abs(decoded.astype(int) - frame.astype(int)).max() <= 2


def test_gif_needs_a_frame():
    with pytest.raises(ValueError):
        gif_bytes([])


def test_labelled_gif_is_slide_sized_and_each_frame_carries_its_step():
    grid = np.full((242, 242), 128, np.uint8)                 # the live grid's size; identical pictures
    gif = Image.open(io.BytesIO(gif_bytes([grid, grid], labels=["step 1", "step 500"], min_width=480)))
    assert gif.size == (484, 484 + LABEL_BAND)                # enlarged by a whole factor (2), band below
    frames = []
    for i in range(2):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("L"), dtype=int))
    picture, band = slice(0, 484), slice(484, 484 + LABEL_BAND)
    assert np.array_equal(frames[0][picture], frames[1][picture])   # same grid...
    assert (frames[0][band] != frames[1][band]).any()               # ...different label
    assert (frames[0][band] > 200).sum() > 20                       # light text written on the dark band


def test_labels_must_match_frames():
    with pytest.raises(ValueError, match="1 labels for 2 frames"):
        gif_bytes([np.zeros((4, 4), np.uint8)] * 2, labels=["step 1"])
