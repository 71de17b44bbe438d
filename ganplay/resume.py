"""What a checkpoint carries so a run can continue where it stopped, and putting it back into a Trainer.

    save_checkpoint("runs/a.safetensors", trainer)                 # writes the training state too
    trainer = Trainer.from_checkpoint("runs/a.safetensors", data)   # continues bit for bit (on the CPU)
    python -m ganplay train --resume runs/a.safetensors --steps 2000 --out runs/a.safetensors

Beside the weights, resuming needs both optimisers' state (Adam's moments and step, SGD's and RMSprop's
buffers, each param group's hyperparameters), the trainer's random generator (data, noise, dropout draw from it;
one per rank under torchrun), the live generator when samples come from its weight average (`g_ema`), the step
counters, and the last step's logits (a lone D or G step reports them). Tensors go into the safetensors file
under `state.`, everything else is JSON in its metadata under `training_state`: nothing is pickled.

A checkpoint written before this, or with --half (rounded weights) or without its discriminator, still loads
for sampling; resuming from it raises a CheckpointError that says what is missing.
"""
from __future__ import annotations

import json

import torch
from torch import Tensor

from ganplay.checkpoint import CheckpointError
from ganplay.config import ConfigError, RunConfig

PREFIX = "state."
META_KEY = "training_state"
VERSION = 1
# What `--set` may change when resuming, and the `Trainer.set_hyperparameters` argument each one sets: the
# optimisers keep their state through these. Anything else (sizes, losses, data) starts a new run.
LIVE_SETTINGS = {"train.lr_g": "lr_g", "train.lr_d": "lr_d", "train.d_steps": "d_steps", "train.g_steps": "g_steps"}
_COUNTERS = ("step_count", "d_updates", "g_updates", "images_seen", "seconds")
NOT_RESUMABLE = ("it was written before checkpoints carried a training state, or with --half or "
                 "--no-discriminator. It still loads for sampling; to train on, start a new run")


def training_state(trainer, rank_generators: list[Tensor] | None = None) -> tuple[dict[str, Tensor], dict]:
    """(tensors named `state.*`, JSON-able metadata) of what resuming `trainer` needs. `rank_generators`:
    every rank's generator state under torchrun (rank 0's own trainer.rng is the first); default this process's."""
    tensors: dict[str, Tensor] = {}
    meta: dict = {"version": VERSION, "counters": {name: getattr(trainer, name) for name in _COUNTERS},
                  "d_steps": trainer.d_steps, "g_steps": trainer.g_steps, "optimizers": {}, "last": {}}
    for name, opt in (("opt_g", trainer.opt_g), ("opt_d", trainer.opt_d)):
        saved = opt.state_dict()
        scalars, stored = {}, []
        for index, slots in saved["state"].items():
            for slot, value in slots.items():
                if isinstance(value, Tensor):
                    tensors[f"{PREFIX}{name}.{index}.{slot}"] = value.detach().cpu().contiguous()
                    stored.append(f"{index}.{slot}")
                else:
                    scalars[f"{index}.{slot}"] = value
        meta["optimizers"][name] = {"class": type(opt).__name__, "param_groups": saved["param_groups"],
                                    "scalars": scalars, "tensors": stored}
    for rank, state in enumerate(rank_generators or [trainer.rng.get_state()]):
        tensors[f"{PREFIX}rng.{rank}"] = state.cpu()
    if trainer.generator_ema is not None:     # the file's `generator.*` is the average; G itself trains on
        for key, value in _plain(trainer.generator).state_dict().items():
            tensors[f"{PREFIX}generator.{key}"] = value.detach().cpu().contiguous()
    for key, value in trainer._last.items():
        if isinstance(value, Tensor):
            tensors[f"{PREFIX}last.{key}"] = value.detach().cpu().contiguous()
        else:
            meta["last"][key] = value
    return tensors, meta


def state_metadata(meta: dict) -> str:
    try:
        return json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as err:      # a tensor learning rate, a NaN: refuse rather than write junk
        raise ValueError(f"the training state cannot be written as JSON: {err}") from None


def resumed_config(config: RunConfig, overrides: list[str]) -> tuple[RunConfig, dict]:
    """The checkpoint's config with `--set FIELD=VALUE` applied, and the `set_hyperparameters` arguments they
    make; ConfigError for a field that cannot change in a running game."""
    changed = config.with_overrides(overrides)
    before, after = _flat(config.to_dict()), _flat(changed.to_dict())
    refused = sorted(key for key in after if after[key] != before[key] and key not in LIVE_SETTINGS)
    if refused:
        raise ConfigError(f"--set {', '.join(refused)}: cannot change when resuming (only "
                          f"{', '.join(LIVE_SETTINGS)} can); start a new run to change it")
    live = {LIVE_SETTINGS[key]: after[key] for key in LIVE_SETTINGS if after[key] != before[key]}
    return changed, live


