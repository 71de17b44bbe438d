"""Toy lab: modes and time. Seconds of training until a toy preset covers every mode with high-quality samples.

    python -m bench.toy_modes                                   # toy-ring and toy-grid, seeds 0 1 2 (~5 min)
    python -m bench.toy_modes --presets toy-ring --seconds 30   # a longer limit for one preset
    python -m bench.toy_modes --losses                          # also every other loss swapped in (~25-30 min)
    python -m bench.toy_modes --set train.lr_g=5e-4 --seeds 0   # try a change to the recipe

Each run trains one preset with `Trainer.step()` on its toy distribution (PacGAN's ring of 8 Gaussians, σ 0.01,
or grid of 25, σ 0.05) and, every `--every` seconds of training, scores the generator on 2,500 samples from a
fixed noise batch with `ganplay.toy.mode_metrics`, PacGAN's definitions: a sample is *high quality* (HQ) within
3σ of its nearest mode, a mode is *captured* with at least one HQ sample. Only training time counts (the
trainer's own clock, `Trainer.seconds`); evaluation time is excluded. The target is every mode captured and at
least 95 % HQ on the ring, 90 % on the grid; the limits are 15 s and 60 s (`--seconds` overrides both). A run
records the training time at the first check that meets the target (so a multiple of `--every`, rounded up) and
keeps training to the limit; the last columns are the state at the limit.

The clock runs on a machine shared with other work, so each row also gives the steps it took and two speeds:
steps per second of training time (wall clock) and per second of this process's CPU time, which is close to
what a quiet machine achieves with one thread. "quiet ≈" converts the steps to target with the CPU speed.
Even perfect samples score about 98.9 % HQ under the 3σ rule.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import torch

from bench import machine_line
from ganplay.presets import PRESETS, preset
from ganplay.toy import MODE_SAMPLES, TOYS, mode_metrics
from ganplay.trainer import Trainer, TrainingDiverged

# preset -> (training-time limit in seconds, high-quality fraction needed with every mode captured)
TARGETS = {"toy-ring": (15.0, 0.95), "toy-grid": (60.0, 0.90)}
DEFAULT_TARGET = (30.0, 0.90)
LOSSES = ("nonsaturating", "minimax", "least-squares", "wgan-gp", "hinge", "wgan")
MODE_PRESETS = [name for name, cfg in PRESETS.items()
                if cfg.train.dataset in TOYS and TOYS[cfg.train.dataset].modes is not None]
# PacGAN (Lin et al. 2018) Table 1: modes captured / high-quality fraction, their nets and 400 epochs on a GPU.
REFERENCE = {"ring8": [("GAN", 6.3, 0.982), ("PacGAN4", 7.8, 0.959)],
             "grid25": [("GAN", 17.3, 0.948), ("PacGAN4", 24.8, 0.936)]}


def run(name: str, seed: int, limit: float, hq_target: float, every: float, n: int, loss: str | None = None,
        overrides: list[str] = (), log=print) -> dict:
    """Train one preset (optionally with another loss) for `limit` training seconds, checking every `every`."""
    cfg = preset(name).with_overrides(list(overrides))
    cfg = cfg.replace(**{"train.seed": seed, **({"train.loss": loss} if loss else {})})
    toy = TOYS[cfg.train.dataset]
    trainer = Trainer(cfg, toy, device="cpu")
    z = trainer.noise(n, torch.Generator().manual_seed(10_000 + seed))   # the fixed evaluation batch
    reached = steps_then = stats = diverged = None
    cpu, next_check = 0.0, every
    while trainer.seconds < limit and diverged is None:
        c0 = time.process_time()
        try:
            while trainer.seconds < min(next_check, limit):
                trainer.step()
        except TrainingDiverged as err:
            diverged = str(err)
        cpu += time.process_time() - c0
        stats = mode_metrics(trainer.sample(z).numpy(), toy.modes, toy.mode_sigma)
        if reached is None and stats.captured == stats.total and stats.high_quality >= hq_target:
            reached, steps_then = trainer.seconds, trainer.step_count
        next_check = trainer.seconds + every
    if diverged:
        log(f"  {name} {cfg.train.loss} seed {seed}: {diverged.split(':')[0]}")
    row = {"preset": name, "loss": cfg.train.loss, "seed": seed, "seconds": reached, "steps_then": steps_then,
           "trained": trainer.seconds, "steps": trainer.step_count, "stats": stats, "diverged": diverged is not None,
           "sps": trainer.step_count / max(trainer.seconds, 1e-9), "cpu_sps": trainer.step_count / max(cpu, 1e-9)}
    log(f"  {name:<9} {cfg.train.loss:<14} seed {seed}  {_when(row):>12}  modes {stats.captured:2d}/{stats.total}"
        f"  HQ {stats.high_quality:6.1%}  at {trainer.seconds:5.1f} s, {trainer.step_count} steps")
    return row


def _when(row: dict) -> str:
    return f"{row['seconds']:.1f} s" if row["seconds"] is not None else "not reached"


def _median(values):
    return statistics.median(values) if values else float("nan")


def _median_time(rows: list[dict]) -> float:
    """Median time to target with "not reached" counted as infinitely late."""
    return _median([r["seconds"] if r["seconds"] is not None else math.inf for r in rows])


def _fmt_time(seconds: float) -> str:
    return "not reached" if math.isinf(seconds) else f"{seconds:.1f} s"


def print_seed_table(rows: list[dict], hq_target: float, limit: float) -> None:
    name, loss = rows[0]["preset"], rows[0]["loss"]
    total = rows[0]["stats"].total
    print(f"\n{name} ({loss}): target {total}/{total} modes and >= {hq_target:.0%} HQ within {limit:g} s")
    print(f"{'seed':>6}{'to target':>13}{'steps then':>12}{'quiet ≈':>10}{'modes':>8}{'HQ':>8}{'rev KL':>8}"
          f"{'steps':>8}{'steps/s':>9}{'CPU st/s':>10}")
    for r in rows:
        s = r["stats"]
        quiet = f"{r['steps_then'] / r['cpu_sps']:.1f} s" if r["steps_then"] else "-"
        print(f"{r['seed']:>6}{_when(r):>13}{r['steps_then'] or '-':>12}{quiet:>10}{s.captured:>5d}/{s.total:<2d}"
              f"{s.high_quality:>8.1%}{s.reverse_kl:>8.3f}{r['steps']:>8d}{r['sps']:>9.1f}{r['cpu_sps']:>10.1f}"
              + ("  diverged" if r["diverged"] else ""))
    reached = [r for r in rows if r["steps_then"]]
    steps_then = _median([r["steps_then"] for r in rows if r["steps_then"]] + [math.inf] * (len(rows) - len(reached)))
    cpu_sps = _median([r["cpu_sps"] for r in rows])
    quiet = "-" if math.isinf(steps_then) else f"{steps_then / cpu_sps:.1f} s"
    print(f"{'median':>6}{_fmt_time(_median_time(rows)):>13}"
          f"{('-' if math.isinf(steps_then) else f'{steps_then:.0f}'):>12}{quiet:>10}"
          f"{_median([r['stats'].captured for r in rows]):>5g}/{total:<2d}"
          f"{_median([r['stats'].high_quality for r in rows]):>8.1%}"
          f"{_median([r['stats'].reverse_kl for r in rows]):>8.3f}{_median([r['steps'] for r in rows]):>8.0f}"
          f"{_median([r['sps'] for r in rows]):>9.1f}{cpu_sps:>10.1f}   ({len(reached)}/{len(rows)} reached)")


def print_loss_table(groups: dict) -> None:
    print(f"\n{'preset':<10}{'loss':<15}{'modes':>8}{'HQ':>8}{'to target':>13}{'reached':>9}{'steps/s':>9}"
          "   (medians over seeds, state at the time limit)")
    for (name, loss), rows in groups.items():
        total = rows[0]["stats"].total
        print(f"{name:<10}{loss:<15}{_median([r['stats'].captured for r in rows]):>5g}/{total:<2d}"
              f"{_median([r['stats'].high_quality for r in rows]):>8.1%}{_fmt_time(_median_time(rows)):>13}"
              f"{sum(r['seconds'] is not None for r in rows):>7d}/{len(rows)}{_median([r['sps'] for r in rows]):>9.1f}"
              + (f"  ({sum(r['diverged'] for r in rows)} diverged)" if any(r["diverged"] for r in rows) else ""))


def print_reference(presets: list[str]) -> None:
    print("\nPacGAN, Table 1, for scale (their nets, 400 epochs on a GPU; modes / high quality, mean of 10 trials):")
    for name in presets:
        dataset = PRESETS[name].train.dataset
        for label, modes, hq in REFERENCE.get(dataset, []):
            print(f"  {dataset:<8}{label:<9}{modes:>5.1f} / {len(TOYS[dataset].modes)}{hq:>8.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["toy-ring", "toy-grid"], choices=MODE_PRESETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--seconds", type=float, help="training seconds per run (default: 15 ring, 60 grid)")
    parser.add_argument("--every", type=float, default=0.5, help="training seconds between evaluations")
    parser.add_argument("--n", type=int, default=MODE_SAMPLES, help="samples per evaluation")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: faster for these small MLPs)")
    parser.add_argument("--losses", action="store_true",
                        help=f"also run each preset with every other loss ({', '.join(LOSSES)}); about 6x longer")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a config field for every preset, as `ganplay train --set` does")
    parser.add_argument("--quiet", action="store_true", help="print the tables only")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    log = (lambda *a: None) if args.quiet else (lambda line: print(line, flush=True))
    print(f"{machine_line()}; check every {args.every:g} s of training on n={args.n}"
          + (f"; --set {' '.join(args.set)}" if args.set else ""), flush=True)
    start = time.perf_counter()
    groups: dict[tuple[str, str], list[dict]] = {}
    targets, own_loss = {}, {}
    for name in args.presets:
        limit, hq = TARGETS.get(name, DEFAULT_TARGET)
        limit = args.seconds or limit
        targets[name] = (limit, hq)
        own = own_loss[name] = preset(name).with_overrides(list(args.set)).train.loss
        losses = [own] + ([loss for loss in LOSSES if loss != own] if args.losses else [])
        for loss in losses:
            groups[(name, loss)] = [run(name, seed, limit, hq, args.every, args.n, loss, args.set, log)
                                    for seed in args.seeds]
    for name in args.presets:                      # per seed: each preset with its own loss
        print_seed_table(groups[(name, own_loss[name])], targets[name][1], targets[name][0])
    if args.losses:
        print_loss_table(groups)
    print_reference(args.presets)
    print(f"\nbench wall time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
