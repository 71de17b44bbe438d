"""Vega-Lite charts of the Theory page: pure functions returning `(datasets, spec)`, as `ganplay.figures.toy` does.

    datasets, spec = densities_chart(p_data, p_g, x_range=(-14, 14))
    st.vega_lite_chart(None, with_data(datasets, spec), theme=None)

Why a second set beside the plotly figures of `ganplay.figures.theory` (which notebooks keep using, with hover):
the page redraws all three charts on every slider step, and `st.plotly_chart` remounts a chart whenever its data
changes (plotly.js starts from scratch), while `st.vega_lite_chart` updates the existing view in place when the
spec is unchanged (shared/docs/live-charts.md). So every spec here depends only on things a slider step does not
change (the x-range, which derivative is shown) and every value that moves (curves, the marks of the current
setting, a label's text) lives in a named dataset. Same colours and content as the plotly figures.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from ganplay.figures.theory import COLORS, _loss_curves
from ganplay.theory import LOG2, Distribution, SeparationSweep, optimal_discriminator

CONFIG = {
    "view": {"stroke": None},
    "font": "Source Sans Pro, Arial, sans-serif",
    "axis": {"labelFontSize": 15, "titleFontSize": 17, "grid": True, "gridColor": "#E4E4E4", "domainColor": "#444",
             "titleFontWeight": "normal"},
    "legend": {"labelFontSize": 16, "orient": "top", "title": None, "symbolStrokeWidth": 4, "symbolSize": 300,
               "labelLimit": 420, "columnPadding": 18},
    "title": {"fontSize": 18, "fontWeight": "normal", "anchor": "start", "color": "#111111"},
    "text": {"fontSize": 15},
}
LINE = 4
ONE_ROW = {"values": [{}]}        # a layer drawn from constants (a rule at ½, a label) still needs one row
DENSITY_SERIES = ("p_data (real)", "p_g (generator)", "D*(x)  (right axis)")
SEPARATION_SERIES = ("JSD", "W1", "minimax |∂V(D*, G)/∂δ| = 2|∂JSD/∂δ|", "|∂W1/∂δ|",
                     "non-saturating, D* held fixed (click to show)")
LOSS_KEYS = ("minimax", "nonsaturating", "least-squares")


def with_data(datasets: dict[str, pd.DataFrame], spec: dict) -> dict:
    """The spec with its datasets attached, for `st.vega_lite_chart(None, with_data(*chart))`: Streamlit sends
    named datasets apart from the spec, so the spec it compares between reruns stays the same."""
    return {**spec, "datasets": datasets}


def _top(layers_or_concat: dict, **extra) -> dict:
    return {"config": copy.deepcopy(CONFIG), **layers_or_concat, **extra,
            # canvas: an update redraws a few paths of 600 points; as SVG each is a long `d` string for the DOM
            "usermeta": {"embedOptions": {"renderer": "canvas", "actions": False}}}


def _x(title: str, domain=None) -> dict:
    """x from the data's own extent unless `domain` is given: the extent moves with the data, the spec stays."""
    scale = {"nice": False, "zero": False}
    if domain is not None:
        scale["domain"] = [float(domain[0]), float(domain[1])]
    return {"field": "x", "type": "quantitative", "title": title, "scale": scale}


def _y(title: str | None, domain=None, **axis) -> dict:
    enc = {"field": "y", "type": "quantitative", "title": title, "axis": axis or {}}
    enc["scale"] = {"domain": [float(domain[0]), float(domain[1])], "nice": False} if domain else {"zero": True}
    return enc


def _colour(domain, colours) -> dict:
    return {"field": "series", "type": "nominal", "scale": {"domain": list(domain), "range": list(colours)}}


def _series(name: str) -> list[dict]:
    return [{"calculate": f"'{name}'", "as": "series"}]


def _line(data: str, x: dict, y: dict, colour: dict | None, name: str | None = None, **mark) -> dict:
    enc = {"x": x, "y": y}
    if colour is not None:
        enc["color"] = colour
    layer = {"data": {"name": data}, "mark": {"type": "line", "strokeWidth": LINE, "clip": True, **mark},
             "encoding": enc}
    if name is not None:
        layer["transform"] = _series(name)
    return layer


