"""Tests for ganplay.cli, run as a user runs it: `python -m ganplay ...` in a subprocess.

Errors a user can fix must end with exit status 2 and one line starting "error:", never a traceback.
"""
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from ganplay.checkpoint import load_checkpoint
from ganplay.presets import PRESETS

REPO_ROOT = Path(__file__).resolve().parent.parent


def ganplay(*args: str, data_dir: Path | None = None, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}
    env.pop("GANPLAY_DATA", None)
    if data_dir is not None:
        env["GANPLAY_DATA"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "ganplay", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


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
    assert "nope" in line
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
