"""The Training page's other modes: a recorded run played back (no trainer, no dataset), and the switch that
picks a mode (`compare_ui` draws side by side).

    mode = mode_ui()                       # Train live / Replay a recording / Side by side
    page()                                 # the replay player: pick a recording, scrub or play, download

Recordings are `ganplay.replay` files: the bundled ones in `pretrained/replays/` (`$GANPLAY_REPLAYS` when set;
tests point it elsewhere), read once per process and shared (they are read-only), or one a user uploads, kept in
that session only. The player draws a snapshot built from the recording with the live page's own panels
(`training_panels`), so the charts, the diagnosis, the coverage and the downloads are the live page's.
"""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from ganplay.figures.training import ema
from ganplay.images import upscale
from ganplay.losses import LOSSES
from ganplay.replay import Replay, ReplayError, bundled_replays, load_replay
from ganplay_app import training_panels

LIVE, REPLAY, COMPARE = "Train live", "Replay a recording", "Side by side"
MODES = (LIVE, REPLAY, COMPARE)
REPO_REPLAYS = Path(__file__).resolve().parents[1] / "pretrained" / "replays"
PLAY_EVERY_S = 0.4          # one frame per tick while playing: ~45 frames in under 20 s
UPLOADED = "uploaded"


KEPT_PREFIXES = ("tr_", "rp_", "cmp_")   # each mode's settings (the live recipe's tr_* keys among them)
KEPT_TYPES = (str, int, float, list, tuple)     # what recipe widgets hold; never an upload (it cannot be set)


def mode_ui() -> str:
    """The mode switch at the top of the Training page. Streamlit drops a widget's value in any run that does
    not draw it, so the modes' settings are first re-set as plain session state: a lecturer who replays a
    recording comes back to the live recipe as it was."""
    ss = st.session_state
    for key in [k for k in ss if k.startswith(KEPT_PREFIXES) and k != "tr_mode"]:
        value = ss[key]
        if isinstance(value, KEPT_TYPES) and not any(isinstance(v, UploadedFile) for v in
                                                     (value if isinstance(value, (list, tuple)) else ())):
            ss[key] = value
    return st.segmented_control("Mode", MODES, default=LIVE, key="tr_mode", required=True,
                                label_visibility="collapsed") or LIVE


def replays_dir() -> Path:
    return Path(os.environ.get("GANPLAY_REPLAYS") or REPO_REPLAYS)


@st.cache_resource(show_spinner=False, max_entries=32)
def bundled(path: str, mtime: float) -> Replay:
    """A bundled recording, read once per process (and again if the file changes); read-only, so shared."""
    return load_replay(path)


def _choices() -> dict[str, Replay]:
    """Key -> replay: the bundled ones in the registry's loss order, then this session's upload."""
    found: dict[str, Replay] = {}
    for path in bundled_replays(replays_dir()):
        try:
            found[str(path)] = bundled(str(path), path.stat().st_mtime)
        except ReplayError as err:
            st.warning(f"{path.name} was skipped: {err}")
    order = list(LOSSES)
    found = dict(sorted(found.items(), key=lambda kv: (order.index(kv[1].config.train.loss)
                                                       if kv[1].config.train.loss in order else len(order),
                                                       kv[1].title)))
    if st.session_state.get("rp_uploaded") is not None:
        found[UPLOADED] = st.session_state.rp_uploaded
    return found


def _on_upload() -> None:
    ss = st.session_state
    file = ss.get("replay_upload")
    if file is None:
        return
    try:
        ss.rp_uploaded, ss.rp_error = load_replay(file.getvalue()), None
        ss.rp_choice = UPLOADED
        _rewind()
    except ReplayError as err:
        ss.rp_error = f"{file.name}: {err}"


def _rewind() -> None:
    """Another recording: stop playing and open it at its last frame."""
    ss = st.session_state
    ss.rp_playing = False
    ss.pop("rp_frame", None)


def _toggle_play(frames: int) -> None:
    ss = st.session_state
    ss.rp_playing = not ss.get("rp_playing", False)
    if ss.rp_playing and ss.get("rp_frame", frames - 1) >= frames - 1:
        ss.rp_frame = 0                  # play from the start when at the end


def recipe_caption(replay: Replay) -> str:
    t = replay.config.train
    lrs = f"lr {t.lr_g:g}" if t.lr_g == t.lr_d else f"lr G {t.lr_g:g} / D {t.lr_d:g}"
    return (f"Recorded: **{replay.config.name}** preset, {LOSSES[t.loss].title} loss, {lrs}, batch {t.batch_size}, "
            f"seed {t.seed}, {replay.steps:,} steps on {replay.record.get('device', '?')} at "
            f"{replay.record.get('precision', '?')}. Nothing trains here: the page plays back what was recorded.")


