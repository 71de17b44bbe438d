"""bench.page_overhead --gil: py-spy's raw stacks are split into who held the GIL, by hand-counted samples."""
import pytest

from bench.page_overhead import gil_shares

RAW = """\
Thread._bootstrap (threading.py:1002);Thread.run (threading.py:982);RunWorker._work (ganplay/live/worker.py:44);Trainer.step (ganplay/trainer.py:200) 30
Module._named_members (torch/nn/modules/module.py:2663);Tensor.__hash__ (torch/_tensor.py:1222) 5
Thread._bootstrap (threading.py:1002);ScriptRunner._run_script (streamlit/runtime/scriptrunner/script_runner.py:600);charts (ganplay_app/training_panels.py:120) 12
_run_module_as_main (<frozen runpy>:198);BaseEventLoop._run_once (asyncio/base_events.py:1922) 8

Thread._bootstrap (threading.py:1002);PollingPathWatcher._schedule.<locals>.task (streamlit/watcher/polling_path_watcher.py:90) 2
"""


def test_gil_shares_split_the_samples_by_thread_kind():
    shares = gil_shares(RAW, samples=200)          # 200 sampling instants: 57 held the GIL
    assert shares == pytest.approx({"the run's worker (training)": 35 / 200,   # 30, and 5 cut short in torch
                                    "the page's scripts (fragments)": 12 / 200,
                                    "the rest of the server": 10 / 200})       # the event loop, the watcher
