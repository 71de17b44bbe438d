"""The ganplay command line.

    python -m ganplay presets
    python -m ganplay train --preset lecture --seconds 60 --out runs/lecture.safetensors
    python -m ganplay train --dry-run --preset cdcgan        # a few steps on synthetic data: no dataset needed
    python -m ganplay train --resume runs/lecture.safetensors --steps 2000 --out runs/lecture.safetensors
    torchrun --nproc_per_node 2 -m ganplay train --preset lecture --steps 1000 --out runs/lecture.safetensors
    python -m ganplay sample runs/lecture.safetensors --out grid.png
    python -m ganplay data download mnist                      # says so and stops if the data is there already
    python -m ganplay eval runs/lecture.safetensors --n 1000
    python -m ganplay classifier train

Errors a user can fix (missing data; a bad config, argument value or checkpoint; an unknown name) print one
"error: ..." line and exit with status 2, as argparse does for what it parses; anything else is a bug and keeps
its traceback. Progress bars (tqdm) go to stderr on a terminal only; results are printed to stdout.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganplay.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_atomic
from ganplay.config import ConfigError
from ganplay.data import (DATASETS, DataError, fit_config, get_spec, holds_image_files, load_data,
                          load_image_folder, synthetic_images)
from ganplay.images import make_grid, png_bytes, upscale
from ganplay.presets import PRESETS, preset
from ganplay.registry import UnknownNameError
from ganplay.toy import TOYS, ToyDataError, to_csv

USER_ERRORS = (DataError, ConfigError, CheckpointError, ToyDataError, UnknownNameError)
MAX_CSV_SAMPLES = 1_000_000
DEVICES = ("cpu", "cuda", "mps")
DRY_RUN_STEPS = 3


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except USER_ERRORS as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def add_command(sub, name: str, run, help: str) -> argparse.ArgumentParser:
    """A subcommand that calls `run(args)`."""
    p = sub.add_parser(name, help=help)
    p.set_defaults(run=run)
    return p


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganplay", description="ganplay: a GAN teaching playground")
    sub = parser.add_subparsers(title="commands")
    add_command(sub, "presets", _presets, "list the training presets")

    p = add_command(sub, "train", _train, "train a preset and save a checkpoint")
    p.add_argument("--preset", help="preset name (see `presets`; default lecture)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help=f"generator steps in all, a resumed run's included (default 1000; "
                                                  f"{DRY_RUN_STEPS} with --dry-run)")
    length.add_argument("--seconds", type=float, help="train for this many seconds instead")
    p.add_argument("--data", help="data folder: IDX files (default: $GANPLAY_DATA, then ./data/<dataset>), or "
                                  "your own PNG/JPEG/WebP images, one subfolder per class if labelled")
    p.add_argument("--dataset", choices=sorted(DATASETS) + list(TOYS),
                   help="dataset, images or toy points (default: the preset's)")
    p.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                   help='override a config field, e.g. --set train.lr_g=1e-4 --set model.latent_dim=64')
    p.add_argument("--half", action="store_true", help="store weights in float16 (half the size)")
    p.add_argument("--no-discriminator", action="store_true", help="save the generator only")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--device", choices=DEVICES, help="where to train (default: cuda, then mps, then cpu)")
    p.add_argument("--dry-run", action="store_true",
                   help="smoke test: a few steps on synthetic data, then save, load and sample the checkpoint")
    p.add_argument("--out", help="checkpoint path (.safetensors); optional with --dry-run")
    p.add_argument("--resume", metavar="CKPT", help="continue the run saved in CKPT (its config; --set may change "
                                                    "learning rates and D/G steps)")
    p.add_argument("--sync-bn", action="store_true", help="under torchrun on GPUs: batch norm over all ranks' "
                                                          "batches (default: each rank its own)")

    p = add_command(sub, "sample", _sample,
                 "draw samples from a checkpoint: a PNG grid of images, or a CSV of points")
    p.add_argument("checkpoint")
    p.add_argument("--out", required=True, help="PNG path (image models) or CSV path (point models)")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=int, default=3, help="pixel enlargement (default 3)")
    p.add_argument("--device", choices=DEVICES, help="where to run the generator (default cpu)")

    p = sub.add_parser("data", help="manage datasets")
    data_sub = p.add_subparsers(title="data commands")
    d = add_command(data_sub, "download", _download, "download a dataset's IDX files and verify their md5")
    d.add_argument("dataset", choices=sorted(DATASETS))
    d.add_argument("--dest", help="folder (default: $GANPLAY_DATA/<dataset> when $GANPLAY_DATA is a writable "
                                  "folder, else ./data/<dataset>)")
    d.add_argument("--split", choices=("train", "t10k"), help="only this split's two files (default: both)")
    d.add_argument("--force", action="store_true", help="download even if the dataset is found already")
    from ganplay.cli_quality import add_quality_commands   # here: it imports this module's helpers

    add_quality_commands(sub)
    from ganplay.cli_replay import add_record_command

    add_record_command(sub)
    return parser


def _presets(args) -> int:
    width = max(map(len, PRESETS))
    for name, cfg in PRESETS.items():
        line = cfg.description.split(": ")[0]
        line = line if len(line) <= 90 else line[:89] + "…"
        print(f"{name:<{width}}  {line}  [{cfg.source}]")
    return 0


def checked_device(name: str | None) -> torch.device | None:
    """The device asked for, checked; None (the trainer's own choice) when none was asked for."""
    if name is None:
        return None
    ready = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    available = [kind for kind in DEVICES if ready[kind]]
    if name not in available:
        raise ConfigError(f"--device {name}: not available on this machine (torch {torch.__version__}); "
                          f"available: {', '.join(available)}")
    return torch.device(name)


def _train(args) -> int:
    """One process, or one rank of a torchrun job (ganplay.distributed): rank 0 alone prints and saves."""
    from ganplay.distributed import session

    checked_device(args.device)
    with session(args.device) as dist, dist.quiet():
        return _train_run(args, dist)


def _train_run(args, dist) -> int:
    from ganplay.resume import LIVE_SETTINGS, restore_training_state, resumed_config
    from ganplay.trainer import Trainer

    if args.out is None and not args.dry_run:
        raise ConfigError("--out is required (only --dry-run can do without)")
    if (args.steps is not None and args.steps < 1) or (args.seconds is not None and not args.seconds > 0):
        raise ConfigError("--steps and --seconds must be positive")
    if args.seed is not None and not 0 <= args.seed < 2**63:
        raise ConfigError("--seed must be between 0 and 2**63 - 1")
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError("--threads must be at least 1")
        torch.set_num_threads(args.threads)
    device = dist.device or checked_device(args.device)
    if args.resume:
        for flag, value in (("--preset", args.preset), ("--dataset", args.dataset), ("--seed", args.seed),
                            ("--dry-run", args.dry_run or None)):
            if value is not None:
                raise ConfigError(f"{flag} cannot be used with --resume: the run's config comes from the "
                                  f"checkpoint (--set may change {', '.join(LIVE_SETTINGS)})")
        resumed = load_checkpoint(args.resume)
        cfg, live = resumed_config(resumed.config, args.set)
    else:
        cfg = preset(args.preset or "lecture")
        if args.dataset:
            cfg = cfg.replace(**{"train.dataset": args.dataset})
        if args.seed is not None:
            cfg = cfg.replace(**{"train.seed": args.seed})
        cfg = cfg.with_overrides(args.set)
    if args.dry_run and cfg.train.dataset not in TOYS:   # toys need no files: they train on themselves
        data = synthetic_images(class_names=get_spec(cfg.train.dataset).class_names)
    elif args.data and cfg.train.dataset not in TOYS and holds_image_files(args.data):
        data = load_image_folder(args.data, cfg.model.image_size)     # your own images: no IDX files there
        cfg = fit_config(cfg, data)
    else:
        data = load_data(cfg.train.dataset, args.data)
    trainer = Trainer(cfg, data, device)
    if args.resume:
        note = restore_training_state(trainer, resumed, dist.rank)
        trainer.set_hyperparameters(**live)
        if note:
            print(note, file=sys.__stderr__)
    steps = args.steps if args.steps is not None else (
        None if args.seconds else DRY_RUN_STEPS if args.dry_run else 1000)
    if steps is not None and trainer.step_count >= steps:
        raise ConfigError(f"the run is at step {trainer.step_count} already and --steps counts the total: ask "
                          f"for more (e.g. --steps {trainer.step_count + 1000}) or use --seconds")
    dist.prepare(trainer, reseed=not args.resume, sync_bn=args.sync_bn)
    ranks = f" x {dist.world_size} ranks (batch {cfg.train.batch_size} each)" if dist.active else ""
    print(f"{cfg.name}: {data.describe()} on {trainer.device}{ranks}", file=sys.stderr)
    start_step = trainer.step_count
    metrics, status, elapsed = _train_loop(trainer, steps, args.seconds, dist.all_agree)
    dist.unwrap(trainer)
    rank_generators = dist.generator_states(trainer)
    if not dist.is_main:
        return status
    with tempfile.TemporaryDirectory(prefix="ganplay-dry-run-") as scratch:
        out = Path(args.out) if args.out else Path(scratch) / f"{cfg.name}.safetensors"
        out = save_checkpoint(out, trainer, include_discriminator=not args.no_discriminator, half=args.half,
                              rank_generators=rank_generators)
        done = trainer.step_count - start_step
        rate = done / elapsed if elapsed else 0.0
        resumed_from = f" (from step {start_step} to {trainer.step_count})" if args.resume else ""
        print(f"trained {done} steps{resumed_from} in {elapsed:.1f} s ({rate:.1f} steps/s)")
        if metrics:
            print(f"last step: D loss {metrics.d_loss:.3f}  G loss {metrics.g_loss:.3f}  "
                  f"D(x) {metrics.d_real:.3f}  D(G(z)) {metrics.d_fake:.3f}")
        kept = "" if args.out else ", a temporary file removed at the end"
        print(f"saved {out} ({out.stat().st_size / 2**20:.1f} MB{kept})")
        if args.dry_run:
            status = max(status, _check_round_trip(out, trainer.device))
    return status


def _train_loop(trainer, steps: int | None, seconds: float | None, all_agree=bool):
    """Train until the trainer has done `steps` iterations (or for `seconds`) with a tqdm bar on a terminal;
    (last metrics, status, s). Divergence ends the run with status 1 and Ctrl-C ends it early; either way the
    caller saves what there is. `all_agree`: under torchrun, every rank goes on only while all ranks' clocks do."""
    from tqdm import tqdm

    from ganplay.trainer import TrainingDiverged

    by_time = steps is None
    # disable=None: no bar when stderr is not a terminal, so a CI log gets no line per redraw.
    bar = tqdm(total=seconds if by_time else steps, initial=0 if by_time else trainer.step_count,
               unit="s" if by_time else "step", file=sys.stderr, disable=None, dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s{postfix}" if by_time else None)
    metrics, status, start = None, 0, time.perf_counter()
    try:
        with bar:
            while all_agree(time.perf_counter() - start < seconds) if by_time else (trainer.step_count < steps):
                metrics = trainer.step()
                bar.update(min(time.perf_counter() - start, seconds) - bar.n if by_time else 1)
                bar.set_postfix(D=f"{metrics.d_loss:.3f}", G=f"{metrics.g_loss:.3f}", refresh=False)
    except TrainingDiverged as err:
        print(err, file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("interrupted: saving what was trained so far", file=sys.stderr)
    return metrics, status, time.perf_counter() - start


def _check_round_trip(path: Path, device: torch.device) -> int:
    """The dry run's last check: the saved checkpoint loads alone and its generator samples finite values."""
    ckpt = load_checkpoint(path, device)
    samples = _draw(ckpt, 16, seed=0)
    if not torch.isfinite(samples).all():
        print(f"dry run failed: {ckpt.config.name}'s samples after loading contain NaN or inf", file=sys.stderr)
        return 1
    print(f"ok: dry run of {ckpt.config.name} on {device}: trained, saved, loaded back and sampled "
          f"{tuple(samples.shape)}")
    return 0


def _draw(ckpt, n: int, seed: int) -> torch.Tensor:
    """n samples from a checkpoint's generator on the CPU, (n, *sample_shape); class labels 0..K-1 in turn."""
    from ganplay.evaluate import generator_sampler

    drawn = generator_sampler(ckpt.generator, ckpt.config.model)(n, torch.Generator().manual_seed(seed))
    return drawn[0] if isinstance(drawn, tuple) else drawn


def _sample(args) -> int:
    ckpt = load_checkpoint(args.checkpoint, checked_device(args.device) or "cpu")
    model = ckpt.config.model
    points = model.is_points
    limit = MAX_CSV_SAMPLES if points else 1024
    if not 1 <= args.n <= limit:
        raise ConfigError(f"--n must be between 1 and {limit:,} for {ckpt.config.name}")
    if points != args.out.lower().endswith(".csv"):
        raise ConfigError(f"{ckpt.config.name} makes {'points' if points else 'images'}: write them as "
                          f"{'CSV (--out points.csv)' if points else 'a PNG grid (--out grid.png)'}")
    samples = _draw(ckpt, args.n, args.seed)
    if points:
        data = to_csv(samples.numpy()).encode()
    else:
        grid = make_grid(samples, nrow=10 if model.num_classes else None)
        data = png_bytes(upscale(grid, max(1, args.scale)))
    out = write_atomic(args.out, data)
    print(f"wrote {out} ({args.n} samples from {ckpt.config.name}, {ckpt.record.get('steps', '?')} steps)")
    return 0


def _download(args) -> int:
    from tqdm import tqdm

    from ganplay.data import DATA_ENV_VAR, download_dir, find_data_dir
    from ganplay.download import download_dataset

    spec = get_spec(args.dataset)
    if args.dest is None and not args.force:
        try:
            found = find_data_dir(args.dataset)
        except DataError:
            env_value = os.environ.get(DATA_ENV_VAR)
            if env_value and not Path(env_value).expanduser().is_dir():
                raise    # a wrong $GANPLAY_DATA would hide what we download: say so first
            found = None
        if found is not None:
            print(f"{spec.title} is already here: {found}; nothing downloaded (--force downloads anyway)")
            return 0
    dest = Path(args.dest) if args.dest else download_dir(args.dataset)   # where the page saves too
    bars: dict[str, tqdm] = {}

    def progress(done: int, total: int | None, name: str) -> None:
        bar = bars.get(name)
        if bar is None or done < bar.n:     # a new file, or the same file again from the next mirror
            if bar is not None:
                bar.close()
            bar = bars[name] = tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024,
                                    file=sys.stderr, disable=None, dynamic_ncols=True)
        if total and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if total and done >= total:
            bar.close()                     # finished bars stay above, one line per file

    try:
        folder = download_dataset(args.dataset, dest, progress=progress,
                                  files=spec.splits[args.split] if args.split else None)
    finally:
        for bar in bars.values():
            bar.close()
    print(f"{args.dataset} is ready in {folder}")
    return 0
