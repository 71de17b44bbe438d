"""The ganplay command line.

    python -m ganplay presets
    python -m ganplay train --preset lecture --seconds 60 --out runs/lecture.safetensors
    python -m ganplay sample runs/lecture.safetensors --out grid.png
    python -m ganplay data download mnist
    python -m ganplay eval runs/lecture.safetensors --n 1000
    python -m ganplay classifier train

Errors a user can fix (missing data, a bad config or checkpoint) print one line and exit with status 2.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ganplay.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_atomic
from ganplay.config import ConfigError
from ganplay.data import DATASETS, DataError, load_data, load_dataset
from ganplay.images import make_grid, png_bytes, upscale
from ganplay.models import balanced_labels, sample_latent
from ganplay.presets import PRESETS, preset
from ganplay.toy import TOYS, ToyDataError, to_csv

MAX_CSV_SAMPLES = 1_000_000


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    try:
        return args.run(args) or 0
    except (DataError, ConfigError, CheckpointError, ToyDataError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganplay", description="ganplay: a GAN teaching playground")
    sub = parser.add_subparsers(title="commands")

    p = sub.add_parser("presets", help="list the training presets")
    p.set_defaults(run=_presets)

    p = sub.add_parser("train", help="train a preset and save a checkpoint")
    p.add_argument("--preset", default="lecture", help="preset name (see `presets`)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="generator steps to train (default 1000)")
    length.add_argument("--seconds", type=float, help="train for this many seconds instead")
    p.add_argument("--data", help="data folder (default: $GANPLAY_DATA, then ./data/<dataset>)")
    p.add_argument("--dataset", choices=sorted(DATASETS) + list(TOYS),
                   help="dataset, images or toy points (default: the preset's)")
    p.add_argument("--seed", type=int, help="random seed (default: the preset's)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=JSON",
                   help='override a config field, e.g. --set train.lr_g=1e-4 --set model.latent_dim=64')
    p.add_argument("--half", action="store_true", help="store weights in float16 (half the size)")
    p.add_argument("--no-discriminator", action="store_true", help="save the generator only")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--out", required=True, help="checkpoint path (.safetensors)")
    p.set_defaults(run=_train)

    p = sub.add_parser("sample", help="draw samples from a checkpoint: a PNG grid of images, or a CSV of points")
    p.add_argument("checkpoint")
    p.add_argument("--out", required=True, help="PNG path (image models) or CSV path (point models)")
    p.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=int, default=3, help="pixel enlargement (default 3)")
    p.set_defaults(run=_sample)

    p = sub.add_parser("data", help="manage datasets")
    data_sub = p.add_subparsers(title="data commands")
    d = data_sub.add_parser("download", help="download a dataset's IDX files and verify their md5")
    d.add_argument("dataset", choices=sorted(DATASETS))
    d.add_argument("--dest", help="folder (default ./data/<dataset>)")
    d.set_defaults(run=_download)
    _add_quality_commands(sub)

    p = sub.add_parser("card", help="score a generator and write its model card (into the file and NAME.json)")
    p.add_argument("checkpoint")
    p.add_argument("--title", required=True, help="the name people see, e.g. 'DCGAN · least squares (seed 000)'")
    p.add_argument("--command", required=True, help="the `python -m ganplay train ...` command that made it")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/mnist)")
    p.set_defaults(run=_card)
    return parser


def _card(args) -> int:
    from ganplay.cards import make_card, write_card

    card = make_card(args.checkpoint, args.title, args.command, n=args.n, data=args.data)
    path, sidecar = write_card(args.checkpoint, card)
    e = card["eval"]
    print(f"{path}: {e['confident_fraction']:.1%} confident, {e['classes_present']}/10 classes, "
          f"recognizable: {'yes' if e['recognizable'] else 'no'}; card in {sidecar}")
    return 0


def _presets(args) -> int:
    width = max(map(len, PRESETS))
    for name, cfg in PRESETS.items():
        line = cfg.description.split(": ")[0]
        line = line if len(line) <= 90 else line[:89] + "…"
        print(f"{name:<{width}}  {line}  [{cfg.source}]")
    return 0


def _train(args) -> int:
    from ganplay.trainer import Trainer, TrainingDiverged

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = preset(args.preset)
    if args.dataset:
        cfg = cfg.replace(**{"train.dataset": args.dataset})
    if args.seed is not None:
        cfg = cfg.replace(**{"train.seed": args.seed})
    cfg = cfg.with_overrides(args.set)
    dataset = load_data(cfg.train.dataset, args.data)
    trainer = Trainer(cfg, dataset)
    print(f"{cfg.name}: {dataset.describe()} on {trainer.device}", file=sys.stderr)
    steps = args.steps if args.steps is not None else (None if args.seconds else 1000)
    start, metrics, status, fraction, shown = time.perf_counter(), None, 0, 0.0, 0
    interactive = sys.stderr.isatty()
    try:
        while True:
            elapsed = time.perf_counter() - start
            done = trainer.step_count
            if (steps is not None and done >= steps) or (args.seconds and elapsed >= args.seconds):
                break
            metrics = trainer.step()
            fraction = done / steps if steps else elapsed / args.seconds
            if interactive and trainer.step_count % 10 == 0 or int(fraction * 10) > shown:
                shown = int(fraction * 10)
                _progress(fraction, trainer.step_count, elapsed, metrics, interactive)
    except TrainingDiverged as err:
        print(f"\n{err}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\ninterrupted: saving what was trained so far", file=sys.stderr)
    elapsed = time.perf_counter() - start
    _progress(1.0 if status == 0 else fraction, trainer.step_count, elapsed, metrics, interactive)
    out = save_checkpoint(args.out, trainer, include_discriminator=not args.no_discriminator, half=args.half)
    print(file=sys.stderr)
    rate = trainer.step_count / elapsed if elapsed else 0.0
    print(f"trained {trainer.step_count} steps in {elapsed:.1f} s ({rate:.1f} steps/s)")
    if metrics:
        print(f"last step: D loss {metrics.d_loss:.3f}  G loss {metrics.g_loss:.3f}  "
              f"D(x) {metrics.d_real:.3f}  D(G(z)) {metrics.d_fake:.3f}")
    print(f"saved {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return status


def _progress(fraction: float, step: int, elapsed: float, metrics, interactive: bool) -> None:
    """A one-line bar redrawn in place on a terminal; one line per 10 % in logs."""
    fraction = min(max(fraction, 0.0), 1.0)
    bar = "#" * int(fraction * 30)
    tail = f" D {metrics.d_loss:6.3f} G {metrics.g_loss:6.3f}" if metrics else ""
    start, end = ("\r", "") if interactive else ("", "\n")
    print(f"{start}[{bar:<30}] {fraction:4.0%} step {step} {elapsed:6.1f}s{tail}", end=end, file=sys.stderr,
          flush=True)


def _sample(args) -> int:
    ckpt = load_checkpoint(args.checkpoint)
    model = ckpt.config.model
    if model.is_points:
        return _sample_points(args, ckpt)
    if args.out.lower().endswith(".csv"):
        raise ValueError(f"{ckpt.config.name} makes images: write them as a PNG grid (--out grid.png)")
    if not 1 <= args.n <= 1024:
        raise ValueError("--n must be between 1 and 1024")
    z = sample_latent(model, args.n, torch.Generator().manual_seed(args.seed))
    y = balanced_labels(args.n, model.num_classes)
    with torch.inference_mode():
        images = ckpt.generator(z, y)
    grid = upscale(make_grid(images, nrow=10 if model.num_classes else None), max(1, args.scale))
    out = write_atomic(args.out, png_bytes(grid))
    print(f"wrote {out} ({args.n} samples from {ckpt.config.name}, {ckpt.record.get('steps', '?')} steps)")
    return 0


def _sample_points(args, ckpt) -> int:
    """A point model's samples as CSV: a header (x,y or x) and one sample per line."""
    if not args.out.lower().endswith(".csv"):
        raise ValueError(f"{ckpt.config.name} makes points: write them as CSV (--out points.csv)")
    if not 1 <= args.n <= MAX_CSV_SAMPLES:
        raise ValueError(f"--n must be between 1 and {MAX_CSV_SAMPLES:,}")
    z = sample_latent(ckpt.config.model, args.n, torch.Generator().manual_seed(args.seed))
    with torch.inference_mode():
        points = ckpt.generator(z).numpy()
    out = write_atomic(args.out, to_csv(points).encode())
    print(f"wrote {out} ({args.n} samples from {ckpt.config.name}, {ckpt.record.get('steps', '?')} steps)")
    return 0


