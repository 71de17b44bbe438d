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


def mode_ui() -> str:
    """The mode switch at the top of the Training page; LIVE when nothing is picked."""
    return st.segmented_control("Mode", MODES, default=LIVE, key="tr_mode", label_visibility="collapsed") or LIVE


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
    file = ss.get("rp_upload")
    if file is None:
        return
    try:
        ss.rp_uploaded, ss.rp_error = load_replay(file.getvalue()), None
        ss.rp_choice = UPLOADED
        _rewind(to_end=True)
    except ReplayError as err:
        ss.rp_error = f"{file.name}: {err}"


def _rewind(to_end: bool = False) -> None:
    ss = st.session_state
    ss.rp_playing = False
    ss.pop("rp_frame", None)            # the slider starts again at its default (the last frame)
    if not to_end:
        ss.rp_frame = 0


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
        st.file_uploader("Open a recording (.npz)", type=["npz"], key="rp_upload", on_change=_on_upload,
                         help="A file written by `python -m ganplay record`. It is read as JSON and numpy "
                              "arrays, never unpickled or executed.")
        if ss.get("rp_error"):
            st.error(ss.rp_error)
    if not choices:
        st.info(f"No recordings found in {replays_dir()}. Record one with `python -m ganplay record --preset "
                f"lecture --steps 2000 --out {replays_dir()}/lecture.npz`, or open one in the sidebar.")
        return
    if ss.get("rp_choice") not in choices:
        ss.rp_choice = next(iter(choices))
    titles = [r.title for r in choices.values()]
    labels = {k: r.title + (" (opened)" if k == UPLOADED else f" ({Path(k).name})" if titles.count(r.title) > 1
                            else "") for k, r in choices.items()}        # two files with one title: say which
    key = st.selectbox("Recording", list(choices), key="rp_choice", on_change=_rewind, kwargs={"to_end": True},
                       format_func=labels.get)
    replay = choices[key]
    st.caption(recipe_caption(replay))
    loss = LOSSES[replay.config.train.loss]
    with st.expander(f"Loss: {loss.title}", expanded=False):
        st.latex(loss.d_formula)
        st.latex(loss.g_formula)
        st.caption(loss.summary)
        if replay.record.get("command"):
            st.code(replay.record["command"], language="bash")
    frames = len(replay.frame_steps)
    playing = bool(ss.get("rp_playing"))
    st.button("Pause" if playing else "Play", on_click=_toggle_play, args=(frames,), type="primary",
              icon=":material/pause:" if playing else ":material/play_arrow:")
    player(replay, playing)


def player(replay: Replay, playing: bool) -> None:
    """The scrubber and everything drawn at its frame; while playing, a fragment that advances a frame a tick."""

    @st.fragment(run_every=PLAY_EVERY_S if playing else None)
    def frame_panel() -> None:
        ss = st.session_state
        last = len(replay.frame_steps) - 1
        if ss.get("rp_frame") is None or ss.rp_frame > last:
            ss.rp_frame = last              # a new recording opens at its end: what the run came to
        if playing and ss.get("rp_ticked"):
            if ss.rp_frame >= last:
                ss.rp_playing = False
                st.rerun()                  # the whole page: the button says Play again, the timer stops
            ss.rp_frame += 1
        ss.rp_ticked = playing              # the first draw after Play shows the first frame, then advances
        steps = replay.frame_steps
        index = st.select_slider("Scrub through training", options=list(range(last + 1)), key="rp_frame",
                                 format_func=lambda i: f"step {steps[i]:,}")
        draw_frame(replay, index)

    frame_panel()


def draw_frame(replay: Replay, index: int) -> None:
    snap = replay.snapshot(index)
    m = st.columns(3)
    m[0].metric("Step", f"{snap.step:,} / {replay.steps:,}")
    for col, key, label in ((m[1], "d_real", "D(x)"), (m[2], "d_fake", "D(G(z))")):
        values = snap.history.get(key, [])
        col.metric(label, f"{ema(values):.3f}" if values else "–", help=training_panels.SMOOTHED)
    if snap.message:
        st.error(snap.message)
    training_panels.diagnosis(snap)
    left, right = st.columns([6, 5])
    with left:
        fake, real = st.columns([5, 2], vertical_alignment="bottom")
        fake.image(upscale(snap.grid, 2), output_format="PNG", caption=f"G(fixed noise) at step {snap.grid_step}")
        if snap.real_grid is not None:
            real.image(upscale(snap.real_grid, 2), output_format="PNG", caption=training_panels.real_caption(snap))
    with right:
        training_panels.charts(snap)
    training_panels.coverage(snap)
    training_panels.downloads(replay, snap)