def _rule_x(data: str, colour: str, **mark) -> dict:
    """A vertical rule at each row's x (the current setting): its position is data, the spec stays put."""
    return {"data": {"name": data}, "mark": {"type": "rule", "color": colour, "strokeWidth": 2.5,
                                             "strokeDash": [7, 5], **mark},
            "encoding": {"x": {"field": "x", "type": "quantitative"}}}


def densities_chart(p_data: Distribution, p_g: Distribution, x_range: tuple[float, float], n: int = 600,
                    width: int = 640, height: int = 400) -> tuple[dict[str, pd.DataFrame], dict]:
    """p_data and p_g (filled, left axis) and D*(x) (dashed, right axis) with a dotted D* = ½ line.

    Datasets "p_data", "p_g", "dstar" (x, y) on n points spanning x_range, which is the x-axis. The spec depends
    on the size only."""
    x = np.linspace(x_range[0], x_range[1], n)
    data = {"p_data": pd.DataFrame({"x": x, "y": p_data.pdf(x)}),
            "p_g": pd.DataFrame({"x": x, "y": p_g.pdf(x)}),
            "dstar": pd.DataFrame({"x": x, "y": optimal_discriminator(p_data, p_g, x)})}
    colour = _colour(DENSITY_SERIES, (COLORS["data"], COLORS["gen"], COLORS["dstar"]))
    xe = _x("x")
    density = _y("density", axis=None)
    density["axis"] = {"titleColor": "#111111"}
    dens = []
    for key, name in (("p_data", DENSITY_SERIES[0]), ("p_g", DENSITY_SERIES[1])):
        dens.append({"data": {"name": key}, "transform": _series(name),
                     "mark": {"type": "area", "opacity": 0.18, "clip": True},
                     "encoding": {"x": xe, "y": density, "color": colour}})
        dens.append(_line(key, xe, density, colour, name))
    d_axis = _y("D*(x)", (-0.03, 1.03), orient="right", values=[0, 0.25, 0.5, 0.75, 1], grid=False,
                titleColor=COLORS["dstar"], labelColor=COLORS["dstar"])
    half = {"data": ONE_ROW,
            "mark": {"type": "rule", "color": COLORS["guide"], "strokeWidth": 1.5, "strokeDash": [2, 3]},
            "encoding": {"y": {"datum": 0.5, "type": "quantitative", "scale": d_axis["scale"]}}}
    half_label = {"data": ONE_ROW, "mark": {"type": "text", "align": "left", "baseline": "bottom", "x": 4, "dy": -3,
                                            "color": COLORS["guide"], "fontSize": 15,
                                            "text": "D* = ½: cannot tell (right axis)"},
                  "encoding": {"y": {"datum": 0.5, "type": "quantitative", "scale": d_axis["scale"]}}}
    d_layer = {"layer": [_line("dstar", xe, d_axis, colour, DENSITY_SERIES[2], strokeDash=[10, 6]), half,
                         half_label]}
    spec = _top({"layer": [{"layer": dens}, d_layer]}, width=width, height=height,
                resolve={"scale": {"y": "independent"}})
    return data, spec


