"""Image grids, PNG and animated GIF encoding with numpy and Pillow.

Hand-written on purpose: torchvision.utils.make_grid would do the tiling, but torchvision's wheels fail to import
beside the CPU torch 2.13.0 wheel we pin ("operator torchvision::nms does not exist").

    grid = make_grid(images, nrow=8)      # images (N, C, H, W) in [-1, 1] -> uint8 (H', W') or (H', W', 3)
    png = png_bytes(grid)
    gif = gif_bytes([grid0, grid1, ...], duration_ms=200, labels=["step 1", "step 50", ...], min_width=480)
"""
from __future__ import annotations

import io
import math

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

LABEL_BAND = 30          # px under each labelled GIF frame for its text


def to_uint8(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """[-1, 1] floats (N, C, H, W) -> uint8 (N, H, W, C), clipped."""
    arr = images.detach().float().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    arr = np.clip((arr + 1.0) * 127.5 + 0.5, 0, 255).astype(np.uint8)
    return arr.transpose(0, 2, 3, 1)


def make_grid(images: torch.Tensor | np.ndarray, nrow: int | None = None, padding: int = 2,
              pad_value: int = 40) -> np.ndarray:
    """Tile N images into a grid of `nrow` columns; a grey border separates them. Returns (H, W) or (H, W, 3)."""
    tiles = to_uint8(images)                               # (N, H, W, C)
    n, h, w, c = tiles.shape
    ncol = nrow or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncol)
    grid = np.full((padding + nrows * (h + padding), padding + ncol * (w + padding), c), pad_value, np.uint8)
    for i in range(n):
        r, q = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top:top + h, left:left + w] = tiles[i]
    return grid[:, :, 0] if c == 1 else grid


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement, so small digits stay crisp when shown big."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def labelled(image: np.ndarray, text: str, min_width: int = 0) -> Image.Image:
    """`image` enlarged (nearest neighbour, a whole factor) to at least `min_width` px wide, with `text` written
    in a dark band below it, so a frame shown on a slide says what it is."""
    factor = max(1, math.ceil(min_width / image.shape[1]))
    pic = Image.fromarray(upscale(image, factor))
    framed = Image.new(pic.mode, (pic.width, pic.height + LABEL_BAND), 20 if pic.mode == "L" else (20, 20, 20))
    framed.paste(pic, (0, 0))
    white = 255 if pic.mode == "L" else (255, 255, 255)
    ImageDraw.Draw(framed).text((8, pic.height + 5), text, fill=white, font=ImageFont.load_default(size=20))
    return framed


def gif_bytes(frames: list[np.ndarray], duration_ms: int = 200, loop: int = 0, labels: list[str] | None = None,
              min_width: int = 0) -> bytes:
    """An animated GIF with one frame per array (all the same shape); with `labels`, each frame enlarged to at
    least `min_width` px and its label written under it (`labelled`)."""
    if not frames:
        raise ValueError("a GIF needs at least one frame")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    pics = [labelled(f, label, min_width) if labels is not None else Image.fromarray(f)
            for f, label in zip(frames, labels or [None] * len(frames))]
    pics = [pic.convert("P", palette=Image.Palette.ADAPTIVE) for pic in pics]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=duration_ms, loop=loop,
                 disposal=1, optimize=False)
    return buf.getvalue()
