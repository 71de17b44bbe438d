"""`python -m ganplay record`: train a recipe once and save what the Training page shows of it as a replay
(ganplay.replay), which the page then plays back with no trainer. `ganplay.cli` adds it to its parser.

    python -m ganplay record --preset lecture --set train.loss=minimax --steps 2000 --seed 0 --threads 1 \
        --title "Minimax (saturating)" --out pretrained/replays/lecture-minimax.npz

Any recipe `train` accepts records the same way (`--preset`, `--set FIELD=JSON`, `--seed`, `--data`), failures
included: a run that diverges is recorded up to where it stopped, with the reason, and the command says so.
"""
from __future__ import annotations

import dataclasses
import shlex
import sys

import torch

from ganplay.checkpoint import write_atomic
from ganplay.config import ConfigError
from ganplay.data import load_data
from ganplay.presets import preset
from ganplay.replay import FRAMES, MAX_FILE_BYTES, MAX_FRAMES, record, replay_bytes


def add_record_command(sub) -> None:
    from ganplay.cli import DEVICES, add_command

    p = add_command(sub, "record", _record, "train a recipe and save it as a replay the Training page plays back")
    p.add_argument("--preset", default="lecture", help="preset name (see `presets`; default lecture)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                   help="override a config field, e.g. --set train.loss=minimax")
    p.add_argument("--steps", type=int, required=True, help="iterations to record")
    p.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    p.add_argument("--frames", type=int, default=FRAMES, help=f"sample grids kept (default {FRAMES})")
    p.add_argument("--title", help="the name the page lists it under (default: the config's name)")
    p.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/<dataset>)")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", choices=DEVICES, default="cpu", help="where to train (default cpu)")
    p.add_argument("--out", required=True, help="replay path (.npz)")


def _record(args) -> int:
    from tqdm import tqdm

    from ganplay.cli import checked_device

    if not 1 <= args.steps <= 1_000_000:
        raise ConfigError("--steps must be between 1 and 1,000,000")
    if not 2 <= args.frames <= MAX_FRAMES - 1:
        raise ConfigError(f"--frames must be between 2 and {MAX_FRAMES - 1}")
    if not args.out.endswith(".npz"):
        raise ConfigError("--out must end in .npz (a replay is a zip numpy.load opens)")
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    cfg = preset(args.preset)
    if args.seed is not None:
        cfg = cfg.replace(**{"train.seed": args.seed})
    cfg = cfg.with_overrides(args.set)
    data = load_data(cfg.train.dataset, args.data)
    print(f"{cfg.name}: {data.describe()}", file=sys.stderr)
    with tqdm(total=args.steps, unit="step", file=sys.stderr, disable=None, dynamic_ncols=True) as bar:
        replay = record(cfg, data, args.steps, frames=args.frames, title=args.title,
                        device=checked_device(args.device), progress=lambda step: bar.update(step - bar.n))
    replay = dataclasses.replace(replay, record={**replay.record, "command": _command(args)})
    data_bytes = replay_bytes(replay)
    if len(data_bytes) > MAX_FILE_BYTES:
        raise ConfigError(f"the replay would be {len(data_bytes) / 10**6:.1f} MB, more than a replay may be "
                          f"({MAX_FILE_BYTES / 10**6:.0f} MB): record fewer --frames")
    out = write_atomic(args.out, data_bytes)
    if replay.record["message"]:
        print(replay.record["message"], file=sys.stderr)
        print(f"recorded up to step {replay.steps} (it diverged there)")
    cov = replay.coverage
    print(f"wrote {out} ({len(data_bytes) / 10**6:.2f} MB): {replay.steps} steps, {len(replay.frame_steps)} "
          f"frames, {len(replay.history['step'])} metric rows, {len(cov['step']) if cov else 0} coverage probes")
    return 0


def _command(args) -> str:
    """The command that made the replay, as the page shows it (no data path: that is the machine's)."""
    parts = ["python", "-m", "ganplay", "record", "--preset", args.preset]
    for pair in args.set:
        parts += ["--set", pair]
    parts += ["--steps", str(args.steps)]
    if args.seed is not None:
        parts += ["--seed", str(args.seed)]
    if args.frames != FRAMES:
        parts += ["--frames", str(args.frames)]
    if args.title:
        parts += ["--title", args.title]
    return shlex.join([*parts, "--out", args.out])
