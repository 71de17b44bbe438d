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

A run link is not a remote control. The run records a secret of the session that started it (`session_token`,
kept in st.session_state and in a cookie, so the owner's reloaded tab is still the owner); the URL carries only
the run's id. `RunControl.attach()` gives whoever else opens the link the run read-only (`watch_note_ui`):
their page follows it live, with no buttons, and offers "Start my own run from this recipe" (`start_own`).
Every control acts on `current()`, which only this session's own state names.
"""
from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable

import streamlit as st

from ganplay.config import ConfigError
from ganplay.data import DataError
from ganplay.live import PAUSED, RunRegistry, RunSnapshot, ServerBusy, TrainingRun
from ganplay.registry import UnknownNameError
from ganplay.toy import ToyDataError

USER_ERRORS = (ConfigError, DataError, ToyDataError, ServerBusy, UnknownNameError, ValueError)
STEP_WAIT_S = 1.0          # a Step click waits this long at most for its step; later, the page says "Stepping…"
STEPPING = "Stepping… the machine is busy; the step shows here as soon as it is done."


OWNER_COOKIE = "ganplay_owner"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")
RUN_PARAM = "run"


def session_token() -> str:
    """This browser session's secret: the one its runs record as their owner. Taken from the owner cookie when
    the browser sends one (a reloaded tab is a new Streamlit session), else made afresh."""
    ss = st.session_state
    if "owner_token" not in ss:
        try:
            cookie = st.context.cookies.get(OWNER_COOKIE)
        except Exception:  # noqa: BLE001  no browser behind this session (AppTest, a bare script run)
            cookie = None
        ss.owner_token = cookie if isinstance(cookie, str) and _TOKEN.fullmatch(cookie) else secrets.token_urlsafe(24)
    return ss.owner_token


def remember_owner_ui() -> None:
    """Keep the session's secret in a cookie (scoped to this server, a day long), so a reload of the tab still
    controls its runs. Draws nothing visible; call once per script run, on every page."""
    token = session_token()
    try:
        known = st.context.cookies.get(OWNER_COOKIE)
    except Exception:  # noqa: BLE001  no browser behind this session
        return
    if isinstance(known, str | None) and known != token:
        with st.container(key="ganplay_owner_cookie"):     # hidden by CSS (presenter.BASE_CSS)
            st.html(f"<script>document.cookie = '{OWNER_COOKIE}={html.escape(token)}; path=/; max-age=86400; "
                    "SameSite=Strict';</script>", unsafe_allow_javascript=True)


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
        """This session's own run (the only one its controls act on)."""
        return self.registry.get(st.session_state.get(self.key))

    def attach(self) -> tuple[TrainingRun | None, bool]:
        """The run to show and whether it is read-only: this session's own run, or the run the URL's `run`
        names. A run this session's secret owns (the owner's reloaded tab) becomes its own again; anyone
        else's is watched. A link to a run the server no longer has is dropped from the URL, with a note."""
        ss, q = st.session_state, st.query_params
        token = session_token()
        own = self.current()
        linked_id = q.get(RUN_PARAM)
        if linked_id and (own is None or linked_id != own.id):
            linked = self.registry.get(linked_id)
            if linked is not None and linked.owned_by(token):
                ss[self.key] = linked.id
                return linked, False
            if linked is not None:
                return linked, True
            st.caption(f":material/link_off: The run `{linked_id[:24].replace('`', '')}` in the link is not on this "
                       "server any more (it ended and was forgotten, or the link is wrong).")
            del q[RUN_PARAM]
        if own is not None:
            own.claim(token)          # a run this session made without a secret (continued from a checkpoint)
            if q.get(RUN_PARAM) != own.id:
                q[RUN_PARAM] = own.id   # a reloaded tab re-attaches; a shared link lets others watch
        return own, False

    def start_own(self) -> None:
        """Callback of a watcher's "Start my own run from this recipe": stop watching and start a new run of
        its own from the widgets (which show the watched run's recipe)."""
        st.query_params.pop(RUN_PARAM, None)
        st.session_state.pop(self.key, None)
        self.start()

    def create(self) -> TrainingRun | None:
        """A new run from the page's settings, or None with the reason kept for the page to show."""
        try:
            run = self._create()
        except USER_ERRORS as err:
            st.session_state[self.error_key] = str(err)
            return None
        st.session_state[self.error_key] = None
        st.session_state[self.key] = run.id
        st.query_params[RUN_PARAM] = run.id   # the link names the new run, not one the URL held before (a freed run)
        run.claim(session_token())
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


def watch_note_ui(run: TrainingRun, control: RunControl) -> None:
    """What a watcher sees in place of the run's buttons: whose run this is, and a way to a run of their own."""
    st.info(f"Watching **{run.config.name}** run `{run.id}` (read-only) — started by another session. "
            "It follows the run live; only the session that started it can pause, step, stop or reset it.",
            icon=":material/visibility:")
    st.button("Start my own run from this recipe", on_click=control.start_own, type="primary",
              icon=":material/play_arrow:", key=f"{control.key}_start_own")
