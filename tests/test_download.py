"""Tests for ganplay.download against real HTTP servers on 127.0.0.1 serving copies of the MNIST t10k files.

Nothing here touches the internet: every mirror is a local `ThreadingHTTPServer` (or a closed / silent port).
The real files come from $GANPLAY_DATA (e.g. GANPLAY_DATA=../shared/data/mnist); the tests fail if it is missing.
"""

import functools
import hashlib
import http.server
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from ganplay.data import DATASETS, DataError, load_dataset
from ganplay.download import MIRRORS_ENV_VAR, dataset_mirrors, download_dataset
from ganplay.registry import UnknownNameError

T10K_FILES = list(DATASETS["mnist"].splits["t10k"])
MD5 = DATASETS["mnist"].md5


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch):
    """Talk to 127.0.0.1 directly even where a proxy is configured, to the mirrors each test names."""
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                     MIRRORS_ENV_VAR):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def good_files(tmp_path, mnist_dir) -> Path:
    """A tmp copy of the real t10k pair (never inside the repository)."""
    folder = tmp_path / "good"
    folder.mkdir()
    for name in T10K_FILES:
        shutil.copy(mnist_dir / name, folder / name)
    return folder


@pytest.fixture
def bad_files(tmp_path, good_files) -> Path:
    """Same names, same sizes, one byte changed: only the md5 can tell."""
    folder = tmp_path / "bad"
    folder.mkdir()
    for name in T10K_FILES:
        content = bytearray((good_files / name).read_bytes())
        content[len(content) // 2] ^= 0x01
        (folder / name).write_bytes(bytes(content))
    return folder


class Mirror:
    """A real HTTP server on 127.0.0.1 serving one folder and recording the paths requested.

    `send_length=False` answers without Content-Length (the body ends when the connection closes);
    `cut_at=n` promises the whole file but closes the connection after n bytes."""

    def __init__(self, folder: Path, send_length: bool = True, cut_at: int | None = None):
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                requests.append(self.path)
                if send_length and cut_at is None:
                    return super().do_GET()
                file = Path(folder) / self.path.lstrip("/")
                if not file.is_file():
                    return self.send_error(404)
                body = file.read_bytes()
                self.send_response(200)
                if send_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:cut_at])
                self.close_connection = True

            def log_message(self, *args):   # keep the test output quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def serve():
    mirrors: list[Mirror] = []

    def start(folder: Path, **options) -> Mirror:
        mirrors.append(Mirror(folder, **options))
        return mirrors[-1]

    yield start
    for mirror in mirrors:
        mirror.close()


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"   # nothing listens there any more: connection refused


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_fetches_verifies_and_loads(serve, good_files, tmp_path):
    mirror = serve(good_files)
    dest = tmp_path / "dest" / "mnist"   # created on demand
    seen = []
    result = download_dataset("mnist", dest, mirrors=[mirror.url], files=T10K_FILES,
                              progress=lambda done, total, name: seen.append((done, total, name)))
    assert result == dest.absolute()
    assert sorted(p.name for p in dest.iterdir()) == sorted(T10K_FILES)   # no temp files left
    for name in T10K_FILES:
        assert (dest / name).read_bytes() == (good_files / name).read_bytes()
        assert md5_of(dest / name) == MD5[name]
        size = (good_files / name).stat().st_size
        assert (size, size, name) in seen
    assert sorted(mirror.requests) == sorted("/" + name for name in T10K_FILES)
    assert len(load_dataset("mnist", root=dest, part="holdout")) == 2000


def test_corrupted_mirror_is_skipped_for_the_next(serve, good_files, bad_files, tmp_path):
    bad, good = serve(bad_files), serve(good_files)
    dest = tmp_path / "dest"
    download_dataset("mnist", dest, mirrors=[bad.url, good.url], files=T10K_FILES)
    for name in T10K_FILES:
        assert (dest / name).read_bytes() == (good_files / name).read_bytes()
    assert len(bad.requests) == 2 and len(good.requests) == 2
    assert sorted(p.name for p in dest.iterdir()) == sorted(T10K_FILES)


