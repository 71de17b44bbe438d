"""Tests for ganplay.cli, run as a user runs it: `python -m ganplay ...` in a subprocess.

Errors a user can fix must end with exit status 2 and one line starting "error:", never a traceback; a bad
argument gets argparse's usage and status 2; a bug keeps its traceback. Downloads go to real HTTP servers on
127.0.0.1 (tests.test_download's Mirror) named by $GANPLAY_MIRRORS, or to a closed port to be offline.
"""
import fcntl
import hashlib
import os
import pickle
import pty
import struct
import shutil
import subprocess
import sys
import termios
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganplay.checkpoint import load_checkpoint
from ganplay.data import DATASETS
from ganplay.presets import PRESETS
from tests.test_download import Mirror, closed_port_url

T10K_FILES = DATASETS["mnist"].splits["t10k"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def ganplay_env(data_dir: Path | None = None, mirrors: str | None = None) -> dict[str, str]:
    """This checkout's ganplay; $GANPLAY_DATA and $GANPLAY_MIRRORS only as given; no proxies (127.0.0.1 direct)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}
    for variable in ("GANPLAY_DATA", "GANPLAY_MIRRORS", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                     "all_proxy", "ALL_PROXY"):
        env.pop(variable, None)
    if data_dir is not None:
        env["GANPLAY_DATA"] = str(data_dir)
    if mirrors is not None:
        env["GANPLAY_MIRRORS"] = mirrors
    return env


def ganplay(*args: str, data_dir: Path | None = None, cwd: Path = REPO_ROOT,
            mirrors: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganplay", *args], cwd=cwd, env=ganplay_env(data_dir, mirrors),
                          capture_output=True, text=True, timeout=300)


def assert_user_error(result: subprocess.CompletedProcess) -> str:
    """Exit 2, no traceback, and exactly one line, starting "error:"; returns that line."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_presets_lists_every_preset():
    result = ganplay("presets")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert listed == list(PRESETS)
    for name, cfg in PRESETS.items():
        assert cfg.source in result.stdout


@pytest.fixture(scope="module")
def trained_checkpoint(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("cli") / "runs" / "lecture.safetensors"
    result = ganplay("train", "--preset", "lecture", "--steps", "20", "--threads", "2", "--out", str(out),
                     data_dir=mnist_dir)
    return result, out


def test_train_writes_a_loadable_checkpoint(trained_checkpoint):
    result, out = trained_checkpoint
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "trained 20 steps" in result.stdout
    assert "last step: D loss" in result.stdout
    assert f"saved {out}" in result.stdout
    assert "lecture: MNIST" in result.stderr              # says which data it trains on
    # Not a terminal: no progress bar redrawn into the log, only the line saying what it trains on.
    assert len(result.stderr.strip().splitlines()) == 1
    ckpt = load_checkpoint(out)
    assert ckpt.config.name == "lecture" and ckpt.record["steps"] == 20
    assert ckpt.discriminator is not None


def test_sample_writes_a_png_grid(trained_checkpoint, tmp_path):
    _, checkpoint = trained_checkpoint
    out = tmp_path / "grid.png"
    result = ganplay("sample", str(checkpoint), "--out", str(out), "--n", "64", "--scale", "2")
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout and "20 steps" in result.stdout
    image = Image.open(out)
    assert image.format == "PNG"
    # 8 x 8 tiles of 28 px with 2 px borders: 2 + 8 * 30 = 242 px, doubled
    assert image.size == (2 * 242, 2 * 242)


def test_train_with_missing_data_says_what_to_do(tmp_path):
    result = ganplay("train", "--preset", "lecture", "--steps", "1", "--data", "/nonexistent",
                     "--out", str(tmp_path / "x.safetensors"))
    line = assert_user_error(result)
    assert "/nonexistent" in line and "python -m ganplay data download mnist" in line
    assert not (tmp_path / "x.safetensors").exists()


def test_train_unknown_preset_lists_presets(tmp_path):
    line = assert_user_error(ganplay("train", "--preset", "nope", "--out", str(tmp_path / "x.safetensors")))
    assert line.startswith("error: unknown preset 'nope'; choose one of: ")
    for name in PRESETS:
        assert name in line


class Exploit:
    """Unpickling this creates the marker file (the pickle holds builtins.open, not this class)."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_sample_refuses_a_pickle(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "model.safetensors"
    evil.write_bytes(pickle.dumps(Exploit(marker), protocol=pickle.HIGHEST_PROTOCOL))
    line = assert_user_error(ganplay("sample", str(evil), "--out", str(tmp_path / "grid.png")))
    assert "pickle" in line
    assert not (tmp_path / "grid.png").exists() and not marker.exists()


def test_sample_arguments_out_of_range_are_user_errors(trained_checkpoint, tmp_path):
    _, checkpoint = trained_checkpoint
    csv = str(tmp_path / "points.csv")
    for args, says in ((["--n", "0"], "error: --n must be between 1 and 1,024 for lecture"),
                       (["--n", "2000"], "error: --n must be between 1 and 1,024 for lecture"),
                       (["--out", csv], "error: lecture makes images: write them as a PNG grid")):
        out = ["--out", str(tmp_path / "grid.png")] if "--out" not in args else []
        assert assert_user_error(ganplay("sample", str(checkpoint), *out, *args)).startswith(says)
    assert list(tmp_path.iterdir()) == []


# -- train --dry-run: the smoke path ------------------------------------------------------------------------------
def test_dry_run_needs_no_data_and_no_out(tmp_path):
    """In an empty folder with no $GANPLAY_DATA: synthetic images, a temporary checkpoint, an ok line."""
    result = ganplay("train", "--dry-run", "--device", "cpu", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "lecture: Synthetic · 256 synthetic 28×28 images, 10 classes on cpu" in result.stderr
    assert "trained 3 steps" in result.stdout
    assert "ok: dry run of lecture on cpu: trained, saved, loaded back and sampled (16, 1, 28, 28)" in result.stdout
    assert list(tmp_path.iterdir()) == []       # nothing left behind, no data/ folder made


@pytest.fixture(scope="module")
def toy_dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("dry") / "toy.safetensors"
    return ganplay("train", "--dry-run", "--preset", "toy-1d", "--steps", "5", "--out", str(out)), out


def test_dry_run_of_a_toy_preset_keeps_its_checkpoint(toy_dry_run):
    result, out = toy_dry_run
    assert result.returncode == 0, result.stderr
    assert "ok: dry run of toy-1d on cpu" in result.stdout and "sampled (16, 1)" in result.stdout
    ckpt = load_checkpoint(out)
    assert ckpt.config.name == "toy-1d" and ckpt.record["steps"] == 5


def test_dry_run_of_a_conditional_preset_trains_on_labelled_synthetic_images(tmp_path):
    out = tmp_path / "cdcgan.safetensors"
    result = ganplay("train", "--dry-run", "--preset", "cdcgan", "--steps", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    ckpt = load_checkpoint(out)
    assert ckpt.config.model.num_classes == 10 and ckpt.record["steps"] == 2
    assert "Synthetic" in ckpt.record["dataset"]


def test_points_sample_as_csv_and_the_classifier_refuses_them(toy_dry_run, tmp_path):
    _, checkpoint = toy_dry_run
    csv = tmp_path / "points.csv"
    result = ganplay("sample", str(checkpoint), "--n", "7", "--out", str(csv))
    assert result.returncode == 0, result.stderr
    lines = csv.read_text().splitlines()
    assert lines[0] == "x" and len(lines) == 8 and all(float(v) == float(v) for v in lines[1:])
    line = assert_user_error(ganplay("eval", str(checkpoint), "--n", "10"))
    assert line.endswith("no digit scores: the digit judge only knows MNIST digits and this generator was trained "
                         "on bimodal-1d; scoring its samples as digits would mean nothing")


def on_a_terminal(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run `python -m ganplay ...` with stderr on a 100-column pseudo-terminal; (status, stdout, terminal)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen([sys.executable, "-m", "ganplay", *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=follower, text=True) as process:
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:       # the terminal closed: the process ended
                break
            if not chunk:
                break
            drawn += chunk
        stdout = process.stdout.read()
    os.close(leader)
    return process.returncode, stdout, drawn.decode()


def test_train_progress_bar_on_a_terminal(tmp_path):
    """On a terminal tqdm draws the bar on stderr; stdout still gets the summary."""
    status, stdout, terminal = on_a_terminal("train", "--dry-run", "--preset", "toy-1d", "--steps", "7",
                                             cwd=tmp_path, env=ganplay_env())
    assert status == 0
    assert "100%" in terminal and "7/7" in terminal and "D=" in terminal
    assert "trained 7 steps" in stdout


def test_download_progress_bars_on_a_terminal(mnist_dir, tmp_path):
    """One bar per file, each closed at 100 % on its own line."""
    mirror = Mirror(mnist_dir)
    try:
        status, stdout, terminal = on_a_terminal("data", "download", "mnist", "--split", "t10k", cwd=tmp_path,
                                                 env=ganplay_env(mirrors=mirror.url))
    finally:
        mirror.close()
    assert status == 0 and stdout.strip() == f"mnist is ready in {tmp_path / 'data' / 'mnist'}"
    finished = [line.rsplit("\r", 1)[-1] for line in terminal.splitlines() if "100%" in line]
    assert [line.split(":")[0] for line in finished] == list(reversed(T10K_FILES))   # labels, then images
    assert "4.44k/4.44k" in finished[0] and "1.57M/1.57M" in finished[1]


# -- --device -----------------------------------------------------------------------------------------------------
def test_unavailable_device_is_one_line_saying_what_is_available(tmp_path):
    missing = [d for d in ("cuda", "mps") if not (torch.cuda.is_available() if d == "cuda"
                                                   else torch.backends.mps.is_available())]
    if not missing:
        pytest.skip("this machine has both CUDA and MPS")
    line = assert_user_error(ganplay("train", "--dry-run", "--device", missing[0], cwd=tmp_path))
    assert f"--device {missing[0]}: not available on this machine" in line and "available: cpu" in line


# -- errors: only the documented ones become "error:" ------------------------------------------------------------
def test_a_seed_torch_cannot_take_is_a_user_error(tmp_path):
    result = ganplay("train", "--dry-run", "--preset", "toy-1d", "--set", f"train.seed={2**64}", cwd=tmp_path)
    assert "train.seed must be a whole number from 0 to" in assert_user_error(result)


def test_an_internal_error_is_not_passed_off_as_a_user_error(monkeypatch, capsys):
    """main() turns only the documented user errors into exit 2; anything else is a bug and must propagate with
    its traceback (a command that raises a bare ValueError stands in for one)."""
    import ganplay.cli

    def broken(args):
        raise ValueError("a bug deep inside")

    monkeypatch.setattr(ganplay.cli, "_presets", broken)
    with pytest.raises(ValueError, match="a bug deep inside"):
        ganplay.cli.main(["presets"])
    assert "error:" not in capsys.readouterr().err


@pytest.mark.parametrize("args, says", [
    (["--dry-run", "--seed", str(2**64)], "error: --seed must be between 0 and 2**63 - 1"),
    (["--dry-run", "--steps", "0"], "error: --steps and --seconds must be positive"),
    (["--dry-run", "--threads", "0"], "error: --threads must be at least 1"),
    (["--steps", "1"], "error: --out is required (only --dry-run can do without)"),
])
def test_train_argument_values_are_checked_before_anything_runs(args, says, tmp_path):
    assert assert_user_error(ganplay("train", *args, cwd=tmp_path)) == says
    assert list(tmp_path.iterdir()) == []


# -- data download ------------------------------------------------------------------------------------------------
def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_download_when_data_is_found_already_touches_no_network(mnist_dir, tmp_path):
    refused = closed_port_url()       # were the network used, this mirror would fail the command
    result = ganplay("data", "download", "mnist", data_dir=mnist_dir, mirrors=refused, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (f"MNIST is already here: {mnist_dir.resolve()}; nothing downloaded "
                                     f"(--force downloads anyway)")
    assert list(tmp_path.iterdir()) == []


def test_download_force_repairs_a_damaged_file_through_ganplay_mirrors(mnist_dir, tmp_path):
    """Found data is where a download goes ($GANPLAY_DATA): --force re-checks every md5 and fetches only the
    damaged file, although the folder still counts as found."""
    data = tmp_path / "mnist"
    data.mkdir()
    for name in T10K_FILES:
        shutil.copy(mnist_dir / name, data / name)
    damaged = T10K_FILES[1]
    (data / damaged).write_bytes((data / damaged).read_bytes()[:100])
    mirror = Mirror(mnist_dir)
    try:
        result = ganplay("data", "download", "mnist", "--force", "--split", "t10k", data_dir=data,
                         mirrors=mirror.url, cwd=tmp_path)
    finally:
        mirror.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mnist is ready in {data}"
    assert mirror.requests == ["/" + damaged]
    assert sorted(p.name for p in data.iterdir()) == sorted(T10K_FILES)
    assert all(md5_of(data / name) == DATASETS["mnist"].md5[name] for name in T10K_FILES)
    assert "Traceback" not in result.stderr and "%|" not in result.stderr   # no bar in a log


def test_download_offline_without_data_exits_2_with_what_to_do(tmp_path):
    refused = closed_port_url()
    result = ganplay("data", "download", "mnist", mirrors=refused, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: Could not download MNIST file t10k-labels-idx1-ubyte.gz:")   # first
    assert refused in result.stderr and "No internet?" in result.stderr
    assert str(tmp_path / "data" / "mnist") in result.stderr and "GANPLAY_DATA" in result.stderr
    assert list((tmp_path / "data" / "mnist").iterdir()) == []


def test_download_with_a_wrong_ganplay_data_says_so_first(tmp_path):
    result = ganplay("data", "download", "mnist", data_dir=tmp_path / "nowhere", mirrors=closed_port_url(),
                     cwd=tmp_path)
    line = assert_user_error(result)
    assert "GANPLAY_DATA=" in line and "is not a folder" in line
