"""The Latent space page's state in the URL, so a lecturer can bookmark a slide and a student opening the link sees
the same view: the model, the explorer's seed, class and sliders, the interpolation and the plane.

    ?model=cdcgan&seed=7&class=3&pc1=1.5&dims=0,4&dz4=-1&mode=seeds&seed_a=3&seed_b=9&path=spherical&frames=16

`restore()` runs once per session, before any widget is drawn: it checks every parameter against the model the
link names (a class the model has, a coordinate within its code, a slider value within its range) and puts the
valid ones into the widgets' session state; anything else is ignored and listed in a note. `publish()` writes the
current values back after each run (values at their defaults are left out, so links stay short). The page's own
widgets are not bound to the URL by Streamlit (`bind=`), which would drop a bad value without saying so.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

from ganplay.checkpoint import CheckpointError
from ganplay.latent import INTERPOLATIONS
from ganplay_app import latent_models

SEED_MAX = 2**31 - 1
SLIDER_SIGMAS = 3.0                # sliders span ±3 standard deviations of the prior along each direction
N_SLIDERS = 6                      # principal-direction sliders in the explorer
MAX_DIMS = 4                       # raw latent coordinates with a slider
MAX_FRAMES = 32
SPAN = (0.5, 5.0, 0.5)
GRID = (3, 11)


@dataclass(frozen=True)
class Model:
    """What a link's values are checked against."""
    num_classes: int
    latent_dim: int
    n_directions: int


def _whole(text: str, lo: int, hi: int) -> int:
    if not re.fullmatch(r"\d{1,10}", text) or not lo <= int(text) <= hi:
        raise ValueError(f"a whole number from {lo} to {hi}")
    return int(text)