def test_only_bad_mirrors_leave_nothing_behind(serve, bad_files, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    bad, missing = serve(bad_files), serve(empty)
    dest = tmp_path / "dest"
    with pytest.raises(DataError) as caught:
        download_dataset("mnist", dest, mirrors=[bad.url, missing.url], files=T10K_FILES)
    message = str(caught.value)
    assert "md5 mismatch" in message and "404" in message
    assert bad.url in message and missing.url in message and T10K_FILES[0] in message
    assert list(dest.iterdir()) == []


def test_offline_fails_fast_with_copy_instructions(tmp_path):
    dest = tmp_path / "dest"
    started = time.monotonic()
    with pytest.raises(DataError) as caught:
        download_dataset("mnist", dest, mirrors=[closed_port_url(), closed_port_url()])
    assert time.monotonic() - started < 5.0
    message = str(caught.value)
    assert "No internet?" in message and str(dest) in message
    assert all(name in message for name in DATASETS["mnist"].file_names)
    assert list(dest.iterdir()) == []


def test_silent_mirror_costs_one_timeout_then_next_mirror_serves(serve, good_files, tmp_path):
    """A server that accepts but never answers times out once and is not asked for the second file."""
    good = serve(good_files)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)   # the kernel accepts connections; nobody ever answers
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        dest = tmp_path / "dest"
        started = time.monotonic()
        download_dataset("mnist", dest, mirrors=[silent_url, good.url], files=T10K_FILES, timeout=0.5)
        elapsed = time.monotonic() - started
        silent.setblocking(False)
        connections = 0
        while True:   # every connection attempt still waits in the accept queue
            try:
                silent.accept()[0].close()
            except BlockingIOError:
                break
            connections += 1
    assert connections == 1 and 0.5 <= elapsed < 5.0
    assert all(md5_of(dest / name) == MD5[name] for name in T10K_FILES)


def test_files_already_present_are_not_downloaded_again(serve, good_files, tmp_path):
    mirror = serve(good_files)
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in T10K_FILES:
        shutil.copy(good_files / name, dest / name)
    download_dataset("mnist", dest, mirrors=[mirror.url], files=T10K_FILES)
    assert mirror.requests == []
    # A damaged local copy, though, is replaced.
    (dest / T10K_FILES[1]).write_bytes(b"damaged")
    download_dataset("mnist", dest, mirrors=[mirror.url], files=T10K_FILES)
    assert mirror.requests == ["/" + T10K_FILES[1]]
    assert md5_of(dest / T10K_FILES[1]) == MD5[T10K_FILES[1]]


def test_unknown_dataset_or_file_is_a_clear_error(tmp_path):
    with pytest.raises(UnknownNameError, match="fashion-mnist"):
        download_dataset("cifar", tmp_path)
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte.gz"):
        download_dataset("mnist", tmp_path, files=["t10k-labels.gz"])


def test_a_download_prints_nothing_itself(serve, good_files, tmp_path, capfd):
    """pooch logs every download to stderr; the library stays quiet (the CLI and the app show progress)."""
    download_dataset("mnist", tmp_path / "dest", mirrors=[serve(good_files).url], files=T10K_FILES)
    assert capfd.readouterr() == ("", "")


def test_progress_without_content_length_ends_with_the_real_size(serve, good_files, tmp_path):
    mirror = serve(good_files, send_length=False)
    seen = []
    name = T10K_FILES[1]
    download_dataset("mnist", tmp_path / "dest", mirrors=[mirror.url], files=[name],
                     progress=lambda done, total, file: seen.append((done, total, file)))
    size = (good_files / name).stat().st_size
    assert {total for _, total, _ in seen[:-1]} == {None}   # the server never said how much
    assert seen[-1] == (size, size, name)
    assert md5_of(tmp_path / "dest" / name) == MD5[name]


def test_a_connection_cut_midway_leaves_nothing_and_the_next_mirror_serves(serve, good_files, tmp_path):
    cut, good = serve(good_files, cut_at=1000), serve(good_files)
    dest = tmp_path / "dest"
    download_dataset("mnist", dest, mirrors=[cut.url, good.url], files=T10K_FILES)
    assert sorted(p.name for p in dest.iterdir()) == sorted(T10K_FILES)
    assert all(md5_of(dest / name) == MD5[name] for name in T10K_FILES)
    # The cut mirror answered, so it is asked again for the second file (it may be one bad file, not the mirror).
    assert len(cut.requests) == 2 and len(good.requests) == 2
    with pytest.raises(DataError, match=r"connection broke midway \(IncompleteRead\(1000 bytes read"):
        download_dataset("mnist", tmp_path / "only-cut", mirrors=[cut.url], files=T10K_FILES)
    assert list((tmp_path / "only-cut").iterdir()) == []


