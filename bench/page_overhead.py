"""What the Training page costs a run: steps/s of a live run with the page attached vs the bare trainer.

    GANPLAY_DATA=../shared/data/mnist python bench/page_overhead.py [--preset lecture] [--seconds 10] [--rounds 3]

Both sides run in this one process, alternating in rounds so machine noise hits both alike:
- bare: `Trainer.step()` in a loop on a thread with the same torch thread count as a live run;
- page: the Training page under Streamlit's AppTest, started with its Start button, re-run every 0.5 s as the
  page's fragment refreshes in a browser (AppTest re-runs the whole script, so this over-counts the page's cost).
Prints steps/s of each and the page's cost in percent. The target is under 10 %.
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from ganplay.data import load_dataset
from ganplay.presets import preset
from ganplay.trainer import Trainer
from ganplay_app import resources

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "training.py")


def bare(preset_name: str, seconds: float, threads: int) -> float:
    trainer = Trainer(preset(preset_name), load_dataset("mnist"), device="cpu")
    result = {}

    def work():
        torch.set_num_threads(threads)
        trainer.step()                                   # warm-up
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < seconds:
            trainer.step()
            n += 1
        result["rate"] = n / (time.perf_counter() - start)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return result["rate"]


def with_page(preset_name: str, seconds: float) -> float:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="tr_preset").select(preset_name).run()
    next(b for b in at.button if b.label == "Start").click().run()
    run = resources.run_registry().get(at.session_state["run_id"])
    while run.snapshot().step < 1:                       # warm-up step done
        time.sleep(0.01)
    start, first = time.perf_counter(), run.snapshot().step
    while time.perf_counter() - start < seconds:
        time.sleep(0.5)
        at.run()                                         # one page refresh
    rate = (run.snapshot().step - first) / (time.perf_counter() - start)
    resources.run_registry().discard(run.id)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="lecture")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    threads = resources.run_registry().threads_per_run
    bare_rates, page_rates = [], []
    for _ in range(args.rounds):
        bare_rates.append(bare(args.preset, args.seconds, threads))
        page_rates.append(with_page(args.preset, args.seconds))
    b, p = statistics.median(bare_rates), statistics.median(page_rates)
    print(f"preset {args.preset}, {threads} torch thread(s) per run, {args.rounds} rounds of {args.seconds:.0f} s")
    print(f"bare trainer      {b:8.1f} steps/s   (rounds: {', '.join(f'{r:.1f}' for r in bare_rates)})")
    print(f"with the page     {p:8.1f} steps/s   (rounds: {', '.join(f'{r:.1f}' for r in page_rates)})")
    print(f"page cost         {100 * (1 - p / b):8.1f} %   (target < 10 %)")


if __name__ == "__main__":
    main()
