"""Vega-Lite charts for the Toy lab: pure functions from `PlaneView` / `LineView` / a history dict to
`(datasets, spec)`, where datasets maps each layer's name to a DataFrame of its rows.

    datasets, spec = plane_chart(view)
    st.vega_lite_chart(None, with_data(datasets, spec), key="plane", width="content")   # keep the plane square

Why Vega-Lite and not plotly: the Toy page redraws several times a second, and `st.vega_lite_chart` updates the
existing view in place when the spec is unchanged and only the data changes (see shared/docs/live-charts.md).
So every spec here depends only on static things (kind of output, extent, size, shown layers, title) and never
on data values: consecutive frames of one run give an identical spec. Each layer reads its own named dataset
(Streamlit sends named datasets as Arrow, apart from the spec); nothing filters rows in the browser, where
Streamlit evaluates Vega expressions with a slow interpreter. The heatmap is one PNG image mark. Canvas
rendering. No streamlit here.
"""
from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from PIL import Image

from ganplay.figures.theory import COLORS
from ganplay.figures.vega import (_datasets, _named, _q, _top, _y_axis, history_chart,  # noqa: F401
                                  with_data)
from ganplay.toy.view import LineView, PlaneView

TOY_COLORS = {
    "data": COLORS["data"],        # p_data (blue)
    "gen": COLORS["gen"],          # p_g (vermillion)
    "dstar": COLORS["dstar"],      # D*(x) (green)
    "guide": COLORS["guide"],      # the 1/2 line, reference rules
    "jsd": COLORS["jsd"],
    "real": "#1B7837",             # real samples: dark green (D says "real" = green, as in GAN Lab)
    "fake": "#D55E00",             # fake samples: vermillion, the app's generator colour
    "d_learned": "#222222",
    "arrow": "#111111",
    "manifold": "#333333",
    # pale purple - white - pale green (ColorBrewer PRGn): dark points stay readable on every cell
    "heat": ["#9970AB", "#F7F7F7", "#5AAE61"],
}
PLANE_LAYERS = frozenset({"heat", "real", "fake", "arrows", "manifold"})
def heat_image(heat: np.ndarray, probability: bool) -> tuple[str, float, float]:
    """D's output on the (H, W) cell grid (row 0 = lowest y) as a PNG data URL coloured like the legend, and the
    colour scale's (lo, hi): [0, 1] for a probability, else symmetric around 0 (a diverging critic score)."""
    v = np.nan_to_num(np.asarray(heat, dtype=float), nan=0.5 if probability else 0.0)
    if probability:
        lo, hi, t = 0.0, 1.0, np.clip(v, 0.0, 1.0)
    else:
        m = max(float(np.abs(v).max()), 1e-9)
        lo, hi, t = -m, m, 0.5 + 0.5 * v / m
    stops = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in TOY_COLORS["heat"]], dtype=float)
    pos = np.linspace(0.0, 1.0, len(stops))
    rgb = np.stack([np.interp(t, pos, stops[:, k]) for k in range(3)], axis=-1)   # (H, W, 3)
    image = np.ascontiguousarray(np.round(rgb[::-1]).astype(np.uint8))          # image rows run top-down
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), lo, hi


