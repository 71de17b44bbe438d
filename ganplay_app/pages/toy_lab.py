"""Toy lab: tiny GANs on 1-D and 2-D points trained live, with the game itself on screen.

On the plane: D's output as a heatmap, real and fake dots, the push of G's loss on each fake, the generator's
manifold, and modes captured. On the line: p_data, p_g, the learned D over the optimal D*, and JSD. The run
trains on a worker thread (ganplay.live); this script flips its events in callbacks and draws snapshots in a
fragment that refreshes five times a second while it trains. Charts are Vega-Lite, updated in place.
The data, recipe and layers live in the URL (ganplay_app.urlstate); a shared `?run=` link opens the run
read-only for anyone but the session that started it (ganplay_app.run_ui).
"""
from __future__ import annotations

import streamlit as st

from ganplay.live import ENDED, RUNNING
from ganplay.losses import LOSSES
from ganplay.toy import TOYS
from ganplay_app import presenter, resources, toy_panels, toy_ui, urlstate
from ganplay_app.run_ui import RunControl, watch_note_ui

st.title("Toy lab: the game, made visible")
ss = st.session_state
registry = resources.run_registry()
LAYERS = list(toy_panels.LAYER_NAMES)
URL = toy_ui.url_params(toy_ui.data_options()) + [
    urlstate.Param("layers", "toy_layers", urlstate.several(LAYERS, "layer"),
                   lambda shown: ",".join(n for n in LAYERS if n in shown), LAYERS)]
toy_ui.ensure_recipe()
urlstate.restore("toy", URL)                # a bookmarked slide: data, recipe and what the plane shows


def new_run():
    cfg = toy_ui.config_from_state(ss.toy_data.dim, ss.toy_data.name)
    compare = toy_ui.compare_configs(cfg, ss.get("toy_compare", []))
    if compare:
        cfg = cfg.replace(name=f"{cfg.name} · {LOSSES[cfg.train.loss].title}")
    ss.toy_phase = 0
    return registry.create(cfg, ss.toy_data, compare=compare, threads=1, grid_every_s=0.15, max_frames=0)


control = RunControl(registry, key="toy_run_id", create=new_run, error_key="toy_error",
                     on_reset=lambda: st.query_params.pop("run", None))
run, watching = control.attach()            # another session's run, from a shared link, is only watched
if watching:
    toy_ui.show_run_recipe(run)
    current_run = lambda: registry.get(run.id)     # the panels follow the watched run
else:
    current_run = control.current


def on_live_change() -> None:
    r = current_run()
    if r is not None and r.alive and not watching:
        r.set_hyperparameters(lr_g=float(ss.toy_lr_g), lr_d=float(ss.toy_lr_d), d_steps=int(ss.toy_d_steps),
                              g_steps=int(ss.toy_g_steps), loss=ss.toy_loss if len(r.lanes) == 1 else None)


locked = run is not None
with st.sidebar:
    st.subheader("Data and recipe")
    if watching:
        toy_ui.watched_data_ui(run.lanes[0].dataset)
        choice = None
    else:
        choice = toy_ui.data_ui(locked)
    toy_ui.recipe_ui(locked, on_live_change, read_only=watching)
    if watching:
        st.caption("The watched run's recipe, as it trains now. Start your own run to change it.")
    elif locked:
        st.caption("The loss, learning rates and D / G steps change the running nets at once; Reset to change "
                   "the rest.")
    show = toy_panels.layers_ui()
    urlstate.problems_ui("toy")
urlstate.store("toy", URL)

if watching:
    toy = run.lanes[0].dataset
elif choice in TOYS:
    toy = TOYS[choice]
elif choice == toy_ui.THEORY:
    toy = toy_ui.theory_toy()
else:
    with st.expander("Your own data", expanded=run is None):
        toy = toy_ui.drawing_ui(locked) if choice == toy_ui.DRAWN else toy_ui.upload_ui(locked)
if toy is None and run is not None:
    toy = run.lanes[0].dataset              # e.g. a run started from a watched run's drawing: its own copy
if toy is None:
    st.stop()
ss.toy_data = toy


state = run.state if run else None
running = state == RUNNING
if watching:
    slow = False
    watch_note_ui(run, control)
else:
    slow = st.toggle("Slow motion: walk through one iteration phase by phase", key="toy_slow", disabled=running,
                     help="GAN Lab's slow-motion mode: G makes fakes, D judges, D learns, G's loss pushes each "
                          "fake, G learns.")
    cols = st.columns(6)
    cols[0].button("Resume" if state == "paused" else "Play", on_click=control.start, type="primary",
                   width="stretch", disabled=running or slow or state in ENDED, icon=":material/play_arrow:")
    cols[1].button("Pause", on_click=control.pause, disabled=not running, width="stretch",
                   icon=":material/pause:")
    cols[2].button("D step", on_click=control.step, args=("d",), disabled=running or slow or state in ENDED,
                   width="stretch", help="One discriminator update alone.")
    cols[3].button("G step", on_click=control.step, args=("g",), disabled=running or slow or state in ENDED,
                   width="stretch", help="One generator update alone.")
    cols[4].button("Iteration", on_click=control.step, args=("both",), disabled=running or slow or state in ENDED,
                   width="stretch", help="D steps, then G steps, as set in the sidebar.")
    cols[5].button("Reset", on_click=control.reset, disabled=run is None, width="stretch",
                   icon=":material/restart_alt:")
if control.error():
    st.error(control.error())

if slow:
    toy_panels.slow_motion_ui(control)
    run = current_run()
if run is None:
    picture = ("The plane shows D's verdict everywhere (green: real, purple: fake), the real and fake samples, "
               "and an arrow on each fake: where the generator's loss pushes it." if toy.dim == 2 else
               "Above: p_data and the generator's p_g. Below: the discriminator D(x) it learns, drawn over the "
               "optimal D*(x) = p_data / (p_data + p_g) for the current p_g.")
    st.info("Press **Play** to train, or step through the game with **D step**, **G step** and **Iteration**. "
            + picture)
    toy_panels.preview_ui(toy, show, big=presenter.active())
    st.stop()

toy_panels.live_ui(current_run, show, running=running, slow=slow, stepping=control.stepping(run),
                   big=presenter.active())
