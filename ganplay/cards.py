"""Model cards for bundled generators: what a checkpoint is, how it was made and how good it is.

    python -m ganplay card pretrained/dcgan.safetensors --title "DCGAN (seed 000)" \
        --command "python -m ganplay train --preset lsgan-dcgan --steps 2500 ..."

`write_card` scores the generator with `ganplay.evaluate` (the figures `python -m ganplay eval` prints; for a
generator of anything but MNIST digits the card says why there are no scores), then
stores the card inside the checkpoint's metadata (so an upload carries it) and beside it as NAME.json (so a
person can read it without ganplay). Both are read and written through `ganplay.checkpoint`, atomically.
Cards written before the evaluation's Fréchet distance was renamed (`fid` -> `classifier_fd`) still load:
`load_checkpoint` maps the old names.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ganplay.checkpoint import checkpoint_bytes, load_checkpoint, read_safetensors, write_atomic


def make_card(path: str | os.PathLike, title: str, command: str, n: int = 1000, seed: int = 0,
              data: str | os.PathLike | None = None) -> dict:
    from ganplay.data import load_dataset
    from ganplay.evaluate import digit_judge_refusal, evaluate

    ckpt = load_checkpoint(path)
    refusal = digit_judge_refusal(ckpt.config)
    if refusal is None:
        report = evaluate(ckpt, n=n, seed=seed, holdout=load_dataset("mnist", data, part="holdout"))
        scores = {"command": f"python -m ganplay eval {Path(path).name} --n {n} --seed {seed}", **report.to_dict()}
    else:                       # the judge knows MNIST digits only: say so rather than score garments as digits
        scores = {"skipped": refusal}
    record = ckpt.record
    return {
        "title": title,
        "recipe": ckpt.config.name,
        "source": ckpt.config.source,
        "description": ckpt.config.description,
        "data": record.get("dataset", ""),
        "steps": record.get("steps"),
        "images_seen": record.get("images_seen"),
        "seed": ckpt.config.train.seed,
        "training_seconds": record.get("seconds"),
        "device": record.get("device"),
        "command": command,
        "eval": scores,
    }


def write_card(path: str | os.PathLike, card: dict) -> tuple[Path, Path]:
    """Embed the card in the checkpoint (weights untouched) and write NAME.json beside it."""
    path = Path(path)
    ckpt = load_checkpoint(path)
    half = _stored_half(path)      # keep the storage precision the file had
    write_atomic(path, checkpoint_bytes(ckpt.config, ckpt.generator, ckpt.discriminator, ckpt.record, card, half,
                                        ckpt.training_state))
    sidecar = write_atomic(path.with_suffix(".json"), (json.dumps(card, indent=2) + "\n").encode())
    return path, sidecar


def _stored_half(path: Path) -> bool:
    tensors, _ = read_safetensors(path)
    return any(t.dtype in (torch.float16, torch.bfloat16) for t in tensors.values())
