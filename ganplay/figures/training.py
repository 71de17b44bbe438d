"""Vega-Lite charts for a training run (the dicts and lists `ganplay.live.RunSnapshot` holds), for the Training
page's live panel: each function returns `(datasets, spec)` for `st.vega_lite_chart(None, with_data(*chart))`.

    history = {"step": [...], "d_loss": [...], "g_loss": [...], "d_real": [...], "d_fake": [...], ...}
    losses_chart(history)                  # D's and G's loss
    d_outputs_chart(history, "probability")   # mean D(x), D(G(z)); for a critic: the gap and the penalty
    gradients_chart(history)               # G's and D's gradient norms, log axis
    d_histogram_chart(snap.d_outputs, "probability")   # D's outputs on real and fake batches over time
    coverage_bars(coverage), coverage_lines(coverage)   # the digit judge's verdicts

Every spec depends only on static things (sizes, titles, series, the kind of D output), never on the data, so a
chart that redraws while the run trains is updated in place (see ganplay.figures.vega). No smoothing hides
what happened: a running mean is drawn over the raw (faint) values so a trend shows through single batches'
noise. The loss axis follows robust percentiles of the recent history, so one early spike cannot flatten the
rest; values beyond it are drawn at its edge and a note says how far they went.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ganplay.figures.theory import COLORS
from ganplay.figures.vega import _named, _q, _top, _y_axis, history_chart
from ganplay.figures.vega import running_mean  # noqa: F401  (older callers import it from here)

EMA_SPAN = 20          # the D(x) / D(G(z)) tiles: an EMA over about this many recorded steps
HEIGHT = 300           # two charts beside the grid at 1280x720
WIDTH = 520
MIN_SPAN = 0.5         # the least height robust_range gives the loss axis

SERIES = {
    "d_loss": ("D loss", COLORS["data"]),
    "g_loss": ("G loss", COLORS["gen"]),
    "d_real": ("D(x), real", COLORS["data"]),
    "d_fake": ("D(G(z)), fake", COLORS["gen"]),
    "d_grad_norm": ("D's gradient norm", COLORS["data"]),
    "g_grad_norm": ("G's gradient norm", COLORS["gen"]),
    "gap": ("critic gap E[D(x)] − E[D(G(z))]", COLORS["dstar"]),
    "penalty": ("gradient penalty", COLORS["gen"]),
}
OUTPUT_TITLES = {"probability": "mean D (probability)", "score": "mean D score", "critic": "critic score"}


def _keys(*names: str) -> list[tuple[str, str, str]]:
    return [(name, *SERIES[name]) for name in names]


def ema(values: list[float], span: int = EMA_SPAN) -> float:
    """Exponential moving average of `values` (oldest first), weight 2 / (span + 1) on each newer value,
    started from the first; NaN for no values. What the tiles show instead of one batch's jumpy value."""
    if not len(values):
        return float("nan")
    alpha = 2.0 / (span + 1)
    smoothed = float(values[0])
    for v in values[1:]:
        smoothed = alpha * float(v) + (1 - alpha) * smoothed
    return smoothed


def robust_range(*series, recent: float = 0.5, margin: float = 0.15) -> list[float] | None:
    """A y range from the 2nd-98th percentiles of the most recent `recent` share of each series (plus a margin),
    or None (show everything) unless an older or stray value lies more than twice that range's height beyond
    it: so neither a lone spike nor a wild first phase sets the axis, while a steady trend keeps it."""
    arrays = [np.asarray(x, dtype=float) for x in series]
    arrays = [x[np.isfinite(x)] for x in arrays]
    v = np.concatenate(arrays)
    if min(len(x) for x in arrays) < 20:
        return None
    lo, hi = np.percentile(np.concatenate([x[int(len(x) * (1 - recent)):] for x in arrays]), [2, 98])
    if hi - lo < MIN_SPAN:       # a flat loss (D has won: both near 0) gets a readable axis, not a 1e-7 one
        mid = (lo + hi) / 2
        lo, hi = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
    span = hi - lo
    low_out, high_out = v.min() < lo - 2 * span, v.max() > hi + 2 * span
    if not (low_out or high_out):
        return None
    pad = margin * span          # clip only the side that sticks out; the other keeps all its data
    low, high = (lo if low_out else v.min()) - pad, (hi if high_out else v.max()) + pad
    return [float(low), float(max(high, low + MIN_SPAN))]