def page() -> None:
    ss = st.session_state
    choices = _choices()
    with st.sidebar:
        st.subheader("Recording")
        if choices:
            if ss.get("rp_choice") not in choices:
                ss.rp_choice = next(iter(choices))
            titles = [r.title for r in choices.values()]
            labels = {k: r.title + (" (opened)" if k == UPLOADED else f" ({Path(k).name})"
                                    if titles.count(r.title) > 1 else "")     # two files, one title: say which
                      for k, r in choices.items()}
            replay = choices[st.selectbox("Recording", list(choices), key="rp_choice", on_change=_rewind,
                                          format_func=labels.get,
                                          label_visibility="collapsed")]
            recipe_ui(replay)
        st.file_uploader("Open a recording (.npz)", type=["npz"], key="replay_upload", on_change=_on_upload,
                         help="A file written by `python -m ganplay record`. It is read as JSON and numpy "
                              "arrays, never unpickled or executed.")
        if ss.get("rp_error"):
            st.error(ss.rp_error)
    if not choices:
        st.info(f"No recordings found in {replays_dir()}. Record one with `python -m ganplay record --preset "
                f"lecture --steps 2000 --out {replays_dir()}/lecture.npz`, or open one in the sidebar.")
        return
    player(replay, bool(ss.get("rp_playing")))


def recipe_ui(replay: Replay) -> None:
    """What was recorded, the loss's formulas and the command that recorded it (sidebar)."""
    st.caption(recipe_caption(replay))
    loss = LOSSES[replay.config.train.loss]
    with st.expander(f"Loss: {loss.title}", expanded=False):
        st.latex(loss.d_formula)
        st.latex(loss.g_formula)
        st.caption(loss.summary)
    if replay.record.get("command"):
        with st.expander("Recorded with", expanded=False):
            st.code(replay.record["command"], language="bash", wrap_lines=True)


def player(replay: Replay, playing: bool) -> None:
    """Play / Pause, the scrubber and everything drawn at its frame, in a fragment that advances one frame a
    tick while playing (so only it redraws, not the sidebar)."""

    @st.fragment(run_every=PLAY_EVERY_S if playing else None)
    def frame_panel() -> None:
        ss = st.session_state
        if bool(ss.get("rp_playing")) != playing:
            st.rerun()                      # Play / Pause pressed: the whole page, to start or stop the timer
        last = len(replay.frame_steps) - 1
        if ss.get("rp_frame") is None or ss.rp_frame > last:
            ss.rp_frame = last              # a new recording opens at its end: what the run came to
        if playing and ss.get("rp_ticked"):
            if ss.rp_frame >= last:
                ss.rp_playing = False
                st.rerun()                  # the end: the button says Play again, the timer stops
            ss.rp_frame += 1
        ss.rp_ticked = playing              # the first draw after Play shows the first frame, then advances
        steps = replay.frame_steps
        button, slider = st.columns([1, 5], vertical_alignment="bottom")
        button.button("Pause" if playing else "Play", on_click=_toggle_play, args=(last + 1,), type="primary",
                      icon=":material/pause:" if playing else ":material/play_arrow:", width="stretch")
        slider.select_slider("Scrub through training", options=list(range(last + 1)), key="rp_frame",
                             format_func=lambda i: f"step {steps[i]:,}")
        draw_frame(replay, ss.rp_frame)

    frame_panel()


def draw_frame(replay: Replay, index: int) -> None:
    """Everything at frame `index`: the grid beside a few real images and, under it, what is going wrong; the
    tiles and the live page's charts beside them; the digit coverage and the downloads below."""
    snap = replay.snapshot(index)
    left, right = st.columns([6, 5])
    with left:
        fake, real = st.columns([5, 2], vertical_alignment="bottom")
        fake.image(upscale(snap.grid, 2), output_format="PNG", caption=f"G(fixed noise) at step {snap.grid_step}")
        if snap.real_grid is not None:
            real.image(upscale(snap.real_grid, 2), output_format="PNG", caption=training_panels.real_caption(snap))
        if snap.message:
            st.error(snap.message)
        training_panels.diagnosis(snap)     # under the grid, beside the charts: in view, and the grid stays put
    with right:
        m = st.columns(3)
        m[0].metric(f"Step of {replay.steps:,}", f"{snap.step:,}")
        for col, key, label in ((m[1], "d_real", "D(x)"), (m[2], "d_fake", "D(G(z))")):
            values = snap.history.get(key, [])
            col.metric(label, f"{ema(values):.3f}" if values else "–", help=training_panels.SMOOTHED)
        training_panels.charts(snap)
    training_panels.coverage(snap)
    training_panels.downloads(replay, snap)
