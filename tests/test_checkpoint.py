"""Tests for ganplay.checkpoint: bit-exact round trips, half precision, generator-only files, refusal of
everything that is not a ganplay safetensors checkpoint (pickles above all: they are never unpickled), and the
atomic write that leaves the old file intact when writing fails."""
import io
import json
import os
import pickle
import struct
import zipfile

import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from safetensors.torch import save_file

import ganplay.checkpoint
from ganplay.checkpoint import (FORMAT, CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint,
                                write_atomic)
from ganplay.presets import preset
from ganplay.trainer import Trainer

PICKLE_MESSAGE = "pickle"


def trained(name: str, mnist, steps: int = 3) -> Trainer:
    trainer = Trainer(preset(name), mnist, device="cpu")
    for _ in range(steps):
        trainer.step()
    return trainer


@pytest.fixture(scope="module")
def lecture(mnist) -> Trainer:
    return trained("lecture", mnist)


@pytest.fixture(scope="module")
def lecture_file(lecture, tmp_path_factory):
    return save_checkpoint(tmp_path_factory.mktemp("ckpt") / "lecture.safetensors", lecture)


def metadata_of(data: bytes) -> dict:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])["__metadata__"]


def rewrite(data: bytes, config_change=None, tensors_change=None) -> bytes:
    """A ganplay checkpoint with its config JSON or its tensors edited, otherwise as written."""
    tensors, meta = st_load(data), metadata_of(data)
    if config_change:
        config = json.loads(meta["config"])
        config_change(config)
        meta["config"] = json.dumps(config)
    if tensors_change:
        tensors_change(tensors)
    return st_save(tensors, metadata=meta)


# -- round trips ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lecture", "cdcgan", "dcgan"])
def test_round_trip_is_bit_exact(mnist, tmp_path, name):
    trainer = trained(name, mnist)
    path = save_checkpoint(tmp_path / f"{name}.safetensors", trainer)
    ckpt = load_checkpoint(path)
    assert ckpt.config == trainer.config
    assert ckpt.record["steps"] == 3 and ckpt.record["diverged"] is None
    assert not ckpt.generator.training and not ckpt.discriminator.training      # loaded for inference
    # every tensor, BN running statistics included, is back exactly
    for mine, theirs in ((trainer.generator, ckpt.generator), (trainer.discriminator, ckpt.discriminator)):
        a, b = mine.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a)
    # and the networks compute the same bits (same weights and the same memory layout, hence the same kernels)
    with torch.no_grad():
        loaded = ckpt.generator(trainer.fixed_z, trainer.fixed_y)
        assert torch.equal(loaded, trainer.sample())
        y = trainer.fixed_y
        trainer.discriminator.eval()
        try:
            assert torch.equal(ckpt.discriminator(loaded, y), trainer.discriminator(loaded, y))
        finally:
            trainer.discriminator.train()


def test_checkpoint_after_live_changes_records_the_values_in_use(mnist, tmp_path):
    """Issue 13: learning rates and D/G steps changed during a run are what the downloaded checkpoint says."""
    trainer = trained("lecture", mnist, steps=1)
    original = trainer.config.train
    assert (original.lr_g, original.lr_d, original.d_steps, original.g_steps) == (3e-3, 1.5e-3, 1, 1)
    trainer.set_hyperparameters(lr_g=1e-3, lr_d=3e-4, d_steps=3, g_steps=2)
    trainer.step()
    saved = load_checkpoint(save_checkpoint(tmp_path / "changed.safetensors", trainer)).config
    assert (saved.train.lr_g, saved.train.lr_d, saved.train.d_steps, saved.train.g_steps) == (1e-3, 3e-4, 3, 2)
    assert saved.replace(**{"train.lr_g": original.lr_g, "train.lr_d": original.lr_d, "train.d_steps": 1,
                            "train.g_steps": 1}) == preset("lecture")       # nothing else changed
    trainer.set_hyperparameters(lr_d=1e-4)                      # None leaves the others as they are now
    assert load_checkpoint(checkpoint_bytes(trainer.config, trainer.sampler)).config.train.lr_d == 1e-4
    assert trainer.config.train.lr_g == 1e-3 and trainer.config.train.d_steps == 3


def test_loading_bytes_equals_loading_the_path(lecture, lecture_file):
    from_path, from_bytes = load_checkpoint(lecture_file), load_checkpoint(lecture_file.read_bytes())
    assert from_path.config == from_bytes.config and from_path.record == from_bytes.record
    a, b = from_path.generator.state_dict(), from_bytes.generator.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert load_checkpoint(bytearray(lecture_file.read_bytes())).config == from_path.config
    assert load_checkpoint(str(lecture_file)).config == from_path.config


def test_checkpoint_bytes_is_what_save_writes(lecture, tmp_path):
    data = checkpoint_bytes(lecture.config, lecture.generator, lecture.discriminator, record={"steps": 3})
    path = write_atomic(tmp_path / "sub" / "x.safetensors", data)          # creates the folder
    assert path.read_bytes() == data
    meta = metadata_of(data)
    assert meta["format"] == FORMAT and json.loads(meta["record"]) == {"steps": 3}


