"""Recorded runs (ganplay.replay): what a recording holds equals what the trainer did, it loads and scrubs with no
model, and hostile files are refused with a clear message."""
import io
import json
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import torch

from ganplay.cli import main
from ganplay.data import load_dataset
from ganplay.images import make_grid
from ganplay.live.snapshot import history_csv
from ganplay.presets import preset
from ganplay.replay import (FORMAT, MAX_UNPACKED, ReplayError, frame_plan, load_replay, record, replay_bytes,
                            save_replay)
from ganplay.trainer import Trainer
from tests.conftest import REPO_ROOT

STEPS = 30


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return load_dataset("mnist", mnist_dir)


@pytest.fixture(scope="module")
def config():
    # float32, so the recording does not depend on whether this CPU has fast bfloat16
    return preset("lecture").replace(**{"train.precision": "float32", "train.seed": 7})


@pytest.fixture(scope="module")
def recorded(mnist, config):
    return record(config, mnist, STEPS, frames=8, coverage_every=10)


def test_frame_plan_known_values():
    assert frame_plan(30, 8) == [0, 1, 3, 8, 10, 15, 22, 30]
    assert frame_plan(1, 2) == [0, 1]
    assert frame_plan(5, 48) == [0, 1, 2, 3, 4, 5]
    plan = frame_plan(3000, 48)
    assert plan[0] == 0 and plan[-1] == 3000 and len(plan) <= 49
    assert all(b > a for a, b in zip(plan, plan[1:]))


def test_recording_equals_what_the_trainer_did(mnist, config, recorded):
    trainer = Trainer(config, mnist, device="cpu")
    steps = [trainer.step() for _ in range(STEPS)]
    assert recorded.history["step"].tolist() == [float(m.step) for m in steps]
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"):
        assert recorded.history[key].tolist() == [getattr(m, key) for m in steps], key
    assert recorded.frame_steps == (0, 1, 3, 8, 10, 15, 22, 30)
    np.testing.assert_array_equal(recorded.frames[-1], make_grid(trainer.sample(), nrow=8))
    assert recorded.frames.shape == (8, 242, 242) and recorded.frames.dtype == np.uint8
    assert recorded.coverage["step"] == [10.0, 20.0, 30.0]
    assert len(recorded.coverage["histograms"]) == 3
    assert recorded.record["steps"] == STEPS and recorded.record["message"] == ""


def test_recording_twice_gives_the_same_bytes(mnist, config, recorded, tmp_path):
    again = record(config, mnist, STEPS, frames=8, coverage_every=10)
    first, second = save_replay(tmp_path / "a.npz", recorded), save_replay(tmp_path / "b.npz", again)
    assert first.read_bytes() == second.read_bytes()


def test_round_trip_and_numpy_opens_it(recorded, config, tmp_path):
    path = save_replay(tmp_path / "r.npz", recorded)
    back = load_replay(path)
    assert back.config == config and back.frame_steps == recorded.frame_steps
    np.testing.assert_array_equal(back.frames, recorded.frames)
    np.testing.assert_array_equal(back.real_grid, recorded.real_grid)
    assert {k: v.tolist() for k, v in back.history.items()} == {k: v.tolist() for k, v in recorded.history.items()}
    assert back.coverage == recorded.coverage
    with np.load(path, allow_pickle=False) as npz:          # the format is a plain npz too
        np.testing.assert_array_equal(npz["frames"], recorded.frames)
        assert json.loads(npz["replay.json"])["format"] == FORMAT


def test_snapshot_scrubs_history_grid_and_coverage(recorded):
    snap = recorded.snapshot(4)                      # frame 4 is step 10
    assert snap.step == snap.grid_step == 10
    assert snap.history["step"] == [float(s) for s in range(1, 11)]
    np.testing.assert_array_equal(snap.grid, recorded.frames[4])
    assert snap.coverage["step"] == [10.0] and snap.coverage["histogram"] == recorded.coverage["histograms"][0]
    assert recorded.snapshot(3).coverage is None     # step 8: before the first probe
    assert recorded.snapshot(0).history["step"] == []
    assert recorded.snapshot(-1).step == STEPS and snap.freed
    csv = history_csv(recorded.snapshot(-1).history).decode().splitlines()
    assert csv[0].startswith("step,d_loss,g_loss") and len(csv) == 1 + STEPS
    gif = recorded.timeline_gif()
    assert gif[:6] == b"GIF89a"


