"""What the Training page's live panel draws from one snapshot of its run: the tiles, the sample grid beside a
few real training images, the charts and the downloads.

    tiles(snap, run.trainer)
    pictures(run, snap, scrub=not running)
    charts(snap)                   # losses and D's verdicts, or what happens inside D and G (a choice)
    diagnosis(snap)                # what is going wrong, in words, with what to try
    coverage(snap)                 # which digits G draws, as the digit judge reads them
    downloads(run, snap)

Every function only reads the snapshot (and the run's exporters); the page's fragments decide when to redraw.
What redraws while a run trains costs the training speed (the browser and the page's Python share the machine),
so charts are Vega-Lite with constant specs, updated in place (ganplay.figures.vega), and pictures are encoded
once per new grid (`_png`).
"""
from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ganplay.data import FOLDER_DATASET
from ganplay.diagnose import diagnose
from ganplay.figures.training import (EMA_SPAN, coverage_bars, coverage_lines, d_histogram_chart, d_outputs_chart,
                                      ema, gradients_chart, losses_chart)
from ganplay.figures.vega import with_data
from ganplay.images import png_bytes, upscale
from ganplay.live import RunSnapshot, TrainingRun
from ganplay.live.snapshot import history_csv
from ganplay.losses import LOSSES
from ganplay_app.run_ui import state_label

SMOOTHED = (f"An exponential moving average over about the last {EMA_SPAN} recorded steps (weight 2/{EMA_SPAN + 1} "
            "on the newest), so one batch's value does not make the number jump. The chart shows every step.")


def real_caption(snap: RunSnapshot) -> str:
    """What the real images beside the samples are called, for the data the run trains on."""
    dataset = snap.config.train.dataset
    return "your images" if dataset == FOLDER_DATASET else ("real digits" if dataset == "mnist" else "real images")


def tiles(snap: RunSnapshot, trainer) -> None:
    """Step, speed, time and D's smoothed verdicts on real and generated images; then the run's state."""
    m = st.columns(5)
    m[0].metric("Step", f"{snap.step:,}" + (f" / {snap.max_steps:,}" if snap.max_steps else ""))
    m[1].metric("Steps / s", f"{snap.steps_per_second:.1f}", help="G updates per second" + (
        f", training at {trainer.precision} on {trainer.device}." if trainer else "."))   # None once freed
    m[2].metric("Training time", f"{snap.seconds:.0f} s")
    for col, key, label in ((m[3], "d_real", "D(x)"), (m[4], "d_fake", "D(G(z))")):
        values = snap.history.get(key, [])
        col.metric(label, f"{ema(values):.3f}" if values else "–", help=SMOOTHED)
    # after the tiles: a browser that reads it sees their step. The moment the digit judge first passed its bar
    # goes on the same line, so a class sees it within the tiles' half second (the coverage panel redraws every 5 s)
    reached = (snap.coverage or {}).get("recognizable_at")
    st.caption(f"Run: **{state_label(snap)}**"
               + (f" · :material/check_circle: {recognizable_text(*reached)}" if reached else ""))
    if snap.max_steps:
        st.progress(min(snap.step / snap.max_steps, 1.0))
    if snap.state == "diverged":
        st.error(snap.message)
    elif snap.message:
        st.info(snap.message)


def pictures(run: TrainingRun, snap: RunSnapshot, scrub: bool, big: bool = False) -> None:
    """The generator's grid (with a scrubber through the timeline when `scrub`) and, beside it, the same few
    real training images all run long, so the class can compare. `big` (presenter mode): the grid fills more."""
    frames = snap.timeline_steps
    if scrub and len(frames) > 1:
        pick = st.select_slider("Scrub through training", options=list(range(len(frames))),
                                value=len(frames) - 1, format_func=lambda i: f"step {frames[i]}")
        grid_step, grid = run.frame(pick)
    else:
        grid_step, grid = snap.grid_step, snap.grid
    fake, real = st.columns([3, 1] if big else [5, 2], vertical_alignment="bottom")
    fake.image(_png(("grid", snap.run_id, grid_step), grid), caption=f"G(fixed noise) at step {grid_step}",
               width="stretch" if big else "content")
    if snap.real_grid is not None:
        real.image(_png(("real", snap.run_id), snap.real_grid), caption=real_caption(snap))


def _png(key: tuple, image) -> bytes:
    """The image enlarged 2x as PNG bytes, encoded once per key (a new grid), not on every redraw; the same bytes
    give the browser the same URL, so it does not fetch or decode the picture again either."""
    cache = st.session_state.setdefault("_tr_png", {})
    if key not in cache:
        if len(cache) >= 8:
            cache.clear()
        cache[key] = png_bytes(upscale(image, 2))
    return cache[key]


CHART_VIEWS = ("Losses and D's verdicts", "Inside D and G")


