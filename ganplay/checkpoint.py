"""Checkpoints: weights in safetensors, the run config and training record as JSON in its metadata.

    save_checkpoint("runs/lecture.safetensors", trainer)           # atomic: temp file, then rename
    ckpt = load_checkpoint("runs/lecture.safetensors")              # never unpickles anything
    images = ckpt.generator(z, y)

The config alone rebuilds the networks, so a checkpoint needs no code beside it. Loading refuses, with a
`CheckpointError` that says what is wrong: pickle files (what torch.save writes), files that are not
safetensors, truncated or oversized files, configs that do not parse, and tensors whose names or shapes do not
fit the config.

Every safetensors file ganplay reads goes through `read_safetensors` here (size limit, pickle refusal,
damaged headers), and every file it writes through `write_atomic`: generator checkpoints, the digit
classifier (`ganplay.classifier`, its own format tag) and model cards (`ganplay.cards`).
"""
from __future__ import annotations

import json
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ganplay.config import ConfigError, RunConfig
from ganplay.models import MAX_CHECKPOINT_BYTES, Discriminator, Generator, build_models

FORMAT = "ganplay-checkpoint/1"
MAX_BYTES = MAX_CHECKPOINT_BYTES       # no model ganplay builds has a larger checkpoint (ganplay.models says why)


class CheckpointError(ValueError):
    """A file that cannot be loaded as a ganplay checkpoint; the message says why in plain words."""


@dataclass
class Checkpoint:
    config: RunConfig
    generator: Generator
    discriminator: Discriminator | None
    record: dict = field(default_factory=dict)
    card: dict = field(default_factory=dict)     # free-form model card (pretrained models carry their figures)
    # what resuming needs ({"tensors": {"state.*": ...}, "meta": {...}}, ganplay.resume); None: sampling only
    training_state: dict | None = None


def checkpoint_bytes(config: RunConfig, generator: torch.nn.Module, discriminator: torch.nn.Module | None = None,
                     record: dict | None = None, card: dict | None = None, half: bool = False,
                     training_state: dict | None = None) -> bytes:
    """Serialise a checkpoint to bytes (what a download button offers and `save_checkpoint` writes).
    `training_state`: what resuming needs (ganplay.resume), kept at full precision; dropped with `half`."""
    tensors = {}
    for prefix, module in (("generator.", generator), ("discriminator.", discriminator)):
        if module is None:
            continue
        for key, value in module.state_dict().items():
            value = value.detach().cpu()
            if half and value.is_floating_point():
                value = value.half()
            tensors[prefix + key] = value.contiguous()
    metadata = {"format": FORMAT, "config": config.to_json(), "record": json.dumps(record or {}),
                "card": json.dumps(card or {})}
    if training_state is not None and not half and discriminator is not None:
        from ganplay.resume import META_KEY, state_metadata

        tensors.update(training_state["tensors"])
        metadata[META_KEY] = state_metadata(training_state["meta"])
    return st_save(tensors, metadata=metadata)


def save_checkpoint(path: str | os.PathLike, trainer=None, *, config: RunConfig | None = None,
                    generator: torch.nn.Module | None = None, discriminator: torch.nn.Module | None = None,
                    record: dict | None = None, card: dict | None = None, include_discriminator: bool = True,
                    half: bool = False, rank_generators: list[torch.Tensor] | None = None) -> Path:
    """Write a checkpoint atomically. Pass a Trainer (see trainer_checkpoint_bytes), or config + generator
    (+ discriminator)."""
    if trainer is not None:
        data = trainer_checkpoint_bytes(trainer, record=record, card=card, include_discriminator=include_discriminator,
                                        half=half, rank_generators=rank_generators)
    elif config is None or generator is None:
        raise ValueError("save_checkpoint needs a trainer, or a config and a generator")
    else:
        data = checkpoint_bytes(config, generator, discriminator, record, card, half)
    return write_atomic(path, data)


def trainer_checkpoint_bytes(trainer, *, record: dict | None = None, card: dict | None = None,
                             include_discriminator: bool = True, half: bool = False,
                             rank_generators: list[torch.Tensor] | None = None) -> bytes:
    """A trainer's checkpoint: its config (with the settings in use), samples' generator (the weight average when
    g_ema is on), D, and what resuming needs (ganplay.resume) unless `half` or without the discriminator;
    `rank_generators`: every rank's random state under torchrun. The CLI and the app's download both use it."""
    discriminator = trainer.discriminator if include_discriminator else None
    state = None
    if include_discriminator and not half:
        from ganplay.resume import training_state

        state_tensors, state_meta = training_state(trainer, rank_generators)
        state = {"tensors": state_tensors, "meta": state_meta}
    return checkpoint_bytes(trainer.config, trainer.sampler, discriminator, {**trainer.record(), **(record or {})},
                            card, half, state)


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes so that a crash leaves either the old file or the new one, never a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)                      # mkstemp makes 0600; a saved file gets the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_safetensors(source: str | os.PathLike | bytes) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """(tensors as stored, metadata) of a safetensors file or its bytes, after the checks every ganplay file
    gets: no pickles, no oversized or truncated files, no damaged headers. Never executes anything."""
    data = _read_source(source)
    _check_container(data)
    try:
        tensors = st_load(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"the file is damaged and cannot be read as safetensors ({err})") from None
    return tensors, _metadata(data)


# Evaluation fields renamed since cards were first written: old name -> new name (read both, write the new).
_RENAMED_EVAL_FIELDS = {"fid": "classifier_fd", "fid_real_baseline": "classifier_fd_real_baseline"}


def _upgrade_card(card: dict) -> dict:
    """A card written before a rename, with today's field names (a card already up to date is unchanged)."""
    scores = card.get("eval")
    if not isinstance(scores, dict) or not any(old in scores for old in _RENAMED_EVAL_FIELDS):
        return card
    upgraded = {_RENAMED_EVAL_FIELDS.get(key, key): value for key, value in scores.items()}
    return {**card, "eval": upgraded}