def test_loading_and_scrubbing_builds_no_model(recorded, tmp_path):
    """In a fresh interpreter: load, scrub every frame, export; no torch module is ever built."""
    path = save_replay(tmp_path / "r.npz", recorded)
    script = f"""
import gc, torch
from ganplay.replay import load_replay
from ganplay.live.snapshot import history_csv
r = load_replay({str(path)!r})
for i in range(len(r.frame_steps)):
    s = r.snapshot(i)
history_csv(s.history); r.timeline_gif()
print(sum(isinstance(o, torch.nn.Module) for o in gc.get_objects()))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_a_run_that_diverges_is_recorded_up_to_there(mnist):
    # as tests/test_trainer.py's divergence: lr 100 with the least-squares loss
    bad = preset("mlp-vanilla").replace(**{"train.loss": "least-squares", "train.lr_g": 100.0, "train.lr_d": 100.0})
    replay = record(bad, mnist, 50, frames=6)
    assert replay.record["message"].startswith("Training diverged at step")
    assert replay.frame_steps[-1] == replay.steps < 50
    assert replay.snapshot(-1).message == replay.record["message"]


# -- hostile files ---------------------------------------------------------------------------------------------
def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def test_hostile_files_get_a_clear_message(recorded):
    good = replay_bytes(recorded)
    members = _members(good)
    meta = json.loads(members["replay.json"])
    huge = io.BytesIO()               # a valid .npy header declaring 58 TB, followed by 100 bytes
    np.lib.format.write_array_header_1_0(huge, {"descr": "|u1", "fortran_order": False,
                                                "shape": (10**9, 242, 242)})
    cases = {
        "truncated": (good[: len(good) // 2], "damaged or truncated"),
        "empty": (b"", "not a ganplay replay"),
        "a pickle": (pickle.dumps({"frames": [1, 2, 3]}), "never unpickles"),
        "random bytes": (b"\x00" * 100, "not a ganplay replay"),
        "torch.save": (_torch_save_bytes(), "not a ganplay replay: missing"),
        "wrong frame shape": (_zip({**members, "frames.npy": _npy(np.zeros((8, 242), np.uint8))}),
                              "wrong number of dimensions"),
        "frames and steps disagree": (_zip({**members, "frame_steps.npy": _npy(np.arange(3))}),
                                      "8 frames but 3 frame steps"),
        "huge declared shape": (_zip({**members, "frames.npy": huge.getvalue() + b"\x00" * 100}),
                                "more than the file holds"),
        "object array": (_zip({**members, "frame_steps.npy": _npy(np.array([{"a": 1}], dtype=object))}),
                         "holds object"),
        "zip bomb": (_zip({**members, "history.npy": b"\x00" * (MAX_UNPACKED + 1)}), "declares more than"),
        "other format": (_zip({**members, "replay.json": json.dumps({**meta, "format": "x"}).encode()}),
                         "not a ganplay-replay/1 recording"),
        "bad recipe": (_zip({**members, "replay.json": json.dumps({**meta, "config": {"train": {"loss": 3}}})
                             .encode()}), "recipe is invalid"),
        "steps out of order": (_zip({**members, "frame_steps.npy": _npy(np.arange(8)[::-1].copy())}),
                               "in order"),
    }
    for name, (data, phrase) in cases.items():
        with pytest.raises(ReplayError) as err:
            load_replay(data)
        assert phrase in str(err.value), (name, str(err.value))


def _torch_save_bytes() -> bytes:
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    return buf.getvalue()


def test_missing_and_oversized_paths(tmp_path):
    with pytest.raises(ReplayError, match="no such replay file"):
        load_replay(tmp_path / "nothing.npz")
    big = tmp_path / "big.npz"
    big.write_bytes(b"PK\x03\x04" + b"\x00" * (21 * 10**6))
    with pytest.raises(ReplayError, match="larger than any replay"):
        load_replay(big)


# -- the command ------------------------------------------------------------------------------------------------
def test_record_command_writes_a_replay(mnist_dir, tmp_path, capsys):
    out = tmp_path / "r.npz"
    status = main(["record", "--preset", "lecture", "--set", "train.precision=float32", "--steps", "4",
                   "--frames", "3", "--title", "Tiny", "--data", str(mnist_dir), "--out", str(out)])
    assert status == 0
    replay = load_replay(out)
    assert replay.title == "Tiny" and replay.frame_steps == (0, 1, 2, 4)
    assert replay.record["command"] == ("python -m ganplay record --preset lecture --set train.precision=float32 "
                                        f"--steps 4 --frames 3 --title Tiny --out {out}")
    assert "4 steps, 4 frames, 4 metric rows" in capsys.readouterr().out


def test_record_command_refuses_bad_arguments(tmp_path, capsys):
    assert main(["record", "--steps", "4", "--out", str(tmp_path / "r.png")]) == 2
    assert "--out must end in .npz" in capsys.readouterr().err
    assert main(["record", "--steps", "0", "--out", str(tmp_path / "r.npz")]) == 2
    assert not (tmp_path / "r.npz").exists()


def test_bundled_replays_load_and_fit_the_size_budget():
    folder = REPO_ROOT / "pretrained" / "replays"
    paths = sorted(folder.glob("*.npz"))
    assert len(paths) >= 5
    losses = set()
    for path in paths:
        replay = load_replay(path)
        losses.add(replay.config.train.loss)
        assert replay.steps >= 2000 and 30 <= len(replay.frame_steps) <= 61 and not replay.record["message"]
        assert replay.coverage is not None
    assert {"nonsaturating", "minimax", "least-squares", "hinge", "wgan-gp"} <= losses
    total = sum(p.stat().st_size for p in (REPO_ROOT / "pretrained").rglob("*") if p.is_file())
    assert total < 30 * 2**20
