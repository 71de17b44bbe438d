"""Widgets of the Toy lab. Each `*_ui()` draws widgets and returns plain values (a toy distribution, a recipe).

The recipe widgets keep their values in st.session_state under "toy_*" keys; choosing a preset writes that
preset's values into those keys, so everything stays editable afterwards. `url_params()` lists the data choice
and the recipe for the URL (ganplay_app.urlstate): `recipe` (the preset) plus every setting changed from it,
e.g. `?data=moons&recipe=toy-ring&loss=hinge&lr_g=0.001`. The Theory page links here with
`?data=theory&recipe=toy-1d&mu=..&sd=..&w=..` (its current p_data).
"""
from __future__ import annotations

import dataclasses
import functools

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ganplay.config import RunConfig
from ganplay.losses import LOSSES
from ganplay.models.mlp import ACTIVATIONS
from ganplay.presets import PRESETS, TOY_PRESET_NAMES, preset
from ganplay.theory import Gaussian, Mixture
from ganplay.toy import TOYS, ToyDataError, from_points, from_theory, parse_csv
from ganplay.toy.presets import point_model
from ganplay.trainer import OPTIMIZERS
from ganplay_app.urlstate import Param, choice, listed, number, real, several, whole

DRAWN, UPLOADED, THEORY = "drawn", "uploaded", "theory"
BATCH_SIZES = [16, 32, 64, 128, 150, 256, 384, 512, 1024]
EMA_DECAYS = [0.0, 0.9, 0.98, 0.99, 0.995, 0.999]
LIVE_KEYS = ("toy_lr_g", "toy_lr_d", "toy_d_steps", "toy_g_steps")
DRAW_EXTENT = 2.0            # the drawing pad spans [-2, 2]^2
DRAW_CELLS = 41


def data_label(name: str) -> str:
    if name == DRAWN:
        return "Your own: draw it"
    if name == UPLOADED:
        return "Your own: a CSV file"
    if name == THEORY:
        return "From the Theory page (1-D)"
    toy = TOYS[name]
    return toy.title if f"{toy.dim}-D" in toy.title else f"{toy.title} ({toy.dim}-D)"


def theory_link_params(p: Mixture) -> dict[str, str]:
    """The URL parameters that hand the Theory page's p_data to the Toy lab (read by theory_distribution)."""
    return {"data": THEORY, "recipe": "toy-1d", "mu": ",".join(f"{c.mu:g}" for c in p.components),
            "sd": ",".join(f"{c.sigma:g}" for c in p.components), "w": ",".join(f"{w:.4g}" for w in p.weights)}


def theory_distribution() -> Mixture | None:
    """The Theory page's p_data passed in the URL (mu, sd, w as comma lists), or None if absent or invalid."""
    q = st.query_params
    try:
        mus = [float(v) for v in q.get("mu", "").split(",") if v]
        sds = [float(v) for v in q.get("sd", "").split(",") if v]
        ws = [float(v) for v in q.get("w", "").split(",") if v] or [1.0] * len(mus)
        if not mus or len(mus) != len(sds) or len(ws) != len(mus) or len(mus) > 5:
            return None
        return Mixture(tuple(Gaussian(m, s) for m, s in zip(mus, sds)), tuple(ws))
    except ValueError:
        return None


def state_from_config(cfg: RunConfig, name: str) -> dict:
    """The recipe widgets' values (by session-state key) that show a point model's `cfg` (preset `name`)."""
    t, m = cfg.train, cfg.model
    return {
        "toy_preset": name, "toy_loss": t.loss, "toy_g_depth": len(m.generator.hidden),
        "toy_g_width": m.generator.hidden[0], "toy_d_depth": len(m.discriminator.hidden),
        "toy_d_width": m.discriminator.hidden[0], "toy_act": m.generator.activation, "toy_latent": m.latent_dim,
        "toy_prior": m.prior, "toy_opt_g": t.optimizer, "toy_opt_d": t.optimizer_d or t.optimizer,
        "toy_lr_g": t.lr_g, "toy_lr_d": t.lr_d, "toy_d_steps": t.d_steps, "toy_g_steps": t.g_steps,
        "toy_batch": t.batch_size, "toy_real_label": t.real_label, "toy_seed": t.seed, "toy_g_ema": t.g_ema,
    }


@functools.cache
def _preset_state(name: str) -> dict:
    return state_from_config(preset(name), name)


def load_preset_into_state(name: str) -> None:
    st.session_state.update(_preset_state(name))


def ensure_recipe() -> None:
    """The first time a session shows the page: the default recipe in the widgets."""
    if "toy_preset" not in st.session_state:
        load_preset_into_state("toy-ring")


