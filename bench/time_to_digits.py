"""Time to recognizable digits: seconds of training until a preset first passes the recognizable bar.

    GANPLAY_DATA=../shared/data/mnist python -m bench.time_to_digits                      # lecture + seed presets
    GANPLAY_DATA=../shared/data/mnist python -m bench.time_to_digits --presets lecture --seeds 0 1 2 --limit 120
    GANPLAY_DATA=../shared/data/mnist python -m bench.time_to_digits --presets lecture --set train.precision=float32

Each run trains one preset with `Trainer.step()` on the 8,000 training digits and, every `--every` seconds of
training, scores its generator with `ganplay.evaluate` (n = `--n` samples, the bundled classifier, the
2,000-digit holdout). Only training time counts; evaluation time is excluded. A run stops when the generator is
recognizable (>= 80 % confident, 10/10 classes, no class above 25 %) or at `--limit` seconds of training.
The figure is the training time at the first passing check, so it is a multiple of `--every` rounded up.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

from bench import machine_line
from ganplay.classifier import load_classifier
from ganplay.data import load_dataset
from ganplay.evaluate import evaluate, generator_sampler
from ganplay.presets import PRESETS, preset
from ganplay.trainer import Trainer, TrainingDiverged

SEED_PRESETS = [name for name, cfg in PRESETS.items() if cfg.source.endswith(".txt")]


def time_to_recognizable(name: str, seed: int, dataset, holdout, classifier, limit: float, every: float, n: int,
                         log=print, overrides: list[str] = (), every_steps: int | None = None) -> dict:
    """Train until recognizable or `limit` training seconds; return when it got there (None: not within limit).

    With `every_steps`, the checks come every that many steps instead of every `every` seconds, so the step at
    which a run passes does not depend on the machine's speed (at a fixed thread count)."""
    cfg = preset(name).with_overrides(list(overrides)).replace(**{"train.seed": seed})
    trainer = Trainer(cfg, dataset, device="cpu")
    sampler = generator_sampler(trainer.sampler, cfg.model)
    trained, next_check, report, reached = 0.0, every, None, None
    while trained < limit:
        start = time.perf_counter()
        try:
            if every_steps:
                for _ in range(every_steps):
                    trainer.step()
            else:
                while time.perf_counter() - start < next_check - trained:
                    trainer.step()
        except TrainingDiverged as err:
            log(f"  {name} seed {seed}: {err}")
            break
        trained += time.perf_counter() - start
        report = evaluate(sampler, n=n, seed=seed, classifier=classifier, holdout=holdout)
        log(f"  {name:<15} seed {seed} {trained:6.1f} s  step {trainer.step_count:5d}  "
            f"confident {report.confident_fraction:6.1%}  classes {report.classes_present:2d}  "
            f"largest {report.max_class_fraction:6.1%}  FD {report.classifier_fd:8.2f}")
        if report.recognizable:
            reached = trained
            break
        next_check = trained + every
    return {"preset": name, "seed": seed, "seconds": reached, "trained": trained, "steps": trainer.step_count,
            "report": report}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["lecture", *SEED_PRESETS], choices=list(PRESETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--limit", type=float, default=120.0, help="training seconds before giving up")
    parser.add_argument("--every", type=float, default=5.0, help="training seconds between evaluations")
    parser.add_argument("--every-steps", type=int,
                        help="check every this many steps instead (the steps to the bar then repeat on any machine)")
    parser.add_argument("--n", type=int, default=500, help="samples per evaluation")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a config field for every preset, as `ganplay train --set` does")
    parser.add_argument("--quiet", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = load_dataset("mnist", args.data, part="train")
    holdout = load_dataset("mnist", args.data, part="holdout")
    classifier, _ = load_classifier()
    log = (lambda *a: None) if args.quiet else (lambda line: print(line, flush=True))
    cadence = f"{args.every_steps} steps" if args.every_steps else f"{args.every:g} s"
    print(f"{machine_line()}; limit {args.limit:g} s, check every {cadence} with n={args.n}"
          + (f"; --set {' '.join(args.set)}" if args.set else ""))
    rows = [time_to_recognizable(name, seed, dataset, holdout, classifier, args.limit, args.every, args.n, log,
                                 args.set, args.every_steps)
            for name in args.presets for seed in args.seeds]
    print(f"\n{'preset':<16}{'seed':>5}{'to recognizable':>17}{'steps':>7}{'steps/s':>9}{'confident':>11}{'classes':>9}"
          f"{'largest':>9}{'FD':>8}")
    for row in rows:
        r = row["report"]
        when = f"{row['seconds']:.0f} s" if row["seconds"] is not None else f"> {row['trained']:.0f} s"
        tail = (f"{r.confident_fraction:>11.1%}{r.classes_present:>9d}{r.max_class_fraction:>9.1%}"
                f"{r.classifier_fd:>8.2f}" if r else "")
        rate = row["steps"] / row["trained"] if row["trained"] else 0.0
        print(f"{row['preset']:<16}{row['seed']:>5}{when:>17}{row['steps']:>7}{rate:>9.1f}{tail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
