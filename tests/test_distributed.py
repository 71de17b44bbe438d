"""Training over several processes (ganplay.distributed): real gloo process groups on 127.0.0.1, 2 ranks, one
thread each, launched by torchrun (`python -m torch.distributed.run`) or torch.multiprocessing.

- 2 ranks x batch B make the update of 1 process x batch 2B when both see the same images and noise;
- a 2-rank run resumed through torchrun goes on bit for bit; its checkpoint loads and samples in a plain process;
- a rank that fails makes the whole job exit non-zero, with that rank's message.
"""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from ganplay.checkpoint import load_checkpoint, save_checkpoint
from ganplay.data import load_dataset
from ganplay.presets import preset
from ganplay.trainer import Trainer
from tests.test_cli import REPO_ROOT, ganplay_env

TIMEOUT = 240          # seconds for one 2-rank job on a busy 2-core machine; a hang fails instead of waiting
B = 8                  # per rank
STEPS = 3
# No batch norm and no dropout: a per-rank batch norm normalises over B images instead of 2B, and dropout masks
# would have to be drawn alike; everything else (losses are batch means) makes the two updates equal in exact
# arithmetic. Adam with reuse_fake (G's step on D's fakes: their graph crosses D's update), and SGD with
# momentum and 2 D steps per G step.
CONFIGS = {
    "adam-reuse": ["model.generator.hidden=[64, 128]", "model.discriminator.hidden=[128, 64]",
                   "model.discriminator.dropout=0.0", "train.reuse_fake=true", "train.lr_g=1e-3",
                   "train.lr_d=1e-3"],
    "sgd-2d": ["model.generator.hidden=[64, 128]", "model.discriminator.hidden=[128, 64]",
               "model.discriminator.dropout=0.0", "train.optimizer=sgd", "train.momentum=0.5", "train.lr_g=0.1",
               "train.lr_d=0.1", "train.d_steps=2"],
}
# Float sums in another order (per-rank batch means, then the average over ranks): measured at most 6e-7 (Adam,
# where a gradient near 0 magnifies it) and 2e-8 (SGD) after 3 steps; 1e-5 leaves room, while every tensor
# moves by more than 10x that (checked), so a wrong average or a rank's batch left out cannot pass.
ATOL = 1e-5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedSource:
    """Real MNIST batches in a fixed order: each call takes the next 2B images, and a rank its own half."""

    def __init__(self, images: torch.Tensor, rank: int, world: int):
        self.images, self.rank, self.world, self.calls = images, rank, world, 0
        self.class_names = ()

    def batch(self, n, generator=None):
        full = self.images[self.calls]                                  # (2B, 1, 28, 28)
        self.calls += 1
        part = full if n == len(full) else full[self.rank * n:(self.rank + 1) * n]
        return part, None

    def describe(self) -> str:
        return "scripted MNIST batches"


class ScriptedTrainer(Trainer):
    """The trainer, with its noise taken in the same fixed order (the evaluation noise is its own, as before)."""

    def noise(self, n, generator=None):
        if generator is not None:
            return super().noise(n, generator)
        full = self.script[self.noise_calls]
        self.noise_calls += 1
        return full if n == len(full) else full[self.rank * n:(self.rank + 1) * n]


def script(mnist, cfg, world: int, calls: int = 40):
    """`calls` batches of world*B real images and of world*B noise vectors, from fixed seeds."""
    g = torch.Generator().manual_seed(1234)
    source = Trainer(cfg, mnist, "cpu").source
    images = [source.batch(world * B, g)[0] for _ in range(calls)]
    noise = [torch.randn(world * B, cfg.model.latent_dim, generator=g) for _ in range(calls)]
    return images, noise


def scripted_trainer(cfg, mnist, rank, world, images, noise):
    trainer = ScriptedTrainer(cfg, mnist, "cpu")
    trainer.source = ScriptedSource(images, rank, world)
    trainer.script, trainer.noise_calls, trainer.rank = noise, 0, rank
    return trainer


def weights(trainer) -> dict[str, torch.Tensor]:
    out = {f"G.{k}": v.detach().clone().contiguous() for k, v in trainer.generator.state_dict().items()}
    out.update({f"D.{k}": v.detach().clone().contiguous() for k, v in trainer.discriminator.state_dict().items()})
    return out


def _equivalence_worker(rank: int, world: int, port: int, out_dir: str, mnist_dir: str) -> None:
    """One rank: the real process group and DDP wrapping `python -m ganplay train` uses under torchrun."""
    from ganplay.distributed import session

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), GLOO_SOCKET_IFNAME="lo")
    torch.set_num_threads(1)
    mnist = load_dataset("mnist", mnist_dir)
    with session("cpu") as dist:
        for name, overrides in CONFIGS.items():
            cfg = preset("mlp-vanilla").with_overrides([*overrides, f"train.batch_size={B}"])
            images, noise = script(mnist, cfg, world)
            trainer = scripted_trainer(cfg, mnist, rank, world, images, noise)
            dist.prepare(trainer, reseed=True)
            for _ in range(STEPS):
                trainer.step()
            dist.unwrap(trainer)
            save_file(weights(trainer), str(Path(out_dir) / f"{name}-rank{rank}.safetensors"))