def data_options() -> list[str]:
    """The Data menu's choices: the registry, the user's own, and the Theory page's p_data if the URL has it."""
    return list(TOYS) + [DRAWN, UPLOADED] + ([THEORY] if theory_distribution() is not None else [])


def _preset_value(key: str):
    return lambda ss: _preset_state(ss["toy_preset"])[key]


def url_params(options: list[str]) -> list[Param]:
    """The data choice and the recipe as URL parameters: `recipe` (the preset) first, since it loads all its
    values, then each setting the URL names only when it differs from the preset's value."""
    def data(text: str) -> str:
        if text == THEORY and THEORY not in options:
            raise ValueError("the Theory page's p_data needs mu, sd and w in the URL too")
        return choice(options, "data")(text)

    by_preset = [
        ("loss", "toy_loss", choice(list(LOSSES), "loss"), str),
        ("lr_g", "toy_lr_g", number(1e-6, 10.0), real), ("lr_d", "toy_lr_d", number(1e-6, 10.0), real),
        ("d_steps", "toy_d_steps", number(1, 10, integer=True), whole),
        ("g_steps", "toy_g_steps", number(1, 10, integer=True), whole),
        ("g_layers", "toy_g_depth", number(1, 6, integer=True), whole),
        ("g_width", "toy_g_width", number(2, 512, integer=True), whole),
        ("d_layers", "toy_d_depth", number(1, 6, integer=True), whole),
        ("d_width", "toy_d_width", number(2, 512, integer=True), whole),
        ("act", "toy_act", choice(list(ACTIVATIONS), "activation"), str),
        ("latent", "toy_latent", number(1, 16, integer=True), whole),
        ("prior", "toy_prior", choice(["normal", "uniform"], "prior"), str),
        ("batch", "toy_batch", choice(BATCH_SIZES, "batch size"), whole),
        ("opt_g", "toy_opt_g", choice(list(OPTIMIZERS), "optimiser"), str),
        ("opt_d", "toy_opt_d", choice(list(OPTIMIZERS), "optimiser"), str),
        ("real_label", "toy_real_label", number(0.5, 1.0), real),
        ("seed", "toy_seed", number(0, 2**31 - 1, integer=True), whole),
        ("g_ema", "toy_g_ema", choice(EMA_DECAYS, "decay", name=real), real),
    ]
    return [
        Param("data", "toy_data_choice", data, default="ring8"),
        Param("recipe", "toy_preset", choice(list(TOY_PRESET_NAMES), "recipe"), default="toy-ring",
              apply=load_preset_into_state),
        *(Param(key, state, parse, fmt, _preset_value(state)) for key, state, parse, fmt in by_preset),
        Param("compare", "toy_compare", several(list(LOSSES), "loss", most=3), listed, []),
    ]


def show_run_recipe(run) -> None:
    """Show a watched run's data and recipe in the (disabled) widgets, with the learning rates and steps in use
    now. Call before the widgets are drawn."""
    trainer = run.lanes[0].trainer
    cfg = trainer.config if trainer is not None else run.config
    name = cfg.name.split(" · ")[0]
    ss = st.session_state
    ss.update(state_from_config(cfg, name if name in TOY_PRESET_NAMES else ss.get("toy_preset", "toy-ring")))
    ss.toy_compare = [lane.config.train.loss for lane in run.lanes[1:]]
    if run.lanes[0].dataset.name in data_options():
        ss.toy_data_choice = run.lanes[0].dataset.name


def _on_preset_change() -> None:
    load_preset_into_state(st.session_state["toy_preset"])


def data_ui(locked: bool) -> str:
    """The data menu: the registry, the user's drawing or CSV, the Theory page's p_data. Returns the choice."""
    options = data_options()
    ss = st.session_state
    if ss.get("toy_data_choice") not in options:   # not set from the URL: the Theory page's p_data, else ring8
        ss.toy_data_choice = THEORY if THEORY in options else "ring8"
    choice = st.selectbox("Data", options, format_func=data_label, key="toy_data_choice", disabled=locked)
    if choice in TOYS:
        st.caption(f"{TOYS[choice].summary} *Source: {TOYS[choice].source}.*")
    return choice


def watched_data_ui(toy) -> None:
    """The data of a watched run, shown (not chosen)."""
    st.selectbox("Data", [toy.title], disabled=True, key="toy_watched_data")
    st.caption(toy.summary)


