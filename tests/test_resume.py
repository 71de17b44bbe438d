"""Resumable checkpoints (ganplay.resume): a resumed run goes on bit for bit where it would have gone, on the CPU;
a checkpoint without a training state still samples but refuses to resume, saying why; `train --resume`."""
import json

import pytest
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ganplay.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from ganplay.config import ConfigError
from ganplay.presets import preset
from ganplay.resume import restore_training_state, resumed_config
from ganplay.toy import TOYS
from ganplay.trainer import Trainer
from tests.test_cli import assert_user_error, ganplay

# lecture: Adam, batch norm in G and D (D's real and fake passes apart), bf16 where the CPU is fast at it;
# mlp-batchnorm: batch norm in G, dropout in D (drawn from the trainer's generator), reuse_fake;
# wgan-gp: the penalty's interpolation draws; toy-ring: g_ema (live G and its average), 2 D steps;
# toy-ganlab: SGD; wgan: RMSprop and clipping.
SMALL = {
    "lecture": ["train.batch_size=8"],
    "mlp-batchnorm": ["train.batch_size=8", "model.generator.hidden=[32, 64]",
                      "model.discriminator.hidden=[64, 32]"],
    "wgan-gp": ["train.batch_size=4"],
    "toy-ring": ["train.batch_size=32"],
    "toy-ganlab": [],
    "wgan": ["train.batch_size=4", "train.d_steps=2"],
}


def small_trainer(name, mnist):
    cfg = preset(name).with_overrides(SMALL[name])
    return Trainer(cfg, TOYS[cfg.train.dataset] if cfg.model.is_points else mnist, "cpu"), cfg


def all_tensors(trainer) -> dict[str, torch.Tensor]:
    out = {f"G.{k}": v for k, v in trainer.generator.state_dict().items()}
    out.update({f"D.{k}": v for k, v in trainer.discriminator.state_dict().items()})
    if trainer.generator_ema is not None:
        out.update({f"avg.{k}": v for k, v in trainer.generator_ema.state_dict().items()})
    for name in ("opt_g", "opt_d"):
        for i, slots in getattr(trainer, name).state_dict()["state"].items():
            out.update({f"{name}.{i}.{k}": v for k, v in slots.items() if isinstance(v, torch.Tensor)})
    return out


@pytest.mark.parametrize("name", list(SMALL))
def test_resumed_run_continues_bit_for_bit(mnist, tmp_path, name):
    n, m = 3, 2
    straight, cfg = small_trainer(name, mnist)
    for _ in range(n + m):
        straight.step()

    first, _ = small_trainer(name, mnist)
    for _ in range(n):
        first.step()
    path = save_checkpoint(tmp_path / "a.safetensors", first)
    data = TOYS[cfg.train.dataset] if cfg.model.is_points else mnist
    resumed = Trainer.from_checkpoint(path, data, "cpu")
    assert resumed.step_count == n and resumed.rng.get_state().equal(first.rng.get_state())
    for _ in range(m):
        last = resumed.step()

    assert last.step == n + m
    expected, got = all_tensors(straight), all_tensors(resumed)
    assert expected.keys() == got.keys()
    for key in expected:
        assert torch.equal(expected[key], got[key]), key
    assert torch.equal(straight.sample(), resumed.sample())
    assert (resumed.d_updates, resumed.g_updates, resumed.images_seen) == \
        (straight.d_updates, straight.g_updates, straight.images_seen)


def test_a_lone_d_step_after_resuming_matches(tmp_path):
    """The Toy lab's single D step reports the last G loss: the resumed trainer carries it, so the step's metrics
    (the wall time aside) are those of the uninterrupted trainer."""
    cfg = preset("toy-ganlab")
    straight = Trainer(cfg, TOYS[cfg.train.dataset], "cpu")
    straight.step()
    path = save_checkpoint(tmp_path / "t.safetensors", straight)
    resumed = Trainer.from_checkpoint(load_checkpoint(path), TOYS[cfg.train.dataset], "cpu")
    expected, got = straight.train_d().to_dict(), resumed.train_d().to_dict()
    expected.pop("seconds"), got.pop("seconds")
    assert got == expected


def test_a_rank_the_checkpoint_has_no_random_state_for_is_seeded_by_rank(tmp_path):
    """A one-process checkpoint resumed by 2 torchrun ranks: rank 0 goes on with the saved state, rank 1 draws
    from seed + 1 (as it would have from the start) and is told that the run is not bit for bit any more."""
    cfg = preset("toy-ganlab")
    trainer = Trainer(cfg, TOYS[cfg.train.dataset], "cpu")
    trainer.step()
    ckpt = load_checkpoint(save_checkpoint(tmp_path / "one.safetensors", trainer))
    rank0 = Trainer(cfg, TOYS[cfg.train.dataset], "cpu")
    assert restore_training_state(rank0, ckpt, rank=0) is None
    assert torch.equal(rank0.rng.get_state(), trainer.rng.get_state())
    rank1 = Trainer(cfg, TOYS[cfg.train.dataset], "cpu")
    note = restore_training_state(rank1, ckpt, rank=1)
    assert "rank 1" in note and "not bit for bit" in note
    assert torch.equal(rank1.rng.get_state(), torch.Generator().manual_seed(cfg.train.seed + 1).get_state())


