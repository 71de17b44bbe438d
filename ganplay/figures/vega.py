"""Vega-Lite building blocks shared by the live pages (Toy lab, Training): pure functions that return
`(datasets, spec)`, where datasets maps each layer's name to a DataFrame of its rows.

    datasets, spec = history_chart(history, [("d_loss", "D loss", "#0072B2")], title="Losses")
    st.vega_lite_chart(None, with_data(datasets, spec), key="losses")

Why Vega-Lite and not plotly for what redraws while a run trains: `st.vega_lite_chart` updates the existing
view in place when the spec is unchanged and only the data changes, while `st.plotly_chart` re-serialises the
figure and remounts the chart on every change (shared/docs/live-charts.md). So every spec here depends only on
static things (sizes, titles, series names, fixed domains) and never on data values: consecutive frames of one
run give an identical spec. Each layer reads its own named dataset (Streamlit sends named datasets as Arrow,
apart from the spec); nothing filters rows in the browser, where Streamlit evaluates Vega expressions with a
slow interpreter. Canvas rendering. No streamlit here.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ganplay.figures.theory import COLORS

GUIDE = COLORS["guide"]


def running_mean(values: list[float], window: int) -> np.ndarray:
    """Trailing mean over `window` points (shorter at the start), same length as `values`."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v
    csum = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


CONFIG = {
    "view": {"stroke": None},
    "axis": {"labelFontSize": 14, "titleFontSize": 16, "grid": True, "gridColor": "#E6E6E6"},
    "legend": {"labelFontSize": 14, "titleFontSize": 15, "orient": "top"},
    "title": {"fontSize": 18, "anchor": "start"},
}
Y_AXIS_EXTENT = 56   # fixed room for y labels, so stacked line / discriminator charts align their plots


def _top(title: str, width: int, height: int, layers: list[dict], **extra) -> dict:
    spec = {"width": width, "height": height, "padding": {"left": 5, "top": 5, "right": 18, "bottom": 5},
            "layer": layers, "config": copy.deepcopy(CONFIG), **extra,
            # canvas, not SVG: redrawing thousands of marks five times a second as DOM nodes costs the browser
            # most of a core (Streamlit switches to canvas by itself only past 2,000 rows a dataset)
            "usermeta": {"embedOptions": {"renderer": "canvas"}}}
    if title:
        spec["title"] = title
    return spec


def _named(layer: str) -> dict:
    """A layer's data: its own named dataset (no filter over one long frame: Streamlit's frontend evaluates Vega
    expressions with an interpreter, and filtering every row for every layer at 5 Hz cost most of a core)."""
    return {"name": layer}


def _q(field: str, domain=None, title=None, **scale) -> dict:
    """A quantitative positional channel; `domain` fixes the scale (no nice rounding, no forced zero)."""
    enc = {"field": field, "type": "quantitative"}
    if domain is not None:
        enc["scale"] = {"domain": [float(domain[0]), float(domain[1])], "nice": False, "zero": False, **scale}
    elif scale:
        enc["scale"] = scale
    if title is not None:
        enc["title"] = title
    return enc


def _datasets(**parts: dict | None) -> dict[str, pd.DataFrame]:
    """One DataFrame per layer, named by its `layer` value, holding only that layer's columns."""
    out: dict[str, pd.DataFrame] = {}
    for part in parts.values():
        if part is None:
            continue
        part = dict(part)
        name = part.pop("layer")
        if isinstance(name, str):
            out[name] = pd.DataFrame(part)
        else:                                              # rows of several layers in one part
            frame = pd.DataFrame({"layer": name, **part})
            for key, rows in frame.groupby("layer", sort=False):
                out[str(key)] = rows.drop(columns="layer").reset_index(drop=True)
    return out


def with_data(datasets: dict[str, pd.DataFrame], spec: dict) -> dict:
    """The spec with its datasets attached, for `st.vega_lite_chart(None, with_data(*chart))`: Streamlit moves
    named datasets out of the spec into Arrow, so the spec it compares between frames stays the same."""
    return {**spec, "datasets": datasets}



def _y_axis(title: str) -> dict:
    return {"title": title, "minExtent": Y_AXIS_EXTENT, "maxExtent": Y_AXIS_EXTENT}


def _clipped(values: np.ndarray) -> np.ndarray:
    """Clip to the [1st, 99th] percentile band widened by 50 % of its width on each side."""
    if len(values) < 2:
        return values
    lo, hi = np.percentile(values, [1, 99])
    pad = 0.5 * (hi - lo)
    return np.clip(values, lo - pad, hi + pad)