def test_ganplay_mirrors_replaces_the_default_mirrors(serve, good_files, tmp_path, monkeypatch):
    mirror = serve(good_files)
    refused = closed_port_url()
    monkeypatch.setenv(MIRRORS_ENV_VAR, f" {refused} ,{mirror.url},")   # spaces and empty entries ignored
    assert dataset_mirrors(DATASETS["mnist"]) == [refused, mirror.url]
    dest = tmp_path / "dest"
    assert download_dataset("mnist", dest, files=T10K_FILES) == dest.absolute()
    assert sorted(mirror.requests) == sorted("/" + name for name in T10K_FILES)
    assert all(md5_of(dest / name) == MD5[name] for name in T10K_FILES)


def test_ganplay_mirrors_offline_message_names_its_mirrors(tmp_path, monkeypatch):
    refused = closed_port_url()
    monkeypatch.setenv(MIRRORS_ENV_VAR, refused)
    with pytest.raises(DataError) as caught:
        download_dataset("mnist", tmp_path / "dest", files=T10K_FILES)
    message = str(caught.value)
    assert refused in message and "No internet?" in message
    assert not any(default in message for default in DATASETS["mnist"].mirrors)


def test_explicit_mirrors_win_over_ganplay_mirrors(serve, good_files, tmp_path, monkeypatch):
    monkeypatch.setenv(MIRRORS_ENV_VAR, closed_port_url())
    mirror = serve(good_files)
    download_dataset("mnist", tmp_path / "dest", mirrors=[mirror.url], files=T10K_FILES)
    assert len(mirror.requests) == 2


@pytest.mark.parametrize("value", ["", " , "])
def test_blank_ganplay_mirrors_means_the_defaults(value, monkeypatch):
    monkeypatch.setenv(MIRRORS_ENV_VAR, value)
    assert dataset_mirrors(DATASETS["fashion-mnist"]) == list(DATASETS["fashion-mnist"].mirrors)


@pytest.mark.parametrize("entry", ["mirror.example.org/mnist/", "ftp://mirror.example.org/mnist/", "file:///srv"])
def test_ganplay_mirrors_that_is_not_http_says_so(entry, tmp_path, monkeypatch):
    monkeypatch.setenv(MIRRORS_ENV_VAR, f"http://127.0.0.1:9/,{entry}")
    with pytest.raises(DataError) as caught:
        download_dataset("mnist", tmp_path / "dest", files=T10K_FILES)
    message = str(caught.value)
    assert MIRRORS_ENV_VAR in message and repr(entry) in message and "http" in message
    assert not (tmp_path / "dest").exists()   # refused before anything was made


def test_all_four_files_come_t10k_first_labels_before_images(serve, good_files, tmp_path):
    """The order a whole download takes: t10k alone is a dataset ganplay trains on, so it comes first; the mirror
    here has only t10k (as this machine does), so the train split fails and t10k stays, complete and loadable."""
    mirror = serve(good_files)
    dest = tmp_path / "mnist"
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        download_dataset("mnist", dest, mirrors=[mirror.url])
    assert mirror.requests == ["/t10k-labels-idx1-ubyte.gz", "/t10k-images-idx3-ubyte.gz",
                               "/train-labels-idx1-ubyte.gz"]
    assert sorted(p.name for p in dest.iterdir()) == sorted(T10K_FILES)
    assert len(load_dataset("mnist", dest, part="all")) == 10_000


def test_a_failure_leaves_no_half_split(serve, good_files, tmp_path):
    """Labels arrive, the images do not: a labels file alone would make the folder unreadable, so it goes."""
    labels_only = tmp_path / "labels-only"
    labels_only.mkdir()
    shutil.copy(good_files / "t10k-labels-idx1-ubyte.gz", labels_only)
    mirror = serve(labels_only)
    dest = tmp_path / "mnist"
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        download_dataset("mnist", dest, mirrors=[mirror.url], files=T10K_FILES)
    assert mirror.requests == ["/t10k-labels-idx1-ubyte.gz", "/t10k-images-idx3-ubyte.gz"]
    assert list(dest.iterdir()) == []


def test_a_half_split_the_user_had_is_left_alone(serve, good_files, tmp_path):
    """Only what this download fetched is cleaned up: a file that was there before stays, whatever happens."""
    dest = tmp_path / "mnist"
    dest.mkdir()
    shutil.copy(good_files / "t10k-labels-idx1-ubyte.gz", dest)
    with pytest.raises(DataError):
        download_dataset("mnist", dest, mirrors=[closed_port_url()], files=T10K_FILES)
    assert [p.name for p in dest.iterdir()] == ["t10k-labels-idx1-ubyte.gz"]
