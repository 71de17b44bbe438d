"""The Training page's "Side by side" mode: two recipes from one seed on the same MNIST batches, trained one
step each in turn on one worker (ganplay.compare), their grids drawn at the same step and their curves overlaid.

    compare_ui.page()        # called by pages/training.py when the mode switch says "Side by side"

The recipes differ in one thing, the loss or the learning rate, picked in the sidebar; everything else is the
chosen preset's. The run is a normal live run (the registry's cap and thread share apply), steered with the same
RunControl as the live page, under its own session key, so a live run and a side-by-side run never mix.
"""
from __future__ import annotations

import streamlit as st

from ganplay.compare import recipe_name, side_by_side
from ganplay.config import RunConfig
from ganplay.figures.compare import compare_chart, with_data
from ganplay.images import upscale
from ganplay.live import ENDED, RUNNING
from ganplay.losses import LOSSES
from ganplay.presets import IMAGE_PRESETS, preset, preset_title
from ganplay_app import resources
from ganplay_app.run_ui import RunControl, state_label

WHAT = {"loss": "Loss", "lr": "Learning rate"}
HALF_MACHINE = ("Both train on one worker, one step each in turn, so **each runs at about half the speed** of a "
                "lone live run.")
SAME = "Same seed: the same starting G and D, the same fixed noise, the same real batches in the same order."


def _defaults() -> None:
    ss = st.session_state
    if "cmp_preset" not in ss:
        cfg = preset("lecture")
        ss.update(cmp_preset="lecture", cmp_what="loss", cmp_loss_a="minimax", cmp_loss_b="nonsaturating",
                  cmp_lr_a=cfg.train.lr_g, cmp_lr_b=cfg.train.lr_g / 10, cmp_seed=0, cmp_steps=2000)


def recipes_ui(locked: bool) -> list[RunConfig]:
    """The two recipes the sidebar describes, each named by what differs."""
    ss = st.session_state
    _defaults()
    st.selectbox("Preset", list(IMAGE_PRESETS), key="cmp_preset", format_func=preset_title, disabled=locked)
    st.radio("Compare", list(WHAT), key="cmp_what", format_func=WHAT.get, horizontal=True, disabled=locked)
    if ss.cmp_what == "loss":               # full width: a loss's title does not fit half the sidebar
        st.selectbox("Recipe A", list(LOSSES), key="cmp_loss_a", format_func=lambda n: LOSSES[n].title,
                     disabled=locked)
        st.selectbox("Recipe B", list(LOSSES), key="cmp_loss_b", format_func=lambda n: LOSSES[n].title,
                     disabled=locked)
    a, b = st.columns(2)
    if ss.cmp_what != "loss":
        a.number_input("A: learning rate", 1e-6, 1.0, key="cmp_lr_a", format="%.1e", step=1e-4, disabled=locked)
        b.number_input("B: learning rate", 1e-6, 1.0, key="cmp_lr_b", format="%.1e", step=1e-4, disabled=locked,
                       help="For G and D alike.")
    a.number_input("Seed", 0, 2**31 - 1, key="cmp_seed", disabled=locked)
    b.number_input("Steps (0: until stopped)", 0, 1_000_000, step=500, key="cmp_steps", disabled=locked)
    base = preset(ss.cmp_preset).replace(**{"train.seed": int(ss.cmp_seed)})
    out = []
    for side in ("a", "b"):
        changes = ({"train.loss": ss[f"cmp_loss_{side}"]} if ss.cmp_what == "loss" else
                   {"train.lr_g": float(ss[f"cmp_lr_{side}"]), "train.lr_d": float(ss[f"cmp_lr_{side}"])})
        cfg = base.replace(**changes)
        out.append(cfg.replace(name=f"{side.upper()} · {recipe_name(cfg, ss.cmp_what)}"))
    return out


def page() -> None:
    ss = st.session_state
    registry = resources.run_registry()
    error = resources.dataset_status().get("mnist")
    if error is not None:
        st.info(f"Side by side trains on MNIST, which is not here yet: {error} Switch to **Train live** to "
                "download it, or **Replay a recording**, which needs no data.")
        return
    run = registry.get(ss.get("cmp_run_id"))
    locked = run is not None and run.alive
    with st.sidebar:
        st.subheader("Side by side")
        configs = recipes_ui(locked)
    st.caption(f"{SAME} {HALF_MACHINE}")

    def new_run():
        return side_by_side(registry, configs, resources.dataset("mnist"), max_steps=int(ss.cmp_steps) or None)

    control = RunControl(registry, key="cmp_run_id", create=new_run, error_key="cmp_error")
    state = run.state if run else None
    running = state == RUNNING
    cols = st.columns(4)
    cols[0].button("Resume" if state == "paused" else "Start", on_click=control.start, type="primary",
                   disabled=running, width="stretch", key="compare_start")
    cols[1].button("Pause", on_click=control.pause, disabled=not running, width="stretch", key="compare_pause")
    cols[2].button("Stop", on_click=control.stop, disabled=not locked, width="stretch", key="compare_stop")
    cols[3].button("Reset", on_click=control.reset, disabled=run is None, width="stretch", key="compare_reset")
    if control.error():
        st.error(control.error())
    if run is None:
        st.info("Pick two recipes in the sidebar and press **Start**: both grids below come from the same 64 "
                "noise codes, drawn at the same step.")
        return

    @st.fragment(run_every=0.5 if running else (None if state in ENDED else 5.0))
    def live_panel() -> None:
        r = control.current()
        if r is None:
            return
        r.heartbeat()
        snap = r.snapshot()
        if snap.state != state:
            st.rerun()
        lanes_panel(snap)

    live_panel()


def lanes_panel(snap) -> None:
    """Each recipe's grid at the shared step, then the overlaid curves (one chart per metric, a colour each)."""
    st.caption(f"Run: **{state_label(snap)}** · step {snap.step:,}" +
               (f" / {snap.max_steps:,}" if snap.max_steps else "") + f" · {snap.steps_per_second:.1f} steps/s")
    names = [lane.name for lane in snap.lanes]
    *grids, charts = st.columns([3] * len(snap.lanes) + [5])
    for col, lane in zip(grids, snap.lanes):
        col.image(upscale(lane.view, 2), output_format="PNG", caption=f"{lane.name} · step {lane.view_step}")
        if lane.message:
            col.error(lane.message)
    histories = [lane.history for lane in snap.lanes]
    with charts:
        for key in ("g_loss", "d_fake"):
            datasets, spec = compare_chart(histories, names, key, width=440, height=190)
            st.vega_lite_chart(None, with_data(datasets, spec), key=f"cmp_{key}", theme=None)
