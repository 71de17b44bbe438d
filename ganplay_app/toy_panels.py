"""The Toy lab's live panels: the plane or the line for each lane, the numbers beside them, the curves below,
and the slow-motion walk through one iteration. Charts are Vega-Lite specs from `ganplay.figures.toy` whose
spec stays the same from frame to frame, so the browser updates them in place.
"""
from __future__ import annotations

import math

import streamlit as st

from ganplay.figures.toy import (TOY_COLORS, discriminator_chart, history_chart, line_chart, plane_chart,
                                 with_data)
from ganplay.live import RUNNING, preview_view
from ganplay.toy import LineView, PlaneView
from ganplay_app import toy_ui
from ganplay_app.run_ui import STEPPING

LANE_COLORS = ["#0072B2", "#D55E00", "#009E73", "#7B3294"]
REFRESH_S = 0.2                      # five redraws a second while training
NUMBERS_REFRESH_S = 0.5             # the tiles beside it: twice a second
CURVES_REFRESH_S = 1.0               # the curves: once a second (the browser's costliest redraw per point)
PLANE_SIZES = {1: 420, 2: 290, 3: 290, 4: 290}      # side by side: two planes a row, each fits half the page
BIG_PLANE = 470                                     # presenter mode: one plane, as large as 720 px allows
LAYER_NAMES = {"heat": "D's output", "real": "real", "fake": "fake", "arrows": "G's push", "manifold": "manifold"}

# GAN Lab's slow-motion phases (five per iteration here): what to watch, which layers to show, what to do.
PHASES = [
    ("1 · The generator draws fakes", "G maps the same fixed batch of noise z to the points G(z) (orange). "
     "Real samples are green.", {"real", "fake", "manifold"}, None),
    ("2 · The discriminator judges the plane", "D's verdict everywhere: green where it says *real*, purple where "
     "it says *fake*.", {"heat", "real", "fake", "manifold"}, None),
    ("3 · The discriminator learns", "One D update on a real and a fake batch: its verdict sharpens around the "
     "data and away from the fakes.", {"heat", "real", "fake", "manifold"}, "d"),
    ("4 · G's loss pushes each fake", "The arrows are −∂L_G/∂x for each fake: the way the generator's loss "
     "wants it to move, given D's verdict.", {"heat", "real", "fake", "arrows", "manifold"}, None),
    ("5 · The generator learns", "One G update: the fakes move along their arrows (as far as G's weights let "
     "them), and the game goes on.", {"heat", "real", "fake", "arrows", "manifold"}, "g"),
]


def layers_ui() -> frozenset[str]:
    chosen = st.pills("Show on the plane", list(LAYER_NAMES), format_func=LAYER_NAMES.get, selection_mode="multi",
                      default=list(LAYER_NAMES), key="toy_layers")
    return frozenset(chosen or [])


def preview_ui(toy, show: frozenset[str], big: bool = False) -> None:
    """Before a run: the data and the untrained game, so the page is never empty (`big`: presenter mode)."""
    try:
        view = preview_view(toy_ui.config_from_state(toy.dim, toy.name), toy)
    except ValueError as err:
        st.error(str(err))
        return
    _draw_view(view, "preview", BIG_PLANE if big else PLANE_SIZES[1], show)


def _draw_view(view, key: str, size: int, show: frozenset[str], title: str = "") -> None:
    if isinstance(view, PlaneView):
        df, spec = plane_chart(view, size=size, show=show, title=title)
        st.vega_lite_chart(None, with_data(df, spec), key=f"{key}_plane", width="content", theme=None)
    elif isinstance(view, LineView):
        df, spec = line_chart(view, width=size + 160, height=260, title=title)
        st.vega_lite_chart(None, with_data(df, spec), key=f"{key}_line", theme=None)
        df, spec = discriminator_chart(view, width=size + 160, height=220, title="learned D(x) and the optimal D*")
        st.vega_lite_chart(None, with_data(df, spec), key=f"{key}_d", theme=None)
    else:
        st.info("Only 1-D and 2-D data are drawn.")


def _recent_mean(values: list[float], n: int = 20) -> float:
    v = [x for x in values[-n:] if math.isfinite(x)]
    return sum(v) / len(v) if v else float("nan")


