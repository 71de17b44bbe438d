"""Reading IDX files: `read_idx` parses one file (.gz or raw) strictly, raising DataError naming it on any
damage, and a cache keyed on path, mtime and size spares re-parsing the same file on every reload.

Hand-written on purpose: torchvision's MNIST reader would do this, but torchvision's wheels fail to import beside
the CPU torch 2.13.0 wheel we pin ("operator torchvision::nms does not exist"), and IDX is a 4-field header.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ganplay.data.registry import DataError

# Largest IDX payload we agree to read (1 GiB; MNIST train images are 47 MB), so a header claiming
# 2**31 images is rejected before any allocation.
MAX_IDX_BYTES = 1 << 30


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
