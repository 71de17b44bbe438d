"""What the Training page costs a run, with a real Chromium attached: steps/s of the bare CLI vs the page.

    GANPLAY_DATA=../shared/data/mnist python -m bench.page_overhead                 # lecture, 3 rounds of 20 s
    GANPLAY_DATA=../shared/data/mnist python -m bench.page_overhead --steady 300    # and one 5-minute page run
    GANPLAY_DATA=../shared/data/mnist python -m bench.page_overhead --where         # what each panel costs
    GANPLAY_DATA=../shared/data/mnist python -m bench.page_overhead --digits 0 1 2  # time to digits, page vs bare

Both sides run on this machine in alternating rounds, so machine noise hits both alike:
- bare: `python -m ganplay train --preset P --seconds S` at the CLI's default threads; its rate is the one it
  prints ("trained N steps in X s"), which leaves start-up and saving out; and once more at `--threads 1`, the
  pool a lone live run gets on 2 cores (the registry keeps a core for the browser: GANPLAY_RESERVE_CORES);
- page: `streamlit run` on 127.0.0.1 with Debian's headless Chromium (Playwright) on the Training page at
  1280×720, Start pressed; the rate is read from the page's own Step tile over the round, after 2 s of warm-up.
It also reports how often the browser showed a new step (page refreshes that reached the screen, per second;
target ≥ 2) and the server's and Chromium's CPU use. `--steady S` adds one page run of S seconds and prints its
steps/s per 30-second window, to see whether the page slows as the history it draws grows.
`--where` measures where the time goes: one more page round for each panel left out (a fresh server started with
GANPLAY_TRAINING_PANELS naming the others), so the steps/s each panel costs and the browser's and server's CPU
show side by side. `--gil`: one page round with py-spy sampling which of the server's threads holds the GIL (the
training thread's, the page scripts', the event loop's): the page's Python is time the training thread may wait.
`--digits SEEDS`: for each seed, the seconds until `lecture`'s digits are recognizable, bare
(bench.time_to_digits, checked every 5 s of training, n = 500) and on the page in Chromium (the seed typed into the
sidebar, Start pressed; the page's coverage probe applies the same bar to 200 samples every 200 steps or 5 s and
says "Recognizable digits after N s"): wall seconds from Start to that message, and the training seconds it names.
The issue's target: the page at ≥ 85 % of the bare CLI. Needs `apt-get install chromium` (what .ci/run installs).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import bench  # noqa: F401  (OpenMP policy before torch)
from bench import machine_line
from bench.toy_page import (ARGS, CHROMIUM, ROOT, Server, _chromium_cpu, _cpu_seconds, chromium_and_server,
                            stat_seconds)


def bare(name: str, seconds: float, threads: int | None = None) -> float:
    """Steps/s the CLI reports for a run of `seconds` (at its default threads, or `threads`)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = subprocess.run([sys.executable, "-m", "ganplay", "train", "--preset", name, "--seconds", str(seconds),
                              "--out", f"{scratch}/bench.safetensors",
                              *(["--threads", str(threads)] if threads else [])],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"trained \d+ steps in [\d.]+ s \(([\d.]+) steps/s\)", out)[1])