def _tiles(lane, speed: float | None, per_row: int = 2, message: bool = True) -> None:
    """The key numbers of one lane, `per_row` tiles a row."""
    view, hist = lane.view, lane.history
    tiles = [("Iteration", f"{lane.view_step:,}", "D steps, then G steps: one round of the game.")]
    if speed is not None:
        tiles.append(("Iter. / s", f"{speed:.0f}", "Iterations per second over the last few seconds."))
    if getattr(view, "modes", None) is not None:
        m = view.modes
        tiles += [("Modes", f"{m.captured} / {m.total}", "Modes captured (PacGAN): with at least one "
                   "high-quality sample among 2,500."),
                  ("High quality", f"{m.high_quality:.0%}", "Samples within 3σ of their nearest mode (PacGAN, "
                   "VEEGAN). Perfect samples score 98.9 % in 2-D."),
                  ("Mode KL", f"{m.reverse_kl:.2f}" if math.isfinite(m.reverse_kl) else "∞",
                   "Reverse KL of the high-quality samples' mode histogram to uniform, nats: 0 when every "
                   "mode gets its share, log K when one mode has them all.")]
    if isinstance(view, LineView):
        tiles.append(("JSD", f"{view.jsd:.3f}", "JSD(p_data, p_g) in nats, on the grid; at most log 2 = 0.693."))
    if hist["step"]:
        tiles += [("D(x)", f"{_recent_mean(hist['d_real']):.2f}", "Mean D on real batches, last 20 iterations."),
                  ("D(G(z))", f"{_recent_mean(hist['d_fake']):.2f}", "Mean D on fake batches, last 20 iterations.")]
    for row in range(0, len(tiles), per_row):
        for col, (label, value, help_text) in zip(st.columns(per_row), tiles[row:row + per_row]):
            col.metric(label, value, help=help_text)
    if lane.message and message:         # a lone run's message is the run's, shown once above its plane
        st.error(lane.message)


def _merged(lanes, source: str, key: str) -> tuple[dict, list]:
    """One history dict with a column per lane for one metric (lanes step together, so steps align)."""
    cols = [getattr(lane, source) for lane in lanes]
    n = min(len(c["step"]) for c in cols)
    merged = {"step": cols[0]["step"][:n]}
    keys = []
    for i, (lane, c) in enumerate(zip(lanes, cols)):
        merged[f"lane{i}"] = c[key][:n]
        keys.append((f"lane{i}", lane.name.split(" · ")[-1] if len(lanes) > 1 else lane.name, LANE_COLORS[i]))
    return merged, keys


def _curves(lanes, stacked: bool = False, width: int = 520, height: int = 240) -> None:
    """Losses and the lanes' mode counts (2-D mixtures) or JSD (1-D), side by side or stacked."""
    first = lanes[0]
    c1, c2 = (st.container(), st.container()) if stacked else st.columns(2)
    with c1:
        if len(lanes) == 1:
            df, spec = history_chart(first.history, [("d_loss", "D loss", TOY_COLORS["data"]),
                                                     ("g_loss", "G loss", TOY_COLORS["gen"])],
                                     width=width, height=height, title="Losses", y_title="loss")
        else:
            merged, keys = _merged(lanes, "history", "g_loss")
            df, spec = history_chart(merged, keys, width=width, height=height, title="G loss", y_title="loss")
        st.vega_lite_chart(None, with_data(df, spec), key="toy_losses", theme=None)
    with c2:
        if isinstance(first.view, PlaneView) and first.view.modes is not None:
            merged, keys = _merged(lanes, "probes", "modes")
            df, spec = history_chart(merged, keys, width=width, height=height, title="Modes captured",
                                     y_title="modes", y_domain=[0, first.view.modes.total])
        elif isinstance(first.view, LineView):
            merged, keys = _merged(lanes, "probes", "jsd")
            df, spec = history_chart(merged, keys, width=width, height=height, title="JSD(p_data, p_g)",
                                     y_title="nats", y_domain=[0, 0.75], rules=[(math.log(2), "log 2")])
        else:
            merged, keys = _merged(lanes, "history", "d_fake")
            df, spec = history_chart(merged, keys, width=width, height=height, title="mean D(G(z))", y_title="D")
        st.vega_lite_chart(None, with_data(df, spec), key="toy_probe", theme=None)


