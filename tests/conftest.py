"""Shared fixtures: the real MNIST t10k files, found through $GANPLAY_DATA.

CI sets GANPLAY_DATA=../shared/data/mnist (relative to the repository root). Tests that need the data fail,
never skip, when it is missing: a green run must mean the data-driven tests really ran.
"""
import contextlib
import os
from pathlib import Path

import pytest
import torch

import ganplay.data

REPO_ROOT = Path(__file__).resolve().parent.parent
MNIST_T10K_FILES = ganplay.data.DATASETS["mnist"].splits["t10k"]


class ManualClock:
    """The run's clock, moved only by the test: the watchdog and the redraw cadence follow it, never the
    machine's speed."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session", autouse=True)
def _two_cpu_threads():
    """Same thread count everywhere: CI has 2 cores and bit-exact comparisons depend on the reduction order."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder holding the MNIST t10k IDX files, named by $GANPLAY_DATA."""
    value = os.environ.get("GANPLAY_DATA")
    if not value:
        pytest.fail("GANPLAY_DATA is not set: point it at the folder holding the MNIST t10k files, "
                    "e.g. GANPLAY_DATA=../shared/data/mnist (relative to the repository root).")
    folder = Path(value).expanduser()
    if not folder.is_absolute() and not folder.is_dir():
        folder = REPO_ROOT / folder         # CI gives it relative to the repository root
    folder = folder.absolute()
    missing = [name for name in MNIST_T10K_FILES if not (folder / name).is_file()]
    if missing:
        pytest.fail(f"GANPLAY_DATA={value} (resolved to {folder}) lacks {', '.join(missing)}: point it at the "
                    f"folder holding the MNIST t10k files.")
    return folder


@pytest.fixture(scope="session")
def mnist(mnist_dir) -> ganplay.data.ImageDataset:
    """MNIST, training part (the t10k images minus the fixed evaluation holdout)."""
    return ganplay.data.load_dataset("mnist", mnist_dir)


@contextlib.contextmanager
def global_rng_hammered():
    """While the block runs, another thread keeps seeding and drawing from torch's global RNG (what a second
    server thread might do): code that owns its generators must give the same results regardless."""
    import threading

    stop = threading.Event()

    def hammer():
        i = 0
        while not stop.is_set():
            torch.manual_seed(i)
            torch.randn(64)
            i += 1

    thread = threading.Thread(target=hammer)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
