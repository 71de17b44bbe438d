"""Does bfloat16 harm quality? The same preset, seed and steps trained at float32 and at bfloat16, scored alike.

    GANPLAY_DATA=../shared/data/mnist python -m bench.precision_quality --preset lsgan-dcgan --steps 2500 --seeds 0 1
    GANPLAY_DATA=../shared/data/mnist python -m bench.precision_quality --preset mlp-batchnorm --steps 50000 90000

Each run is what `python -m ganplay train --preset P --steps N --seed S --threads 1 --half --no-discriminator
--set train.precision=X` does (one thread, the same trainer, the same float16 checkpoint), scored by
`python -m ganplay eval CHECKPOINT --n 1000 --seed 0` at every step count in `--steps`. Speed is
`bench/throughput.py`'s business; this prints each run's training time only as a by-product.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from bench import machine_line
from ganplay.checkpoint import load_checkpoint, save_checkpoint
from ganplay.classifier import load_classifier
from ganplay.data import load_dataset
from ganplay.evaluate import evaluate
from ganplay.presets import PRESETS, preset
from ganplay.trainer import Trainer


COMPARED = ("float32", "bfloat16")      # what `auto` chooses between


def scored_run(name: str, seed: int, precision: str, steps: list[int], dataset, holdout, classifier, folder: Path):
    """Train one run, scoring a float16 checkpoint at each step count; yields (steps, seconds, report)."""
    cfg = preset(name).replace(**{"train.seed": seed, "train.precision": precision})
    trainer = Trainer(cfg, dataset, device="cpu")
    for target in sorted(steps):
        while trainer.step_count < target:
            trainer.step()
        path = save_checkpoint(folder / f"{name}-{seed}-{precision}.safetensors", trainer,
                               include_discriminator=False, half=True)
        yield target, trainer.seconds, evaluate(load_checkpoint(path), n=1000, seed=0, classifier=classifier,
                                                holdout=holdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", required=True, choices=list(PRESETS))
    parser.add_argument("--steps", nargs="+", type=int, required=True, help="step counts to score at")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    dataset = load_dataset("mnist", args.data, part="train")
    holdout = load_dataset("mnist", args.data, part="holdout")
    classifier, _ = load_classifier()
    print(f"{args.preset}: {machine_line()}; eval n=1000 seed 0 (real-vs-real Fréchet baseline about 9.3)")
    print(f"{'seed':>4}{'precision':>11}{'steps':>8}{'train s':>9}{'confident':>11}{'classes':>9}{'largest':>9}"
          f"{'FD':>8}  recognizable")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for precision in COMPARED:
                for steps, seconds, r in scored_run(args.preset, seed, precision, args.steps, dataset, holdout,
                                                    classifier, Path(tmp)):
                    print(f"{seed:>4}{precision:>11}{steps:>8}{seconds:>9.0f}{r.confident_fraction:>11.1%}"
                          f"{r.classes_present:>9d}{r.max_class_fraction:>9.1%}{r.classifier_fd:>8.1f}  "
                          f"{'yes' if r.recognizable else 'no'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