def test_checkpoint_without_training_state_samples_but_refuses_to_resume(mnist, tmp_path):
    trainer, cfg = small_trainer("lecture", mnist)
    trainer.step()
    old = checkpoint_bytes(cfg, trainer.sampler, trainer.discriminator, trainer.record())   # the old format
    ckpt = load_checkpoint(old)
    assert ckpt.training_state is None and torch.isfinite(ckpt.generator(torch.randn(2, 12))).all()
    with pytest.raises(CheckpointError, match="no training state.*written before.*loads for sampling"):
        Trainer.from_checkpoint(old, mnist, "cpu")
    half = save_checkpoint(tmp_path / "h.safetensors", trainer, half=True)
    with pytest.raises(CheckpointError, match="--half"):
        Trainer.from_checkpoint(half, mnist, "cpu")
    g_only = save_checkpoint(tmp_path / "g.safetensors", trainer, include_discriminator=False)
    with pytest.raises(CheckpointError, match="no training state"):
        Trainer.from_checkpoint(g_only, mnist, "cpu")


def test_a_damaged_training_state_is_a_checkpoint_error(mnist, tmp_path):
    trainer, _ = small_trainer("lecture", mnist)
    trainer.step()
    data = save_checkpoint(tmp_path / "a.safetensors", trainer).read_bytes()
    tensors = st_load(data)
    meta = load_meta(data)
    lost = {k: v for k, v in tensors.items() if not k.startswith("state.opt_d.")}
    with pytest.raises(CheckpointError, match="opt_d|does not fit"):
        Trainer.from_checkpoint(st_save(lost, metadata=meta), mnist, "cpu")
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(st_save(tensors, metadata={**meta, "training_state": "{not json"}))
    without_meta = {k: v for k, v in meta.items() if k != "training_state"}
    with pytest.raises(CheckpointError, match="unexpected tensors"):
        load_checkpoint(st_save(tensors, metadata=without_meta))


def load_meta(data: bytes) -> dict:
    header_len = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + header_len])["__metadata__"]


def test_set_when_resuming_takes_live_settings_and_refuses_the_rest():
    cfg = preset("lecture")
    changed, live = resumed_config(cfg, ["train.lr_g=1e-4", "train.d_steps=2"])
    assert live == {"lr_g": 1e-4, "d_steps": 2} and changed.train.lr_g == 1e-4
    with pytest.raises(ConfigError, match="train.batch_size: cannot change when resuming"):
        resumed_config(cfg, ["train.batch_size=32"])
    assert resumed_config(cfg, ["train.batch_size=64"])[1] == {}     # the value it has already is no change


def test_cli_resume_counts_total_steps_and_applies_live_settings(mnist_dir, tmp_path):
    first = tmp_path / "a.safetensors"
    args = ["--threads", "1", "--data", str(mnist_dir)]
    result = ganplay("train", "--preset", "lecture", "--steps", "2", "--set", "train.batch_size=8",
                     "--out", str(first), *args)
    assert result.returncode == 0, result.stderr
    second = tmp_path / "b.safetensors"
    result = ganplay("train", "--resume", str(first), "--steps", "3", "--set", "train.lr_d=1e-3",
                     "--out", str(second), *args)
    assert result.returncode == 0, result.stderr
    assert "trained 1 steps (from step 2 to 3)" in result.stdout, result.stdout     # --steps is the total
    ckpt = load_checkpoint(second)
    assert ckpt.record["steps"] == 3 and ckpt.config.train.lr_d == 1e-3
    assert ckpt.training_state["meta"]["optimizers"]["opt_d"]["param_groups"][0]["lr"] == 1e-3

    line = assert_user_error(ganplay("train", "--resume", str(second), "--steps", "3", "--out", str(second), *args))
    assert "at step 3 already" in line and "total" in line
    line = assert_user_error(ganplay("train", "--resume", str(first), "--set", "model.latent_dim=4",
                                     "--out", str(second), *args))
    assert "model.latent_dim: cannot change when resuming" in line
    line = assert_user_error(ganplay("train", "--resume", str(first), "--preset", "dcgan", "--out", str(second),
                                     *args))
    assert "--preset cannot be used with --resume" in line


def test_the_training_pages_checkpoint_download_resumes_with_the_settings_in_use(mnist):
    """What the Training page's "Checkpoint" button offers (TrainingRun.checkpoint) carries the training state, so
    `train --resume` continues the lecture's run, with the learning rate changed live during it."""
    from ganplay.live import TrainingRun

    cfg = preset("lecture").with_overrides(["train.batch_size=8"])
    run = TrainingRun(cfg, mnist, max_steps=3)
    try:
        run.set_hyperparameters(lr_g=1e-4)
        run.start()
        assert run.wait_until(lambda s: s.state == "finished", timeout=120)
        data = run.checkpoint()
    finally:
        run.stop()
        run.join(10)
    resumed = Trainer.from_checkpoint(data, mnist, "cpu")
    assert resumed.step_count == 3 and resumed.learning_rates == (1e-4, cfg.train.lr_d)
    assert resumed.config.train.lr_g == 1e-4
    assert resumed.step().step == 4
