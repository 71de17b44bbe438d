"""Widgets and cached computations for the Theory page; each `*_ui()` draws and returns plain values.

Every setting is a widget bound to the URL (`bind="query-params"`, the widget key is the parameter
name), so a lecturer can bookmark each slide; values in the URL that are invalid or out of range are
dropped by Streamlit and the widget falls back to its default.
"""

from __future__ import annotations

import math

import numpy as np
import streamlit as st
from streamlit.errors import StreamlitAPIException

from ganplay import theory
from ganplay.figures import theory_vega
from ganplay.theory import SITUATIONS, Distribution, Gaussian, Mixture

MAX_COMPONENTS = 3
DEFAULT_SITUATION = "shifted"
MEAN_RANGE = (-10.0, 10.0, 0.1)  # min, max, step
STD_RANGE = (0.1, 5.0, 0.05)
WEIGHT_RANGE = (0.05, 1.0, 0.05)
# Where extra mixture components first appear, per distribution (the first comes from the default situation).
_EXTRA_MEANS = {"data": (3.0, -3.0), "gen": (-2.0, 4.0)}
SIDES = {"data": "p_data · the real data", "gen": "p_g · the generator"}


def widget_key(side: str, field: str, i: int | None = None) -> str:
    """URL parameter / session key of one setting, e.g. data_mu1, gen_sd2, data_n."""
    return f"{side}_{field}" if i is None else f"{side}_{field}{i}"


def _default_distribution(side: str) -> Mixture:
    s = SITUATIONS[DEFAULT_SITUATION]
    return theory.as_mixture(s.p_data if side == "data" else s.p_g)


def _default_value(side: str, field: str, i: int) -> float:
    first = _default_distribution(side).components[0]
    if field == "mu":
        return first.mu if i == 1 else _EXTRA_MEANS[side][i - 2]
    if field == "sd":
        return first.sigma if i == 1 else 1.0
    return 1.0  # relative weight


def _apply_situation(key: str) -> None:
    """Button callback: write a situation's parameters into the bound widgets' state (and URL)."""
    s = SITUATIONS[key]
    for side, dist in (("data", s.p_data), ("gen", s.p_g)):
        mix = theory.as_mixture(dist)
        values = {widget_key(side, "n"): (len(mix.components), 1)}
        for i, (c, w) in enumerate(zip(mix.components, mix.weights), start=1):
            values[widget_key(side, "mu", i)] = (c.mu, _default_value(side, "mu", i))
            values[widget_key(side, "sd", i)] = (c.sigma, _default_value(side, "sd", i))
            values[widget_key(side, "w", i)] = (round(w, 2), 1.0)
        for name, (value, default) in values.items():
            st.session_state[name] = value
            # Streamlit mirrors a programmatic change into the URL only for widgets drawn in the
            # previous run; a mixture component that is about to appear needs writing by hand.
            if value != default:
                try:
                    st.query_params[name] = f"{value:g}"
                except StreamlitAPIException:
                    pass  # already bound to a drawn widget: Streamlit syncs it


def same_distribution(a: Distribution, b: Distribution, tol: float = 1e-9) -> bool:
    """Equal up to component order and rounding."""
    ka = sorted((c.mu, c.sigma, w) for c, w in zip(a.components, a.weights))
    kb = sorted((c.mu, c.sigma, w) for c, w in zip(b.components, b.weights))
    return len(ka) == len(kb) and bool(np.allclose(ka, kb, rtol=0, atol=tol))


def matching_situation(p_data: Distribution, p_g: Distribution) -> str | None:
    """Key of the one-click situation the current settings equal, if any."""
    for key, s in SITUATIONS.items():
        if same_distribution(p_data, s.p_data, 1e-6) and same_distribution(p_g, s.p_g, 1e-6):
            return key
    return None


def situation_ui(active: str | None) -> None:
    """A row of one-click situations; the active one is highlighted."""
    with st.container(horizontal=True, gap="small"):
        for key, s in SITUATIONS.items():
            st.button(s.label, key=f"situation_{key}", on_click=_apply_situation, args=(key,),
                      type="primary" if key == active else "secondary")


def distribution_ui(side: str) -> Mixture:
    """Number of components and mean, std and weight sliders for p_data ("data") or p_g ("gen")."""
    color = "blue" if side == "data" else "orange"
    st.markdown(f"**:{color}[●] {SIDES[side]}**")
    n = st.segmented_control(
        "Gaussian components", list(range(1, MAX_COMPONENTS + 1)), default=1, required=True,
        key=widget_key(side, "n"), bind="query-params",
    )
    comps, weights = [], []
    for i in range(1, n + 1):
        cols = st.columns(3 if n > 1 else 2)
        mu = cols[0].slider(f"mean μ{_sub(i, n)}", *MEAN_RANGE[:2], _default_value(side, "mu", i),
                            MEAN_RANGE[2], key=widget_key(side, "mu", i), bind="query-params")
        sd = cols[1].slider(f"std σ{_sub(i, n)}", *STD_RANGE[:2], _default_value(side, "sd", i),
                            STD_RANGE[2], key=widget_key(side, "sd", i), bind="query-params")
        w = 1.0
        if n > 1:
            w = cols[2].slider(f"weight w{_sub(i, n)}", *WEIGHT_RANGE[:2], 1.0, WEIGHT_RANGE[2],
                               key=widget_key(side, "w", i), bind="query-params",
                               help="Relative weight; the weights are normalised to sum to 1.")
        comps.append(Gaussian(mu, sd))
        weights.append(w)
    return Mixture(tuple(comps), tuple(weights))