def _download(args) -> int:
    from ganplay.data import default_data_dir
    from ganplay.download import download_dataset

    dest = Path(args.dest) if args.dest else default_data_dir(args.dataset)

    def progress(done: int, total: int, name: str) -> None:
        share = f"{done / total:4.0%}" if total else f"{done / 2**20:.1f} MB"
        print(f"\r{name}: {share}", end="", file=sys.stderr, flush=True)

    folder = download_dataset(args.dataset, dest, progress=progress)
    print(f"\n{args.dataset} is ready in {folder}")
    return 0


# -- quality: the digit classifier and `eval` ---------------------------------------------------------------------
def _add_quality_commands(sub) -> None:
    from ganplay.classifier import PRETRAINED_PATH

    p = sub.add_parser("eval", help="score a generator checkpoint with the digit classifier")
    p.add_argument("checkpoint")
    p.add_argument("--n", type=int, default=1000, help="samples (and real digits per reference set), at most 1000")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report as JSON only")
    p.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/mnist)")
    p.add_argument("--classifier", help="classifier file (default: the bundled one)")
    p.set_defaults(run=_eval)

    p = sub.add_parser("classifier", help="the MNIST classifier that scores generated digits")
    clf_sub = p.add_subparsers(title="classifier commands")
    c = clf_sub.add_parser("train", help="train it on the non-held-out t10k digits and save it with its card")
    c.add_argument("--epochs", type=int, default=6)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--threads", type=int, help="torch CPU threads")
    c.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA, then ./data/mnist)")
    c.add_argument("--out", default=str(PRETRAINED_PATH), help=f"output file (default {PRETRAINED_PATH})")
    c.set_defaults(run=_classifier_train)


