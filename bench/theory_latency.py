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
the page shows new content: each chart's signature (a hash of its SVG paths, rules and labels, or a sample of its
canvases' pixels) differs from the one before the input and is not empty, so a chart caught half way through a
remount does not count.
It also reports "settled": the first frame after that where Streamlit says the script is no longer running.
Prints median and 90th percentile in ms for each kind of input, the target (300 ms), and the load average before
and after (the machine is shared: rerun on a quiet machine for figures to compare). On a busy machine the waits
say more about the load than about the page, so it also prints the CPU time each input cost: the server process
and this benchmark's own Chromium processes (not other users'), summed over a kind of input and divided by the
inputs; that work is the same on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import statistics

from pathlib import Path

import bench  # noqa: F401  (OpenMP policy before torch)
from bench.toy_page import _cpu_seconds, chromium_and_server

TARGET_MS = 300.0

# Installed once per page: the signature of every chart and the tiles' text; a capture listener stamps inputs.
SETUP_JS = """
() => {
  const hash = (s) => { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0; return h; };
  window.__charts = () => Array.from(document.querySelectorAll(
      '[data-testid="stPlotlyChart"], [data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"]'));
  // Cheap enough to run every frame: each path's length and ends, each rule's ends, each label's text (not the
  // whole SVG's markup, whose serialising would compete with the page for the CPU it measures).
  window.__signature = (el) => {
    const parts = [];
    for (const p of el.querySelectorAll('path')) {
      const d = p.getAttribute('d') || '';
      parts.push(d.length + d.slice(0, 40) + d.slice(-40));
    }
    for (const l of el.querySelectorAll('line')) {
      parts.push(['x1', 'x2', 'y1', 'y2', 'transform'].map(a => l.getAttribute(a)).join());
    }
    for (const t of el.querySelectorAll('text')) parts.push(t.textContent + (t.getAttribute('transform') || ''));
    for (const c of el.querySelectorAll('canvas')) {        // every 61st byte of its pixels (not a PNG encoding)
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let h = 0; for (let i = 0; i < px.length; i += 61) h = (h * 31 + px[i]) | 0;
      parts.push(c.width + 'x' + c.height + ':' + h);
    }
    const s = parts.join('|');
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


def own_chromium_cpu() -> float:
    """CPU seconds of the Chromium processes descending from this process (Playwright's browser, not others')."""
    parent, names = {}, {}
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit():
                stat = (proc / "stat").read_text()
                parent[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
                names[int(proc.name)] = (proc / "comm").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError, ValueError):
            pass
    total, me = 0.0, os.getpid()
    for pid in parent:
        ancestor, hops = parent.get(pid), 0
        while ancestor and ancestor != me and hops < 20:
            ancestor, hops = parent.get(ancestor), hops + 1
        if ancestor == me and "chrom" in names.get(pid, ""):
            try:
                total += _cpu_seconds(pid)
            except (FileNotFoundError, ProcessLookupError):
                pass
    return total


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


def run(browser, server, n_slider: int, n_buttons: int) -> tuple[dict[str, list[tuple[float, float]]],
                                                                  dict[str, tuple[float, float]]]:
    """The timings per kind of input, and (server, Chromium) CPU ms per input of each kind."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{server.url}/theory")
    settle(page)
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    page.wait_for_timeout(1500)
    page.evaluate(SETUP_JS)
    out: dict[str, list[tuple[float, float]]] = {"slider": [], "situation": []}
    cpu: dict[str, tuple[float, float]] = {}

    def cpu_now() -> tuple[float, float]:
        return _cpu_seconds(server.proc.pid), own_chromium_cpu()

    for i in range(n_buttons + 2):                                   # 2 warm-up clicks
        if i == 2:
            start = cpu_now()
        name = ("Far apart", "Slightly shifted")[i % 2]
        button = page.get_by_role("button", name=name, exact=True)
        result = measure(page, button.click)
        if i >= 2:
            out["situation"].append(result)
    cpu["situation"] = tuple((b - a) * 1000 / n_buttons for a, b in zip(start, cpu_now()))
    gen_mean = page.locator('[data-testid="stSlider"]').nth(2).locator('input[type="range"]')
    gen_mean.focus()
    for i in range(n_slider + 2):
        if i == 2:
            start = cpu_now()
        key = "ArrowRight" if (i // 5) % 2 == 0 else "ArrowLeft"
        result = measure(page, lambda: page.keyboard.press(key))
        if i >= 2:
            out["slider"].append(result)
    cpu["slider"] = tuple((b - a) * 1000 / n_slider for a, b in zip(start, cpu_now()))
    context.close()
    return out, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slider", type=int, default=30, help="slider steps to time (default 30)")
    parser.add_argument("--buttons", type=int, default=20, help="situation clicks to time (default 20)")
    args = parser.parse_args()
    load0 = os.getloadavg()[0]
    with chromium_and_server() as (browser, server):
        results, cpu = run(browser, server, args.slider, args.buttons)
    print(f"Theory page in headless Chromium, 1280x720 · load average {load0:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs · target {TARGET_MS:.0f} ms")
    for kind, rows in results.items():
        print(f"{kind:<10} new numbers + charts: {summary([r[0] for r in rows])}")
        print(f"{'':<10} script idle:          {summary([r[1] for r in rows])}")
        print(f"{'':<10} CPU per input:        server {cpu[kind][0]:5.0f} ms   Chromium {cpu[kind][1]:5.0f} ms "
              f"(includes the benchmark's polling, 400 ms idle after each input)")


if __name__ == "__main__":
    main()