def recipe_ui(locked: bool, on_live_change, read_only: bool = False) -> tuple[RunConfig, list[str]]:
    """Preset, losses side by side and every hyperparameter. Returns (config, extra losses to compare).

    `locked`: a run exists, so only the live settings (the loss of a lone run, learning rates, D and G steps)
    stay enabled.
    `read_only`: another session's run is shown, so every widget is disabled.
    """
    ensure_recipe()
    ss = st.session_state
    live, locked = read_only, locked or read_only
    ss.toy_compare = [n for n in ss.get("toy_compare", []) if n != ss.toy_loss]   # the menu leaves the loss out
    st.selectbox("Recipe", list(TOY_PRESET_NAMES), key="toy_preset", on_change=_on_preset_change,
                 disabled=locked, help="Toy recipes; toy-ring and toy-grid are the benchmark ones (bench/).")
    st.caption(PRESETS[ss.toy_preset].description)
    # A lone run switches its loss live (the same nets, a new objective); side by side, each lane is its loss.
    side_by_side = locked and bool(ss.toy_compare)
    st.selectbox("Loss", list(LOSSES), key="toy_loss", format_func=lambda n: LOSSES[n].title,
                 disabled=live or side_by_side, on_change=on_live_change,
                 help="Side by side, each run keeps its loss." if side_by_side else
                 "Switches a running game from its next update on: the nets and their optimisers stay.")
    compare = st.multiselect(
        "Side by side: also train with", [n for n in LOSSES if n != ss.toy_loss], key="toy_compare",
        format_func=lambda n: LOSSES[n].title, max_selections=3, disabled=locked,
        help="The same data, seed and settings under other losses, trained step for step on one worker.")
    c1, c2 = st.columns(2)
    c1.number_input("G learning rate", 1e-6, 10.0, format="%.1e", step=1e-4, key="toy_lr_g",
                    on_change=on_live_change, disabled=live)
    c2.number_input("D learning rate", 1e-6, 10.0, format="%.1e", step=1e-4, key="toy_lr_d",
                    on_change=on_live_change, disabled=live)
    c1.number_input("D steps / iteration", 1, 10, key="toy_d_steps", on_change=on_live_change, disabled=live)
    c2.number_input("G steps / iteration", 1, 10, key="toy_g_steps", on_change=on_live_change, disabled=live)
    with st.expander("Networks, optimisers, batch, seed"):
        n1, n2 = st.columns(2)
        n1.number_input("G hidden layers", 1, 6, key="toy_g_depth", disabled=locked)
        n2.number_input("G width", 2, 512, key="toy_g_width", disabled=locked)
        n1.number_input("D hidden layers", 1, 6, key="toy_d_depth", disabled=locked)
        n2.number_input("D width", 2, 512, key="toy_d_width", disabled=locked)
        n1.selectbox("Activation", list(ACTIVATIONS), key="toy_act", disabled=locked)
        n2.number_input("Noise z dimension", 1, 16, key="toy_latent", disabled=locked,
                        help="1 or 2 draws the generator's manifold on the plane.")
        n1.radio("Noise prior", ["normal", "uniform"], key="toy_prior", horizontal=True, disabled=locked,
                 format_func={"normal": "N(0, I)", "uniform": "U[-1, 1)"}.get)
        n2.select_slider("Batch size", BATCH_SIZES, key="toy_batch", disabled=locked)
        n1.selectbox("G optimiser", list(OPTIMIZERS), key="toy_opt_g", disabled=locked)
        n2.selectbox("D optimiser", list(OPTIMIZERS), key="toy_opt_d", disabled=locked)
        n1.slider("Real label", 0.5, 1.0, step=0.05, key="toy_real_label", disabled=locked)
        n2.number_input("Seed", 0, 2**31 - 1, key="toy_seed", disabled=locked)
        n1.selectbox("Average G's weights", EMA_DECAYS, key="toy_g_ema", disabled=locked,
                     format_func=lambda d: "off" if d == 0 else f"decay {d:g}",
                     help="Draw the fakes from a running average of G's weights (an exponential moving "
                          "average, as StyleGAN and BigGAN sample): the game still moves G, the average "
                          "smooths out its oscillation.")
    return config_from_state(), list(compare)