def _eval(args) -> int:
    from ganplay.classifier import load_classifier
    from ganplay.evaluate import evaluate, format_report

    ckpt = load_checkpoint(args.checkpoint)
    classifier, _ = load_classifier(args.classifier)
    holdout = load_dataset("mnist", args.data, part="holdout")
    report = evaluate(ckpt, n=args.n, seed=args.seed, classifier=classifier, holdout=holdout)
    if args.json:
        print(json.dumps({"checkpoint": str(args.checkpoint), "preset": ckpt.config.name, **report.to_dict()}))
    else:
        steps = ckpt.record.get("steps", "?")
        print(format_report(report, title=f"{args.checkpoint}  ({ckpt.config.name}, {steps} steps)"))
    return 0


def _classifier_train(args) -> int:
    from ganplay.classifier import MIN_ACCURACY, save_classifier, train_classifier

    if args.threads:
        torch.set_num_threads(args.threads)
    if not 1 <= args.epochs <= 100:
        raise ValueError("--epochs must be between 1 and 100")
    train = load_dataset("mnist", args.data, part="train")
    holdout = load_dataset("mnist", args.data, part="holdout")
    print(f"training on {train.describe()}; scoring on {len(holdout):,} held-out digits", file=sys.stderr)
    model, card = train_classifier(
        train, holdout, epochs=args.epochs, seed=args.seed,
        progress=lambda e, total, acc: print(f"epoch {e}/{total}: held-out accuracy {acc:.2%}", file=sys.stderr))
    card["command"] = f"python -m ganplay classifier train --epochs {args.epochs} --seed {args.seed}"
    out = save_classifier(args.out, model, card)
    print(f"held-out accuracy {card['holdout_accuracy']:.2%} after {card['training_seconds']:.0f} s; "
          f"saved {out} ({out.stat().st_size / 2**20:.2f} MB)")
    if card["holdout_accuracy"] < MIN_ACCURACY:
        print(f"warning: below the {MIN_ACCURACY:.0%} the evaluation needs; train longer", file=sys.stderr)
        return 1
    return 0