def run_workers(fn, args, nprocs: int = 2) -> None:
    """Spawn `nprocs` processes of fn(rank, *args); fail (and end them) if they take longer than TIMEOUT."""
    context = mp.start_processes(fn, args=args, nprocs=nprocs, join=False, start_method="spawn")
    deadline = time.monotonic() + TIMEOUT
    try:
        while not context.join(timeout=1):
            if time.monotonic() > deadline:
                pytest.fail(f"the {nprocs} ranks did not finish within {TIMEOUT} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()


def test_two_ranks_make_the_update_of_one_process_with_twice_the_batch(mnist, mnist_dir, tmp_path):
    run_workers(_equivalence_worker, (2, free_port(), str(tmp_path), str(mnist_dir)))
    for name, overrides in CONFIGS.items():
        ranks = [load_file(tmp_path / f"{name}-rank{r}.safetensors") for r in range(2)]
        cfg = preset("mlp-vanilla").with_overrides([*overrides, f"train.batch_size={2 * B}"])
        images, noise = script(mnist, cfg.replace(**{"train.batch_size": B}), 2)
        single = scripted_trainer(cfg, mnist, 0, 1, images, noise)
        start = weights(single)
        for _ in range(STEPS):
            single.step()
        expected = weights(single)
        for key, value in expected.items():
            assert torch.equal(ranks[0][key], ranks[1][key]), f"{name}: the ranks disagree on {key}"
            assert (value - start[key]).abs().max() > 10 * ATOL, f"{name}: {key} hardly moved; the test is blind"
            torch.testing.assert_close(ranks[0][key], value, rtol=0, atol=ATOL, msg=f"{name}: {key}")


def torchrun(*args: str, nproc: int = 2, module: bool = True, data_dir: Path | None = None,
             cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    """`torchrun --nproc_per_node N [-m] ARGS` on 127.0.0.1 (gloo on the loopback interface), one thread a rank."""
    env = {**ganplay_env(data_dir), "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
               "--master-addr", "127.0.0.1", "--master-port", str(free_port()), *(["-m"] if module else []), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_torchrun_trains_resumes_bit_for_bit_and_writes_a_plain_checkpoint(mnist, mnist_dir, tmp_path):
    common = ["ganplay", "train", "--threads", "1", "--data", str(mnist_dir)]
    first, resumed, straight = (tmp_path / f"{n}.safetensors" for n in ("first", "resumed", "straight"))
    result = torchrun(*common, "--preset", "lecture", "--set", "train.batch_size=8", "--steps", "2",
                      "--out", str(first))
    assert result.returncode == 0, result.stderr
    # rank 0 alone prints: one summary, one "saved" line
    assert result.stdout.count("trained 2 steps") == 1 and result.stdout.count("saved ") == 1, result.stdout
    assert "x 2 ranks (batch 8 each)" in result.stderr

    # (d) the 2-rank checkpoint is a plain one: it loads anywhere and samples; its weights have one-process names
    ckpt = load_checkpoint(first)
    assert ckpt.record["steps"] == 2 and ckpt.record["images_seen"] == 2 * 8 * 2   # per rank: B x (D + G)
    one = Trainer(ckpt.config, mnist, "cpu")
    one.step()
    plain = load_checkpoint(save_checkpoint(tmp_path / "one.safetensors", one))
    assert ckpt.generator.state_dict().keys() == plain.generator.state_dict().keys()
    assert set(ckpt.training_state["tensors"]) - set(plain.training_state["tensors"]) == {"state.rng.1"}
    with torch.no_grad():
        samples = ckpt.generator(torch.randn(16, ckpt.config.model.latent_dim))
    assert samples.shape == (16, 1, 28, 28) and torch.isfinite(samples).all()

    result = torchrun(*common, "--resume", str(first), "--steps", "4", "--out", str(resumed))
    assert result.returncode == 0, result.stderr
    assert "trained 2 steps (from step 2 to 4)" in result.stdout
    result = torchrun(*common, "--preset", "lecture", "--set", "train.batch_size=8", "--steps", "4",
                      "--out", str(straight))
    assert result.returncode == 0, result.stderr
    a, b = load_file(resumed), load_file(straight)
    assert a.keys() == b.keys()
    assert [key for key in a if not torch.equal(a[key], b[key])] == []


def test_a_failing_rank_fails_the_job_with_its_message(mnist_dir, tmp_path):
    """Rank 1 is given a data folder without MNIST (a real DataError); rank 0 has the data and waits for it."""
    empty = tmp_path / "no-data-here"
    empty.mkdir()
    launcher = tmp_path / "rank_args.py"
    launcher.write_text(
        "import os, sys\n"
        "from ganplay.cli import main\n"
        "data = sys.argv[1] if os.environ['RANK'] == '0' else sys.argv[2]\n"
        "sys.exit(main(['train', '--preset', 'lecture', '--steps', '2', '--threads', '1', '--data', data,\n"
        "               '--out', sys.argv[3]]))\n")
    out = tmp_path / "never.safetensors"
    result = torchrun(str(launcher), str(mnist_dir), str(empty), str(out), module=False)
    assert result.returncode != 0
    assert f"error: No MNIST files in {empty}" in result.stderr, result.stderr
    assert not out.exists()
