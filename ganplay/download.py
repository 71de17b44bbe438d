"""Fetch a dataset's IDX files from public mirrors, md5-verified and written atomically.

    from ganplay.data import default_data_dir
    from ganplay.download import download_dataset
    download_dataset("mnist", default_data_dir("mnist"))     # -> ./data/mnist/, where load_dataset looks

How: each file already present with its published md5 is skipped. Otherwise the mirrors are tried in order:
the file streams into a hidden temp file inside `dest` while its md5 is computed, and only a verified file is
moved into place with os.replace, so `dest` never holds a partial or wrong file, nor a leftover temp file.
A mirror that cannot be reached (DNS failure, refused connection, timeout) is not tried again for the
remaining files, so an offline machine fails within about one `timeout` per mirror. Uses urllib only.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from ganplay.data import DataError, get_spec

CHUNK_BYTES = 1 << 16
MIRRORS_ENV_VAR = "GANPLAY_MIRRORS"
ProgressCallback = Callable[[int, "int | None", str], None]   # (bytes_done, bytes_total or None, file name)


class _MirrorFailed(Exception):
    """One mirror could not deliver one file; `reachable=False` means the network itself failed."""

    def __init__(self, reason: str, reachable: bool):
        super().__init__(reason)
        self.reachable = reachable


def download_dataset(name: str, dest: str | os.PathLike, *, mirrors: Iterable[str] | None = None,
                     files: Iterable[str] | None = None, timeout: float = 10.0,
                     progress: ProgressCallback | None = None) -> Path:
    """Download dataset `name`'s files (default: all four; `files` picks a subset) into `dest`; returns dest.

    `mirrors` are base URLs (default: the dataset's public mirrors) and `timeout` bounds every network wait
    in seconds. `progress(bytes_done, bytes_total, file_name)` is called after each chunk; bytes_total is None
    when the server does not say. Raises DataError saying what failed on each mirror.
    """
    spec = get_spec(name)
    dest = Path(dest).expanduser().absolute()
    wanted = list(spec.file_names if files is None else files)
    unknown = [f for f in wanted if f not in spec.md5]
    if unknown:
        raise DataError(f"{spec.title} has no file(s) {', '.join(unknown)}; its files are: "
                        f"{', '.join(spec.file_names)}.")
    if mirrors is None:   # $GANPLAY_MIRRORS (comma-separated base URLs) replaces the public mirrors, e.g. for tests
        mirrors = [m.strip() for m in os.environ.get(MIRRORS_ENV_VAR, "").split(",") if m.strip()] or spec.mirrors
    mirrors = list(mirrors)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"Cannot create the download folder {dest}: {error}.") from None

    unreachable: dict[str, str] = {}   # mirror -> why; not retried, so offline costs one timeout per mirror
    for file_name in wanted:
        target = dest / file_name
        if target.is_file() and _md5_of(target) == spec.md5[file_name]:
            continue
        failures = []
        for mirror in mirrors:
            if mirror in unreachable:
                failures.append(f"{mirror}: not retried, unreachable earlier ({unreachable[mirror]})")
                continue
            url = mirror.rstrip("/") + "/" + file_name
            try:
                _fetch_verified(url, target, spec.md5[file_name], timeout, progress)
                break
            except _MirrorFailed as failure:
                failures.append(f"{url}: {failure}")
                if not failure.reachable:
                    unreachable[mirror] = str(failure)
            except OSError as error:   # only local file operations get here: disk full, no permission
                raise DataError(f"Cannot write {target} while downloading: {error}.") from None
        else:
            raise DataError(_failure_message(spec.title, file_name, failures, dest, spec.file_names,
                                             offline=bool(mirrors) and set(unreachable) == set(mirrors)))
    return dest


def _failure_message(title: str, file_name: str, failures: list[str], dest: Path,
                     all_files: tuple[str, ...], offline: bool) -> str:
    lines = "\n".join(f"  - {failure}" for failure in failures) or "  - (no mirrors given)"
    names = ", ".join(all_files)
    hint = (f"No internet? Copy the four files into {dest} by hand ({names})" if offline
            else f"Try again later, or copy the four files into {dest} by hand ({names})")
    return (f"Could not download {title} file {file_name}:\n{lines}\n{hint}; "
            f"or set GANPLAY_DATA to a folder that already holds them.")


def _fetch_verified(url: str, target: Path, expected_md5: str, timeout: float,
                    progress: ProgressCallback | None) -> None:
    """Stream url into a temp file next to target, check its md5, then atomically move it into place."""
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            digest = _stream(url, out, timeout, progress, target.name)
        if digest != expected_md5:
            raise _MirrorFailed(f"md5 mismatch (got {digest}, expected {expected_md5})", reachable=True)
        os.replace(temp_path, target)
    finally:
        temp_path.unlink(missing_ok=True)   # no-op after a successful os.replace


def _stream(url: str, out, timeout: float, progress: ProgressCallback | None, file_name: str) -> str:
    """Copy the body of url into `out`; returns its md5. Network trouble -> _MirrorFailed."""
    _resolve_host_quickly(url, timeout)
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:   # the server answered, just not with the file
        raise _MirrorFailed(f"HTTP {error.code} {error.reason}", reachable=True) from None
    except urllib.error.URLError as error:
        raise _MirrorFailed(f"cannot connect ({error.reason})", reachable=False) from None
    except (http.client.HTTPException, ValueError) as error:
        raise _MirrorFailed(f"bad answer or URL ({type(error).__name__}: {error})", reachable=True) from None
    except OSError as error:   # e.g. a bare TimeoutError from the connect
        raise _MirrorFailed(f"cannot connect ({error})", reachable=False) from None
    with response:
        total = int(response.headers.get("Content-Length") or 0) or None
        md5, done = hashlib.md5(), 0
        while True:
            try:
                chunk = response.read(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as error:
                slow = isinstance(error, TimeoutError)
                raise _MirrorFailed(f"connection broke after {done:,} bytes ({error or type(error).__name__})",
                                    reachable=not slow) from None
            if not chunk:
                break
            out.write(chunk)
            md5.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total, file_name)
    return md5.hexdigest()


def _resolve_host_quickly(url: str, timeout: float) -> None:
    """Fail within `timeout` when DNS hangs (urllib's timeout covers sockets, not name lookups)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or parts.scheme in urllib.request.getproxies():
        return   # no host, or a proxy resolves it for us
    lookup_error: list[OSError] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(parts.hostname, None)
        except OSError as error:
            lookup_error.append(error)

    thread = threading.Thread(target=lookup, name="ganplay-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise _MirrorFailed(f"DNS lookup of {parts.hostname} took over {timeout:g} s", reachable=False)
    if lookup_error:
        raise _MirrorFailed(f"cannot resolve {parts.hostname} ({lookup_error[0]})", reachable=False)


def _md5_of(path: Path) -> str:
    md5 = hashlib.md5()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            md5.update(block)
    return md5.hexdigest()