def separation_chart(sweep: SeparationSweep, current: float | None = None, panel_width: int = 300,
                     height: int = 300) -> tuple[dict[str, pd.DataFrame], dict]:
    """JSD, W1 and the generator's gradient sizes against δ = mean(p_g) − mean(p_data), three panels, with the
    current separation as a dashed rule in each. Datasets "sweep" (x, jsd, w1, minimax, w1_grad) and "current"
    (x; empty without a current separation)."""
    s = np.asarray(sweep.separation, float)
    data = {"sweep": pd.DataFrame({"x": s, "jsd": sweep.jsd, "w1": sweep.w1, "minimax": sweep.minimax_grad,
                                   "w1_grad": sweep.w1_grad, "nonsat": sweep.nonsaturating_grad}),
            "current": pd.DataFrame({"x": [] if current is None else [float(current)]}, dtype=float)}
    xe = {**_x("separation δ"), "axis": {"tickCount": 6}}   # 300 px wide: fewer labels
    colour = _colour(SEPARATION_SERIES, (COLORS["jsd"], COLORS["w1"], COLORS["minimax"], COLORS["w1"],
                                         COLORS["nonsaturating"]))
    dash = {"field": "series", "type": "nominal",
            "scale": {"domain": list(SEPARATION_SERIES), "range": [[1, 0], [1, 0], [1, 0], [10, 6], [2, 4]]}}

    def curve(field: str, name: str, y: dict, extra: list | None = None) -> dict:
        return {"data": {"name": "sweep"},
                "transform": [{"calculate": f"datum.{field}", "as": "y"}, *_series(name), *(extra or [])],
                "mark": {"type": "line", "strokeWidth": LINE, "clip": True},
                "encoding": {"x": xe, "y": y, "color": colour, "strokeDash": dash}}

    # Hidden until its legend entry is clicked (as plotly's "legendonly"): its scale dwarfs the others.
    minimax = curve("minimax", SEPARATION_SERIES[2], _y(None))
    minimax["params"] = [{"name": "shown", "select": {"type": "point", "fields": ["series"]}, "bind": "legend"}]
    nonsat = curve("nonsat", SEPARATION_SERIES[4], _y(None), [{"filter": {"param": "shown", "empty": False}}])

    jsd_y = _y(None, (0, LOG2 * 1.12))
    log2 = [{"data": ONE_ROW,
             "mark": {"type": "rule", "color": COLORS["guide"], "strokeWidth": 2, "strokeDash": [2, 3]},
             "encoding": {"y": {"datum": LOG2, "type": "quantitative", "scale": jsd_y["scale"]}}},
            {"data": ONE_ROW, "mark": {"type": "text", "align": "left", "baseline": "bottom", "x": 4, "dy": -2,
                                       "fontSize": 16, "color": COLORS["guide"], "text": "log 2"},
             "encoding": {"y": {"datum": LOG2, "type": "quantitative", "scale": jsd_y["scale"]}}}]
    now = _rule_x("current", COLORS["gen"])
    panels = [
        ("Jensen–Shannon divergence (nats)", [curve("jsd", SEPARATION_SERIES[0], jsd_y), *log2, now]),
        ("Wasserstein-1 distance", [curve("w1", SEPARATION_SERIES[1], _y(None)), now]),
        ("Gradient size for the generator", [minimax, curve("w1_grad", SEPARATION_SERIES[3], _y(None)), nonsat,
                                             now]),
    ]
    spec = _top({"hconcat": [{"title": title, "width": panel_width, "height": height, "layer": layers}
                             for title, layers in panels]}, spacing=28)
    return data, spec


