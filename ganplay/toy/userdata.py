"""The user's own toy data: drawn or uploaded points as a `ToyDistribution`, and points to and from CSV.

    toy = from_points(parse_csv(uploaded_bytes))     # sampling: a stored point plus N(0, 0.02²) noise
    text = to_csv(toy.sample(2500).numpy())          # "x,y" header, one point per line

A data set of your own is sampled the way GAN Lab samples a drawing: pick one of the points uniformly at
random and add a little Gaussian noise to each coordinate, so the generator sees a smooth density rather than
a handful of exact positions. `parse_csv` reads numbers only (it never evaluates or unpickles anything) and
every problem it finds is a `ToyDataError` whose message names the line and says what to fix.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from ganplay.toy.distributions import ToyDataError, ToyDistribution

MIN_POINTS = 3
MAX_POINTS = 100_000
MAX_CSV_BYTES = 5_000_000
_SEPARATOR = re.compile(r"[,;]")


def from_points(points: np.ndarray, noise: float = 0.02, name: str = "drawn",
                title: str = "Your drawing") -> ToyDistribution:
    """A toy that draws a stored point uniformly at random and adds N(0, noise²) to each coordinate."""
    try:
        data = np.array(points, dtype=float)          # a copy: later edits to `points` change nothing
    except (TypeError, ValueError):
        raise ToyDataError("The points must be numbers in an array of rows (x) or (x, y).") from None
    if data.ndim == 1:
        data = data[:, None]                          # (N,) -> (N, 1): 1-D data
    if data.ndim != 2 or not 1 <= data.shape[1] <= 2:
        raise ToyDataError(f"The points must have 1 or 2 coordinates each (rows of x or x, y); "
                           f"got an array of shape {data.shape}.")
    n, dim = data.shape
    if n < MIN_POINTS:
        raise ToyDataError(f"Only {n} point{'s' if n != 1 else ''}: a data set needs at least {MIN_POINTS}.")
    if n > MAX_POINTS:
        raise ToyDataError(f"{n:,} points is too many: the limit is {MAX_POINTS:,}.")
    if not np.all(np.isfinite(data)):
        bad = int(np.argmax(~np.isfinite(data).all(axis=1)))
        raise ToyDataError(f"Point {bad + 1} is not a finite number ({data[bad].tolist()}); "
                           f"remove NaN and infinite values.")
    if not (math.isfinite(noise) and noise >= 0):
        raise ToyDataError(f"The noise must be a finite number ≥ 0, got {noise}.")

    stored = torch.as_tensor(data, dtype=torch.float32)   # (N, dim)

    def sample(k: int, g: torch.Generator | None) -> torch.Tensor:
        index = torch.randint(n, (k,), generator=g)
        return stored[index] + noise * torch.randn(k, dim, generator=g)

    return ToyDistribution(
        name, title, dim,
        f"{n:,} points of your own; each sample is one of them plus Gaussian noise {noise:g} (as in GAN Lab).",
        "your data", _extent(data, noise), _sampler=sample)


def _extent(data: np.ndarray, noise: float) -> tuple[tuple[float, float], ...]:
    """Per dimension: the data's range widened by 10 % and 3 noise sigmas, never zero wide."""
    ranges = []
    for lo, hi in zip(data.min(axis=0), data.max(axis=0)):
        margin = max(0.1 * (hi - lo) + 3.0 * noise, 0.05 * max(1.0, abs(lo), abs(hi)))
        ranges.append((float(lo - margin), float(hi + margin)))
    return tuple(ranges)


def parse_csv(data: bytes | str, max_bytes: int = MAX_CSV_BYTES) -> np.ndarray:
    """Points from CSV text: (N, 1) or (N, 2) float64, one point per line, an optional header line.

    Cells may be separated by commas, semicolons or whitespace; blank lines and lines starting with # are
    skipped. A first line with no numbers in it is the header (`x,y`, `x`).
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8"))
    if size > max_bytes:
        raise ToyDataError(f"The file is too large ({size / 1e6:.1f} MB); the limit is {max_bytes / 1e6:g} MB.")
    if isinstance(data, bytes):
        if b"\0" in data:
            raise ToyDataError("The file is not text (it contains zero bytes); upload a CSV text file.")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ToyDataError(f"The file is not UTF-8 text (a byte at position {e.start} cannot be read); "
                               f"save it as a UTF-8 CSV.") from None
    text = data.lstrip("\ufeff")
    if not text.strip():
        raise ToyDataError("The file is empty: it needs one point per line, x or x,y.")

    rows: list[list[float]] = []
    first_line = None          # line number of the first row of numbers, which fixes the column count
    header: tuple[int, int] | None = None    # (line number, cells) of the header
    for line_no, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        cells = [c.strip() for c in _SEPARATOR.split(line)] if _SEPARATOR.search(line) else line.split()
        if not rows and header is None and not any(_is_number(c) for c in cells):
            header = (line_no, len(cells))
            continue
        if "" in cells:
            raise ToyDataError(f"Line {line_no} has an empty cell; every row needs a number in each column.")
        if first_line is None:
            first_line = line_no
            if len(cells) > 2:
                raise ToyDataError(f"Line {line_no} has {len(cells)} columns; a toy data set has 1 (x) or "
                                   f"2 (x, y).")
            if header is not None and header[1] != len(cells):
                raise ToyDataError(f"The header on line {header[0]} names {header[1]} columns but line "
                                   f"{line_no} has {len(cells)} values.")
        elif len(cells) != len(rows[0]):
            raise ToyDataError(f"The rows are ragged: line {line_no} has {len(cells)} value"
                               f"{'s' if len(cells) != 1 else ''} but line {first_line} has {len(rows[0])}.")
        rows.append([_number(c, line_no) for c in cells])
        if len(rows) > MAX_POINTS:
            raise ToyDataError(f"The file has more than {MAX_POINTS:,} rows of numbers; the limit is "
                               f"{MAX_POINTS:,}.")
    if len(rows) < MIN_POINTS:
        raise ToyDataError(f"The file has only {len(rows)} row{'s' if len(rows) != 1 else ''} of numbers; "
                           f"a data set needs at least {MIN_POINTS}.")
    return np.array(rows, dtype=float)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _number(cell: str, line_no: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ToyDataError(f"Line {line_no}: {cell[:40]!r} is not a number.") from None
    if not math.isfinite(value):
        raise ToyDataError(f"Line {line_no}: {cell!r} is not a finite number; remove NaN and infinite values.")
    return value


def to_csv(samples: np.ndarray) -> str:
    """Points as CSV: a header (`x`, `x,y`, or x1..xd beyond 2) and one point per line.

    Nine significant digits, enough to read float32 values back exactly.
    """
    points = np.asarray(samples, dtype=float)
    if points.ndim == 1:
        points = points[:, None]
    if points.ndim != 2 or points.shape[1] < 1:
        raise ToyDataError(f"to_csv needs an (N, d) array of points, got shape {points.shape}.")
    dim = points.shape[1]
    header = {1: "x", 2: "x,y"}.get(dim) or ",".join(f"x{i + 1}" for i in range(dim))
    lines = [header] + [",".join(f"{v:.9g}" for v in row) for row in points.tolist()]
    return "\n".join(lines) + "\n"