def test_half_precision_round_trip(lecture, tmp_path):
    # weights only on both sides: a full checkpoint also carries the training state, which --half leaves out
    full = save_checkpoint(tmp_path / "full.safetensors", config=lecture.config, generator=lecture.sampler,
                           discriminator=lecture.discriminator, record=lecture.record())
    half = save_checkpoint(tmp_path / "half.safetensors", lecture, half=True)
    ratio = half.stat().st_size / full.stat().st_size
    assert 0.45 < ratio < 0.6, ratio                  # float32 -> float16, plus the same JSON header
    ckpt = load_checkpoint(half)
    assert all(p.dtype == torch.float32 for p in ckpt.generator.parameters())     # widened back
    with torch.no_grad():
        images = ckpt.generator(lecture.fixed_z)
    reference = lecture.sample()
    assert torch.allclose(images, reference, atol=1e-2)
    assert not torch.equal(images, reference)         # it really was stored in half precision


def test_generator_only(lecture, tmp_path):
    path = save_checkpoint(tmp_path / "g.safetensors", lecture, include_discriminator=False)
    ckpt = load_checkpoint(path)
    assert ckpt.discriminator is None
    assert torch.equal(ckpt.generator(lecture.fixed_z), lecture.sample())
    assert path.stat().st_size < save_checkpoint(tmp_path / "gd.safetensors", lecture).stat().st_size


def test_save_without_trainer(lecture, tmp_path):
    path = save_checkpoint(tmp_path / "m.safetensors", config=lecture.config, generator=lecture.generator,
                           card={"fid": 12.5})
    ckpt = load_checkpoint(path)
    assert ckpt.card == {"fid": 12.5} and ckpt.record == {} and ckpt.discriminator is None
    with pytest.raises(ValueError, match="config"):
        save_checkpoint(tmp_path / "n.safetensors", generator=lecture.generator)


def test_a_card_written_before_the_rename_loads_with_the_new_names(tmp_path, lecture):
    old = {"title": "old", "eval": {"n": 10, "fid": 12.5, "fid_real_baseline": 9.25, "recognizable": True}}
    path = save_checkpoint(tmp_path / "old.safetensors", config=lecture.config, generator=lecture.generator,
                           card=old)
    assert load_checkpoint(path).card == {"title": "old", "eval": {"n": 10, "classifier_fd": 12.5,
                                                                   "classifier_fd_real_baseline": 9.25,
                                                                   "recognizable": True}}


# -- refusals ---------------------------------------------------------------------------------------------

def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"a": 1}, path)
    with pytest.raises(CheckpointError, match=PICKLE_MESSAGE):
        load_checkpoint(path)


