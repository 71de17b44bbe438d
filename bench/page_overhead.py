"""What the Training page costs a run, with a real Chromium attached: steps/s of the bare CLI vs the page.

    GANPLAY_DATA=../shared/data/mnist python -m bench.page_overhead                 # lecture, 3 rounds of 20 s
    GANPLAY_DATA=../shared/data/mnist python -m bench.page_overhead --steady 300    # and one 5-minute page run

Both sides run on this machine in alternating rounds, so machine noise hits both alike:
- bare: `python -m ganplay train --preset P --seconds S` at the CLI's default threads; its rate is the one it
  prints ("trained N steps in X s"), which leaves start-up and saving out;
- page: `streamlit run` on 127.0.0.1 with Debian's headless Chromium (Playwright) on the Training page at
  1280×720, Start pressed; the rate is read from the page's own Step tile over the round, after 2 s of warm-up.
It also reports how often the browser showed a new step (page refreshes that reached the screen, per second;
target ≥ 2) and the server's and Chromium's CPU use. `--steady S` adds one page run of S seconds and prints its
steps/s per 30-second window, to see whether the page slows as the history it draws grows.
The issue's target: the page at ≥ 85 % of the bare CLI. Needs `apt-get install chromium` (what .ci/run installs).
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time

import bench  # noqa: F401  (OpenMP policy before torch)
from bench import machine_line
from bench.toy_page import ROOT, Server, _chromium_cpu, _cpu_seconds, chromium_and_server


def bare(name: str, seconds: float) -> float:
    """Steps/s the CLI reports for a run of `seconds`."""
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run([sys.executable, "-m", "ganplay", "train", "--preset", name, "--seconds", str(seconds),
                              "--out", f"{scratch}/bench.safetensors"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    return float(re.search(r"trained \d+ steps in [\d.]+ s \(([\d.]+) steps/s\)", out)[1])


def step_shown(page) -> int:
    """The step the page's Step tile shows now ("1,234" or "1,234 / 5,000")."""
    text = page.locator('[data-testid="stMetricValue"]').first.inner_text()
    return int(text.split("/")[0].strip().replace(",", ""))


def with_page(browser, server: Server, name: str, seconds: float, window_s: float | None = None) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{server.url}/training")
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    if name != "lecture":
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').nth(1).click()
        page.get_by_role("option").filter(has_text=name).first.click()
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
    time.sleep(2.0)                                                   # past start-up
    cpu0 = _cpu_seconds(server.proc.pid), _chromium_cpu()
    start, first = time.perf_counter(), step_shown(page)
    seen, last, windows, window_start, window_first = 0, first, [], start, first
    while (now := time.perf_counter()) - start < seconds:
        value = step_shown(page)
        if value != last:
            seen, last = seen + 1, value
        if window_s and now - window_start >= window_s:
            windows.append((value - window_first) / (now - window_start))
            window_start, window_first = now, value
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    cpu1 = _cpu_seconds(server.proc.pid), _chromium_cpu()
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.get_by_role("button", name="Reset", exact=True).click()
    context.close()
    return {"rate": (last - first) / elapsed, "refreshes": seen / elapsed, "windows": windows,
            "server_cpu": (cpu1[0] - cpu0[0]) / elapsed, "chromium_cpu": (cpu1[1] - cpu0[1]) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="lecture")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steady", type=float, default=0.0, help="one more page run of this many seconds")
    args = parser.parse_args()
    print(machine_line())
    rows, steady = [], None
    with chromium_and_server() as (browser, server):
        for _ in range(args.rounds):
            b = bare(args.preset, args.seconds)
            rows.append((b, with_page(browser, server, args.preset, args.seconds)))
        if args.steady:
            steady = with_page(browser, server, args.preset, args.steady, window_s=30.0)
    bare_rate = statistics.median(r[0] for r in rows)
    page_rate = statistics.median(r[1]["rate"] for r in rows)
    ratios = [r[1]["rate"] / r[0] for r in rows]
    print(f"preset {args.preset}, {args.rounds} rounds of {args.seconds:.0f} s each side, 1280x720")
    print(f"bare CLI            {bare_rate:7.1f} steps/s   (rounds: {', '.join(f'{r[0]:.1f}' for r in rows)})")
    page_rounds = ", ".join(f"{r[1]['rate']:.1f}" for r in rows)
    print(f"page + Chromium     {page_rate:7.1f} steps/s   (rounds: {page_rounds})")
    print(f"page / bare         {statistics.median(ratios):7.1%}   (median of the rounds' ratios; target >= 85 %)")
    print(f"page refreshes      {statistics.median(r[1]['refreshes'] for r in rows):7.1f} /s   (target >= 2)")
    print(f"CPU, cores          server {statistics.median(r[1]['server_cpu'] for r in rows):.2f}, "
          f"Chromium {statistics.median(r[1]['chromium_cpu'] for r in rows):.2f}")
    if steady:
        print(f"steady {args.steady:.0f} s on the page: {steady['rate']:.1f} steps/s overall; per 30 s: "
              f"{', '.join(f'{w:.1f}' for w in steady['windows'])}")


if __name__ == "__main__":
    main()
