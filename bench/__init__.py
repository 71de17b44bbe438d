"""Benchmarks: run each as a module from the repository root, `python -m bench.throughput` and so on.

Importing the package sets OpenMP's wait policy before any benchmark imports torch (it must be set before
torch starts its thread pool). Idle OpenMP threads sleep (PASSIVE): on a 2-core machine shared with other work,
spinning threads make every 2-thread op wait for a time slice (a 1 ms matmul takes 20 ms), and every loop a
benchmark compares gets the same setting. Set OMP_WAIT_POLICY yourself to measure otherwise; an empty value
(`OMP_WAIT_POLICY= python -m bench.throughput`) means OpenMP's own default, since libgomp rejects "".
"""
import os

if os.environ.get("OMP_WAIT_POLICY") == "":
    del os.environ["OMP_WAIT_POLICY"]
else:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def machine_line() -> str:
    """torch version, threads, wait policy and load: the context every benchmark prints first."""
    import torch

    policy = os.environ.get("OMP_WAIT_POLICY", "unset (default)")
    return (f"torch {torch.__version__}, {torch.get_num_threads()} threads, OMP_WAIT_POLICY={policy}, "
            f"load average {os.getloadavg()[0]:.1f}")