def restore_training_state(trainer, ckpt, rank: int = 0) -> str | None:
    """Put a checkpoint's weights and training state into a fresh `Trainer(ckpt.config, ...)`, so that it goes
    on exactly as the saved one would have. `rank`: whose random generator to take under torchrun; a rank the
    checkpoint has none for (it was written by fewer ranks) is seeded with `seed + rank`, and the returned note
    says so. CheckpointError when the checkpoint cannot be resumed, naming what is missing."""
    state = ckpt.training_state
    if state is None:
        raise CheckpointError(f"this checkpoint carries no training state to resume from: {NOT_RESUMABLE}")
    tensors, meta = state["tensors"], state["meta"]
    if not isinstance(meta, dict) or meta.get("version") != VERSION:
        raise CheckpointError(f"the training state has version {meta.get('version') if isinstance(meta, dict) else '?'}"
                              f"; this ganplay reads version {VERSION}")
    if ckpt.discriminator is None:
        raise CheckpointError(f"this checkpoint has no discriminator weights: {NOT_RESUMABLE}")
    try:
        live_g = _prefixed(tensors, f"{PREFIX}generator.") if trainer.generator_ema is not None else None
        if live_g is not None and not live_g:
            raise CheckpointError("the training state lacks the live generator's weights (g_ema is on)")
        trainer.generator.load_state_dict(live_g or ckpt.generator.state_dict())
        if trainer.generator_ema is not None:
            trainer.generator_ema.load_state_dict(ckpt.generator.state_dict())
        trainer.discriminator.load_state_dict(ckpt.discriminator.state_dict())
        for name in ("opt_g", "opt_d"):
            _load_optimizer(getattr(trainer, name), name, meta["optimizers"][name], tensors)
        for name in _COUNTERS:
            setattr(trainer, name, meta["counters"][name])
        trainer.d_steps, trainer.g_steps = meta["d_steps"], meta["g_steps"]
        trainer._last = {**meta["last"], **{k[len(PREFIX) + 5:]: v.to(trainer.device)
                                            for k, v in tensors.items() if k.startswith(f"{PREFIX}last.")}}
    except CheckpointError:
        raise
    except KeyError as err:
        raise CheckpointError(f"the training state lacks {err}") from None
    except (RuntimeError, ValueError, TypeError) as err:
        raise CheckpointError(f"the training state does not fit the config: {err}") from None
    trainer.diverged = None          # a resumed run may go on with a smaller learning rate (--set)
    rng = tensors.get(f"{PREFIX}rng.{rank}")
    if rng is not None:
        trainer.rng.set_state(rng)
        return None
    trainer.rng.manual_seed(trainer.config.train.seed + rank)
    return (f"rank {rank}: the checkpoint holds no random state for it (written by fewer ranks); it draws from "
            f"seed + rank again, so the run goes on, but not bit for bit as it would have")


def _load_optimizer(opt: torch.optim.Optimizer, name: str, saved: dict, tensors: dict[str, Tensor]) -> None:
    if saved["class"] != type(opt).__name__:
        raise CheckpointError(f"{name} was {saved['class']} in the checkpoint but is {type(opt).__name__} now")
    slots: dict[int, dict] = {}
    for key, value in saved["scalars"].items():
        index, slot = key.split(".", 1)
        slots.setdefault(int(index), {})[slot] = value
    found = _prefixed(tensors, f"{PREFIX}{name}.")
    missing = [key for key in saved["tensors"] if key not in found]
    if missing:      # an optimiser without its moments would silently restart them
        raise CheckpointError(f"the training state lacks {len(missing)} of {name}'s tensors "
                              f"(e.g. {PREFIX}{name}.{missing[0]})")
    for key, value in found.items():
        index, slot = key.split(".", 1)
        slots.setdefault(int(index), {})[slot] = value
    # JSON made the betas lists; Adam unpacks either, but the groups should read as torch made them
    groups = [{k: tuple(v) if isinstance(v, list) and k != "params" else v for k, v in group.items()}
              for group in saved["param_groups"]]
    opt.load_state_dict({"state": slots, "param_groups": groups})
    # load_state_dict makes contiguous moments; a channels-last weight's moments get its layout back, so the
    # update runs the same kernels as in the uninterrupted run
    for param, slots_of in opt.state.items():
        for slot, value in slots_of.items():
            if isinstance(value, Tensor) and value.shape == param.shape and value.dim() == 4:
                slots_of[slot] = torch.empty_like(param).copy_(value)


def _prefixed(tensors: dict[str, Tensor], prefix: str) -> dict[str, Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _plain(module: torch.nn.Module) -> torch.nn.Module:
    """The module itself, unwrapped from DistributedDataParallel."""
    return getattr(module, "module", module) if isinstance(module, torch.nn.parallel.DistributedDataParallel) \
        else module


def _flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out
