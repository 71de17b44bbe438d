"""What drawing a live run's pictures off its training thread gives the run: steps/s of a lone live `lecture` run
held on one CPU (as the registry holds it on a 2-core laptop), its grid and digit probes painted aside
(`ganplay.live.painter`) or by the worker between steps, in alternating pairs, no browser.

    GANPLAY_DATA=../shared/data/mnist python -m bench.paint_aside [--pairs 8] [--seconds 15]

Each run trains `--seconds` after 3 s of warm-up (its first redraw and the first optimiser steps), with the
page's cadence: a grid each second, a digit probe each 5 s of training or 200 steps. Prints each pair and the
median of the pairs' ratios (side by side on the same machine, so its swings hit both alike).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import bench  # noqa: F401  (OpenMP policy before torch)
from bench import machine_line

from ganplay.data.dataset import load_dataset
from ganplay.live.run import TrainingRun
from ganplay.presets import preset


def rate(config, data, paint_aside: bool, seconds: float, cpus) -> tuple[float, int]:
    """(steps/s over `seconds` after the warm-up, digit probes made)."""
    run = TrainingRun(config, data, threads=1, cpus=lambda r: cpus, paint_aside=paint_aside)
    try:
        run.start()
        time.sleep(3.0)
        first, start = run.trainer.step_count, time.perf_counter()
        time.sleep(seconds)
        done, elapsed = run.trainer.step_count - first, time.perf_counter() - start
        probes = len((run.snapshot().coverage or {}).get("step", []))
    finally:
        run.stop(wait_s=10)
        run.free()
    return done / elapsed, probes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="lecture")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA)")
    args = parser.parse_args()
    data = load_dataset("mnist", args.data or os.environ.get("GANPLAY_DATA"))
    config = preset(args.preset)
    cpus = frozenset({max(os.sched_getaffinity(0))}) if hasattr(os, "sched_getaffinity") else None
    print(machine_line())
    print(f"{args.preset}, 1 thread held on CPU {sorted(cpus) if cpus else 'any'}, {args.seconds:g} s per run")
    aside, inline, ratios = [], [], []
    for i in range(args.pairs):
        a, a_probes = rate(config, data, True, args.seconds, cpus)
        b, b_probes = rate(config, data, False, args.seconds, cpus)
        aside.append(a), inline.append(b), ratios.append(a / b)
        print(f"pair {i + 1}: painted aside {a:5.1f} steps/s ({a_probes} probes)   by the worker {b:5.1f} "
              f"({b_probes} probes)   {a / b:.3f}x", flush=True)
    print(f"median: painted aside {statistics.median(aside):.1f} steps/s, by the worker "
          f"{statistics.median(inline):.1f}; ratio of the pairs {statistics.median(ratios):.3f}x")


if __name__ == "__main__":
    main()