def load_checkpoint(source: str | os.PathLike | bytes, device: str | torch.device = "cpu") -> Checkpoint:
    """Load a checkpoint from a path or from bytes (an upload). Never executes anything from the file."""
    tensors, meta = read_safetensors(source)
    if meta.get("format") != FORMAT:
        raise CheckpointError("this safetensors file was not written by ganplay (no ganplay config inside)")
    try:
        config = RunConfig.from_json(meta.get("config", ""))
        record = json.loads(meta.get("record", "{}"))
        card = json.loads(meta.get("card", "{}"))
        G, D = build_models(config.model)
    except (ConfigError, json.JSONDecodeError) as err:
        raise CheckpointError(f"the checkpoint's config is invalid: {err}") from None
    has_d = any(k.startswith("discriminator.") for k in tensors)
    _load_into(G, tensors, "generator.")
    if has_d:
        _load_into(D, tensors, "discriminator.")
    extra = [k for k in tensors if not k.startswith(("generator.", "discriminator.", "state."))]
    if extra or (any(k.startswith("state.") for k in tensors) and "training_state" not in meta):
        extra = extra or [k for k in tensors if k.startswith("state.")]
        raise CheckpointError(f"unexpected tensors in the checkpoint: {extra[:3]}")
    G.to(device).eval()
    if has_d:
        D.to(device).eval()
    return Checkpoint(config, G, D if has_d else None, record if isinstance(record, dict) else {},
                      _upgrade_card(card) if isinstance(card, dict) else {}, _training_state(tensors, meta))


def _training_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict | None:
    """The resumable part (checked in full by ganplay.resume when a run resumes), or None."""
    if "training_state" not in meta:
        return None
    try:
        state_meta = json.loads(meta["training_state"])
    except json.JSONDecodeError:
        raise CheckpointError("the checkpoint's training state is damaged (its JSON does not parse)") from None
    return {"tensors": {k: v for k, v in tensors.items() if k.startswith("state.")}, "meta": state_meta}


def read_limited(source: str | os.PathLike | bytes, max_bytes: int, error: type[Exception], what: str) -> bytes:
    """The bytes of a file (or the bytes given), refused with `error` before reading when the file is missing or
    larger than `max_bytes`: "no such {what} file", "... larger than any {what} (N MB at most)"."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise error(f"{path}: no such {what} file")
        if path.stat().st_size > max_bytes:
            raise error(f"{path}: {path.stat().st_size / 10**6:.0f} MB is larger than any {what} "
                        f"({max_bytes / 10**6:.0f} MB at most)")
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise error(f"the file is {len(data) / 10**6:.0f} MB, larger than any {what} "
                    f"({max_bytes / 10**6:.0f} MB at most)")
    return data


def _read_source(source: str | os.PathLike | bytes) -> bytes:
    return read_limited(source, MAX_BYTES, CheckpointError, "ganplay checkpoint")


def _check_container(data: bytes) -> None:
    """Recognise what the bytes are before handing them to a parser, so the message can say so."""
    if len(data) < 8:
        raise CheckpointError("the file is empty or truncated (too short to be a checkpoint)")
    # safetensors: an 8-byte little-endian header length, then a JSON header starting with "{" (the file's
    # size limit bounds the header too: a model with many small layers has a long one)
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len <= len(data) - 8 and data[8:9] == b"{":
        return
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") or data[:2] == b"PK":
        raise CheckpointError("this is a pickle / torch.save file; ganplay never unpickles files because that can "
                              "run arbitrary code. Export the weights as a ganplay .safetensors checkpoint instead")
    raise CheckpointError("the file is not a safetensors checkpoint, or it is truncated")


def _metadata(data: bytes) -> dict:
    (header_len,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + header_len])
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise CheckpointError("the checkpoint's header is damaged") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    return meta if isinstance(meta, dict) else {}


def _load_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], prefix: str) -> None:
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"the {prefix[:-1]} weights do not match the config "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(f"{prefix}{key} has shape {tuple(value.shape)} but the config needs "
                                  f"{tuple(expected[key].shape)}")
        if not (value.is_floating_point() == expected[key].is_floating_point()):
            raise CheckpointError(f"{prefix}{key} has the wrong dtype {value.dtype}")
    # half-precision storage is widened back to each parameter's own dtype
    module.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
