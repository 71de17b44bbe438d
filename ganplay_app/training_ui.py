"""Widgets of the Training page. Each `*_ui()` draws widgets and returns plain values; no tensors here: the
only call into ganplay.trainer asks which precision "auto" resolves to on the device live runs train on
(`LIVE_DEVICE`), for its menu label.

The recipe widgets keep their values in st.session_state under "tr_*" keys. Choosing a preset writes that
preset's values into those keys, so everything stays editable afterwards. `url_params()` lists them for the
URL (ganplay_app.urlstate): the preset plus every setting changed from it, e.g. `?preset=lecture&lr_g=0.001`.
"""
from __future__ import annotations

import dataclasses
import functools

import streamlit as st

from ganplay.config import PRECISIONS, RunConfig
from ganplay.losses import LOSSES
from ganplay.presets import IMAGE_PRESETS, preset, preset_help, preset_summary, preset_title
from ganplay.trainer import LIVE_DEVICE, resolve_precision
from ganplay_app.urlstate import Param, boolean, choice, flag, number, real, whole

BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
# Changing the architecture family swaps in the nets of a reference preset (latent size stays the user's).
FAMILIES = {"DCGAN (convolutional)": "lecture", "MLP (fully connected)": "mlp-batchnorm"}
LIVE_KEYS = ("tr_lr_g", "tr_lr_d", "tr_d_steps")
# What a run keeps until Reset (drawn as one line of text while it exists: _locked_recipe_ui)
LOCKED_KEYS = ("tr_dataset", "tr_preset", "tr_family", "tr_batch", "tr_latent", "tr_prior", "tr_real_label",
               "tr_b1_g", "tr_b2_g", "tr_b1_d", "tr_b2_d", "tr_seed", "tr_steps", "tr_precision", "tr_reuse_fake")
DATASET_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST", "folder": "Your own images"}
PRIOR_TITLES = {"normal": "N(0, I)", "uniform": "U[-1, 1)"}


def family_of(cfg: RunConfig) -> str:
    return next(f for f in FAMILIES if (cfg.model.generator.arch == "mlp") == f.startswith("MLP"))


def load_preset_into_state(name: str) -> None:
    load_config_into_state(preset(name), name)


def state_from_config(cfg: RunConfig, preset_name: str) -> dict:
    """The recipe widgets' values (by session-state key) that show `cfg`."""
    t, m = cfg.train, cfg.model
    return {
        "tr_preset": preset_name, "tr_loss": t.loss, "tr_family": family_of(cfg),
        "tr_lr_g": t.lr_g, "tr_lr_d": t.lr_d, "tr_b1_g": t.betas_g[0], "tr_b2_g": t.betas_g[1],
        "tr_b1_d": t.betas_d[0], "tr_b2_d": t.betas_d[1], "tr_latent": m.latent_dim,
        # the slider offers powers of two; keep its value valid
        "tr_batch": min(BATCH_SIZES, key=lambda b: abs(b - t.batch_size)),
        "tr_prior": m.prior, "tr_real_label": t.real_label, "tr_d_steps": t.d_steps, "tr_seed": t.seed,
        "tr_precision": t.precision, "tr_reuse_fake": t.reuse_fake,
    }


@functools.cache
def _preset_state(name: str) -> dict:
    return state_from_config(preset(name), name)


def load_config_into_state(cfg: RunConfig, preset_name: str) -> None:
    """Show `cfg` in the recipe widgets (a preset's, or a continued checkpoint's recipe)."""
    st.session_state.update(state_from_config(cfg, preset_name))


def show_run_recipe(run) -> None:
    """Show a watched run's recipe in the (disabled) widgets, with the values in use now: learning rates and
    D steps may have changed since it started. Call before the widgets are drawn."""
    trainer = run.trainer
    cfg = trainer.config if trainer is not None else run.config
    name = cfg.name if cfg.name in IMAGE_PRESETS else st.session_state.get("tr_preset", "lecture")
    load_config_into_state(cfg, name)
    st.session_state.tr_dataset = cfg.train.dataset
    st.session_state.tr_steps = run.max_steps or 0


def _preset_value(key: str):
    return lambda ss: _preset_state(ss["tr_preset"])[key]


