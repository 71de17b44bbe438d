"""Training on several processes with PyTorch's own engine: torch.distributed + DistributedDataParallel.

    torchrun --nproc_per_node 2 -m ganplay train --preset lecture --steps 1000 --out runs/lecture.safetensors
    torchrun --nnodes 2 --nproc_per_node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29500 -m ganplay train ...

`session()` sees torchrun through the variables it sets (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), joins
the process group (NCCL on CUDA GPUs, one per local rank; gloo on CPUs) and always leaves it, also on error;
without torchrun it is a no-op and one process trains as before. `Distributed.prepare(trainer)` wraps G and D
in DDP, so each update averages the ranks' gradients: N ranks at batch B make the update of one process at
batch N*B (`train.batch_size` is per rank).

- Each rank draws its real batches, noise and dropout from its own generator seeded with `seed + rank` (rank 0
  draws exactly what a one-process run with that seed draws).
- Batch norm is per rank: each normalises with its own batch's statistics and keeps its own running averages;
  the checkpoint carries rank 0's. `sync_bn=True` (--sync-bn) uses torch's SyncBatchNorm (CUDA only).
- Rank 0 alone prints and writes the checkpoint, in the one-process format (DDP wrappers are taken off first).
  The checkpoint holds every rank's random state, so resuming with the same number of ranks goes on bit for bit.

GAN + DDP: D's step makes its fakes with G under no_grad (or, with reuse_fake, keeps their graph for G's step,
whose backward then reduces G's gradients), so no G forward leaves a reduction waiting. G's step freezes D's
weights; a DDP forward would then wait for gradients that never come, so D's wrapper runs D's own module while
its weights are frozen (`_GameDDP`). Every module uses all its parameters: find_unused_parameters stays off.
"""
from __future__ import annotations

import contextlib
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ganplay.config import ConfigError

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


class _GameDDP(DistributedDataParallel):
    """DDP for a net that also serves the other player's step: with its weights frozen (D in G's step) the
    forward skips DDP, which would otherwise prepare a gradient reduction that no backward ever finishes."""

    def forward(self, *inputs, **kwargs):
        if not any(p.requires_grad for p in self.module.parameters()):
            return self.module(*inputs, **kwargs)
        return super().forward(*inputs, **kwargs)


@dataclass(frozen=True)
class Distributed:
    """Where this process stands: rank 0 of 1 outside torchrun."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device | None = None   # None outside torchrun: the caller's choice stands
    active: bool = False

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Ranks other than 0 print nothing inside the block (progress, summaries, warnings); an error raised in
        it still reaches the caller, which prints it after the block."""
        if self.is_main:
            yield
            return
        with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield

    def prepare(self, trainer, reseed: bool = True, sync_bn: bool = False) -> None:
        """Seed the trainer's generator with seed + rank (unless a resumed state set it) and wrap G and D in
        DDP. A no-op outside torchrun."""
        if not self.active:
            if sync_bn:
                raise ConfigError("--sync-bn applies to a torchrun job only (one process has one batch norm)")
            return
        if reseed:
            trainer.rng.manual_seed(trainer.config.train.seed + self.rank)
        if sync_bn:
            if trainer.device.type != "cuda":
                raise ConfigError("--sync-bn needs CUDA GPUs (torch's SyncBatchNorm); on CPUs each rank's batch "
                                  "norm uses its own batch")
            # same parameter and buffer tensors, new layers: the optimisers and G's average still hold them
            trainer.generator = torch.nn.SyncBatchNorm.convert_sync_batchnorm(trainer.generator)
            trainer.discriminator = torch.nn.SyncBatchNorm.convert_sync_batchnorm(trainer.discriminator)
        ids = [trainer.device.index] if trainer.device.type == "cuda" else None
        # forward_sync_buffers=False: batch-norm running statistics start as rank 0's, then stay per rank
        # (no collective in every forward)
        trainer.generator = DistributedDataParallel(trainer.generator, device_ids=ids, forward_sync_buffers=False)
        trainer.discriminator = _GameDDP(trainer.discriminator, device_ids=ids, forward_sync_buffers=False)

    def unwrap(self, trainer) -> None:
        """Take the DDP wrappers off (before saving: the checkpoint keeps one-process names)."""
        for name in ("generator", "discriminator"):
            module = getattr(trainer, name)
            if isinstance(module, DistributedDataParallel):
                setattr(trainer, name, module.module)

    def all_agree(self, flag: bool) -> bool:
        """True when every rank says True (one small all-reduce): ranks that time themselves stop together."""
        if not self.active:
            return flag
        value = torch.tensor([int(flag)], device=self._comm_device())
        dist.all_reduce(value, op=dist.ReduceOp.MIN)
        return bool(value.item())

    def generator_states(self, trainer) -> list[torch.Tensor] | None:
        """Every rank's random state, in rank order (a collective: every rank calls it); None outside torchrun."""
        if not self.active:
            return None
        mine = trainer.rng.get_state().to(self._comm_device())
        states = [torch.empty_like(mine) for _ in range(self.world_size)]
        dist.all_gather(states, mine)
        return [s.cpu() for s in states]

    def _comm_device(self) -> torch.device:
        return self.device if self.device is not None and self.device.type == "cuda" else torch.device("cpu")


def torchrun_env() -> tuple[int, int, int] | None:
    """(rank, world size, local rank) when launched by torchrun, else None."""
    if not all(name in os.environ for name in TORCHRUN_VARIABLES):
        return None
    try:
        rank, world, local = (int(os.environ[name]) for name in TORCHRUN_VARIABLES)
    except ValueError:
        raise ConfigError(f"{', '.join(TORCHRUN_VARIABLES)} must be whole numbers (torchrun sets them)") from None
    if not 0 <= rank < world:
        raise ConfigError(f"RANK {rank} is outside WORLD_SIZE {world}")
    return rank, world, local


@contextmanager
def session(device_name: str | None = None) -> Iterator[Distributed]:
    """Join torchrun's process group for the block and always leave it; outside torchrun, one plain process.
    `device_name`: "cuda", "cpu" or None (CUDA when there is a GPU); each rank takes GPU LOCAL_RANK."""
    env = torchrun_env()
    if env is None:
        yield Distributed()
        return
    rank, world, local = env
    if device_name == "mps":
        raise ConfigError("torch.distributed has no backend for mps: use --device cpu under torchrun")
    use_cuda = device_name == "cuda" or (device_name is None and torch.cuda.is_available())
    if use_cuda:
        if local >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local} but this machine has {torch.cuda.device_count()} GPU(s): "
                              f"--nproc_per_node must not exceed the GPUs")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    dist.init_process_group("nccl" if use_cuda else "gloo", rank=rank, world_size=world,
                            device_id=device if use_cuda else None)
    try:
        yield Distributed(rank, world, local, device, active=True)
        dist.barrier()        # no rank tears its connections down while another still sends on them
    finally:
        sys.stdout.flush()
        dist.destroy_process_group()