def _chart(chart, key: str) -> None:
    st.vega_lite_chart(None, with_data(*chart), key=key, theme=None)


def charts(snap: RunSnapshot) -> None:
    """Two charts: the losses and what D says of real and fake (or, for a critic, its gap and penalty); or D's
    outputs as histograms over time and G's and D's gradient norms."""
    loss = LOSSES[snap.config.train.loss]
    view = st.segmented_control("Charts", CHART_VIEWS, default=CHART_VIEWS[0], key="tr_chart_view",
                                label_visibility="collapsed") or CHART_VIEWS[0]
    if view == CHART_VIEWS[0]:
        _chart(losses_chart(snap.history), "tr_losses")
        _chart(d_outputs_chart(snap.history, loss.output, gp=loss.penalty == "gp"), "tr_d_outputs")
    else:
        _chart(d_histogram_chart(snap.d_outputs, loss.output), "tr_d_histogram")
        _chart(gradients_chart(snap.history), "tr_gradients")


THEORY_PAGE = "ganplay_app/pages/theory.py"   # section 3 explains the minimax loss's saturation
THEORY_LABEL = "Theory, section 3: why the minimax loss stops teaching G"


def diagnosis(snap: RunSnapshot, compact: bool = False) -> None:
    """Each finding as an error or a warning: what is happening, what to try, and where the Theory page
    explains it. `compact` (presenter mode): the finding's first sentence only, so the grid stays in view."""
    for finding in diagnose(snap.history, snap.config.train.loss, snap.learning_rates, snap.coverage):
        show = st.error if finding.severity == "error" else st.warning
        if compact:
            show(finding.sentence.split(". ")[0].split(": ")[0] + ".", icon=":material/stethoscope:")
            continue
        show(f"{finding.sentence}\n\n**{finding.suggestion}**", icon=":material/stethoscope:")
        if finding.theory:
            try:
                st.page_link(THEORY_PAGE, label=THEORY_LABEL, icon=":material/school:")
            except StreamlitPageNotFoundError:     # the page run on its own, outside the app's navigation
                st.caption(f"{THEORY_LABEL}: on the Theory page.")


def recognizable_text(step: int, seconds: float) -> str:
    """When the digit judge first passed the bar (bench/page_overhead.py --digits reads this sentence)."""
    return f"Recognizable digits after {seconds:.0f} s of training (step {int(step):,})"


def coverage(snap: RunSnapshot) -> None:
    """The digit judge's verdict on G's fixed probe noise: a histogram, digits present, the confident share,
    and their history; for other data, a line saying why there is none."""
    if snap.coverage_refusal:
        st.caption(f"Digit coverage: {snap.coverage_refusal}.")    # e.g. "... only knows MNIST digits ..."
        return
    cov = snap.coverage
    if cov is None:
        st.caption("Digit coverage: the digit judge reads G's samples every few seconds of training.")
        return
    numbers, bars, lines = st.columns([1.6, 4, 4.4])
    numbers.metric("Digits present", f"{int(cov['classes_present'][-1])}/10",
                   help="Digits that at least 1 % of 200 samples from fixed noise are classified as.")
    numbers.metric("Confident", f"{cov['confident_fraction'][-1]:.0%}",
                   help="Samples the bundled digit classifier gives at least 90 % to one digit.")
    if cov.get("recognizable_at"):
        step, seconds = cov["recognizable_at"]
        numbers.success(recognizable_text(step, seconds), icon=":material/check_circle:")
        numbers.caption("At least 80 % confident, all 10 digits, none above 25 %: the bar `ganplay eval` uses.")
    with bars:
        _chart(coverage_bars(cov), "tr_coverage")
    with lines:
        _chart(coverage_lines(cov), "tr_coverage_lines")


def downloads(run: TrainingRun, snap: RunSnapshot) -> None:
    """Checkpoint (not once the models were freed), the grid at the final step, the GIF and the metrics."""
    d = iter(st.columns([4, 3, 3, 3]))     # the first is wide enough for "Checkpoint (.safetensors)"
    name = f"ganplay-{snap.config.name}-step{snap.step}"
    if not snap.freed:                  # the checkpoint went with the freed models; the pictures stay
        next(d).download_button("Checkpoint (.safetensors)", run.checkpoint, f"{name}.safetensors",
                                on_click="ignore", width="stretch")
    next(d).download_button("Grid (PNG)", _png(("grid", snap.run_id, snap.grid_step), snap.grid), f"{name}.png",
                            on_click="ignore", width="stretch")
    next(d).download_button("Training GIF", run.timeline_gif, f"{name}.gif", on_click="ignore", width="stretch")
    next(d).download_button("Metrics (CSV)", lambda: history_csv(snap.history), f"{name}-metrics.csv",
                            mime="text/csv", on_click="ignore", width="stretch", help="One row per recorded step: the losses, "
                            "D's mean outputs and the gradient norms the charts draw.")
