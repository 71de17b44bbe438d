"""Widgets of the Lessons page: the failure gallery's cards, "predict, then run", the fix, and the live view.

The gallery itself (recipes, fixes, the metric of each failure) is data in `ganplay.lessons.gallery`; this module
draws it. A card's run goes through the same run registry and `RunControl` as the Toy lab and the Training page,
and point runs are drawn by the Toy lab's own panels (`toy_panels.live_ui`). `?item=<slug>` opens a card.
"""
from __future__ import annotations

import math

import streamlit as st

from ganplay.config import ConfigError
from ganplay.lessons.gallery import GALLERY, GalleryItem, dataset_for
from ganplay.live import ENDED, RUNNING, TrainingRun, preview_view
from ganplay.losses import LOSSES
from ganplay_app import resources, toy_panels
from ganplay_app.run_ui import RunControl, state_label

ITEM_KEY = "lessons_item"          # the chosen card's slug (bound to ?item=)
RUN_KEY = "lessons_run_id"
RUN_ITEM_KEY = "lessons_run_item"  # the slug the current run belongs to
FIXED_KEY = "lessons_fixed"        # the fix was applied (live) or the fixed recipe started, at this iteration
LAYERS = frozenset(toy_panels.LAYER_NAMES)
DIGIT_REFRESH_S = 0.5


def guess_key(slug: str) -> str:
    return f"lessons_guess_{slug}"


def choose_item() -> GalleryItem:
    """The card menu. The first draw opens the card the URL names (?item=slug); the choice is written back to
    the URL so a lecturer can bookmark a card. An unknown slug is said in words and the first card opens."""
    ss = st.session_state
    wanted = st.query_params.get("item")
    if ss.get(ITEM_KEY) not in GALLERY:
        ss[ITEM_KEY] = wanted if wanted in GALLERY else next(iter(GALLERY))
        if wanted is not None and wanted not in GALLERY:
            ss["lessons_bad_item"] = wanted
    slug = st.selectbox("Failure", list(GALLERY), format_func=lambda s: GALLERY[s].title, key=ITEM_KEY,
                        on_change=_on_item_change,
                        help="One click shows a failure, seeded so it happens the same way in front of every "
                             "class; a second click applies the fix. The address bar keeps the card (?item=).")
    st.query_params["item"] = slug
    bad = ss.get("lessons_bad_item")
    if bad:
        st.warning(f"There is no lesson called “{bad}”; the gallery's are: {', '.join(GALLERY)}.")
    return GALLERY[slug]


def _on_item_change() -> None:
    st.session_state.pop("lessons_bad_item", None)
    discard_run()


def discard_run() -> None:
    """Free the current run (another card was chosen, or Reset)."""
    ss = st.session_state
    run_id = ss.pop(RUN_KEY, None)
    if run_id:
        resources.run_registry().discard(run_id)
    for key in (RUN_ITEM_KEY, FIXED_KEY, PREDICTED_KEY, "lessons_error"):
        ss.pop(key, None)


def item_data(item: GalleryItem):
    """The data the card trains on: a toy distribution, or the app's shared MNIST (DataError if absent)."""
    return dataset_for(item, None if item.is_points else resources.dataset(item.dataset))


def new_run(item: GalleryItem, fixed: bool) -> TrainingRun:
    recipe = item.fix.recipe if fixed else item.recipe
    run = resources.run_registry().create(recipe, item_data(item), threads=1,
                                          grid_every_s=0.15 if item.is_points else 1.0, max_frames=0)
    st.session_state[RUN_ITEM_KEY] = item.slug
    return run


def control_for(item: GalleryItem) -> RunControl:
    return RunControl(resources.run_registry(), key=RUN_KEY, create=lambda: new_run(item, fixed=False),
                      error_key="lessons_error", on_reset=lambda: discard_run())


def apply_fix(item: GalleryItem, control: RunControl) -> None:
    """The card's second click: switch the running game (live fix), or start the fixed recipe as a new run."""
    ss = st.session_state
    run = control.current()
    if item.fix.is_live:
        if run is None:
            ss["lessons_error"] = "Start the run first: the fix is applied to the running game."
            return
        if not run.alive:
            ss["lessons_error"] = "This run has ended, so there is no game left to fix: press Reset, then Start."
            return
        try:
            run.set_hyperparameters(**item.fix.live)
        except ConfigError as err:
            ss["lessons_error"] = str(err)
            return
        ss[FIXED_KEY] = run.snapshot(with_history=False).step
        if run.state != RUNNING:
            run.start()
        return
    discard_run()
    try:
        fixed_run = new_run(item, fixed=True)
    except Exception as err:  # noqa: BLE001 - the same user errors RunControl shows, in words
        ss["lessons_error"] = str(err)
        return
    ss[RUN_KEY] = fixed_run.id
    ss[FIXED_KEY] = 0
    fixed_run.start()


