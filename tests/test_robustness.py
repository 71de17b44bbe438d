"""Bad input: fuzzed files, absurd hyperparameters, broken data folders, a process killed while saving."""
from __future__ import annotations

import gzip
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from ganplay.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from ganplay.config import ConfigError
from ganplay.data import DataError, read_idx
from ganplay.models import build_models
from ganplay.presets import preset
from ganplay.trainer import Trainer, TrainingDiverged

ROOT = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))

_CFG = preset("lecture")
_G, _D = build_models(_CFG.model, seed=0)
VALID = checkpoint_bytes(_CFG, _G, _D, {"steps": 1})


def _idx_header(magic: int, dims: list[int]) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


@FUZZ
@given(st.binary(max_size=64), st.sampled_from([0x801, 0x803, 0x802, 0x0, 0x80000803]),
       st.lists(st.integers(0, 2**32 - 1), max_size=4), st.booleans())
def test_idx_reader_raises_only_data_error(tmp_path_factory, body, magic, dims, compress):
    data = _idx_header(magic, dims) + body
    path = tmp_path_factory.mktemp("idx") / ("f.gz" if compress else "f")
    path.write_bytes(gzip.compress(data) if compress else data)
    try:
        array = read_idx(path)
    except DataError as err:
        assert str(path.name) in str(err)
    else:                                   # accepted: then it really is a consistent IDX file
        assert array.size == len(body)


@FUZZ
@given(st.data())
def test_checkpoint_loader_raises_only_checkpoint_error(data):
    blob = bytearray(VALID)
    edit = data.draw(st.sampled_from(["flip", "truncate", "splice", "header"]))
    if edit == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            blob[data.draw(st.integers(0, len(blob) - 1))] ^= data.draw(st.integers(1, 255))
    elif edit == "truncate":
        blob = blob[:data.draw(st.integers(0, len(blob) - 1))]
    elif edit == "splice":
        at = data.draw(st.integers(0, len(blob)))
        blob[at:at] = data.draw(st.binary(min_size=1, max_size=32))
    else:                                   # damage inside the JSON header, where the config lives
        header_len = int.from_bytes(blob[:8], "little")
        blob[data.draw(st.integers(8, 8 + header_len - 1))] = data.draw(st.integers(0, 255))
    try:
        load_checkpoint(bytes(blob))
    except CheckpointError:
        pass


def test_absurd_hyperparameters_are_handled(mnist):
    with pytest.raises(ConfigError, match="batch norm"):
        Trainer(preset("lecture").replace(**{"train.batch_size": 1}), mnist)
    # batch 1 without batch norm and a 1-dimensional latent space both train
    tiny = preset("mlp-vanilla").replace(**{"train.batch_size": 1, "model.latent_dim": 1})
    trainer = Trainer(tiny, mnist)
    for _ in range(3):
        trainer.step()
    assert trainer.sample().shape == (64, 1, 28, 28)
    # learning rate 10 either trains or stops with the reason; it never returns NaN metrics
    wild = Trainer(preset("lecture").replace(**{"train.lr_g": 10.0, "train.lr_d": 10.0}), mnist)
    try:
        for _ in range(30):
            m = wild.step()
            assert all(map(lambda v: v == v, (m.d_loss, m.g_loss)))
    except TrainingDiverged as err:
        assert "learning rate" in str(err)


def _training_page(env_data: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("GANPLAY_DATA", env_data)
    monkeypatch.chdir(ROOT.parent)               # no ./data/mnist to fall back on
    monkeypatch.setenv("GANPLAY_SYSTEM_DATA", "off")   # nor Debian's Fashion-MNIST, where this machine has it
    from ganplay_app import resources
    resources.dataset.clear()
    at = AppTest.from_file(str(ROOT / "ganplay_app" / "pages" / "training.py"), default_timeout=30)
    at.run()
    resources.dataset.clear()
    return at


def test_missing_data_folder_says_what_to_do(tmp_path, monkeypatch):
    at = _training_page(str(tmp_path / "nowhere"), monkeypatch)
    assert not at.exception
    assert "Set GANPLAY_DATA to the folder holding the MNIST files" in at.error[0].value
    monkeypatch.delenv("GANPLAY_DATA")
    from ganplay_app import resources
    at = AppTest.from_file(str(ROOT / "ganplay_app" / "pages" / "training.py"), default_timeout=30)
    at.run()
    resources.dataset.clear()
    assert not at.exception
    assert "MNIST is not on this machine yet" in at.warning[0].value
    assert any(b.label == "Download MNIST" for b in at.button)
    shown = [c.value for c in at.code] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    assert any("python -m ganplay data download mnist" in text for text in shown)


def test_broken_data_file_is_named(tmp_path, mnist_dir, monkeypatch):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        data = (mnist_dir / name).read_bytes()
        (tmp_path / name).write_bytes(data[: len(data) // 2] if "images" in name else data)
    at = _training_page(str(tmp_path), monkeypatch)
    assert not at.exception
    assert "t10k-images-idx3-ubyte.gz" in at.error[0].value


def test_killed_while_saving_leaves_the_previous_checkpoint_intact(tmp_path):
    target = tmp_path / "run.safetensors"
    cfg = preset("dcgan-64")                       # ~25 MB: a save takes long enough to be interrupted
    G, D = build_models(cfg.model, seed=0)
    save_checkpoint(target, config=cfg, generator=G, discriminator=D, record={"steps": 0})
    writer = textwrap.dedent(f"""
        from ganplay.checkpoint import save_checkpoint
        from ganplay.models import build_models
        from ganplay.presets import preset
        cfg = preset("dcgan-64")
        G, D = build_models(cfg.model, seed=1)
        step = 0
        while True:
            step += 1
            save_checkpoint({str(target)!r}, config=cfg, generator=G, discriminator=D, record={{"steps": step}})
    """)
    for delay in (0.8, 1.1, 1.4, 1.7):
        proc = subprocess.Popen([sys.executable, "-c", writer], cwd=ROOT)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        ckpt = load_checkpoint(target)            # the old file or a complete new one, never a torn one
        assert ckpt.discriminator is not None
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != target.name]
    assert all(name.endswith(".tmp") for name in leftovers)   # a killed writer can only leave its temp file
    assert torch.isfinite(next(ckpt.generator.parameters())).all()