def loss_chart(mark: float | None = None, wrt: str = "score", vanish_below: float = 0.1, n: int = 300,
               panel_width: int = 470, height: int = 300) -> tuple[dict[str, pd.DataFrame], dict]:
    """The generator losses against D(G(z)) (left) and the size of their derivative (right; wrt "score" or "D"),
    a band where the minimax gradient vanishes, and the mark E_{p_g}[D*] as a dashed rule with its value.

    Datasets "losses" (x, y, series), "grads" (x, y, series) and "mark_left" / "mark_right" (x, label: the label
    goes right of a mark below 0.55, left of one above, clear of where the minimax curve dives)."""
    if wrt not in ("score", "D"):
        raise ValueError(f"wrt must be 'score' or 'D', got {wrt!r}")
    d, losses = _loss_curves(n)
    rows_l, rows_g = [], []
    for key in LOSS_KEYS:
        loss = losses[key]
        grad = loss.dloss_dscore if wrt == "score" else loss.dloss_dd
        rows_l.append(pd.DataFrame({"x": d, "y": loss.loss, "series": loss.title}))
        rows_g.append(pd.DataFrame({"x": d, "y": np.abs(grad), "series": loss.title}))
    has_mark = mark is not None and np.isfinite(mark)
    label = f"your p_g: E[D*(G(z))] = {mark:.2f}" if has_mark else ""
    left = has_mark and mark < 0.55
    data = {"losses": pd.concat(rows_l, ignore_index=True), "grads": pd.concat(rows_g, ignore_index=True),
            "mark_left": pd.DataFrame({"x": [float(mark)] if left else [], "label": [label] if left else []}),
            "mark_right": pd.DataFrame({"x": [float(mark)] if has_mark and not left else [],
                                        "label": [label] if has_mark and not left else []})}
    titles = [losses[k].title for k in LOSS_KEYS]
    colour = _colour(titles, [COLORS[k] for k in LOSS_KEYS])
    dash = {"field": "series", "type": "nominal", "legend": None,
            "scale": {"domain": titles, "range": [[1, 0], [1, 0], [10, 6]]}}   # least squares dashed
    xe = _x("D(G(z))", (0, 1))
    band = {"data": ONE_ROW, "mark": {"type": "rect", "color": COLORS["minimax"], "opacity": 0.13},
            "encoding": {"x": {"datum": 0.0, "type": "quantitative"}, "x2": {"datum": vanish_below}}}
    right_top = 1.08 if wrt == "score" else 8.0

    def mark_labels() -> list[dict]:
        out = []
        for name, align, dx in (("mark_left", "left", 6), ("mark_right", "right", -6)):
            out.append({"data": {"name": name}, "mark": {"type": "text", "align": align, "dx": dx, "baseline": "bottom",
                                                         "fontSize": 16, "color": COLORS["gen"], "y": "height",
                                                         "dy": -8},
                        "encoding": {"x": {"field": "x", "type": "quantitative"}, "text": {"field": "label"}}})
        return out

    def note(x: float, y: float, text, align: str, colour: str, y_dom) -> dict:
        return {"data": ONE_ROW,
                "mark": {"type": "text", "align": align, "baseline": "top", "fontSize": 16, "color": colour,
                         "text": text, "lineBreak": "\n"},
                "encoding": {"x": {"datum": x, "type": "quantitative"},
                             "y": {"datum": y, "type": "quantitative", "scale": {"domain": list(y_dom)}}}}

    y_left = (-4.2, 4.2)
    y_right = (0.0, right_top)
    left_panel = [band, {"data": {"name": "losses"}, "mark": {"type": "line", "strokeWidth": LINE, "clip": True},
                         "encoding": {"x": xe, "y": _y("loss", y_left), "color": colour, "strokeDash": dash}},
                  _rule_x("mark_left", COLORS["gen"]), _rule_x("mark_right", COLORS["gen"]), *mark_labels()]
    if wrt == "score":
        notes = [note(vanish_below + 0.01, 0.5 * right_top + 0.1, "◀ minimax\ngradient ≈ 0", "left",
                      COLORS["minimax"], y_right),
                 note(0.5, 0.98 * right_top, "non-saturating and\nleast squares: both |1 − D|", "center",
                      COLORS["guide"], y_right)]
    else:
        notes = [note(0.15, 0.97 * right_top, "◀ D rejects the fakes", "left", COLORS["minimax"], y_right)]
    right_panel = [band, {"data": {"name": "grads"}, "mark": {"type": "line", "strokeWidth": LINE, "clip": True},
                          "encoding": {"x": xe, "y": _y("|derivative|", y_right), "color": colour,
                                       "strokeDash": dash}},
                   _rule_x("mark_left", COLORS["gen"]), _rule_x("mark_right", COLORS["gen"]), *notes]
    right_title = ("|∂ loss / ∂ score|: what reaches the generator" if wrt == "score" else "|∂ loss / ∂D|")
    spec = _top({"hconcat": [{"title": "Generator loss", "width": panel_width, "height": height, "layer": left_panel},
                             {"title": right_title, "width": panel_width, "height": height, "layer": right_panel}]},
                spacing=36)
    return data, spec
