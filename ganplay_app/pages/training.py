"""Training page: a live GAN run on MNIST (or your own images: ganplay_app.folder_ui) that a lecturer can start,
pause, step, resume, stop and save.

The run trains on a worker thread (ganplay.live); this script only flips its events in button callbacks and
draws snapshots in fragments that refresh themselves while the run trains (the tiles twice a second). Without a
dataset the page offers MNIST's download instead; missing datasets are offered in the sidebar (ganplay_app.data_ui).
"""
from __future__ import annotations

import os

import streamlit as st

from ganplay.live import ENDED, RUNNING
from ganplay.losses import LOSSES
from ganplay_app import (compare_ui, continue_ui, data_ui, folder_ui, presenter, replay_ui, resources,
                         training_panels, urlstate)
from ganplay_app.run_ui import RunControl, watch_note_ui
from ganplay_app.training_ui import config_from_state, ensure_recipe, recipe_ui, show_run_recipe, url_params

st.title("Training a GAN, live")
mode = replay_ui.mode_ui()              # Train live / Replay a recording / Side by side: the last two need no
if mode != replay_ui.LIVE:              # dataset (replay) or draw their own controls (side by side)
    (replay_ui.page if mode == replay_ui.REPLAY else compare_ui.page)()
    st.stop()
registry = resources.run_registry()
status = resources.dataset_status()
available = [name for name, error in status.items() if error is None]
data_ui.notices_ui()
if not available and st.session_state.get("tr_dataset") != folder_ui.OWN:
    data_ui.no_data_ui(status)
    st.button(f"Or train on {folder_ui.TITLE.lower()}", icon=":material/photo_library:",
              on_click=lambda: st.session_state.update(tr_dataset=folder_ui.OWN))   # needs no download
    st.stop()
data_ui.apply_choice(available)
URL = url_params([*available, folder_ui.OWN])
ensure_recipe()
urlstate.restore("training", URL)           # a bookmarked slide: the preset and the settings changed from it


def new_run():
    name = st.session_state.tr_dataset
    config, data = (folder_ui.config_and_data(config_from_state(name)) if name == folder_ui.OWN
                    else (config_from_state(name), resources.dataset(name)))
    return registry.create(config, data, max_steps=st.session_state.tr_steps or None)


control = RunControl(registry, key="run_id", create=new_run, error_key="train_error",
                     on_reset=lambda: st.query_params.pop("run", None))
run, watching = control.attach()            # another session's run, from a shared link, is only watched
if watching or (run is not None and "tr_dataset" not in st.session_state):
    show_run_recipe(run)                    # (or this browser's run, in a new tab: its recipe, not the defaults)
if watching:
    current_run = lambda: registry.get(run.id)     # the panel follows the watched run
else:
    current_run = control.current


def on_live_change() -> None:
    r = current_run()
    if r is not None and r.alive and not watching:
        ss = st.session_state
        r.set_hyperparameters(lr_g=float(ss.tr_lr_g), lr_d=float(ss.tr_lr_d), d_steps=int(ss.tr_d_steps),
                              loss=ss.tr_loss)


locked = run is not None and run.alive
with st.sidebar:
    st.subheader("Recipe")
    dataset_name, config, _ = recipe_ui([*available, folder_ui.OWN], locked, on_live_change, read_only=watching)
    if watching:
        st.caption("The watched run's recipe, as it trains now. Start your own run to change it.")
    elif locked:
        st.caption("The loss, learning rates and D steps change the running model at once.")
    urlstate.problems_ui("training")
    data_ui.more_datasets_ui(status)
urlstate.store("training", URL)

if dataset_name == folder_ui.OWN and watching:
    st.caption("The watched run trains on the other session's own images.")
elif dataset_name == folder_ui.OWN:
    folder_ui.own_images_ui(config.model.image_size, locked)
elif not presenter.active():                # a room does not need the split's size above the fold
    st.caption(resources.dataset(dataset_name).describe())
data_ui.download_failures_ui(status)
loss = LOSSES[config.train.loss]
with st.expander(f"Loss: {loss.title}", expanded=False):
    st.latex(loss.d_formula)
    st.latex(loss.g_formula)
    st.caption(loss.summary)
