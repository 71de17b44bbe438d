"""Recipe variants against `lecture` as shipped: steps to recognizable digits, steps per second, and the two
together as seconds to digits.

    GANPLAY_DATA=../shared/data/mnist python -m bench.recipes --seeds 0 1 2 \
        --variant small model.generator.hidden=[32,16] model.discriminator.hidden=[16,32] \
        --variant lr-g3-d1.5 train.lr_g=3e-3 train.lr_d=1.5e-3
    GANPLAY_DATA=../shared/data/mnist python -m bench.recipes --rate-only --variant small ...   # steps/s alone

Time to digits = steps to the bar / steps per second, and the two move apart when a recipe changes: a smaller
net steps faster and needs more steps. This bench measures them apart, so each is a figure anyone can repeat:

- **steps to the bar**: `bench.time_to_digits` checking every `--every-steps` steps (default 100) on 1 torch
  thread (the page's lone run trains on 1 thread). On one thread a seed's run repeats step for step, so this
  figure does not depend on how busy the machine is (other jobs may run beside it).
- **steps per second**: each variant's `Trainer.step()` on 1 thread, all in this one process, alternating in
  slices of `--seconds` for `--rounds` rounds (rotating who goes first); the median slice. Only the ratios
  between the rows mean much on a shared machine; run it with the machine quiet.

"seconds" is the median of steps to the bar divided by the steps per second: the training time a lone run on
the page would need on this machine, before the page's own cost.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from bench import machine_line
from bench.time_to_digits import time_to_recognizable
from ganplay.classifier import load_classifier
from ganplay.config import ConfigError
from ganplay.data import load_dataset
from ganplay.presets import preset
from ganplay.trainer import Trainer

BASE = "lecture"


def rates(variants: dict[str, list[str]], dataset, seconds: float, rounds: int, warmup: int = 5) -> dict:
    """Median steps/s of each variant's trainer, alternating in slices within this process."""
    steps = {}
    for name, overrides in variants.items():
        trainer = Trainer(preset(BASE).with_overrides(overrides), dataset, device="cpu")
        for _ in range(warmup):
            trainer.step()
        steps[name] = trainer.step
    seen: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start, n = time.perf_counter(), 0
            while time.perf_counter() - start < seconds:
                steps[name]()
                n += 1
            seen[name].append(n / (time.perf_counter() - start))
    return {name: statistics.median(v) for name, v in seen.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", nargs="+", action="append", default=[], metavar=("NAME", "FIELD=VALUE"),
                        help="a name, then the config fields it changes (as `ganplay train --set`)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--every-steps", type=int, default=100)
    parser.add_argument("--limit", type=float, default=300.0, help="training seconds before giving up on a seed")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one rate slice")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rate-only", action="store_true", help="steps per second only")
    parser.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA)")
    args = parser.parse_args(argv)
    variants = {f"{BASE} (as shipped)": []}
    for name, *overrides in args.variant:
        if not overrides:
            parser.error(f"--variant {name}: give the fields it changes, e.g. train.lr_g=3e-3")
        try:
            preset(BASE).with_overrides(overrides)        # a bad field fails here, before any training
        except ConfigError as err:
            parser.error(f"--variant {name}: {err}")
        variants[name] = overrides
    torch.set_num_threads(1)
    dataset = load_dataset("mnist", args.data, part="train")
    print(f"{machine_line()}; {dataset.describe()}", flush=True)
    rate = rates(variants, dataset, args.seconds, args.rounds)
    steps: dict[str, list[int | None]] = {}
    if not args.rate_only:
        holdout = load_dataset("mnist", args.data, part="holdout")
        classifier, _ = load_classifier()
        for name, overrides in variants.items():
            steps[name] = []
            for seed in args.seeds:
                row = time_to_recognizable(BASE, seed, dataset, holdout, classifier, args.limit, 0.0, 500,
                                           log=lambda *_: None, overrides=overrides, every_steps=args.every_steps)
                steps[name].append(row["steps"] if row["seconds"] is not None else None)
                verdict = f"passed at step {row['steps']}" if steps[name][-1] else "not within the limit"
                print(f"  {name}: seed {seed} {verdict}", flush=True)
    width = max(len(n) for n in variants) + 2
    print(f"\n{'recipe':<{width}}{'steps/s':>8}" + ("" if args.rate_only else
          f"  {'steps to the bar, seeds ' + ' '.join(map(str, args.seeds)):<34}{'median':>7}{'seconds':>9}"))
    for name, overrides in variants.items():
        line = f"{name:<{width}}{rate[name]:>8.1f}"
        if not args.rate_only:
            got = steps[name]
            shown = " ".join("-" if s is None else str(s) for s in got)
            median = statistics.median(s if s is not None else float("inf") for s in got)
            line += f"  {shown:<34}{median:>7.0f}{median / rate[name]:>8.0f} s"
        print(line)
    for name, overrides in variants.items():
        if overrides:
            print(f"  {name}: --set {' --set '.join(overrides)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