def _sub(i: int, n: int) -> str:
    return "₁₂₃"[i - 1] if n > 1 else ""


def _fmt(value: float) -> str:
    """Five significant digits, at most four decimals, never scientific notation (a tile reading −1.73e-6
    looks like an error). A value that is not 0 but rounds to it reads "≈ 0.0000", exact 0 (and rounding
    noise below 1e-12) "0.0000"."""
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞" if value < 0 else "undefined"
    if abs(value) < 1e-12:
        return "0.0000"
    if abs(value) < 5e-5:
        return "≈ 0.0000"
    decimals = min(4, max(0, 4 - int(math.floor(math.log10(abs(value))))))
    return f"{value:,.{decimals}f}"


def metrics_ui(p_data: Distribution, p_g: Distribution) -> dict[str, float]:
    """The divergences as st.metric tiles, two per row; returns the values."""
    jsd = theory.js_divergence(p_data, p_g)
    values = {
        "jsd": jsd,
        "kl_data_g": theory.kl_divergence(p_data, p_g),
        "kl_g_data": theory.kl_divergence(p_g, p_data),
        "w1": theory.wasserstein1(p_data, p_g),
        "value": theory.value_at_optimum(p_data, p_g),
    }
    tiles = [
        ("JSD (nats)", _fmt(jsd), "Jensen–Shannon divergence, natural log. 0 when p_g = p_data, at most log 2 ≈ 0.6931."),
        ("JSD (bits)", _fmt(jsd / math.log(2)), "The same divergence in base 2: at most 1 bit."),
        ("KL(p_data‖p_g)", _fmt(values["kl_data_g"]), "KL(p_data ‖ p_g) = ∫ p_data log(p_data / p_g): large where the data has mass that p_g misses."),
        ("KL(p_g‖p_data)", _fmt(values["kl_g_data"]), "KL(p_g ‖ p_data) = ∫ p_g log(p_g / p_data): large where p_g puts mass the data lacks."),
        ("Wasserstein-1", _fmt(values["w1"]), "∫ |F_data − F_g| dx: how far mass has to travel to turn p_g into p_data."),
        ("V(D*, G)", _fmt(values["value"]), "The game's value with the optimal discriminator, integrated directly. It equals 2·JSD − log 4; its minimum −log 4 ≈ −1.3863 is reached only at p_g = p_data; its maximum 2·log 2 − log 4 = 0 when the distributions do not overlap."),
    ]
    for row in range(0, len(tiles), 2):
        for col, (label, value, help_text) in zip(st.columns(2), tiles[row:row + 2]):
            col.metric(label, value, help=help_text, border=True)
    return values


def _params(p: Distribution) -> tuple[tuple[float, float, float], ...]:
    """Plain, rounded parameters: stable cache keys."""
    return tuple((round(c.mu, 9), round(c.sigma, 9), round(w, 9)) for c, w in zip(p.components, p.weights))


def _from_params(params) -> Mixture:
    return Mixture(tuple(Gaussian(mu, sd) for mu, sd, _ in params), tuple(w for *_, w in params))


@st.cache_data(max_entries=128, show_spinner=False)
def _cached_sweep(data_params, gen_shape, half_width: float, n: int) -> theory.SeparationSweep:
    seps = np.linspace(-half_width, half_width, n)
    return theory.separation_sweep(_from_params(data_params), _from_params(gen_shape), seps)


def sweep_for(p_data: Distribution, p_g: Distribution, n: int = 121) -> theory.SeparationSweep:
    """The separation sweep over a range wide enough to reach the JSD plateau (cached).

    The sweep depends on p_g's shape, not on where it sits, so dragging p_g's mean reuses it.
    """
    current = abs(theory.separation(p_data, p_g))
    half_width = math.ceil(max(10.0, 1.3 * current, 4.0 * (p_data.std + p_g.std)))
    return _cached_sweep(_params(p_data), _params(p_g.shifted(-p_g.mean)), float(half_width), n)


@st.cache_data(max_entries=256, show_spinner=False)
def loss_chart(mark: float, wrt: str) -> tuple[dict, dict]:
    """The generator-loss chart's (datasets, spec) (cached: it depends only on the mark and the derivative)."""
    return theory_vega.loss_chart(mark=mark, wrt=wrt)


def gradient_wrt_ui() -> str:
    """Which derivative the loss figure shows: "score" (the generator's view) or "D"."""
    # Option labels double as URL values, so they stay short.
    return st.segmented_control(
        "Slope with respect to", ["score", "D"], default="score", required=True,
        help="score: the discriminator's raw output a before its sigmoid, D = σ(a); this is the "
             "derivative that flows back into the generator. D: the derivative in D itself.",
        key="grad_wrt", bind="query-params",
    )