if not watching and not locked:             # an uploaded checkpoint becomes this session's run (not drawn while
    continue_ui.continue_ui(registry, status)   # one is live: each widget drawn costs every redraw)

state = run.state if run else None
running = state == RUNNING
if watching:
    watch_note_ui(run, control)
else:
    cols = st.columns(5)
    cols[0].button("Resume" if state == "paused" else "Start", on_click=control.start, type="primary",
                   disabled=running, width="stretch")
    cols[1].button("Pause", on_click=control.pause, disabled=not running, width="stretch")
    cols[2].button("Step once", on_click=control.step, disabled=running, width="stretch")
    cols[3].button("Stop", on_click=control.stop, disabled=not locked, width="stretch")
    cols[4].button("Reset", on_click=control.reset, disabled=run is None, width="stretch")
if control.error():
    st.error(control.error())

if run is None:
    st.info("Choose a recipe in the sidebar and press **Start**. The grid below will show the generator's "
            "samples from a fixed batch of noise, so you can watch the same 64 codes turn into digits.")
    st.stop()


# Refresh periods while training. Each fragment's redraw costs the run speed (the browser and this Python share
# the laptop with the trainer: bench/page_overhead.py --where), so each redraws as often as what it shows changes:
# the tiles twice a second (a timer of 0.45 s: it starts after each redraw), the grid once a second (the worker
# draws one a second), the charts every 2 s, and the coverage every 5 s (the judge reads G's samples every 5 s).
TILES_S, PICTURES_S, CHARTS_S, COVERAGE_S = 0.45, 1.0, 2.0, 5.0
# What the live panel draws: all of it, unless bench/page_overhead.py --where leaves parts out to measure their cost
PANELS = set(os.environ.get("GANPLAY_TRAINING_PANELS", "diagnosis,pictures,charts,coverage").split(","))
stepping = control.stepping(run)             # a Step click returned before its step landed: poll until it does
settling = state == "paused" and not run.snapshot(with_history=False).idle   # until the pause's last picture


fast = TILES_S if running or stepping or settling else (None if state in ENDED else 5.0)


@st.fragment(run_every=fast)
def live_panel() -> None:
    """Twice a second: the tiles and what is going wrong; and whether the run changed state (then the whole
    page reruns: buttons, refresh rates). The snapshot's recent rows are all the tiles and the diagnosis read."""
    r = current_run()
    if r is None:
        return
    r.heartbeat()
    snap = r.snapshot(with_history=False)
    if snap.state != state or (stepping and not snap.steps_pending) or (settling and snap.idle):
        st.rerun()                          # the run changed state, or the step landed: buttons, refresh rate
    training_panels.tiles(snap, r.trainer)
    if "diagnosis" in PANELS:
        training_panels.diagnosis(snap, compact=presenter.active())      # above the fold: what is going wrong comes before the pictures


@st.fragment(run_every=PICTURES_S if running else None)
def pictures() -> None:
    """Once a second (the worker draws a new grid once a second): the grid beside real images."""
    r = current_run()
    if r is not None and "pictures" in PANELS:
        training_panels.pictures(r, r.snapshot(with_history=False), scrub=not running, big=presenter.active())


@st.fragment(run_every=CHARTS_S if running else None)
def charts() -> None:
    """Every 2 s: the charts, from the whole history."""
    r = current_run()
    if r is not None and "charts" in PANELS:
        training_panels.charts(r.snapshot())


@st.fragment(run_every=COVERAGE_S if running else None)
def coverage_and_downloads() -> None:
    """Every few seconds (the digit judge reads G's samples every few seconds): coverage; then the downloads."""
    r = current_run()
    if r is None:
        return
    snap = r.snapshot(with_history=not running)
    if "coverage" in PANELS:
        training_panels.coverage(snap)
    if not running and snap.step > 0:
        training_panels.downloads(r, snap)


live_panel()
left, right = st.columns([6, 5])
with left:
    pictures()
with right:
    charts()
coverage_and_downloads()
