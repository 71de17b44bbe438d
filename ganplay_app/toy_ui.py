"""Widgets of the Toy lab. Each `*_ui()` draws widgets and returns plain values (a toy distribution, a recipe).

The recipe widgets keep their values in st.session_state under "toy_*" keys; choosing a preset writes that
preset's values into those keys, so everything stays editable afterwards. The data choice and the preset are
bound to the URL. The Theory page links here with `?data=theory&mu=..&sd=..&w=..` (its current p_data).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ganplay.config import RunConfig
from ganplay.losses import LOSSES
from ganplay.presets import PRESETS, TOY_PRESET_NAMES, preset
from ganplay.theory import Gaussian, Mixture
from ganplay.toy import TOYS, ToyDataError, from_points, from_theory, parse_csv
from ganplay.models.mlp import ACTIVATIONS
from ganplay.toy.presets import point_model
from ganplay.trainer import OPTIMIZERS

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


def load_preset_into_state(name: str) -> None:
    cfg = preset(name)
    t, m = cfg.train, cfg.model
    st.session_state.update({
        "toy_preset": name, "toy_loss": t.loss, "toy_g_depth": len(m.generator.hidden),
        "toy_g_width": m.generator.hidden[0], "toy_d_depth": len(m.discriminator.hidden),
        "toy_d_width": m.discriminator.hidden[0], "toy_act": m.generator.activation, "toy_latent": m.latent_dim,
        "toy_prior": m.prior, "toy_opt_g": t.optimizer, "toy_opt_d": t.optimizer_d or t.optimizer,
        "toy_lr_g": t.lr_g, "toy_lr_d": t.lr_d, "toy_d_steps": t.d_steps, "toy_g_steps": t.g_steps,
        "toy_batch": t.batch_size, "toy_real_label": t.real_label, "toy_seed": t.seed, "toy_g_ema": t.g_ema,
    })


def _on_preset_change() -> None:
    load_preset_into_state(st.session_state["toy_preset"])


def data_ui(locked: bool) -> str:
    """The data menu: the registry, the user's drawing or CSV, the Theory page's p_data. Returns the choice."""
    options = list(TOYS) + [DRAWN, UPLOADED]
    if theory_distribution() is not None:
        options.append(THEORY)
    ss = st.session_state
    if ss.get("toy_data_choice") not in options:   # first draw: the URL's choice, else the Theory page's, else ring8
        wanted = st.query_params.get("data")
        ss.toy_data_choice = wanted if wanted in options else (THEORY if THEORY in options else "ring8")
    # The URL holds the registry name (a bound selectbox would write its label there): set here, read above.
    choice = st.selectbox("Data", options, format_func=data_label, key="toy_data_choice", disabled=locked)
    st.query_params["data"] = choice
    if choice in TOYS:
        st.caption(f"{TOYS[choice].summary} *Source: {TOYS[choice].source}.*")
    return choice


def recipe_ui(locked: bool, on_live_change) -> tuple[RunConfig, list[str]]:
    """Preset, losses side by side and every hyperparameter. Returns (config, extra losses to compare).

    `locked`: a run exists, so only the live settings (learning rates, D and G steps) stay enabled.
    """
    if "toy_preset" not in st.session_state:
        load_preset_into_state(st.query_params.get("recipe", "toy-ring")
                               if st.query_params.get("recipe") in TOY_PRESET_NAMES else "toy-ring")
    ss = st.session_state
    st.query_params["recipe"] = ss.toy_preset
    st.selectbox("Recipe", list(TOY_PRESET_NAMES), key="toy_preset", on_change=_on_preset_change,
                 disabled=locked, help="Toy recipes; toy-ring and toy-grid are the benchmark ones (bench/).")
    st.caption(PRESETS[ss.toy_preset].description)
    st.selectbox("Loss", list(LOSSES), key="toy_loss", format_func=lambda n: LOSSES[n].title, disabled=locked)
    compare = st.multiselect(
        "Side by side: also train with", [n for n in LOSSES if n != ss.toy_loss], key="toy_compare",
        format_func=lambda n: LOSSES[n].title, max_selections=3, disabled=locked,
        help="The same data, seed and settings under other losses, trained step for step on one worker.")
    c1, c2 = st.columns(2)
    c1.number_input("G learning rate", 1e-6, 10.0, format="%.1e", step=1e-4, key="toy_lr_g",
                    on_change=on_live_change)
    c2.number_input("D learning rate", 1e-6, 10.0, format="%.1e", step=1e-4, key="toy_lr_d",
                    on_change=on_live_change)
    c1.number_input("D steps / iteration", 1, 10, key="toy_d_steps", on_change=on_live_change)
    c2.number_input("G steps / iteration", 1, 10, key="toy_g_steps", on_change=on_live_change)
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
