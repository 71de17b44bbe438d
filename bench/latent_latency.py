"""How fast the Latent space page answers a slider: server-side time from a slider change to the new image, and
in a real browser from mouse release to the new image decoded.

    python bench/latent_latency.py [--repeats 40] [--apptest-repeats 10] [--pretrained DIR]
    python -m bench.latent_latency --browser [--moves 40] [--model cdcgan]     # Chromium against streamlit run

--browser: `streamlit run` on 127.0.0.1 and Debian's headless Chromium at 1280x720 (bench.toy_page's
`chromium_and_server()`) on the Latent page (the first bundled model, or `?model=NAME`). Each move drags the
PC1 slider's thumb with the mouse (press, move, release; alternating right and left); the clock starts in the page
at the release (a capture `pointerup` listener, `performance.now()`) and stops on the first animation frame where
the explorer's image has a new source that the browser has decoded (`img.complete`, `naturalWidth > 0`, after
`img.decode()`). Prints median and 90th percentile (target 100 ms), the load average before and after, and the CPU
time per move of the server process and of the benchmark's own Chromium processes (steadier than the waits on a
busy machine).

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
from ganplay_app import latent_models, latent_ui, latent_url

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "latent.py")
TARGET_MS = 50.0
BROWSER_TARGET_MS = 100.0

SETUP_JS = """
() => {
  window.__t0 = null;
  document.addEventListener('pointerup', () => { if (window.__t0 === null) window.__t0 = performance.now(); }, true);
  window.__image = () => document.querySelector('[data-testid="stImage"] img');
  window.__arm = () => {
    window.__t0 = null; window.__src = window.__image().src; window.__decoded = null; window.__seen = null;
  };
}
"""
# false until the explorer's image shows a new, decoded source; then the ms since the mouse release
DONE_JS = """
() => {
  const img = window.__image();
  if (window.__t0 === null || !img || img.src === window.__src) return false;
  if (window.__seen === null) window.__seen = performance.now() - window.__t0;      // the new source is in the DOM
  if (!img.complete || !img.naturalWidth) return false;
  if (window.__decoded === null) {
    window.__decoded = false;
    const stamp = () => { window.__decoded = performance.now(); };
    img.decode().then(stamp, stamp);
  }
  return window.__decoded ? [window.__decoded - window.__t0, window.__seen] : false;
}
"""


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
    pcs = latent.principal_directions(generator, k=latent_models.N_DIRECTIONS, prior=cfg.prior)
    label = 3 if cfg.num_classes else None
    scale = max(1, 336 // cfg.image_size)
    times = []
    for i in range(repeats + 3):                                   # 3 warm-up moves
        sigmas = [0.0] * latent_url.N_SLIDERS
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


def browser_times(moves: int, model: str | None) -> tuple[list[float], list[float], tuple[float, float]]:
    """Seconds from mouse release to the new image decoded, and to its new source in the DOM, per move; and the CPU
    ms per move of the server and of this benchmark's Chromium."""
    from bench.theory_latency import own_chromium_cpu
    from bench.toy_page import _cpu_seconds, chromium_and_server

    times, in_dom = [], []
    with chromium_and_server() as (browser, server):
        page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        page.goto(f"{server.url}/latent" + (f"?model={model}" if model else ""))
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=90_000)
        page.wait_for_selector('[data-testid="stImage"] img', timeout=90_000)
        page.wait_for_timeout(1500)
        page.evaluate(SETUP_JS)
        slider = page.locator('[data-testid="stSlider"]').filter(has_text="PC1").first
        slider.scroll_into_view_if_needed()
        for i in range(moves + 3):                                   # 3 warm-up moves
            if i == 3:
                cpu0 = _cpu_seconds(server.proc.pid), own_chromium_cpu()
            thumb = slider.locator('input[type="range"]').locator("xpath=../..").bounding_box()
            x, y = thumb["x"] + thumb["width"] / 2, thumb["y"] + thumb["height"] / 2
            page.evaluate("() => window.__arm()")
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + (12 if (i // 4) % 2 == 0 else -12), y, steps=3)
            page.mouse.up()
            ms, seen = page.wait_for_function(DONE_JS, polling="raf", timeout=30_000).json_value()
            page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=30_000)
            page.wait_for_timeout(250)
            if i >= 3:
                times.append(float(ms) / 1000)
                in_dom.append(float(seen) / 1000)
        cpu = tuple((b - a) * 1000 / moves for a, b in zip(cpu0, (_cpu_seconds(server.proc.pid), own_chromium_cpu())))
    return times, in_dom, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=40, help="slider moves per model (default 40)")
    parser.add_argument("--apptest-repeats", type=int, default=10, help="AppTest reruns per model (default 10)")
    parser.add_argument("--pretrained", help="folder of checkpoints (default: $GANPLAY_PRETRAINED or pretrained/)")
    parser.add_argument("--browser", action="store_true", help="time mouse release -> new image in Chromium")
    parser.add_argument("--moves", type=int, default=40, help="--browser: slider drags to time (default 40)")
    parser.add_argument("--model", help="--browser: the page's ?model= (default: the page's first model)")
    args = parser.parse_args()
    if args.browser:
        load0 = os.getloadavg()[0]
        decoded, in_dom, cpu = browser_times(args.moves, args.model)
        median, p90 = summary(decoded)
        dom_median, dom_p90 = summary(in_dom)
        print(f"Latent page in headless Chromium, 1280x720, model {args.model or '(first)'} · load average "
              f"{load0:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs")
        print(f"mouse release -> new image decoded: median {median:.0f} ms   p90 {p90:.0f} ms   (n={args.moves}, "
              f"target {BROWSER_TARGET_MS:.0f} ms)")
        print(f"  of which to the new source in the DOM: median {dom_median:.0f} ms   p90 {dom_p90:.0f} ms")
        print(f"CPU per move: server {cpu[0]:.0f} ms, Chromium {cpu[1]:.0f} ms (the benchmark's polling and 250 ms "
              "idle after each move included)")
        return
    page_threads, default_threads = latent_ui.FRAGMENT_THREADS, torch.get_num_threads()
    if args.pretrained:
        os.environ["GANPLAY_PRETRAINED"] = args.pretrained
    with tempfile.TemporaryDirectory() as tmp:
        paths = latent_models.bundled_paths()
        source = str(latent_models.pretrained_dir())
        if not paths:
            untrained_models(Path(tmp))
            os.environ["GANPLAY_PRETRAINED"] = tmp
            paths, source = latent_models.bundled_paths(), "untrained preset models (no bundled generators yet)"
        probabilities = latent_models.classifier_probabilities()
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