def test_legacy_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "legacy.pt"
    torch.save({"a": torch.zeros(2)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointError, match=PICKLE_MESSAGE):
        load_checkpoint(path)


class Exploit:
    """Unpickling this creates a file: proof that something executed code from the checkpoint."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_never_unpickled(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Exploit(marker), protocol=protocol))
    # sanity: this payload really does execute when unpickled
    pickle.loads(path.read_bytes()).close()
    assert marker.exists()
    marker.unlink()
    # protocol 2+ starts with the PROTO opcode and is named as a pickle; protocol 0 is ASCII, "not safetensors"
    words = PICKLE_MESSAGE if protocol >= 2 else "not a safetensors"
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(path.read_bytes())
    assert not marker.exists()


def test_malicious_torch_save_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"weights": Exploit(marker)}, path)
    with pytest.raises(CheckpointError, match=PICKLE_MESSAGE):
        load_checkpoint(path)
    assert not marker.exists()


def test_zip_file_is_refused(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("data.pkl", b"not really")
    with pytest.raises(CheckpointError, match=PICKLE_MESSAGE):
        load_checkpoint(buffer.getvalue())


@pytest.mark.parametrize("cut", [1, 4, 8, 9, 100, "1%", "50%", "-1"])
def test_truncated_checkpoint_is_refused(lecture_file, cut):
    data = lecture_file.read_bytes()
    length = {"1%": len(data) // 100, "50%": len(data) // 2, "-1": len(data) - 1}.get(cut, cut)
    with pytest.raises(CheckpointError):
        load_checkpoint(data[:length])


def test_cut_inside_the_header_says_so(lecture_file):
    data = lecture_file.read_bytes()
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(data[:100])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(data[:3])


def test_cut_inside_the_tensors_is_damaged(lecture_file):
    data = lecture_file.read_bytes()
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(data[:-10])


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(seed):
    data = torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    with pytest.raises(CheckpointError):
        load_checkpoint(bytes(data.tolist()))


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(b"")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "absent.safetensors")
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path)                        # a folder is not a file


def test_foreign_safetensors_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"weight": torch.zeros(3, 3)}, str(path))
    with pytest.raises(CheckpointError, match="not written by ganplay"):
        load_checkpoint(path)
    save_file({"weight": torch.zeros(3, 3)}, str(path), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not written by ganplay"):
        load_checkpoint(path)


def test_config_edited_to_another_latent_size_names_the_tensor(lecture_file):
    def bigger_latent(config):
        config["model"]["latent_dim"] = 48
    data = rewrite(lecture_file.read_bytes(), config_change=bigger_latent)
    # lecture's first layer is Linear(12, ...): its weight no longer fits
    with pytest.raises(CheckpointError, match=r"generator\.net\.0\.weight has shape \(\d+, 12\).*\(\d+, 48\)"):
        load_checkpoint(data)


@pytest.mark.parametrize("edit, words", [
    (lambda c: c["model"].__setitem__("image_size", 30), "config is invalid"),
    (lambda c: c["train"].__setitem__("colour", "red"), "config is invalid"),
    (lambda c: c["model"]["generator"].__setitem__("hidden", "wide"), "config is invalid"),
])
def test_invalid_config_is_refused(lecture_file, edit, words):
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(rewrite(lecture_file.read_bytes(), config_change=edit))


def test_config_that_cannot_build_is_a_checkpoint_error(lecture_file):
    def zero_stride(config):
        config["model"]["discriminator"]["strides"] = [0, 2]
    with pytest.raises(CheckpointError, match="config is invalid"):
        load_checkpoint(rewrite(lecture_file.read_bytes(), config_change=zero_stride))


def test_unparseable_config_json_is_refused(lecture_file):
    data = lecture_file.read_bytes()
    tensors, meta = st_load(data), metadata_of(data)
    meta["config"] = "{not json"
    with pytest.raises(CheckpointError, match="config is invalid"):
        load_checkpoint(st_save(tensors, metadata=meta))


def test_missing_and_extra_tensors_are_refused(lecture_file):
    data = lecture_file.read_bytes()
    with pytest.raises(CheckpointError, match="missing"):
        load_checkpoint(rewrite(data, tensors_change=lambda t: t.pop("generator.net.0.weight")))
    with pytest.raises(CheckpointError, match="unexpected"):
        load_checkpoint(rewrite(data, tensors_change=lambda t: t.__setitem__("optimizer.step", torch.zeros(1))))
    with pytest.raises(CheckpointError, match="unexpected"):
        load_checkpoint(rewrite(data, tensors_change=lambda t: t.__setitem__("generator.extra", torch.zeros(1))))


def test_wrong_dtype_is_refused(lecture_file):
    def to_int(tensors):
        tensors["generator.net.0.weight"] = tensors["generator.net.0.weight"].to(torch.int32)
    with pytest.raises(CheckpointError, match="dtype"):
        load_checkpoint(rewrite(lecture_file.read_bytes(), tensors_change=to_int))


def test_oversize_guard(lecture_file, monkeypatch):
    monkeypatch.setattr(ganplay.checkpoint, "MAX_BYTES", 1024)
    with pytest.raises(CheckpointError, match="larger than any ganplay checkpoint"):
        load_checkpoint(lecture_file)
    with pytest.raises(CheckpointError, match="larger than any ganplay checkpoint"):
        load_checkpoint(lecture_file.read_bytes())


def test_size_limit_boundary_on_load(tmp_path):
    """A file of exactly MAX_BYTES gets past the size check (and is then judged on its contents); one byte more is
    refused, naming the limit. Sparse files: nothing big is written to disk."""
    from ganplay.models import MAX_CHECKPOINT_MB
    limit = ganplay.checkpoint.MAX_BYTES
    assert limit == MAX_CHECKPOINT_MB * 10**6
    at_limit, over = tmp_path / "at.safetensors", tmp_path / "over.safetensors"
    for path, size in ((at_limit, limit), (over, limit + 1)):
        with open(path, "wb") as f:
            f.truncate(size)
    with pytest.raises(CheckpointError, match="not a safetensors"):
        load_checkpoint(at_limit)
    with pytest.raises(CheckpointError, match=f"larger than any ganplay checkpoint [(]{MAX_CHECKPOINT_MB} MB at most[)]"):
        load_checkpoint(over)
    with pytest.raises(CheckpointError, match=f"{MAX_CHECKPOINT_MB} MB at most"):
        load_checkpoint(bytes(limit + 1))


def test_huge_header_length_is_refused():
    data = struct.pack("<Q", 2 ** 40) + b"{" + b" " * 100
    with pytest.raises(CheckpointError, match="not a safetensors"):
        load_checkpoint(data)


# -- atomic writes ----------------------------------------------------------------------------------------

def test_failed_replace_leaves_the_old_file(lecture, lecture_file, tmp_path, monkeypatch):
    path = tmp_path / "run.safetensors"
    path.write_bytes(lecture_file.read_bytes())
    original = path.read_bytes()

    def refuse(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, lecture, half=True)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]        # no temp file left behind
    assert load_checkpoint(path).config == lecture.config


def test_failure_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "grid.png"
    path.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError("I/O error")
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        write_atomic(path, b"new" * 1000)
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_saved_file_gets_the_usual_mode(lecture, tmp_path):
    """The temp file is created 0600; the saved checkpoint gets 0666 minus the umask, like any new file."""
    old = os.umask(0o022)
    try:
        path = save_checkpoint(tmp_path / "mode.safetensors", lecture, include_discriminator=False)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644