def url_params(datasets: list[str]) -> list[Param]:
    """The recipe as URL parameters: the preset first (it loads all its values), then each setting that the
    URL names only when it differs from the preset's value. `datasets`: the Dataset menu's choices."""
    families = {"dcgan": "DCGAN (convolutional)", "mlp": "MLP (fully connected)"}
    family_names = {v: k for k, v in families.items()}
    by_preset = [
        ("loss", "tr_loss", choice(list(LOSSES), "loss"), str),
        ("arch", "tr_family", choice(families, "architecture"), family_names.get),
        ("lr_g", "tr_lr_g", number(1e-6, 100.0), real), ("lr_d", "tr_lr_d", number(1e-6, 100.0), real),
        ("batch", "tr_batch", choice(BATCH_SIZES, "batch size"), whole),
        ("d_steps", "tr_d_steps", number(1, 10, integer=True), whole),
        ("latent", "tr_latent", number(1, 512, integer=True), whole),
        ("prior", "tr_prior", choice(["normal", "uniform"], "prior"), str),
        ("real_label", "tr_real_label", number(0.5, 1.0), real),
        ("beta1_g", "tr_b1_g", number(0.0, 0.999), real), ("beta2_g", "tr_b2_g", number(0.0, 0.9999), real),
        ("beta1_d", "tr_b1_d", number(0.0, 0.999), real), ("beta2_d", "tr_b2_d", number(0.0, 0.9999), real),
        ("seed", "tr_seed", number(0, 2**31 - 1, integer=True), whole),
        ("precision", "tr_precision", choice(list(PRECISIONS), "precision"), str),
        ("reuse_fake", "tr_reuse_fake", boolean, flag),
    ]
    return [
        Param("data", "tr_dataset", choice(datasets, "dataset"), default="mnist" if "mnist" in datasets
              else datasets[0]),
        Param("preset", "tr_preset", choice(list(IMAGE_PRESETS), "preset"), default="lecture",
              apply=load_preset_into_state),
        *(Param(key, state, parse, fmt, _preset_value(state)) for key, state, parse, fmt in by_preset),
        Param("steps", "tr_steps", number(0, 1_000_000, integer=True), whole, 0),
    ]


def ensure_recipe() -> None:
    """The first time a session shows the page: the default preset in the widgets."""
    if "tr_preset" not in st.session_state:
        load_preset_into_state("lecture")


def _on_preset_change() -> None:
    load_preset_into_state(st.session_state["tr_preset"])


def recipe_ui(datasets: list[str], locked: bool, on_live_change,
              read_only: bool = False) -> tuple[str, RunConfig, int]:
    """Dataset, preset and every hyperparameter. Returns (dataset name, config, steps; 0 = until stopped).

    `locked`: a run is going, so only the live settings (loss, learning rates, D steps) are widgets, and each change
    calls on_live_change(); the rest is one line of text. `read_only`: another session's run is shown, so the live
    settings are disabled too.
    """
    ensure_recipe()
    ss = st.session_state
    if locked or read_only:     # the live settings are disabled only when the run is not this session's
        return _locked_recipe_ui(on_live_change, read_only)
    dataset = st.selectbox("Dataset", datasets, key="tr_dataset", format_func=DATASET_TITLES.get)
    # image recipes only: the point recipes train in the Toy lab
    st.selectbox("Preset", list(IMAGE_PRESETS), key="tr_preset", on_change=_on_preset_change,
                 format_func=preset_title,
                 help="Recipes from the seed articles and papers; the first is tuned for a quick demo. The ? "
                      "below gives a recipe's layers, optimiser and source.")
    st.caption(preset_summary(ss.tr_preset), help=preset_help(ss.tr_preset))
    beside_d_steps = _live_widgets_ui(on_live_change, disabled=False)
    beside_d_steps.select_slider("Batch size", BATCH_SIZES, key="tr_batch")
    st.radio("Architecture", list(FAMILIES), key="tr_family", horizontal=True)
    c1, c2 = st.columns(2)
    c1.number_input("Latent size", 1, 512, key="tr_latent")
    c2.radio("Noise prior", ["normal", "uniform"], key="tr_prior", horizontal=True, format_func=PRIOR_TITLES.get)
    st.slider("Real label (one-sided smoothing below 1)", 0.5, 1.0, step=0.05, key="tr_real_label")
    with st.expander("Adam betas, seed, precision and run length"):
        b = st.columns(4)
        b[0].number_input("β₁ G", 0.0, 0.999, step=0.05, key="tr_b1_g")
        b[1].number_input("β₂ G", 0.0, 0.9999, step=0.001, format="%.4f", key="tr_b2_g")
        b[2].number_input("β₁ D", 0.0, 0.999, step=0.05, key="tr_b1_d")
        b[3].number_input("β₂ D", 0.0, 0.9999, step=0.001, format="%.4f", key="tr_b2_d")
        s1, s2 = st.columns(2)
        s1.number_input("Seed", 0, 2**31 - 1, key="tr_seed")
        ss.setdefault("tr_steps", 0)
        steps = s2.number_input("Steps (0 = until you stop)", 0, 1_000_000, step=500, key="tr_steps")
        st.radio("Precision", list(PRECISIONS), key="tr_precision", horizontal=True, format_func=_precision_title,
                 help="bfloat16 runs G's and D's forward and backward passes under autocast: on CPUs with "
                      "AVX512-BF16 the DCGANs train 1.5-1.9x faster (bench/README.md); weights and Adam stay float32. "
                      "auto picks bfloat16 where the hardware has fast bf16 kernels (emulated bf16 is slower).")
        st.checkbox("G's update reuses D's fakes", key="tr_reuse_fake",
                    help="Score the batch D was just trained on again for G's loss, as seeds 002 and 004 do, "
                         "instead of drawing new noise: one generator pass a step fewer.")
    return dataset, config_from_state(dataset), int(steps)