PREDICTED_KEY = "lessons_predicted"    # the answer chosen before Start (the radio is gone once revealed)


def prediction_ui(item: GalleryItem, revealed: bool) -> None:
    """The question before the run; after Start, whether the prediction was right."""
    p = item.prediction
    if not revealed:
        st.radio(f"**Predict first.** {p.question}", range(len(p.answers)), index=None,
                 format_func=lambda i: p.answers[i], key=guess_key(item.slug))
        st.caption("Choose an answer (or not), then press **Start** to see.")
        return
    choice = st.session_state.get(PREDICTED_KEY)
    answer = p.answers[p.correct]
    if choice is None:
        st.info(f"{p.question} **{answer}**", icon=":material/lightbulb:")
    elif choice == p.correct:
        st.success(f"{p.question} Your prediction was right: **{answer}**", icon=":material/check_circle:")
    else:
        st.warning(f"{p.question} Not quite: you said “{p.answers[choice]}”. The answer: **{answer}**",
                   icon=":material/help:")


def start(item: GalleryItem, control: RunControl) -> None:
    """Start (or resume) the card's run, keeping the prediction made before it."""
    ss = st.session_state
    if control.current() is None:
        ss[PREDICTED_KEY] = ss.get(guess_key(item.slug))
    control.start()


def buttons_ui(item: GalleryItem, control: RunControl, run: TrainingRun | None) -> None:
    ss = st.session_state
    state = run.state if run else None
    fixed = ss.get(FIXED_KEY) is not None
    c = st.columns([1, 1, 1.6, 1])
    c[0].button("Resume" if state == "paused" else "Start", on_click=start, args=(item, control), type="primary",
                width="stretch", disabled=state == RUNNING or state in ENDED, icon=":material/play_arrow:",
                key="lessons_start")
    c[1].button("Pause", on_click=control.pause, disabled=state != RUNNING, width="stretch",
                icon=":material/pause:", key="lessons_pause")
    label = "Apply the fix" if item.fix.is_live else "Start the fixed recipe"
    c[2].button(label, on_click=apply_fix, args=(item, control), disabled=run is None or fixed,
                width="stretch", icon=":material/build:", key="lessons_fix",
                help=item.fix.text if item.fix.is_live else f"{item.fix.text} {item.fix.why_not_live}")
    c[3].button("Reset", on_click=control.reset, disabled=run is None, width="stretch",
                icon=":material/restart_alt:", key="lessons_reset")
    if control.error():
        st.error(control.error())


def watch_ui(item: GalleryItem) -> None:
    st.markdown(f"**What to watch.** {item.watch}")


def why_ui(item: GalleryItem, revealed: bool) -> None:
    """Why it happens, with its formula (open once the run is revealed)."""
    with st.expander("Why it happens", expanded=revealed, icon=":material/school:"):
        st.markdown(item.why)
        st.latex(item.formula)


def fix_text_ui(item: GalleryItem) -> None:
    """The fix, whether it applies to the running game, and how the failure is measured."""
    fix = item.fix
    how = ("Applied to the running game: the class watches the same run recover." if fix.is_live
           else fix.why_not_live)
    st.markdown(f"**The fix.** {fix.text} *{how}*")
    st.caption(f"Measured by: {item.expect}. Recipe: {item.source}. "
               f"Seeded (seed {item.recipe.train.seed}): the same run every time.")


def status_ui(item: GalleryItem, current_run, running: bool) -> None:
    """What the run is doing, which recipe it trains and when the fix came in; redrawn while it trains."""

    @st.fragment(run_every=toy_panels.NUMBERS_REFRESH_S if running else None)
    def status() -> None:
        run = current_run()
        if run is None:
            return
        snap = run.snapshot(with_history=False)
        fixed_at = st.session_state.get(FIXED_KEY)
        if fixed_at is None:
            which = "the failing recipe"
        elif item.fix.is_live:
            which = f"the failing recipe, fixed live at iteration {fixed_at:,}: {describe_changes(item.fix.live)}"
        else:
            which = "the fixed recipe (a new run)"
        st.caption(f"{state_label(snap)} · iteration {snap.step:,} · {which}")

    status()


