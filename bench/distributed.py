"""One process with 2 threads against 2 torchrun ranks with 1 thread each, on the same preset and total batch.

    GANPLAY_DATA=../shared/data/mnist python -m bench.distributed                        # lecture, 20 s each
    GANPLAY_DATA=../shared/data/mnist python -m bench.distributed --preset dcgan --seconds 10 --rounds 3

Both sides are the real command line: `python -m ganplay train --threads 2 --set train.batch_size=B` and
`torchrun --nproc_per_node 2 -m ganplay train --threads 1 --set train.batch_size=B/2` (gloo on 127.0.0.1), so
each update sees B real images either way. They alternate `--rounds` times for `--seconds` each; the figures
are each side's median over its rounds and the median of the per-round ratios, from the "trained N steps in
T s" line (the training loop alone: start-up, data loading and saving are left out). On a shared machine the
rounds can differ a lot: read the per-round lines too. Images/s counts the real images D sees: steps/s x B x D
steps.
"""
from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import machine_line
from ganplay.presets import preset

TRAINED = re.compile(r"trained (\d+) steps in ([\d.]+) s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(command: list[str], seconds: float) -> float:
    """Steps per second of one `ganplay train` run (its own training-loop clock)."""
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds * 3 + 180)
    found = TRAINED.search(result.stdout)
    if result.returncode != 0 or not found:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout}\n{result.stderr[-3000:]}")
    return int(found[1]) / float(found[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="lecture")
    parser.add_argument("--batch", type=int, help="total batch per update (default: the preset's)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    cfg = preset(args.preset)
    batch = args.batch or cfg.train.batch_size
    if batch % 2:
        sys.exit("--batch must be even: each rank takes half")
    print(machine_line())
    rates: dict[str, list[float]] = {"one": [], "two": []}
    with tempfile.TemporaryDirectory(prefix="bench-distributed-") as scratch:
        common = ["-m", "ganplay", "train", "--preset", args.preset, "--seconds", str(args.seconds)]
        one = [sys.executable, *common, "--threads", "2", "--set", f"train.batch_size={batch}",
               "--out", str(Path(scratch) / "one.safetensors")]
        for round_ in range(args.rounds):
            rates["one"].append(run(one, args.seconds))
            two = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master-addr",
                   "127.0.0.1", "--master-port", str(free_port()), *common, "--threads", "1",
                   "--set", f"train.batch_size={batch // 2}", "--out", str(Path(scratch) / "two.safetensors")]
            rates["two"].append(run(two, args.seconds))
            print(f"round {round_ + 1}: 1 x 2 threads {rates['one'][-1]:.2f} steps/s, 2 ranks x 1 thread "
                  f"{rates['two'][-1]:.2f} steps/s, ratio {rates['two'][-1] / rates['one'][-1]:.2f}x", flush=True)
    real = batch * cfg.train.d_steps
    one_rate, two_rate = statistics.median(rates["one"]), statistics.median(rates["two"])
    print(f"\n{args.preset}, total batch {batch}, {args.seconds:g} s x {args.rounds} round(s) each")
    print(f"{'':<28}{'steps/s':>10}{'images/s':>11}")
    print(f"{'1 process x 2 threads':<28}{one_rate:>10.2f}{one_rate * real:>11.0f}")
    print(f"{'2 ranks x 1 thread (gloo)':<28}{two_rate:>10.2f}{two_rate * real:>11.0f}")
    ratio = statistics.median(two / one for one, two in zip(rates["one"], rates["two"]))
    print(f"{'ratio (2 ranks / 1 process)':<28}{ratio:>10.2f}x   (median of the per-round ratios)")
    print(machine_line())


if __name__ == "__main__":
    main()
