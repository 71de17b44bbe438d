"""What the Toy lab page costs a toy run, with a real Chromium attached: iterations/s bare vs on the page.

    python -m bench.toy_page                                  # toy-ring, 3 rounds of 15 s each side
    python -m bench.toy_page --preset toy-grid --seconds 20 --rounds 2

Both sides run on this machine in alternating rounds, so machine noise hits both alike:
- bare: `Trainer.step()` in a loop on a thread with 1 torch thread (what a live toy run uses), no drawing;
- page: `streamlit run` on 127.0.0.1 with Debian's headless Chromium (Playwright) on the Toy lab at 1280×720,
  Play pressed; the rate is read from the page's own "Iteration" tile over the round (the worker renders the
  game's view every 0.15 s and the fragment redraws the Vega-Lite charts 5 times a second).
It also reports how often the browser showed a new plane (the iteration caption drawn with it changed: redraws
per second; target ≥ 5) and
Chromium's and the server's CPU use. Needs `apt-get install chromium` (what .ci/run installs).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import bench  # noqa: F401  (OpenMP policy before torch)
from bench import machine_line

import torch

from ganplay.presets import preset
from ganplay.toy import TOYS
from ganplay.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def bare(name: str, seconds: float) -> float:
    cfg = preset(name)
    trainer = Trainer(cfg, TOYS[cfg.train.dataset], device="cpu")
    out = {}

    def work():
        torch.set_num_threads(1)
        trainer.step()
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            trainer.step()
            n += 1
        out["rate"] = n / (time.perf_counter() - start)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    return out["rate"]


def stat_seconds(stat: Path, children: bool = True) -> float:
    """CPU seconds in a /proc .../stat file: user + system, and by default the waited-for children's too."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    used = fields[11:15] if children else fields[11:13]
    return sum(int(f) for f in used) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    return stat_seconds(Path(f"/proc/{pid}/stat"))


def _chromium_cpu() -> float:
    """CPU seconds of every Chromium process on the machine (it runs several)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and "chrom" in (proc / "comm").read_text():
                total += _cpu_seconds(int(proc.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return total


class Server:
    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("streamlit did not start")

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


@contextlib.contextmanager
def chromium_and_server():
    """(browser, server): Debian's headless Chromium and the app on 127.0.0.1, both closed at the end."""
    from playwright.sync_api import sync_playwright

    server = Server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                yield browser, server
            finally:
                browser.close()
    finally:
        server.close()


def iteration(page) -> int:
    """The iteration the plane shows now, from the caption drawn with it (so each change is one plane redraw)."""
    text = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="iteration").first.inner_text()
    return int(text.split()[1].replace(",", ""))


def with_page(browser, server: Server, name: str, seconds: float) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{server.url}/toy_lab?data={preset(name).train.dataset}&recipe={name}")
    page.wait_for_selector('[data-test-script-state="notRunning"]', timeout=60_000)
    page.get_by_role("button", name="Play").click()
    page.locator('[data-testid="stCaptionContainer"]').filter(has_text="/ s").first.wait_for(timeout=30_000)
    time.sleep(2.0)                                                   # past start-up
    cpu0 = _cpu_seconds(server.proc.pid), _chromium_cpu()
    start, first = time.perf_counter(), iteration(page)
    seen, last = 0, first
    while time.perf_counter() - start < seconds:
        value = iteration(page)
        if value != last:
            seen, last = seen + 1, value
        time.sleep(0.03)
    elapsed = time.perf_counter() - start
    cpu1 = _cpu_seconds(server.proc.pid), _chromium_cpu()
    page.get_by_role("button", name="Reset").click()
    context.close()
    return {"rate": (last - first) / elapsed, "redraws": seen / elapsed,
            "server_cpu": (cpu1[0] - cpu0[0]) / elapsed, "chromium_cpu": (cpu1[1] - cpu0[1]) / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="toy-ring")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    rows = []
    with chromium_and_server() as (browser, server):
        for _ in range(args.rounds):
            b = bare(args.preset, args.seconds)
            rows.append((b, with_page(browser, server, args.preset, args.seconds)))
    bare_rate = statistics.median(r[0] for r in rows)
    page_rate = statistics.median(r[1]["rate"] for r in rows)
    print(f"preset {args.preset}, 1 torch thread, {args.rounds} rounds of {args.seconds:.0f} s each side")
    print(f"bare trainer        {bare_rate:7.1f} it/s   (rounds: {', '.join(f'{r[0]:.1f}' for r in rows)})")
    page_rounds = ", ".join(f"{r[1]['rate']:.1f}" for r in rows)
    print(f"page + Chromium     {page_rate:7.1f} it/s   (rounds: {page_rounds})")
    print(f"page / bare         {page_rate / bare_rate:7.1%}")
    print(f"browser redraws     {statistics.median(r[1]['redraws'] for r in rows):7.1f} /s   (target ≥ 5)")
    print(f"CPU, cores          server {statistics.median(r[1]['server_cpu'] for r in rows):.2f}, "
          f"Chromium {statistics.median(r[1]['chromium_cpu'] for r in rows):.2f}")


if __name__ == "__main__":
    main()