def plane_chart(view: PlaneView, *, size: int = 560, show: frozenset[str] = PLANE_LAYERS,
                title: str = "") -> tuple[dict[str, pd.DataFrame], dict]:
    """The 2-D game, GAN Lab style: D's output as a heatmap, G's manifold, real and fake samples, G's arrows.

    Layers (bottom to top) and their `layer` values in the frame: "heat" (x, x_end, y, y_end = cell bounds,
    value = D's output), "manifold" (segment x, y → x_end, y_end; opacity), "real" and "fake" (x, y),
    "arrows" (from a fake x, y to its tip x_end, y_end; angle = tip rotation in degrees, capped). A layer not in
    `show` is left out of both the frame and the spec. The plane is size × size pixels with axes fixed to
    `view.extent`; pass `width="content"` to st.vega_lite_chart so Streamlit does not stretch it.
    """
    (x0, x1), (y0, y1) = view.extent
    real, fake = np.asarray(view.real, float).reshape(-1, 2), np.asarray(view.fake, float).reshape(-1, 2)
    parts: dict[str, dict | None] = dict.fromkeys(["heat", "manifold", "real", "fake", "arrows"])
    layers: list[dict] = []
    X, Y = _q("x", (x0, x1), "x₁"), _q("y", (y0, y1), "x₂")

    if "heat" in show:
        # One image mark, not W x H rectangles: the browser draws (and smooths) a 30 x 30 PNG far faster than
        # 900 marks five times a second. Two invisible rows carry the colour scale for the legend.
        url, lo, hi = heat_image(view.heat, view.output == "probability")
        parts["heat"] = {"layer": ["heat", "heat_scale", "heat_scale"], "x": [x0, x0, x0], "y": [y1, y0, y0],
                         "url": [url, None, None], "value": [np.nan, lo, hi]}
        probability = view.output == "probability"
        colour = {"domain": [0.0, 1.0], "domainMid": 0.5} if probability else {"domainMid": 0.0}
        legend_title = "D(x)" if probability else "critic score"
        layers.append({
            "data": _named("heat"),
            "mark": {"type": "image", "width": size, "height": size, "aspect": False, "align": "left",
                     "baseline": "top", "smooth": True},
            "encoding": {"x": X, "y": Y, "url": {"field": "url", "type": "nominal"}},
        })
        layers.append({
            "data": _named("heat_scale"),
            "mark": {"type": "point", "opacity": 0, "tooltip": False, "filled": True},
            # the fill channel, so the dots below keep the colour channel (and its one legend) to themselves
            "encoding": {"x": X, "y": Y,
                         "fill": {"field": "value", "type": "quantitative", "title": legend_title,
                                   "scale": {**colour, "range": TOY_COLORS["heat"], "interpolate": "rgb"},
                                   "legend": {"gradientLength": size // 3, "orient": "top",
                                              "direction": "horizontal"}}},
        })

    if "manifold" in show:
        seg = np.zeros((0, 4)) if view.segments is None else np.asarray(view.segments, float).reshape(-1, 4)
        alpha = (np.full(len(seg), 0.8) if view.segment_opacity is None
                 else np.clip(np.asarray(view.segment_opacity, float), 0.0, 1.0))
        parts["manifold"] = {"layer": "manifold", "x": seg[:, 0], "y": seg[:, 1], "x_end": seg[:, 2],
                             "y_end": seg[:, 3], "opacity": alpha}
        layers.append({
            "data": _named("manifold"),
            "mark": {"type": "rule", "color": TOY_COLORS["manifold"], "strokeWidth": 3, "clip": True},
            "encoding": {"x": X, "y": Y, "x2": {"field": "x_end"}, "y2": {"field": "y_end"},
                         "opacity": {"field": "opacity", "type": "quantitative", "scale": None}},
        })

    samples = [name for name in ("real", "fake") if name in show]
    for name in samples:
        # real and fake in datasets of their own: the real dots do not change between frames, and the browser
        # skips a dataset whose bytes are unchanged. One colour scale shared by both layers: one legend.
        pts = real if name == "real" else fake
        parts[name] = {"layer": name, "x": pts[:, 0], "y": pts[:, 1], "kind": name}
        layers.append({
            "data": _named(name),
            "mark": {"type": "circle", "size": 70, "opacity": 0.95, "stroke": "white", "strokeWidth": 1.2,
                     "clip": True},
            "encoding": {"x": X, "y": Y,
                         "color": {"field": "kind", "type": "nominal", "title": None,
                                   "scale": {"domain": samples, "range": [TOY_COLORS[n] for n in samples]},
                                   "legend": {"orient": "top", "symbolSize": 160}}},
        })

    if "arrows" in show:
        arrows = np.asarray(view.arrows, float).reshape(-1, 2)
        tip = fake + arrows
        # screen direction: y grows downward and the axes may have different ranges; 0° = pointing up
        angle = np.degrees(np.arctan2(arrows[:, 0] / (x1 - x0), arrows[:, 1] / (y1 - y0)))
        parts["arrows"] = {"layer": "arrows", "x": fake[:, 0], "y": fake[:, 1], "x_end": tip[:, 0],
                           "y_end": tip[:, 1], "angle": angle,
                           "capped": np.asarray(view.arrows_capped, bool).astype(float)}
        layers.append({
            "data": _named("arrows"),
            "mark": {"type": "rule", "color": TOY_COLORS["arrow"], "strokeWidth": 1.4, "clip": True},
            "encoding": {"x": X, "y": Y, "x2": {"field": "x_end"}, "y2": {"field": "y_end"},
                         # a capped arrow (shortened to stay readable) is dashed
                         "strokeDash": {"condition": {"test": "datum.capped > 0", "value": [4, 2]},
                                        "value": [1, 0]}},
        })
        layers.append({
            "data": _named("arrows"),
            "mark": {"type": "point", "shape": "triangle-up", "filled": True, "size": 30,
                     "color": TOY_COLORS["arrow"], "opacity": 1, "clip": True},
            "encoding": {"x": _q("x_end", (x0, x1), "x₁"), "y": _q("y_end", (y0, y1), "x₂"),
                         "angle": {"field": "angle", "type": "quantitative", "scale": None}},
        })

    data = _datasets(**parts)
    spec = _top(title, size, size, layers, autosize={"type": "pad"},
                resolve={"scale": {"color": "shared"}, "legend": {"color": "shared"}})
    return data, spec


def _x_line(view: LineView) -> dict:
    return _q("x", view.extent, "x")