def losses_chart(history: dict[str, list[float]], width: int = WIDTH, height: int = HEIGHT):
    """D's and G's loss. Past the robust range, values are drawn at its edge and the note says how far they went
    (the CSV download has every value)."""
    losses = [history.get(k, []) for k in ("d_loss", "g_loss")]
    y_range = robust_range(*losses)
    note = ""
    if y_range is not None:
        finite = np.concatenate([np.asarray(x, float) for x in losses])
        finite = finite[np.isfinite(finite)]
        top, bottom = float(finite.max()), float(finite.min())
        if top > y_range[1]:
            note = f"▲ off the chart: up to {top:.3g}"
        elif bottom < y_range[0]:
            note = f"▼ off the chart: down to {bottom:.3g}"
    return history_chart(history, _keys("d_loss", "g_loss"), width=width, height=height, title="Losses",
                         y_title="loss", clip=tuple(y_range) if y_range else None, note=note)


def d_outputs_chart(history: dict[str, list[float]], output: str = "probability", gp: bool = False,
                    width: int = WIDTH, height: int = HEIGHT):
    """Mean D(x) and D(G(z)): probabilities on a fixed [0, 1] axis with the ½ line of a fooled D. A critic
    (WGAN) gets its gap instead, E[D(x)] − E[D(G(z))], the Wasserstein estimate the generator shrinks, and with a
    gradient penalty (`gp`) the penalty term beside it."""
    if output == "critic":
        real, fake = (np.asarray(history.get(k, []), float) for k in ("d_real", "d_fake"))
        n = min(len(real), len(fake))
        derived = {"step": history.get("step", [])[:n], "gap": real[:n] - fake[:n],
                   "penalty": history.get("penalty", [])[:n]}
        return history_chart(derived, _keys("gap", "penalty") if gp else _keys("gap"), width=width, height=height,
                             title="The critic's estimate", y_title="critic score", rules=[(0.0, "0")])
    if output == "probability":
        return history_chart(history, _keys("d_real", "d_fake"), width=width, height=height,
                             title="What the discriminator says", y_title=OUTPUT_TITLES[output],
                             y_domain=(0.0, 1.0), rules=[(0.5, "½: D cannot tell")], clip=None)
    return history_chart(history, _keys("d_real", "d_fake"), width=width, height=height,
                         title="What the discriminator says", y_title=OUTPUT_TITLES[output])


def gradients_chart(history: dict[str, list[float]], width: int = WIDTH, height: int = HEIGHT):
    """The norm of G's and D's whole gradient at each update, on a log axis: a vanishing G gradient (the minimax
    loss once D wins) drops by orders of magnitude, an exploding one climbs."""
    return history_chart(history, _keys("d_grad_norm", "g_grad_norm"), width=width, height=height,
                         title="Gradient norms", y_title="‖∇‖ (log scale)", clip=None, log=True)