def live_ui(current_run, show: frozenset[str], running: bool, slow: bool, stepping: bool = False,
            big: bool = False) -> None:
    """The game at 5 redraws a second and the curves once a second (the curves cost the browser most).
    `stepping`: a step button's step has not landed yet, so the game polls until it has. `big`: presenter mode,
    a single plane drawn larger."""
    r = current_run()
    lanes = r.snapshot(with_history=False).lanes
    single = len(lanes) == 1
    visible = slow_layers(show) if slow else show

    @st.fragment(run_every=REFRESH_S if running or stepping else None)
    def game() -> None:
        r = current_run()
        if r is None:
            return
        r.heartbeat()
        snap = r.snapshot(with_history=False)
        if (snap.state == RUNNING) != running or (stepping and not snap.steps_pending):
            st.rerun()                       # started or stopped elsewhere, or the step landed: buttons, refresh
        if snap.steps_pending:
            st.caption(STEPPING)
        if snap.message and snap.state != RUNNING:
            (st.error if snap.state == "diverged" else st.info)(snap.message)
        speed = snap.steps_per_second if snap.state == RUNNING else None
        if single:
            _draw_view(snap.lanes[0].view, "lane0", BIG_PLANE if big else PLANE_SIZES[1], visible)
            ema = snap.lanes[0].config.train.g_ema
            st.caption(f"iteration {snap.lanes[0].view_step:,}" + (f" · {speed:.0f} / s" if speed else "")
                       + (f" · fake dots from the moving average of G's weights (decay {ema:g}); the arrows are "
                          f"D's push on them" if ema else ""))
            return
        st.caption(f"{len(snap.lanes)} recipes on the same data and seed, one step each in turn on one worker: "
                   f"each trains at 1/{len(snap.lanes)} of the speed it would alone.")
        for row in range(0, len(snap.lanes), 2):
            for col, i in zip(st.columns(2, gap="medium"), range(row, min(row + 2, len(snap.lanes)))):
                lane = snap.lanes[i]
                with col:
                    colour = LANE_COLORS[i]
                    st.markdown(f"<span style='color:{colour}'>●</span> **{lane.name.split(' · ')[-1]}**",
                                unsafe_allow_html=True)
                    _draw_view(lane.view, f"lane{i}", PLANE_SIZES[len(snap.lanes)], visible)
                    _tiles(lane, speed if i == 0 else None, per_row=4)

    @st.fragment(run_every=NUMBERS_REFRESH_S if running else None)
    def numbers() -> None:
        r = current_run()
        if r is not None:
            snap = r.snapshot(with_history=False)
            _tiles(snap.lanes[0], snap.steps_per_second if snap.state == RUNNING else None, message=False)

    @st.fragment(run_every=CURVES_REFRESH_S if running else None)
    def curves() -> None:
        r = current_run()
        if r is not None:
            _curves(r.snapshot().lanes, stacked=single, width=270 if single else 520, height=170 if single else 240)

    if not running and r.trainer is not None and r.trainer.step_count > 0:
        downloads_ui(r)
    if single:
        left, right = st.columns([1.45, 1], gap="small")
        with left:
            game()
        with right:
            numbers()
            curves()
    else:
        game()
        curves()


def downloads_ui(r) -> None:
    """Each lane's checkpoint and its 2,500 samples as CSV (what `ganplay sample --out points.csv` writes)."""
    with st.expander("Download the nets and their samples", icon=":material/download:"):
        for i, lane in enumerate(r.lanes):
            if lane.trainer is None:
                continue
            name = f"ganplay-{lane.config.name.split(' · ')[0]}-{lane.config.train.loss}-it{lane.trainer.step_count}"
            c0, c1, c2 = st.columns([2, 1, 1], vertical_alignment="center")
            c0.markdown(f"**{lane.name.split(' · ')[-1]}**, iteration {lane.trainer.step_count:,}")
            c1.download_button("Checkpoint", lambda i=i: r.checkpoint(i), f"{name}.safetensors",
                               on_click="ignore", width="stretch", key=f"toy_ckpt{i}")
            c2.download_button("Samples (CSV)", lambda i=i: r.samples_csv(i), f"{name}.csv", mime="text/csv",
                               on_click="ignore", width="stretch", key=f"toy_csv_dl{i}")


def slow_layers(show: frozenset[str]) -> frozenset[str]:
    phase = st.session_state.get("toy_phase", 0)
    return show & PHASES[phase][2]


def slow_motion_ui(control) -> None:
    """The phase walk: a caption for the current phase and a Next button that performs its update."""
    ss = st.session_state
    ss.setdefault("toy_phase", 0)

    def advance() -> None:
        run = control.current()
        if (run is None or not run.alive) and control.create() is None:
            return
        ss.toy_phase = (ss.toy_phase + 1) % len(PHASES)
        part = PHASES[ss.toy_phase][3]
        if part:
            control.step(part)

    title, text, _, _ = PHASES[ss.toy_phase]
    c1, c2 = st.columns([4, 1])
    c1.info(f"**{title}.** {text}", icon=":material/slow_motion_video:")
    c2.button("Next phase", on_click=advance, type="primary", width="stretch", icon=":material/skip_next:")
    st.progress((ss.toy_phase + 1) / len(PHASES), text=f"phase {ss.toy_phase + 1} of {len(PHASES)}")