def config_from_state(dim: int | None = None, dataset: str | None = None) -> RunConfig:
    """The RunConfig the widgets describe, for data of `dim` dimensions (may be invalid: the trainer checks)."""
    ss = st.session_state
    base = preset(ss.toy_preset)
    dim = dim or base.model.data_shape[0]
    model = point_model(dim, int(ss.toy_latent), (int(ss.toy_g_width),) * int(ss.toy_g_depth),
                        (int(ss.toy_d_width),) * int(ss.toy_d_depth), ss.toy_act, ss.toy_prior,
                        g_output=base.model.generator.output)
    cfg = base.replace(model=dataclasses.asdict(model))
    return cfg.replace(**{
        "train.loss": ss.toy_loss, "train.optimizer": ss.toy_opt_g,
        "train.optimizer_d": "" if ss.toy_opt_d == ss.toy_opt_g else ss.toy_opt_d,
        "train.lr_g": float(ss.toy_lr_g), "train.lr_d": float(ss.toy_lr_d), "train.d_steps": int(ss.toy_d_steps),
        "train.g_steps": int(ss.toy_g_steps), "train.batch_size": int(ss.toy_batch),
        "train.real_label": float(ss.toy_real_label), "train.seed": int(ss.toy_seed),
        "train.g_ema": float(ss.toy_g_ema),
        "train.dataset": dataset or base.train.dataset,
    })


def compare_configs(cfg: RunConfig, losses: list[str]) -> list[RunConfig]:
    """The side-by-side recipes: `cfg` with each other loss swapped in (named by the loss)."""
    return [cfg.replace(name=f"{cfg.name} · {LOSSES[n].title}", **{"train.loss": n}) for n in losses]


# -- the user's own data --------------------------------------------------------------------------------------
def _pad_points() -> np.ndarray:
    g = np.linspace(-DRAW_EXTENT, DRAW_EXTENT, DRAW_CELLS)
    return np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)


def drawing_ui(locked: bool):
    """A pad to lasso or box-select points on; selections add up. Returns the ToyDistribution or None."""
    ss = st.session_state
    drawn = ss.get("toy_drawn", np.zeros((0, 2)))
    pad = _pad_points()
    fig = go.Figure([
        go.Scatter(x=pad[:, 0], y=pad[:, 1], mode="markers", marker=dict(size=7, color="#C8CDD6"),
                   hoverinfo="skip", name="pad"),
        go.Scatter(x=drawn[:, 0], y=drawn[:, 1], mode="markers", marker=dict(size=9, color="#1B7837"),
                   hoverinfo="skip", name="your data"),
    ])
    fig.update_layout(height=420, width=420, dragmode="lasso", showlegend=False, template="plotly_white",
                      margin=dict(l=30, r=10, t=10, b=30))
    fig.update_yaxes(scaleanchor="x", range=[-DRAW_EXTENT - 0.2, DRAW_EXTENT + 0.2])
    fig.update_xaxes(range=[-DRAW_EXTENT - 0.2, DRAW_EXTENT + 0.2])
    left, right = st.columns([1, 1])
    with left:
        event = st.plotly_chart(fig, key="toy_pad", on_select="rerun", selection_mode=("lasso", "box"),
                                width="content", config={"displaylogo": False})
    picked = np.array([[p["x"], p["y"]] for p in (event.selection.points if event else [])
                       if p.get("curve_number", 0) == 0], dtype=float).reshape(-1, 2)
    with right:
        st.markdown("**Draw your own data.** Lasso (or box-select) regions of the pad, then add them. "
                    "Each training sample is one of your points plus a little noise (σ 0.02), as in GAN Lab.")
        if st.button(f"Add the {len(picked)} selected points", disabled=locked or not len(picked)):
            ss.toy_drawn = np.unique(np.concatenate([drawn, picked]), axis=0)
            st.rerun()
        if st.button("Clear my drawing", disabled=locked or not len(drawn)):
            ss.toy_drawn = np.zeros((0, 2))
            st.rerun()
        st.caption(f"{len(drawn)} points so far.")
    if len(drawn) < 3:
        st.info("Select at least 3 points to train on your drawing.")
        return None
    return from_points(drawn, noise=0.02)


def upload_ui(locked: bool):
    """A CSV of 1 or 2 numeric columns (header optional). Returns the ToyDistribution or None."""
    file = st.file_uploader("A CSV file: one sample per line, 1 or 2 numeric columns (header x,y optional)",
                            type=["csv", "txt"], key="toy_csv", disabled=locked)
    if file is None:
        st.info("Upload a CSV to train on your own points.")
        return None
    try:
        points = parse_csv(file.getvalue())
        toy = from_points(points, noise=0.0, name=UPLOADED, title=f"{file.name}")
    except ToyDataError as err:
        st.error(f"That file cannot be used: {err}")
        return None
    st.caption(f"{file.name}: {len(points):,} points in {points.shape[1]}-D.")
    return toy


def theory_toy():
    p = theory_distribution()
    return None if p is None else from_theory(p, name=THEORY, title="p_data from the Theory page")