def d_histogram_chart(columns: list | None, output: str = "probability", width: int = WIDTH, height: int = HEIGHT):
    """D's outputs on a real batch (blue) and a fake batch (vermillion) over the run: each column is one moment,
    each cell's opacity the share of the batch in that bin. Apart, D tells them apart; on top of each other at
    ½, D is fooled. `columns`: (step, bin edges, real shares, fake shares), oldest first."""
    columns = columns or []
    rows = {"real": [], "fake": []}
    gaps = np.diff([c[0] for c in columns]) if len(columns) > 1 else np.array([1.0])
    for i, (step, edges, *shares) in enumerate(columns):
        end = columns[i + 1][0] if i + 1 < len(columns) else step + float(np.median(gaps))
        for name, share in zip(("real", "fake"), shares):
            for b in np.flatnonzero(share > 0):
                rows[name].append((float(step), float(end), float(edges[b]), float(edges[b + 1]), float(share[b])))
    data = {name: pd.DataFrame(r, columns=["step", "step_end", "lo", "hi", "share"]) for name, r in rows.items()}
    probability = output == "probability"
    y = {**_q("lo", (0.0, 1.0) if probability else None, **({} if probability else {"zero": False})),
         "axis": _y_axis(OUTPUT_TITLES[output].replace("mean ", ""))}
    x = _q("step", title="step")
    opacity = {"field": "share", "type": "quantitative", "scale": {"domain": [0, 0.4], "range": [0.05, 0.9],
                                                                   "clamp": True}, "legend": None}
    layers = [{"data": _named(name), "mark": {"type": "rect", "color": colour, "clip": True},
               "encoding": {"x": x, "x2": {"field": "step_end"}, "y": y, "y2": {"field": "hi"}, "opacity": opacity}}
              for name, colour in (("real", COLORS["data"]), ("fake", COLORS["gen"]))]
    if probability:
        data["rule"] = pd.DataFrame({"value": [0.5], "label": ["½"]})
        layers.append({"data": _named("rule"), "mark": {"type": "rule", "color": "#333333", "strokeDash": [6, 4]},
                       "encoding": {"y": {"field": "value", "type": "quantitative"}}})
    spec = _top("D's outputs over time", width, height, layers, autosize={"type": "fit", "contains": "padding"})
    spec["title"] = {"text": "D's outputs over time", "subtitle": "real batch: blue · fake batch: vermillion",
                     "subtitleFontSize": 13}
    return data, spec


def coverage_bars(coverage: dict, width: int = 380, height: int = 200):
    """The digit judge's latest verdict on G's fixed probe noise: the share of samples per digit, 10 bars,
    with a dotted line at 10 % (every digit equally often). The step is in the data, not the title."""
    data = {"bars": pd.DataFrame({"digit": [str(d) for d in range(10)],
                                  "percent": [100 * float(s) for s in coverage["histogram"]]}),
            "rule": pd.DataFrame({"value": [10.0]}),
            "note": pd.DataFrame({"text": [f"step {int(coverage['step'][-1]):,}"]})}
    y = {"field": "percent", "type": "quantitative", "scale": {"domain": [0, 50], "clamp": True},
         "axis": _y_axis("% of samples")}
    layers = [
        {"data": _named("bars"), "mark": {"type": "bar", "color": COLORS["gen"]},
         "encoding": {"x": {"field": "digit", "type": "nominal", "sort": None, "axis": {"labelAngle": 0},
                            "title": "digit"},
                      "y": y, "tooltip": [{"field": "digit"}, {"field": "percent", "format": ".0f"}]}},
        {"data": _named("rule"), "mark": {"type": "rule", "color": "#333333", "strokeDash": [6, 4]},
         "encoding": {"y": {"field": "value", "type": "quantitative"}}},
        {"data": _named("note"), "mark": {"type": "text", "align": "right", "baseline": "bottom", "fontSize": 13,
                                          "color": COLORS["guide"]},
         "encoding": {"text": {"field": "text"}, "x": {"value": "width"}, "y": {"value": -22}}},   # by the title
    ]
    return data, _top("Digits G draws", width, height, layers, autosize={"type": "fit", "contains": "padding"})


def coverage_lines(coverage: dict, width: int = 380, height: int = 200):
    """Digits present (of 10) and the confident share (as tenths, so both fit one 0–10 axis) at every probe."""
    history = {"step": coverage["step"], "present": coverage["classes_present"],
               "confident": [10 * c for c in coverage["confident_fraction"]]}
    keys = [("present", "digits present", COLORS["data"]), ("confident", "% confident ÷ 10", COLORS["gen"])]
    return history_chart(history, keys, width=width, height=height, title="Over the run", y_title="of 10",
                         y_domain=(0.0, 10.5), clip=None, raw=False)