def _precision_title(p: str) -> str:
    return f"auto ({resolve_precision('auto', LIVE_DEVICE)})" if p == "auto" else p


def _live_widgets_ui(on_live_change, disabled: bool):
    """The settings a running game takes at once: the loss, both learning rates and D's steps per G step.
    Returns the empty column left of D's steps."""
    st.selectbox("Loss", list(LOSSES), key="tr_loss", format_func=lambda n: LOSSES[n].title, disabled=disabled,
                 on_change=on_live_change, help="Switches a running game from its next update on: the nets and "
                 "their optimisers stay, only the objective changes (e.g. minimax → non-saturating).")
    c1, c2 = st.columns(2)
    c1.number_input("G learning rate", min_value=1e-6, max_value=100.0, format="%.1e", step=1e-5, key="tr_lr_g",
                    on_change=on_live_change, disabled=disabled)
    c2.number_input("D learning rate", min_value=1e-6, max_value=100.0, format="%.1e", step=1e-5, key="tr_lr_d",
                    on_change=on_live_change, disabled=disabled)
    left, right = st.columns(2)
    right.number_input("D steps per G step", 1, 10, key="tr_d_steps", on_change=on_live_change, disabled=disabled)
    return left


def locked_summary(ss, steps: int) -> str:
    """The settings a run keeps until Reset, in one line: what the sidebar shows instead of their widgets."""
    return " · ".join([
        ss.tr_family.split(" (")[0], f"batch {ss.tr_batch}", f"latent {ss.tr_latent} ~ {PRIOR_TITLES[ss.tr_prior]}",
        f"real label {float(ss.tr_real_label):g}",
        f"Adam β G ({float(ss.tr_b1_g):g}, {float(ss.tr_b2_g):g}), D ({float(ss.tr_b1_d):g}, {float(ss.tr_b2_d):g})",
        f"seed {ss.tr_seed}", _precision_title(ss.tr_precision),
        *(["G reuses D's fakes"] if ss.tr_reuse_fake else []),
        f"{steps:,} steps" if steps else "until stopped"])


def _locked_recipe_ui(on_live_change, read_only: bool) -> tuple[str, RunConfig, int]:
    """While a run exists: the settings it takes live as widgets, the rest as one line of text. A run's page
    redraws several times a second, and the browser's cost per redraw grows with the widgets on the page
    (bench/README.md, "Training page overhead"), so the fixed settings are not drawn as disabled widgets."""
    ss = st.session_state
    for key in LOCKED_KEYS:             # Streamlit forgets an undrawn widget's value; assigned, it is kept for
        if key in ss:                   # the widgets to show again after Reset (and for the page's URL)
            ss[key] = ss[key]
    dataset, steps = ss.tr_dataset, int(ss.get("tr_steps") or 0)
    st.markdown(f"**{DATASET_TITLES.get(dataset, dataset)}** · {preset_title(ss.tr_preset)}",
                help=preset_help(ss.tr_preset))
    _live_widgets_ui(on_live_change, disabled=read_only)
    st.caption(f"Fixed for this run{'' if read_only else ' (Reset to change)'}: {locked_summary(ss, steps)}.")
    return dataset, config_from_state(dataset), steps


def config_from_state(dataset: str) -> RunConfig:
    """The RunConfig the recipe widgets describe (may still be invalid: the trainer validates it)."""
    ss = st.session_state
    base = preset(ss.tr_preset)
    if family_of(base) != ss.tr_family:
        model = preset(FAMILIES[ss.tr_family]).model
        base = base.replace(**{"model.generator": dataclasses.asdict(model.generator),
                               "model.discriminator": dataclasses.asdict(model.discriminator),
                               "model.image_size": model.image_size, "model.channels": model.channels})
    return base.replace(**{
        "train.loss": ss.tr_loss, "train.lr_g": float(ss.tr_lr_g), "train.lr_d": float(ss.tr_lr_d),
        "train.betas_g": [float(ss.tr_b1_g), float(ss.tr_b2_g)], "train.betas_d": [float(ss.tr_b1_d),
                                                                                      float(ss.tr_b2_d)],
        "train.batch_size": int(ss.tr_batch), "train.d_steps": int(ss.tr_d_steps), "train.seed": int(ss.tr_seed),
        "train.real_label": float(ss.tr_real_label), "train.dataset": dataset,
        "train.precision": ss.tr_precision, "train.reuse_fake": bool(ss.tr_reuse_fake),
        "model.latent_dim": int(ss.tr_latent), "model.prior": ss.tr_prior,
    })
