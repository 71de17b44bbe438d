"""How fast the Theory page answers in a real browser: input -> new numbers and redrawn charts, in Chromium.

    python -m bench.theory_latency                     # 30 slider steps, 20 situation clicks
    python -m bench.theory_latency --slider 60 --buttons 30

`streamlit run` on 127.0.0.1 with Debian's headless Chromium (Playwright, 1280x720; `bench.toy_page`'s
`chromium_and_server()`), on the Theory page:
- slider: focus p_g's mean slider and press an arrow key (one 0.1 step, alternating right and left in runs of
  5 so p_g stays near p_data);
- situation: click "Slightly shifted" and "Far apart" in turn.
The clock starts in the page, in a capture listener on the key press or click (`performance.now()`), and stops on
the first animation frame where (a) every metric tile's text differs from before the input and (b) every chart on
the page shows new content: each chart's signature (a hash of its SVG markup, or of its canvases' pixels) differs
from the one before the input and is not empty, so a chart caught half way through a remount does not count.
It also reports "settled": the first frame after that where Streamlit says the script is no longer running.
Prints median and 90th percentile in ms for each kind of input, the target (300 ms), and the load average before
and after (the machine is shared: rerun on a quiet machine for figures to compare).
"""
from __future__ import annotations

import argparse
import os
import statistics

import bench  # noqa: F401  (OpenMP policy before torch)
from bench.toy_page import chromium_and_server

TARGET_MS = 300.0

# Installed once per page: the signature of every chart and the tiles' text; a capture listener stamps inputs.
SETUP_JS = """
() => {
  const hash = (s) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; };
  window.__charts = () => Array.from(document.querySelectorAll(
      '[data-testid="stPlotlyChart"], [data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]'));
  window.__signature = (el) => {
    let s = '';
    for (const svg of el.querySelectorAll('svg')) s += svg.outerHTML;
    for (const c of el.querySelectorAll('canvas')) { try { s += c.toDataURL(); } catch (e) {} }
    return s.length ? s.length + ':' + hash(s) : '';
  };
  window.__tiles = () => Array.from(document.querySelectorAll('[data-testid="stMetricValue"]')).map(e => e.innerText);
  window.__snapshot = () => { window.__before = {charts: window.__charts().map(window.__signature),
                                                  tiles: window.__tiles()}; window.__t0 = null; };
  const stamp = () => { if (window.__t0 === null) window.__t0 = performance.now(); };
  document.addEventListener('keydown', stamp, true);
  document.addEventListener('mousedown', stamp, true);
}
"""

# Returns false until the new numbers and every chart are on the page, then the ms since the input.
DONE_JS = """
() => {
  if (window.__t0 === null) return false;
  const tiles = window.__tiles(), before = window.__before;
  if (tiles.length !== before.tiles.length || tiles.some((t, i) => t === before.tiles[i])) return false;
  const sigs = window.__charts().map(window.__signature);
  if (sigs.length !== before.charts.length || sigs.some((s, i) => !s || s === before.charts[i])) return false;
  return performance.now() - window.__t0;
}
"""

SETTLED_JS = """
() => document.querySelector('[data-test-script-state="notRunning"]') ? performance.now() - window.__t0 : false
"""


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return f"median {statistics.median(ms):6.0f} ms   p90 {p90:6.0f} ms   (n={len(ms)})"


def settle(page) -> None:
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(400)


def measure(page, act) -> tuple[float, float]:
    """(ms to new numbers and charts, ms to the script being idle) for one input made by act()."""
    page.evaluate("() => window.__snapshot()")
    act()
    done = page.wait_for_function(DONE_JS, polling="raf", timeout=30_000).json_value()
    settled = page.wait_for_function(SETTLED_JS, polling="raf", timeout=30_000).json_value()
    settle(page)
    return float(done), float(settled)


def run(browser, server, n_slider: int, n_buttons: int) -> dict[str, list[tuple[float, float]]]:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{server.url}/theory")
    settle(page)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    page.wait_for_timeout(1500)
    page.evaluate(SETUP_JS)
    out: dict[str, list[tuple[float, float]]] = {"slider": [], "situation": []}
    for i in range(n_buttons + 2):                                   # 2 warm-up clicks
        name = ("Far apart", "Slightly shifted")[i % 2]
        button = page.get_by_role("button", name=name, exact=True)
        result = measure(page, button.click)
        if i >= 2:
            out["situation"].append(result)
    gen_mean = page.locator('[data-testid="stSlider"]').nth(2).locator('input[type="range"]')
    gen_mean.focus()
    for i in range(n_slider + 2):
        key = "ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft"
        result = measure(page, lambda: page.keyboard.press(key))
        if i >= 2:
            out["slider"].append(result)
    context.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slider", type=int, default=30, help="slider steps to time (default 30)")
    parser.add_argument("--buttons", type=int, default=20, help="situation clicks to time (default 20)")
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    with chromium_and_server() as (browser, server):
        results = run(browser, server, args.slider, args.buttons)
    print(f"Theory page in headless Chromium, 1280x720 · load average {load0:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs · target {TARGET_MS:.0f} ms")
    for kind, rows in results.items():
        print(f"{kind:<10} new numbers + charts: {summary([r[0] for r in rows])}")
        print(f"{'':<10} script idle:          {summary([r[1] for r in rows])}")


if __name__ == "__main__":
    main()