def line_chart(view: LineView, *, width: int = 720, height: int = 300,
               title: str = "") -> tuple[dict[str, pd.DataFrame], dict]:
    """1-D densities: p_data (solid blue), p_g (vermillion; dashed when it is a kernel density estimate) and a
    rug of the fake samples along the bottom. Frame layers: "p_data", "p_g" (x, y) and "fake" (x)."""
    x = np.asarray(view.x, float)
    fake = np.asarray(view.fake, float).reshape(-1)
    p_data = np.asarray(view.p_data, float)
    data = _datasets(p_data={"layer": "p_data", "x": x, "y": p_data, "kind": "p_data"},
                     p_g={"layer": "p_g", "x": x, "y": np.asarray(view.p_g, float), "kind": "p_g"},
                     fake={"layer": "fake", "x": fake})
    colour = {"field": "kind", "type": "nominal", "title": None,
              "scale": {"domain": ["p_data", "p_g"], "range": [TOY_COLORS["data"], TOY_COLORS["gen"]]}}
    # y up to 2.5 x p_data's peak (fixed by the data, so the spec stays put while p_g moves): a narrow spike of
    # p_g (a generator squeezing its mass) is clipped rather than flattening p_data to the floor
    top = 2.5 * float(np.nanmax(p_data)) if len(p_data) and np.nanmax(p_data) > 0 else 1.0
    y = {**_q("y", (0.0, round(top, 6)), None), "axis": _y_axis("density")}
    kde = view.p_g_method.startswith("kernel")
    layers = [
        {"data": _named("p_data"), "mark": {"type": "line", "strokeWidth": 3, "clip": True},
         "encoding": {"x": _x_line(view), "y": y, "color": colour}},
        {"data": _named("p_g"),
         "mark": {"type": "line", "strokeWidth": 3, "clip": True, **({"strokeDash": [8, 4]} if kde else {})},
         "encoding": {"x": _x_line(view), "y": y, "color": colour}},
        {"data": _named("fake"),
         "mark": {"type": "tick", "color": TOY_COLORS["gen"], "thickness": 1.5, "size": 12, "yOffset": -6,
                  "opacity": 0.7, "clip": True},
         "encoding": {"x": _x_line(view), "y": {"value": "height"}}},
    ]
    return data, _top(title, width, height, layers, autosize={"type": "fit", "contains": "padding"})


def discriminator_chart(view: LineView, *, width: int = 720, height: int = 240,
                        title: str = "") -> tuple[dict[str, pd.DataFrame], dict]:
    """The learned D(x) (solid, dark) over the optimal D*(x) = p_data / (p_data + p_g) (green, dashed).

    For probability outputs y is fixed to [0, 1] with a dotted 1/2 line; for critic / score outputs only D(x) is
    drawn, y is data-driven and the title says there is no D*. Same x scale and y-axis room as `line_chart`,
    so the two stack aligned. Frame layers: "d_learned", "d_star" (x, y) and "half" (one row, y = 0.5).
    """
    x = np.asarray(view.x, float)
    probability = view.output == "probability"
    with_star = probability and view.d_star is not None
    data = _datasets(d_learned={"layer": "d_learned", "x": x, "y": np.asarray(view.d_learned, float)},
                  d_star={"layer": "d_star", "x": x, "y": np.asarray(view.d_star, float)} if with_star else None,
                  half={"layer": "half", "x": [np.nan], "y": [0.5]} if probability else None)
    names = ["D(x) learned", "D*(x) optimal"] if with_star else ["D(x) learned"]
    colour = {"field": "series", "type": "nominal", "title": None,
              "scale": {"domain": names, "range": [TOY_COLORS["d_learned"], TOY_COLORS["dstar"]][:len(names)]}}
    if probability:
        y = {**_q("y", (0.0, 1.0)), "axis": {**_y_axis("D(x)"), "values": [0, 0.25, 0.5, 0.75, 1]}}
    else:
        y = {**_q("y"), "axis": _y_axis("critic score")}
        title = f"{title} — critic score (no D* for this loss)" if title else "critic score (no D* for this loss)"

    def curve(layer: str, name: str, **mark) -> dict:
        return {"data": _named(layer), "transform": [{"calculate": f"'{name}'", "as": "series"}],
                "mark": {"type": "line", "strokeWidth": 3, "clip": True, **mark},
                "encoding": {"x": _x_line(view), "y": y, "color": colour}}

    layers = []
    if probability:
        layers.append({"data": _named("half"),
                       "mark": {"type": "rule", "color": TOY_COLORS["guide"], "strokeDash": [2, 3],
                                "strokeWidth": 1.5},
                       "encoding": {"y": {"field": "y", "type": "quantitative"}}})
    if with_star:
        layers.append(curve("d_star", names[1], strokeDash=[8, 4]))
    layers.append(curve("d_learned", names[0]))
    return data, _top(title, width, height, layers, autosize={"type": "fit", "contains": "padding"})


__all__ = ["TOY_COLORS", "plane_chart", "line_chart", "discriminator_chart", "history_chart"]