CHANGE_NAMES = {"loss": "loss", "lr_g": "G's learning rate", "lr_d": "D's learning rate", "d_steps": "D steps",
                "g_steps": "G steps"}


def describe_changes(changes: dict) -> str:
    """{"loss": "wgan-gp", "lr_d": 1e-3} -> "loss → Wasserstein + gradient penalty, D's learning rate → 0.001"."""
    def value(key, v):
        return LOSSES[v].title if key == "loss" else (f"{v:g}" if isinstance(v, float) else str(v))
    return ", ".join(f"{CHANGE_NAMES.get(k, k)} → {value(k, v)}" for k, v in changes.items())


def _recent(values: list[float], n: int = 20) -> float:
    v = [x for x in values[-n:] if math.isfinite(x)]
    return sum(v) / len(v) if v else float("nan")


def metric_ui(item: GalleryItem, current_run, running: bool) -> None:
    """The number a card's failure shows in, where the live history has it (the Toy lab's tiles show the rest)."""
    if item.metric not in ("g_grad", "d_fake"):
        return

    @st.fragment(run_every=toy_panels.NUMBERS_REFRESH_S if running else None)
    def tiles() -> None:
        r = current_run()
        if r is None:
            return
        hist = r.snapshot(with_history=False).history
        if not hist["step"]:
            return
        c1, c2 = st.columns(2)
        c1.metric("G's gradient ‖∇G‖", f"{_recent(hist['g_grad_norm']):.2e}",
                  help="The norm of G's gradient, mean of the last 20 iterations: what G learns from.")
        c2.metric("D loss", f"{_recent(hist['d_loss']):.3f}", help="Mean of the last 20 iterations.")

    tiles()


def preview_ui(item: GalleryItem) -> None:
    """Before a run: the data and the untrained game (points), so the card is never empty."""
    if not item.is_points:
        st.info("Press **Start** to train: the sample grid and the digit judge's histogram appear here.")
        return
    toy_panels._draw_view(preview_view(item.recipe, item_data(item)), "lessons_preview", 420, LAYERS)


def digits_ui(current_run, running: bool) -> None:
    """MNIST runs: the fixed-noise sample grid and the digit judge's class histogram, compact."""

    @st.fragment(run_every=DIGIT_REFRESH_S if running else None)
    def panel() -> None:
        r = current_run()
        if r is None:
            return
        r.heartbeat()
        snap = r.snapshot(with_history=False)
        if (snap.state == RUNNING) != running:
            st.rerun()
        left, right = st.columns([1, 1.3])
        if snap.grid is not None:
            left.image(snap.grid, caption=f"G(fixed noise) at iteration {snap.grid_step:,}", width=300,
                       output_format="PNG")
        with right:
            cov = snap.coverage
            if cov is None:
                st.caption(snap.coverage_refusal or "The digit judge reads the samples every 200 iterations "
                           "or 5 s of training; its first verdict appears soon.")
                return
            data = {"values": [{"digit": str(d), "share": s} for d, s in enumerate(cov["histogram"])]}
            st.vega_lite_chart(None, {**HISTOGRAM, "data": data}, key="lessons_digits", theme=None)
            st.metric("Digits present", f"{int(cov['classes_present'][-1])} / 10",
                      help="Digits with at least 1 % of 200 samples, as the bundled classifier reads them.")

    panel()


HISTOGRAM = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "title": "What the digit judge reads in 200 samples", "width": 320, "height": 180,
    "mark": {"type": "bar", "color": "#D55E00"},
    "encoding": {"x": {"field": "digit", "type": "ordinal", "sort": [str(d) for d in range(10)],
                       "axis": {"labelAngle": 0}},
                 "y": {"field": "share", "type": "quantitative", "scale": {"domain": [0, 1]},
                       "axis": {"format": "%"}}},
}


def live_ui(item: GalleryItem, control: RunControl, run: TrainingRun) -> None:
    running = run.state == RUNNING
    if item.is_points:
        toy_panels.live_ui(control.current, LAYERS, running=running, slow=False, stepping=control.stepping(run))
    else:
        if run.state in ENDED and run.snapshot(with_history=False).message:
            st.info(run.snapshot(with_history=False).message)
        digits_ui(control.current, running)