def _on_grid(text: str, lo: float, hi: float, step: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not lo <= value <= hi:
        raise ValueError(f"a number from {lo:g} to {hi:g}")
    return round(round(value / step) * step, 6)


def _choice(text: str, choices) -> str:
    if text not in choices:
        raise ValueError("one of " + ", ".join(choices))
    return text


def _axis(text: str, m: Model) -> tuple[str, int]:
    match = re.fullmatch(r"(pc|z)(\d{1,3})", text)
    if match and match[1] == "pc" and 1 <= int(match[2]) <= m.n_directions:
        return ("pc", int(match[2]) - 1)
    if match and match[1] == "z" and int(match[2]) < m.latent_dim:
        return ("z", int(match[2]))
    raise ValueError(f"pc1 to pc{m.n_directions} or z0 to z{m.latent_dim - 1}")


def _dims(text: str, m: Model) -> list[int]:
    parts = text.split(",") if text else []
    dims = [_whole(p, 0, m.latent_dim - 1) for p in parts]
    if len(set(dims)) != len(dims) or len(dims) > MAX_DIMS:
        raise ValueError(f"up to {MAX_DIMS} different coordinates from 0 to {m.latent_dim - 1}, e.g. 0,3")
    return dims


def _class(text: str, m: Model) -> int:
    if not m.num_classes:
        raise ValueError("this model has no classes")
    return _whole(text, 0, m.num_classes - 1)


def _axis_text(axis: tuple[str, int]) -> str:
    kind, i = axis
    return f"pc{i + 1}" if kind == "pc" else f"z{i}"


# URL name -> (session key, parse(text, model) -> value, value -> text, default(model))
Param = tuple[str, Callable[[str, Model], Any], Callable[[Any], str], Callable[[Model], Any]]


def _params(m: Model, dims: list[int]) -> dict[str, Param]:
    sigma = lambda text, _: _on_grid(text, -SLIDER_SIGMAS, SLIDER_SIGMAS, 0.1)   # noqa: E731
    number = lambda v: f"{v:g}"                                                  # noqa: E731
    seed = lambda text, _: _whole(text, 0, SEED_MAX)                             # noqa: E731
    defaults = interpolation_defaults(m.num_classes)
    params: dict[str, Param] = {
        "seed": ("lt_seed", seed, str, lambda _: 0),
        "class": ("lt_class", _class, str, lambda _: 0),
        **{f"pc{i}": (f"lt_pc{i}", sigma, number, lambda _: 0.0) for i in range(1, N_SLIDERS + 1)},
        "dims": ("lt_dims", _dims, lambda v: ",".join(map(str, v)), lambda m: [d for d in (0, 1) if d < m.latent_dim]),
        **{f"dz{d}": (f"lt_dz{d}", sigma, number, lambda _: 0.0) for d in dims},
        "mode": ("lt_mode", lambda t, _: _choice(t, ("seeds", "classes")), str, lambda _: defaults["lt_mode"]),
        "seed_a": ("lt_seed_a", seed, str, lambda _: 1),
        "seed_b": ("lt_seed_b", seed, str, lambda _: 2),
        "class_a": ("lt_class_a", lambda t, m: _whole(t, 0, (m.num_classes or 10) - 1), str,
                    lambda _: defaults["lt_class_a"]),
        "class_b": ("lt_class_b", lambda t, m: _whole(t, 0, (m.num_classes or 10) - 1), str,
                    lambda _: defaults["lt_class_b"]),
        "path": ("lt_method", lambda t, _: _choice(t, tuple(INTERPOLATIONS)), str,
                 lambda _: next(iter(INTERPOLATIONS))),
        "frames": ("lt_frames", lambda t, _: _whole(t, 2, MAX_FRAMES), str, lambda _: 10),
        "across": ("lt_axis_a", _axis, _axis_text, lambda _: ("pc", 0)),
        "down": ("lt_axis_b", _axis, _axis_text, lambda _: ("pc", 1)),
        "span": ("lt_span", lambda t, _: _on_grid(t, *SPAN), number, lambda _: 2.5),
        "grid": ("lt_grid_n", lambda t, _: _whole(t, *GRID), str, lambda _: 7),
        "grid_seed": ("lt_grid_seed", seed, str, lambda _: 0),
        "grid_class": ("lt_grid_class", _class, str, lambda _: 0),
    }
    return params


def interpolation_defaults(num_classes: int) -> dict:
    """A conditional model starts on class A -> B (two seeds of one class look alike: ten 3s) from 3 to 8."""
    k = num_classes or 10
    return {"lt_mode": "classes" if num_classes else "seeds", "lt_class_a": min(3, k - 1), "lt_class_b": min(8, k - 1)}


def model_info(key: str) -> Model:
    cfg = latent_models.checkpoint(key).config.model
    return Model(cfg.num_classes, cfg.latent_dim, latent_models.N_DIRECTIONS)


def read(query: dict[str, str], m: Model) -> tuple[dict[str, Any], list[str]]:
    """({session key: value} for the valid parameters of a link, [a note for each ignored one]). Pure: tests and
    restore() share it."""
    values, notes = {}, []
    dims = [d for d in (0, 1) if d < m.latent_dim]
    if "dims" in query:
        try:
            dims = _dims(query["dims"], m)
        except ValueError as err:
            notes.append(_note("dims", query["dims"], str(err)))
    params = _params(m, dims)
    for name, text in query.items():
        if name == "model":
            continue
        if name not in params:
            notes.append(f"`{name[:40]}` is not a setting of this page")
            continue
        key, parse, _, _ = params[name]
        try:
            values[key] = parse(text, m)
        except ValueError as err:
            if name != "dims":
                notes.append(_note(name, text, str(err)))
    return values, notes


def _note(name: str, text: str, expected: str) -> str:
    shown = text if len(text) <= 24 else text[:24] + "…"
    return f"`{name}={shown}` (expected {expected})"


def restore() -> None:
    """Once per session, before the widgets: the link's model and values into session state; notes for the rest
    in `lt_url_notes` (shown by the page once)."""
    if st.session_state.get("lt_url_restored"):
        return
    st.session_state.lt_url_restored = True
    query = {name: st.query_params[name] for name in st.query_params}
    notes = []
    models = latent_models.bundled_stem_to_key()
    if "model" in query:
        if query["model"] in models:
            st.session_state.lt_model = models[query["model"]]
        else:
            notes.append(_note("model", query["model"], "one of " + ", ".join(models)))
    key = st.session_state.get("lt_model") or next(iter(models.values()), None)
    if key is None:
        return
    try:
        m = model_info(key)
    except CheckpointError:
        return
    values, more = read(query, m)
    st.session_state.update(interpolation_defaults(m.num_classes))
    st.session_state.update(values)
    st.session_state.lt_url_notes = notes + more


def publish(key: str) -> None:
    """The current model and every setting not at its default into the URL (nothing else is kept there)."""
    m = model_info(key)
    dims = list(st.session_state.get("lt_dims", []))
    query = {}
    stem = next((s for s, k in latent_models.bundled_stem_to_key().items() if k == key), None)
    if stem is not None:
        query["model"] = stem
    for name, (state_key, _, fmt, default) in _params(m, dims).items():
        if state_key in st.session_state and st.session_state[state_key] is not None:
            value = st.session_state[state_key]
            if (name.endswith("class") and not m.num_classes) or value == default(m):
                continue
            query[name] = fmt(tuple(value) if name in ("across", "down") else value)
    if query != {name: st.query_params[name] for name in st.query_params}:
        st.query_params.from_dict(query)