def thread_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of process `pid` (a thread that ended since is missing: its time is in the
    process's total)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[task.name] = stat_seconds(task / "stat", children=False)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return out


WATCH_STEP = """() => {
  const read = () => {
    const el = document.querySelector('[data-testid="stMetricValue"]');
    return el ? parseInt(el.innerText.split('/')[0].replace(/[^0-9]/g, ''), 10) : NaN;
  };
  const s = window.__ganplaySteps = {last: read(), changes: 0};
  setInterval(() => {
    const v = read();
    if (!Number.isNaN(v) && v !== s.last) { s.last = v; s.changes += 1; }
  }, 100);
}"""


def with_page(browser, server: Server, name: str, seconds: float, window_s: float | None = None,
              on_start: Callable[[], None] | None = None) -> dict:
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
    # The page counts its own refreshes: a timer in the page reads the Step tile every 100 ms, so the bench does
    # not poll Chromium over the DevTools protocol 20 times a second (CPU a lecturer's laptop would not spend).
    page.evaluate(WATCH_STEP)
    if on_start:
        on_start()
    cpu0, threads0 = (_cpu_seconds(server.proc.pid), _chromium_cpu()), thread_seconds(server.proc.pid)
    start = time.perf_counter()
    first = page.evaluate("(s => { s.changes = 0; return s.last; })(window.__ganplaySteps)")
    windows, window_start, window_first = [], start, first
    while (left := seconds - (time.perf_counter() - start)) > 0:
        time.sleep(min(left, window_s or left))          # the page counts; the bench only reads per window
        if window_s and time.perf_counter() - window_start >= 0.99 * window_s:     # whole windows only
            value, now = page.evaluate("window.__ganplaySteps.last"), time.perf_counter()
            windows.append((value - window_first) / (now - window_start))
            window_start, window_first = now, value
    counts = page.evaluate("window.__ganplaySteps")
    last, seen = counts["last"], counts["changes"]
    elapsed = time.perf_counter() - start
    cpu1, threads1 = (_cpu_seconds(server.proc.pid), _chromium_cpu()), thread_seconds(server.proc.pid)
    busy = sorted(((threads1[t] - threads0.get(t, 0.0)) / elapsed for t in threads1), reverse=True)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.get_by_role("button", name="Reset", exact=True).click()
    context.close()
    return {"rate": (last - first) / elapsed, "refreshes": seen / elapsed, "windows": windows,
            "server_cpu": (cpu1[0] - cpu0[0]) / elapsed, "chromium_cpu": (cpu1[1] - cpu0[1]) / elapsed,
            "busiest_threads": busy[:2]}     # the run's torch threads: what the training itself got


PANELS = ("diagnosis", "pictures", "charts", "coverage")
GIL_RATE = 100                  # py-spy samples a second


def gil(name: str, seconds: float) -> None:
    """One page round with py-spy sampling which thread holds the GIL (`py-spy record --gil`): the run's worker
    thread, the page's scripts (Streamlit's script threads: the fragments), or the rest of the server (its event
    loop: websockets, messages). A page's Python shares the GIL with the training thread, so its share is time
    the training thread may wait. The rate of this round is not comparable (py-spy interrupts the server)."""
    if not shutil.which("py-spy"):
        sys.exit("--gil needs py-spy: pip install -r requirements-dev.txt")
    with chromium_and_server() as (browser, server), tempfile.TemporaryDirectory() as scratch:
        out, spy = Path(scratch) / "gil.txt", []
        command = ["py-spy", "record", "-p", str(server.proc.pid), "--gil", "--nonblocking", "-r", str(GIL_RATE),
                   "-d", str(int(seconds)), "-f", "raw", "-o", str(out)]
        r = with_page(browser, server, name, seconds,
                      on_start=lambda: spy.append(subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                                                   stderr=subprocess.DEVNULL)))
        spy[0].wait(timeout=seconds + 60)
        shares = gil_shares(out.read_text(), seconds * GIL_RATE)
    print(f"page round of {seconds:.0f} s with py-spy attached: {r['rate']:.1f} steps/s (not comparable)")
    for who, share in shares.items():
        print(f"GIL held by {who:<32} {share:6.1%} of the time")


def gil_shares(raw: str, samples: float) -> dict[str, float]:
    """py-spy's raw output (a stack and a count per line) -> the share of the time each kind of thread held the
    GIL. A stack py-spy could not follow to its thread's start counts by its innermost frames (torch, or not)."""
    held = {"the run's worker (training)": 0, "the page's scripts (fragments)": 0, "the rest of the server": 0}
    for line in raw.splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        if "RunWorker._work" in stack or ("Thread._bootstrap" not in stack and "torch/" in stack):
            held["the run's worker (training)"] += int(count)
        elif "ScriptRunner._run_script" in stack:
            held["the page's scripts (fragments)"] += int(count)
        else:
            held["the rest of the server"] += int(count)
    return {who: n / samples for who, n in held.items()}


def where(seconds: float) -> None:
    """A bare round, then one page round with every panel, one without each panel, and tiles alone, bare again."""
    from playwright.sync_api import sync_playwright

    print(f"bare CLI            {bare('lecture', seconds):7.1f} steps/s")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)    # one browser, a server per variant
        for left_out in (None, *PANELS, "all"):
            shown = [name for name in PANELS if left_out not in (name, "all")]
            os.environ["GANPLAY_TRAINING_PANELS"] = ",".join(shown) or "none"
            server = Server()
            try:
                r = with_page(browser, server, "lecture", seconds)
            finally:
                server.close()
            _where_row(left_out, r)
        browser.close()
    os.environ.pop("GANPLAY_TRAINING_PANELS")
    print(f"bare CLI            {bare('lecture', seconds):7.1f} steps/s")


def _where_row(left_out, r: dict) -> None:
    label = "every panel" if left_out is None else ("tiles only" if left_out == "all" else f"no {left_out}")
    threads = ", ".join(f"{b:.2f}" for b in r["busiest_threads"])
    print(f"page, {label:<14} {r['rate']:7.1f} steps/s   refreshes {r['refreshes']:.1f}/s   "
          f"CPU server {r['server_cpu']:.2f} (busiest threads {threads}), Chromium {r['chromium_cpu']:.2f}", flush=True)


