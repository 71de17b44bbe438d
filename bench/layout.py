"""What D's layout-keeping flatten saves a training step: ganplay's `models.conv.Flatten` against autograd's own
`nn.Flatten`, side by side in one process.

    GANPLAY_DATA=../shared/data/mnist python -m bench.layout [--presets lecture cdcgan] [--steps 40] [--rounds 6]

Two trainers of each preset with the same seed, one with D's flatten swapped back to `nn.Flatten`, step in
alternating blocks of `--steps`; each step's CPU time (`time.thread_time`, steadier than the wall clock on a
shared machine) is recorded and the medians compared. Then it checks that both trainers went through the very
same losses and weights (the layout changes where values sit in memory, not the values).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import bench  # noqa: F401  (OpenMP policy before torch)
from bench import machine_line

import torch
from torch import nn

from ganplay.data.dataset import load_dataset
from ganplay.models.conv import Flatten
from ganplay.presets import PRESETS, preset
from ganplay.trainer import Trainer


def with_autograds_flatten(trainer: Trainer) -> Trainer:
    net = trainer.discriminator.net
    for i, module in enumerate(net):
        if isinstance(module, Flatten):
            net[i] = nn.Flatten()
    return trainer


def compare(name: str, data, steps: int, rounds: int) -> tuple[float, float, bool]:
    """(ganplay's median CPU ms per step, autograd's flatten's, the same losses and weights)."""
    ours, plain = Trainer(preset(name), data, "cpu"), with_autograds_flatten(Trainer(preset(name), data, "cpu"))
    times: dict[int, list[float]] = {0: [], 1: []}
    losses: dict[int, list[dict]] = {0: [], 1: []}
    for _ in range(rounds):
        for side, trainer in enumerate((ours, plain)):
            for _ in range(steps):
                start = time.thread_time()
                metrics = trainer.step().to_dict()
                times[side].append(1000 * (time.thread_time() - start))
                losses[side].append({k: v for k, v in metrics.items() if k != "seconds"})
    same = losses[0] == losses[1] and all(
        torch.equal(a, b) for a, b in zip(ours.generator.state_dict().values(), plain.generator.state_dict().values()))
    return statistics.median(times[0]), statistics.median(times[1]), same


def main() -> None:
    # the presets whose D flattens a channels-last map into fc layers (wgan and wgan-gp too, at ~1 s a step)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["lecture", "cdcgan", "hinge"], choices=sorted(PRESETS))
    parser.add_argument("--steps", type=int, default=40, help="steps per block")
    parser.add_argument("--rounds", type=int, default=6, help="blocks per trainer")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_dataset("mnist", args.data or os.environ.get("GANPLAY_DATA"))
    print(machine_line())
    print(f"{'preset':<14} {'ganplay ms/step':>16} {'nn.Flatten ms/step':>19} {'speed-up':>9}  same run")
    for name in args.presets:
        ours, plain, same = compare(name, data, args.steps, args.rounds)
        print(f"{name:<14} {ours:>16.1f} {plain:>19.1f} {plain / ours:>8.3f}x  {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
