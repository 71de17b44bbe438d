"""Fetch a dataset's IDX files from public mirrors, md5-verified and written atomically.

    from ganplay.data import default_data_dir
    from ganplay.download import download_dataset
    download_dataset("mnist", default_data_dir("mnist"))     # -> ./data/mnist/, where load_dataset looks

Why pooch: it is the fetcher SciPy's and scikit-image's datasets use, and it already streams into a temp file
inside `dest`, checks the hash and moves only a verified file into place; what stays ours is the md5 registry
and mirror list (`ganplay.data.registry`), the mirror order, skipping a mirror once it proved unreachable,
the DNS-timeout guard (requests bounds sockets, not name lookups) and the offline message.

How: each file already present with its published md5 is skipped. Otherwise the mirrors are tried in order
(`mirrors=`, else $GANPLAY_MIRRORS, comma-separated base URLs, else the dataset's own); `dest` never holds a
partial or wrong file. A mirror that cannot be reached (DNS failure, refused connection, timeout) is not tried
again for the remaining files, so an offline machine fails within about one `timeout` per mirror.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

import pooch
import requests

from ganplay.data import DataError, DatasetSpec, get_spec

MIRRORS_ENV_VAR = "GANPLAY_MIRRORS"
CHUNK_BYTES = 1 << 16     # pooch's default of 1 KB would call `progress` ~10,000 times for the train images
ProgressCallback = Callable[[int, "int | None", str], None]   # (bytes_done, bytes_total or None, file name)


class _MirrorFailed(Exception):
    """One mirror could not deliver one file; `reachable=False` means the network itself failed."""

    def __init__(self, reason: str, reachable: bool):
        super().__init__(reason)
        self.reachable = reachable


def dataset_mirrors(spec: DatasetSpec) -> list[str]:
    """The base URLs to try for `spec`: $GANPLAY_MIRRORS when set (it replaces the defaults), else spec.mirrors."""
    value = os.environ.get(MIRRORS_ENV_VAR, "")
    mirrors = [entry.strip() for entry in value.split(",") if entry.strip()]
    if not mirrors:
        return list(spec.mirrors)
    for mirror in mirrors:
        if urllib.parse.urlsplit(mirror).scheme not in ("http", "https") or "://" not in mirror:
            raise DataError(f"{MIRRORS_ENV_VAR}={value}: {mirror!r} is not an http:// or https:// URL; set it "
                            f"to comma-separated base URLs (e.g. https://mirror.example.org/mnist/) or unset it.")
    return mirrors


def download_dataset(name: str, dest: str | os.PathLike, *, mirrors: Iterable[str] | None = None,
                     files: Iterable[str] | None = None, timeout: float = 10.0,
                     progress: ProgressCallback | None = None) -> Path:
    """Download dataset `name`'s files (default: all four; `files` picks a subset) into `dest`; returns dest.

    `mirrors` are base URLs (default: $GANPLAY_MIRRORS, else the dataset's public mirrors) and `timeout` bounds
    every network wait in seconds. `progress(bytes_done, bytes_total, file_name)` is called as data arrives;
    bytes_total is None when the server does not say. Raises DataError saying what failed on each mirror.
    """
    spec = get_spec(name)
    dest = Path(dest).expanduser().absolute()
    wanted = list(spec.file_names if files is None else files)
    unknown = [f for f in wanted if f not in spec.md5]
    if unknown:
        raise DataError(f"{spec.title} has no file(s) {', '.join(unknown)}; its files are: "
                        f"{', '.join(spec.file_names)}.")
    mirrors = dataset_mirrors(spec) if mirrors is None else list(mirrors)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"Cannot create the download folder {dest}: {error}.") from None

    unreachable: dict[str, str] = {}   # mirror -> why; not retried, so offline costs one timeout per mirror
    fetched: list[str] = []
    try:
        for file_name in sorted(wanted, key=download_order(name).index):
            target = dest / file_name
            if target.is_file() and pooch.file_hash(str(target), alg="md5") == spec.md5[file_name]:
                continue
            failures = []
            for mirror in mirrors:
                if mirror in unreachable:
                    failures.append(f"{mirror}: not retried, unreachable earlier ({unreachable[mirror]})")
                    continue
                url = mirror.rstrip("/") + "/" + file_name
                try:
                    _fetch_verified(url, target, spec.md5[file_name], timeout, progress)
                    fetched.append(file_name)
                    break
                except _MirrorFailed as failure:
                    failures.append(f"{url}: {failure}")
                    if not failure.reachable:
                        unreachable[mirror] = str(failure)
            else:
                raise DataError(_failure_message(spec.title, file_name, failures, dest, spec.file_names,
                                                 offline=bool(mirrors) and set(unreachable) == set(mirrors)))
    except BaseException:      # a failure, Ctrl-C, or the app stopping a download: no half split left behind
        _remove_half_splits(spec, dest, fetched)
        raise
    return dest


def split_order(name: str) -> list[str]:
    """The splits in the order they download: t10k first, because alone it is a dataset ganplay trains on."""
    return sorted(get_spec(name).splits, key=lambda split: split != "t10k")


def download_order(name: str) -> list[str]:
    """The files in the order download_dataset fetches them: split by split (split_order), each split's small
    labels file before its images."""
    spec = get_spec(name)
    return [file for split in split_order(name) for file in reversed(spec.splits[split])]


def _remove_half_splits(spec: DatasetSpec, dest: Path, fetched: list[str]) -> None:
    """Delete each file this download fetched whose split partner is not in dest: load_dataset refuses a folder
    holding half a split, while a split wholly absent is fine."""
    for pair in spec.splits.values():
        for file_name, partner in (pair, pair[::-1]):
            if file_name in fetched and not (dest / partner).is_file():
                (dest / file_name).unlink(missing_ok=True)


def _failure_message(title: str, file_name: str, failures: list[str], dest: Path,
                     all_files: tuple[str, ...], offline: bool) -> str:
    lines = "\n".join(f"  - {failure}" for failure in failures) or "  - (no mirrors given)"
    names = ", ".join(all_files)
    hint = (f"No internet? Copy the four files into {dest} by hand ({names})" if offline
            else f"Try again later, or copy the four files into {dest} by hand ({names})")
    return (f"Could not download {title} file {file_name}:\n{lines}\n{hint}; "
            f"or set GANPLAY_DATA to a folder that already holds them.")


class _ProgressBar:
    """What pooch's HTTPDownloader drives (`total`, `update`, `reset`, `close`), relayed to a plain callback."""

    def __init__(self, callback: ProgressCallback, file_name: str):
        self.callback, self.file_name = callback, file_name
        self.total, self.done, self.last = 0, 0, None

    def update(self, n: int) -> None:
        self.done += n
        total = self.total or None          # pooch sets 0 when the server sends no Content-Length
        # pooch counts whole chunks, so the last one may overshoot the real size.
        self.last = (min(self.done, total) if total else self.done, total)
        self.callback(*self.last, self.file_name)

    def reset(self) -> None:                # pooch's "fill the bar": reset() then update(total)
        self.done = 0

    def close(self) -> None:
        pass


def _fetch_verified(url: str, target: Path, expected_md5: str, timeout: float,
                    progress: ProgressCallback | None) -> None:
    """Download url to target through pooch (temp file in target's folder, md5 check, move); failures ->
    _MirrorFailed, local file trouble -> DataError."""
    _resolve_host_quickly(url, timeout)
    bar = _ProgressBar(progress, target.name) if progress is not None else False
    downloader = pooch.HTTPDownloader(progressbar=bar, chunk_size=CHUNK_BYTES, timeout=timeout)
    try:
        with _quiet_pooch():
            pooch.retrieve(url, f"md5:{expected_md5}", fname=target.name, path=target.parent,
                           downloader=downloader)
    except requests.HTTPError as error:     # the server answered, just not with the file
        response = error.response
        raise _MirrorFailed(f"HTTP {response.status_code} {response.reason}", reachable=True) from None
    except requests.exceptions.ChunkedEncodingError as error:   # the body ended early; the mirror is up
        raise _MirrorFailed(f"connection broke midway ({_root_cause(error)})", reachable=True) from None
    except (requests.ConnectionError, requests.Timeout) as error:
        raise _MirrorFailed(f"cannot connect ({_root_cause(error)})", reachable=False) from None
    except requests.RequestException as error:   # a malformed answer or URL; the mirror itself is up
        raise _MirrorFailed(f"bad answer or URL ({type(error).__name__}: {error})", reachable=True) from None
    except ValueError as error:
        if "hash" not in str(error):
            raise
        got = re.search(r"does not match the known hash: expected \S+ but got (\w+)", str(error))
        seen = f"got {got[1]}" if got else "pooch said: " + str(error).splitlines()[0]
        raise _MirrorFailed(f"md5 mismatch ({seen}, expected {expected_md5})", reachable=True) from None
    except OSError as error:    # requests' errors are OSErrors too, so this comes last: disk full, no permission
        raise DataError(f"Cannot write {target} while downloading: {error}.") from None
    if bar and bar.last != (size := target.stat().st_size, size):
        progress(size, size, target.name)   # the size is known for sure only now (no Content-Length, say)


@contextlib.contextmanager
def _quiet_pooch():
    """pooch logs every download at INFO to stderr; callers show their own progress instead."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _root_cause(error: BaseException) -> str:
    """The innermost reason of a requests error chain (urllib3 wraps the socket error twice)."""
    reason = error
    while reason.args and isinstance(reason.args[-1], BaseException):
        reason = reason.args[-1]
    reason = getattr(reason, "reason", reason)
    # "HTTPConnection(host='h', port=80): Failed to ..." -> "Failed to ...": the URL is in the message already
    return re.sub(r"^\w+\(host=[^)]*\): ", "", str(reason)) or type(reason).__name__


def _resolve_host_quickly(url: str, timeout: float) -> None:
    """Fail within `timeout` when DNS hangs (requests' timeout covers sockets, not name lookups)."""
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