def history_chart(history: dict[str, list[float]], keys: list[tuple[str, str, str]], *, width: int = 720,
                  height: int = 260, title: str = "", y_title: str = "",
                  y_domain: tuple[float, float] | None = None,
                  rules: list[tuple[float, str]] | tuple = (), max_points: int = 300,
                  clip: str | tuple[float, float] | None = "percentile", log: bool = False,
                  note: str | None = None, raw: bool = True) -> tuple[dict[str, pd.DataFrame], dict]:
    """Live metric curves: each `(history key, label, colour)` in `keys` drawn raw (faint) with a trailing running
    mean (bold, window max(1, n // 25)) on top, plus horizontal `rules` (y value, label), e.g. log 2 or 1/2.
    `raw=False` draws the values themselves as the bold line, unsmoothed (few, exact values: counts).

    Robust to what a live run records: non-finite values (NaN, inf) are dropped, and each series is clipped
    (`clip`): by default to its [1st, 99th] percentile band widened by 50 % on each side, so one early spike does
    not flatten the rest of the curve; or to a given (low, high); or not at all (None). `log` draws a log y axis
    (values <= 0 are dropped). `note`: a line of text above the plot's top-right corner; None leaves the layer out,
    "" keeps it empty (so a note that comes and goes does not change the spec). Longer histories are thinned to
    about `max_points` points a series (after the running mean is taken over all of them). An empty history
    gives an empty frame and the same spec. Frame columns: layer ("raw" | "mean" | "rule" | "note"), series
    (a label from `keys`), step, value.
    """
    steps = np.asarray(history.get("step", []), float)
    # at most ~max_points points a series: the browser redraws every point on every update
    every = max(1, -(-len(steps) // max_points))
    layers_ = ("raw", "mean") if raw else ("mean",)
    parts: dict[str, dict] = {layer: {"layer": layer, "series": [], "step": [], "value": []} for layer in layers_}
    for key, label, _ in keys:
        values = np.asarray(history.get(key, []), float)
        n = min(len(values), len(steps))
        ok = np.isfinite(values[:n]) & np.isfinite(steps[:n])
        if log:
            ok &= values[:n] > 0
        s, v = steps[:n][ok], values[:n][ok]
        if clip == "percentile":
            v = _clipped(v)
        elif clip is not None:
            v = np.clip(v, clip[0], clip[1])
        mean = running_mean(v, max(1, len(v) // 25) if raw else 1)   # over every point, then thinned with them
        if log and raw:
            mean = np.exp(running_mean(np.log(v), max(1, len(v) // 25)))   # a geometric mean on a log axis
        for layer in layers_:
            values_ = v[::every] if layer == "raw" else mean[::every]
            part = parts[layer]
            part["series"] += [label] * len(values_)
            part["step"] += list(s[::every])
            part["value"] += list(values_)
    parts["rules"] = {"layer": "rule", "series": [label for _, label in rules], "step": [np.nan] * len(rules),
                      "value": [float(v) for v, _ in rules]}
    if note is not None:
        parts["note"] = {"layer": "note", "text": [note] if note else []}
    data = _datasets(**parts)

    colour = {"field": "series", "type": "nominal", "title": None,
              "scale": {"domain": [label for _, label, _ in keys], "range": [c for _, _, c in keys]},
              "legend": {"symbolOpacity": 1, "symbolStrokeWidth": 3}}     # the bold curve, not the faint one
    x = {**_q("step", title="step"), "axis": {"format": "d", "tickMinStep": 1}}   # whole steps, even for one probe
    scale = {"type": "log"} if log else {"zero": False}
    y = {**(_q("value", y_domain) if y_domain is not None else _q("value", **scale)),
         "axis": _y_axis(y_title or None)}
    layers = []
    if raw:
        layers.append({"data": _named("raw"), "mark": {"type": "line", "strokeWidth": 1, "opacity": 0.3, "clip": True},
                       "encoding": {"x": x, "y": y, "color": colour}})
    # exact values (raw=False: counts from probes every few seconds) get a dot each, so one probe already shows
    layers.append({"data": _named("mean"), "mark": {"type": "line", "strokeWidth": 3, "clip": True, "point": not raw},
                   "encoding": {"x": x, "y": y, "color": colour}})
    if rules:
        label = {"data": _named("rule"),
                 "mark": {"type": "text", "color": "#333333", "align": "right", "baseline": "bottom",
                          "dx": -4, "dy": -3, "fontSize": 14},
                 "encoding": {"x": {"value": "width"}, "y": y, "text": {"field": "series"}}}
        # the label twice: first as a white halo (its glyphs stroked wide), so curves crossing it do not hide it
        halo = {**label, "mark": {**label["mark"], "stroke": "white", "strokeWidth": 5, "strokeOpacity": 0.9,
                                  "strokeJoin": "round"}}
        layers += [{"data": _named("rule"),
                    "mark": {"type": "rule", "color": GUIDE, "strokeDash": [6, 4], "strokeWidth": 1.5},
                    "encoding": {"y": y}},
                   halo, label]
    if note is not None:
        layers.append({"data": _named("note"),
                       # above the plot's top-right corner, beside the legend: never over a curve
                       "mark": {"type": "text", "align": "right", "baseline": "bottom", "fontSize": 13,
                                "color": GUIDE},
                       "encoding": {"x": {"value": "width"}, "y": {"value": -4}, "text": {"field": "text"}}})
    return data, _top(title, width, height, layers, autosize={"type": "fit", "contains": "padding"})
