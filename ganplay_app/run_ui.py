"""Run controls shared by the pages that train live (Training, Toy lab).

    control = RunControl(resources.run_registry(), key="run_id", create=new_run)
    st.button("Start", on_click=control.start)          # the callbacks only flip the run's events
    st.button("Step", on_click=control.step, args=("both",))
    @st.fragment(run_every=0.5 if running or control.stepping() else None)   # poll until a slow step lands

`create()` builds a new TrainingRun from the page's widgets; what it raises for a user to fix (a bad setting,
data that cannot be used, a busy server, a name no registry has) is kept under `error_key` for the page to
show, never a traceback.

A Step click waits briefly for its step, so the redraw that follows usually shows it. On a busy machine the
step may take longer: the click returns anyway (a callback that blocks freezes the tab), the page says so
(`state_label`, or STEPPING) and its live fragment polls until `stepping()` turns false, then redraws the whole page once.
"""
from __future__ import annotations

from typing import Callable

import streamlit as st

from ganplay.config import ConfigError
from ganplay.data import DataError
from ganplay.live import PAUSED, RunRegistry, RunSnapshot, ServerBusy, TrainingRun
from ganplay.registry import UnknownNameError
from ganplay.toy import ToyDataError

USER_ERRORS = (ConfigError, DataError, ToyDataError, ServerBusy, UnknownNameError, ValueError)
STEP_WAIT_S = 1.0          # a Step click waits this long at most for its step; later, the page says "Stepping…"
STEPPING = "Stepping… the machine is busy; the step shows here as soon as it is done."


def state_label(snap: RunSnapshot) -> str:
    """What the run is doing, in a word or three. "Paused" only once the worker has acknowledged the pause (what
    is shown will not move until a button is pressed); the seconds count on with every redraw of the panel."""
    if snap.state != PAUSED:
        return snap.state.capitalize()
    if snap.steps_pending:
        return "Stepping…"
    return f"Paused for {snap.state_seconds:.0f} s" if snap.idle else "Pausing…"


class RunControl:
    def __init__(self, registry: RunRegistry, key: str, create: Callable[[], TrainingRun],
                 error_key: str | None = None, on_reset: Callable[[], None] | None = None):
        self.registry, self.key, self._create = registry, key, create
        self.error_key = error_key or f"{key}_error"
        self._on_reset = on_reset

    def current(self) -> TrainingRun | None:
        return self.registry.get(st.session_state.get(self.key))

    def create(self) -> TrainingRun | None:
        """A new run from the page's settings, or None with the reason kept for the page to show."""
        try:
            run = self._create()
        except USER_ERRORS as err:
            st.session_state[self.error_key] = str(err)
            return None
        st.session_state[self.error_key] = None
        st.session_state[self.key] = run.id
        return run

    def _alive_or_new(self) -> TrainingRun | None:
        run = self.current()
        return run if run is not None and run.alive else self.create()

    def start(self) -> None:
        run = self._alive_or_new()
        if run is not None:
            run.start()

    def pause(self) -> None:
        run = self.current()
        if run is not None:
            run.pause()

    def stop(self) -> None:
        run = self.current()
        if run is not None:
            run.stop(wait_s=STEP_WAIT_S)     # the redraw shows the grid at the final step

    def step(self, part: str = "both") -> None:
        """One iteration ("both"), one D update ("d") or one G update ("g"); the redraw shows it if it is done
        within STEP_WAIT_S, else the page polls while `stepping()`."""
        run = self._alive_or_new()
        if run is not None:
            run.step_once(part, wait_s=STEP_WAIT_S)

    def stepping(self, run: TrainingRun | None = None) -> bool:
        """Whether a Step click's step has not landed yet (the page polls until it has)."""
        run = run if run is not None else self.current()
        return run is not None and run.steps_pending > 0

    def reset(self) -> None:
        """Discard the run (its models are freed) so the settings can change."""
        run = self.current()
        if run is not None:
            self.registry.discard(run.id)
        st.session_state.pop(self.key, None)
        if self._on_reset is not None:
            self._on_reset()

    def error(self) -> str | None:
        return st.session_state.get(self.error_key)
