"""How fast the Latent space page answers a slider: server-side time from a slider change to the new image.

    python bench/latent_latency.py [--repeats 40] [--apptest-repeats 10] [--pretrained DIR]

Run from the repository root (AppTest reads ./.streamlit/config.toml). For every generator in the pretrained
folder ($GANPLAY_PRETRAINED or pretrained/), or, while that has none, an untrained model of each preset
architecture built in a temporary folder, it measures:
- fragment: the work the page's explorer fragment does per slider move, timed directly: the edited code, the
  generator's forward pass, nearest-neighbour upscaling, PNG encoding and (if installed) the classifier's verdict.
  This is what a slider costs in the browser, where only that fragment reruns. The target is 50 ms. It is timed
  with the page's torch thread count (latent_ui.FRAGMENT_THREADS) and, for comparison, with torch's default.
- AppTest: set a principal-direction slider and time `at.run()`. AppTest runs fragments only inside full reruns,
  so this also redraws the interpolation strip and the plane: an upper bound, not the slider's cost.
Prints median and 90th percentile in ms, and the fragment's median as a share of the 50 ms target.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from ganplay import latent
from ganplay.checkpoint import load_checkpoint, save_checkpoint
from ganplay.images import make_grid, png_bytes, upscale
from ganplay.models import build_models
from ganplay.presets import PRESETS
from ganplay_app import latent_ui

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "latent.py")
TARGET_MS = 50.0


def untrained_models(folder: Path) -> None:
    """One untrained checkpoint per distinct preset model (wgan and hinge share wgan-gp's)."""
    seen = set()
    for name, cfg in PRESETS.items():
        if repr(cfg.model) in seen:
            continue
        seen.add(repr(cfg.model))
        generator, _ = build_models(cfg.model, seed=0)
        save_checkpoint(folder / f"{name}.safetensors", config=cfg, generator=generator, record={"steps": 0})


def summary(times_s: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1000 for t in times_s)
    return statistics.median(ms), ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]


def fragment_times(path: Path, repeats: int, probabilities, threads: int) -> list[float]:
    ckpt = load_checkpoint(path)
    cfg, generator = ckpt.config.model, ckpt.generator.eval()
    pcs = latent.principal_directions(generator, k=latent_ui.N_DIRECTIONS, prior=cfg.prior)
    label = 3 if cfg.num_classes else None
    scale = max(1, 336 // cfg.image_size)
    times = []
    for i in range(repeats + 3):                                   # 3 warm-up moves
        sigmas = [0.0] * latent_ui.N_SLIDERS
        sigmas[0] = -3.0 + 6.0 * i / (repeats + 2)                   # a new slider value each time
        with latent.torch_threads(threads):
            start = time.perf_counter()
            z = latent.explorer_code(cfg, pcs, 0, sigmas, [0, 1], [0.0, 0.5])
            image = latent.generate(generator, z, label)
            png_bytes(upscale(make_grid(image, padding=0), scale))
            if probabilities is not None:
                latent.prediction_labels(probabilities(image))
            times.append(time.perf_counter() - start)
    return times[3:]


def apptest_times(path: Path, repeats: int) -> list[float]:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.run()
    at.selectbox(key="lt_model").set_value(str(path)).run()
    assert not at.exception, at.exception
    times = []
    for i in range(repeats + 1):
        slider = at.slider(key="lt_pc1").set_value(round(-3.0 + 6.0 * i / repeats, 1))
        start = time.perf_counter()
        slider.run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    return times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=40, help="slider moves per model (default 40)")
    parser.add_argument("--apptest-repeats", type=int, default=10, help="AppTest reruns per model (default 10)")
    parser.add_argument("--pretrained", help="folder of checkpoints (default: $GANPLAY_PRETRAINED or pretrained/)")
    args = parser.parse_args()
    page_threads, default_threads = latent_ui.FRAGMENT_THREADS, torch.get_num_threads()
    if args.pretrained:
        os.environ["GANPLAY_PRETRAINED"] = args.pretrained
    with tempfile.TemporaryDirectory() as tmp:
        paths = latent_ui.bundled_paths()
        source = str(latent_ui.pretrained_dir())
        if not paths:
            untrained_models(Path(tmp))
            os.environ["GANPLAY_PRETRAINED"] = tmp
            paths, source = latent_ui.bundled_paths(), "untrained preset models (no bundled generators yet)"
        probabilities = latent_ui.classifier_probabilities()
        print(f"models: {source} · classifier: {'yes' if probabilities else 'not installed'} · "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs · target {TARGET_MS:.0f} ms\n")
        print(f"{'':<18}{f'fragment, {page_threads} thread (page)':>30}{f'fragment, {default_threads} threads':>24}"
              f"{'AppTest, whole page':>22}")
        print(f"{'model':<18}{'median':>10}{'p90':>10}{'÷ target':>10}{'median':>12}{'p90':>12}{'median':>11}"
              f"{'p90':>11}")
        for path in paths:
            page = summary(fragment_times(path, args.repeats, probabilities, page_threads))
            default = summary(fragment_times(path, args.repeats, probabilities, default_threads))
            whole = summary(apptest_times(path, args.apptest_repeats))
            print(f"{path.stem:<18}{page[0]:>7.1f} ms{page[1]:>7.1f} ms{page[0] / TARGET_MS:>9.2f}×"
                  f"{default[0]:>9.1f} ms{default[1]:>9.1f} ms{whole[0]:>8.0f} ms{whole[1]:>8.0f} ms")

if __name__ == "__main__":
    main()
