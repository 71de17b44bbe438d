"""A zip of your own images, unpacked safely: what the Training page does with an upload.

    ds = load_image_zip(uploaded_bytes, size=64, title="faces.zip")   # a FolderImages; the temp folder is gone

`extract_zip` checks everything it can from the zip's central directory before writing a byte: the archive's
size, its number of entries and their total uncompressed size against stated limits, and every entry's name
(no absolute paths, no drive letters, no `..`, no symlinks or other special files, no encryption). A zip that
fails any check is refused as a whole with a DataError saying why. Only regular files are written, each under
the fresh folder given, never past its declared size. Nothing in the zip is executed or unpickled: its images
are decoded by Pillow's PNG, JPEG and WebP decoders only (`ganplay.data.folder`).
"""
from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

from ganplay.data.folder import MAX_DATASET_BYTES, FolderImages, load_image_folder
from ganplay.data.registry import DataError

MAX_ZIP_BYTES = 200 * 1024**2            # the zip itself (Streamlit's default server.maxUploadSize, 200 MB)
MAX_ZIP_FILES = 20_000                   # entries in its directory
MAX_ZIP_UNPACKED_BYTES = 1024**3         # their total uncompressed size: 1 GiB
_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(why: str) -> DataError:
    return DataError(f"this zip was refused and nothing was unpacked: {why}.")


def _safe_parts(info: zipfile.ZipInfo) -> tuple[str, ...]:
    """The entry's path components, checked to stay inside the folder it is unpacked into."""
    name = info.filename
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise _refuse(f"it names an absolute path ({name!r})")
    parts = tuple(p for p in re.split(r"[/\\]", name) if p not in ("", "."))
    if ".." in parts:
        raise _refuse(f"an entry climbs out of its folder ({name!r})")
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise _refuse(f"it holds a symbolic link ({name!r})")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(f"it holds a special file ({name!r})")
    if info.flag_bits & 0x1:
        raise _refuse(f"an entry is encrypted ({name!r})")
    if any("\0" in p for p in parts):
        raise _refuse(f"an entry name holds a NUL byte ({name!r})")
    return parts


def extract_zip(data: bytes, dest: str | os.PathLike, *, max_bytes: int = MAX_ZIP_BYTES,
                max_files: int = MAX_ZIP_FILES, max_unpacked: int = MAX_ZIP_UNPACKED_BYTES) -> Path:
    """Unpack the zip `data` into the existing folder `dest` (fresh and empty), after all the checks above."""
    dest = Path(dest).resolve()
    if len(data) > max_bytes:
        raise _refuse(f"it is {len(data) / 1e6:.1f} MB, over the {max_bytes / 1e6:.0f} MB limit")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as error:
        raise DataError(f"this upload is not a readable zip file ({error}).") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_files:
            raise _refuse(f"it has {len(infos):,} entries, over the {max_files:,} limit")
        claimed = sum(info.file_size for info in infos)
        if claimed > max_unpacked:
            raise _refuse(f"its files would unpack to {claimed / 1e6:,.0f} MB, over the "
                          f"{max_unpacked / 1e6:,.0f} MB limit")
        checked = [(info, _safe_parts(info)) for info in infos]     # every name checked before any write
        for info, parts in checked:
            if not parts:
                continue
            target = dest.joinpath(*parts)
            if not target.resolve().is_relative_to(dest):            # belt and braces over _safe_parts
                raise _refuse(f"an entry would land outside its folder ({info.filename!r})")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as source, open(target, "xb") as sink:
                    written = 0
                    while chunk := source.read(1 << 20):           # zipfile stops at the declared size
                        written += len(chunk)
                        if written > info.file_size:
                            raise _refuse(f"{info.filename!r} holds more than its declared size")
                        sink.write(chunk)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as error:
                raise DataError(f"this zip is damaged or uses an unsupported feature ({info.filename}: "
                                f"{error}); nothing from it is used.") from None
            except FileExistsError:
                raise _refuse(f"it holds {info.filename!r} twice") from None
    return dest


def load_image_zip(data: bytes, size: int = 64, *, title: str = "uploaded zip",
                   max_bytes: int = MAX_ZIP_BYTES, max_files: int = MAX_ZIP_FILES,
                   max_unpacked: int = MAX_ZIP_UNPACKED_BYTES,
                   max_dataset_bytes: int = MAX_DATASET_BYTES) -> FolderImages:
    """The images in a zip as a dataset: unpacked into a fresh temp folder, loaded, and the folder removed.

    A zip whose top level is one folder (what "compress this folder" makes) is read from inside that folder."""
    with tempfile.TemporaryDirectory(prefix="ganplay-upload-") as scratch:
        root = extract_zip(data, scratch, max_bytes=max_bytes, max_files=max_files, max_unpacked=max_unpacked)
        visible = [p for p in root.iterdir() if not p.name.startswith((".", "__MACOSX"))]
        if len(visible) == 1 and visible[0].is_dir():
            root = visible[0]
        try:
            return load_image_folder(root, size, max_bytes=max_dataset_bytes, title=title)
        except DataError as error:
            raise DataError(str(error).replace(str(root), title)) from None