def page_digits(browser, server: Server, seed: int, limit: float) -> tuple[float | None, float | None, int | None]:
    """(wall seconds from Start to the page's "Recognizable digits after N s (step S)", N, S), or Nones past
    `limit`."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(f"{server.url}/training")
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
        page.get_by_text("Adam betas, seed, precision and run length").click()
        box = page.get_by_label("Seed")
        box.fill(str(seed))
        box.press("Enter")
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
        time.sleep(1.0)
        page.get_by_role("button", name="Start", exact=True).click()
        start = time.perf_counter()
        message = page.get_by_text(re.compile(r"Recognizable digits after \d+ s"))
        try:
            message.first.wait_for(timeout=limit * 1000)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: not within the limit
            return None, None, None
        wall = time.perf_counter() - start
        found = re.search(r"after (\d+) s of training \(step ([\d,]+)\)", message.first.inner_text())
        trained, step = float(found[1]), int(found[2].replace(",", ""))
        page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
        page.get_by_role("button", name="Reset", exact=True).click()
        return wall, trained, step
    finally:
        context.close()


def digits(seeds: list[int], limit: float) -> None:
    from bench.time_to_digits import time_to_recognizable
    from ganplay.classifier import load_classifier
    from ganplay.data import load_dataset

    dataset, holdout = load_dataset("mnist", part="train"), load_dataset("mnist", part="holdout")
    classifier, _ = load_classifier()
    rows = []
    with chromium_and_server() as (browser, server):
        for seed in seeds:
            b = time_to_recognizable("lecture", seed, dataset, holdout, classifier, limit, 5.0, 500, log=lambda *_: None)
            wall, trained, step = page_digits(browser, server, seed, limit * 2)
            rows.append((seed, b["seconds"], wall, trained))
            bare_s = "> limit" if b["seconds"] is None else f"{b['seconds']:.0f}"
            print(f"seed {seed}: bare {bare_s} s (step {b['steps']}); page in Chromium {wall and round(wall)} s "
                  f"from Start ({trained} s of training by the page's clock, step {step})", flush=True)
    done = [r for r in rows if r[2] is not None]
    if done:
        print(f"median of {len(rows)} seeds: bare {statistics.median(r[1] or math.inf for r in rows):.0f} s, "
              f"page {statistics.median(r[2] if r[2] is not None else math.inf for r in rows):.0f} s from Start "
              f"(target <= 60 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="lecture")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steady", type=float, default=0.0, help="one more page run of this many seconds")
    parser.add_argument("--where", action="store_true", help="what each panel costs (one page round per panel)")
    parser.add_argument("--gil", action="store_true", help="one page round: which threads hold the GIL (py-spy)")
    parser.add_argument("--digits", type=int, nargs="*", help="seeds: time to recognizable digits, page vs bare")
    parser.add_argument("--limit", type=float, default=120.0, help="--digits: give up after this many seconds")
    args = parser.parse_args()
    print(machine_line())
    if args.where:
        return where(args.seconds)
    if args.gil:
        return gil(args.preset, args.seconds)
    if args.digits:
        return digits(args.digits, args.limit)
    rows, steady = [], None
    with chromium_and_server() as (browser, server):
        for _ in range(args.rounds):
            b = bare(args.preset, args.seconds)
            one = bare(args.preset, args.seconds, threads=1)      # the threads the page's lone run gets on 2 cores
            rows.append((b, with_page(browser, server, args.preset, args.seconds), one))
        if args.steady:
            steady = with_page(browser, server, args.preset, args.steady, window_s=30.0)
    bare_rate = statistics.median(r[0] for r in rows)
    page_rate = statistics.median(r[1]["rate"] for r in rows)
    ratios = [r[1]["rate"] / r[0] for r in rows]
    print(f"preset {args.preset}, {args.rounds} rounds of {args.seconds:.0f} s each side, 1280x720")
    print(f"bare CLI            {bare_rate:7.1f} steps/s   (rounds: {', '.join(f'{r[0]:.1f}' for r in rows)})")
    print(f"bare CLI, 1 thread  {statistics.median(r[2] for r in rows):7.1f} steps/s   "
          f"(rounds: {', '.join(f'{r[2]:.1f}' for r in rows)})")
    page_rounds = ", ".join(f"{r[1]['rate']:.1f}" for r in rows)
    print(f"page + Chromium     {page_rate:7.1f} steps/s   (rounds: {page_rounds})")
    print(f"page / bare         {statistics.median(ratios):7.1%}   (median of the rounds' ratios; target >= 85 %)")
    print(f"page / bare 1 thread {statistics.median(r[1]['rate'] / r[2] for r in rows):6.1%}   (what the page itself "
          f"costs a run of the same threads)")
    print(f"page refreshes      {statistics.median(r[1]['refreshes'] for r in rows):7.1f} /s   (target >= 2)")
    busiest = [statistics.median(r[1]["busiest_threads"][i] for r in rows) for i in range(2)]
    print(f"CPU, cores          server {statistics.median(r[1]['server_cpu'] for r in rows):.2f} (its busiest "
          f"threads {busiest[0]:.2f}, {busiest[1]:.2f}: the run's torch pool), "
          f"Chromium {statistics.median(r[1]['chromium_cpu'] for r in rows):.2f}")
    if steady:
        print(f"steady {args.steady:.0f} s on the page: {steady['rate']:.1f} steps/s overall; per 30 s: "
              f"{', '.join(f'{w:.1f}' for w in steady['windows'])}")


if __name__ == "__main__":
    main()
