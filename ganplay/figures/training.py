"""Plotly figures for a training run's metric history (the dicts `ganplay.live.RunSnapshot.history` holds).

    history = {"step": [...], "d_loss": [...], "g_loss": [...], "d_real": [...], "d_fake": [...]}
    losses_figure(history).show()
    d_outputs_figure(history, output="probability").show()

Plain dict specs built with graph_objects; no smoothing hides what happened, but a running mean is drawn
over the raw (faint) values so a trend shows through the noise of single batches. The loss axis is set from
robust percentiles of the recent history, so one early spike cannot flatten the rest (autoscale shows it).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ganplay.figures.theory import COLORS, FONT

EMA_SPAN = 20          # the D(x) / D(G(z)) tiles: an EMA over about this many recorded steps
HEIGHT = 340           # fits two charts beside the grid at 1280x720
AXIS_FONT = dict(size=15, color="#222222")

SERIES = {
    "d_loss": ("D loss", COLORS["data"]),
    "g_loss": ("G loss", COLORS["gen"]),
    "d_real": ("D(x), real", COLORS["data"]),
    "d_fake": ("D(G(z)), fake", COLORS["gen"]),
}


def running_mean(values: list[float], window: int) -> np.ndarray:
    """Trailing mean over `window` points (shorter at the start), same length as `values`."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v
    csum = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


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


MIN_SPAN = 0.5                   # the least height robust_range gives the loss axis


def robust_range(*series, recent: float = 0.5, margin: float = 0.15) -> list[float] | None:
    """A y range from the 2nd-98th percentiles of the most recent `recent` share of each series (plus a margin),
    or None (let plotly autorange) unless an older or stray value lies more than twice that range's height
    beyond it: so neither a lone spike nor a wild first phase sets the axis, while a steady trend keeps it."""
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


def _lines(history: dict[str, list[float]], keys: tuple[str, ...], title: str, y_title: str,
           height: int) -> go.Figure:
    steps = history.get("step", [])
    window = max(1, len(steps) // 25)
    fig = go.Figure()
    for key in keys:
        name, color = SERIES[key]
        values = history.get(key, [])
        fig.add_trace(go.Scatter(x=steps, y=values, mode="lines", line=dict(color=color, width=1), opacity=0.3,
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=steps, y=running_mean(values, window), mode="lines", name=name,
                                 line=dict(color=color, width=3)))
    fig.update_layout(template="plotly_white", font={**FONT, "size": 16}, height=height, title=title,
                      margin=dict(l=70, r=20, t=60, b=55), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    fig.update_xaxes(title="generator step", rangemode="tozero", tickfont=AXIS_FONT, title_font=AXIS_FONT)
    fig.update_yaxes(title=y_title, tickfont=AXIS_FONT, title_font=AXIS_FONT)
    return fig


def losses_figure(history: dict[str, list[float]], height: int = HEIGHT) -> go.Figure:
    """D's and G's loss; a spike outside the robust range is clipped, and the chart says how high it went."""
    fig = _lines(history, ("d_loss", "g_loss"), "Losses", "loss", height)
    losses = [history.get(k, []) for k in ("d_loss", "g_loss")]
    y_range = robust_range(*losses)
    if y_range is not None:
        fig.update_yaxes(range=y_range)
        top = float(np.nanmax(np.concatenate(losses)))
        if top > y_range[1]:
            fig.add_annotation(text=f"▲ off the chart: up to {top:.3g}", bgcolor="rgba(255, 255, 255, 0.85)",
                               hovertext="The axis follows the recent losses; the chart's Autoscale button "
                                         "shows everything.",
                               xref="x domain", x=0.01, xanchor="left", yref="y domain", y=0.99, yanchor="top",
                               showarrow=False, font=dict(size=13, color=COLORS["guide"]))
    return fig


def d_outputs_figure(history: dict[str, list[float]], output: str = "probability",
                     height: int = HEIGHT) -> go.Figure:
    """Mean D(x) and D(G(z)); probabilities get a fixed [0, 1] axis and the 1/2 line of a fooled D."""
    y_title = {"probability": "mean D (probability)", "score": "mean D score", "critic": "mean critic score"}[output]
    fig = _lines(history, ("d_real", "d_fake"), "What the discriminator says", y_title, height)
    if output == "probability":
        fig.update_yaxes(range=[0, 1])
        fig.add_hline(y=0.5, line=dict(color=COLORS["guide"], dash="dot", width=1.5))
        # anchored by its right edge inside the plot, so the label is never cut at the chart's border
        fig.add_annotation(text="½: D cannot tell", xref="x domain", x=0.99, xanchor="right", yref="y", y=0.5,
                           yanchor="top", showarrow=False, font=dict(size=14, color="#333333"),
                           bgcolor="rgba(255, 255, 255, 0.85)")    # readable where the curves cross it
    return fig


def coverage_figure(coverage: dict, height: int = 220) -> go.Figure:
    """The digit judge's latest verdict on G's fixed probe noise: the share of samples per digit, 10 bars,
    with a dotted line at 10 % (every digit equally often)."""
    histogram = [100 * share for share in coverage["histogram"]]
    fig = go.Figure(go.Bar(x=[str(d) for d in range(10)], y=histogram, marker_color=COLORS["gen"],
                           hovertemplate="digit %{x}: %{y:.0f} %<extra></extra>"))
    fig.add_hline(y=10, line=dict(color=COLORS["guide"], dash="dot", width=1.5))
    fig.update_layout(template="plotly_white", font={**FONT, "size": 14}, height=height,
                      title=f"Digits G draws (step {int(coverage['step'][-1]):,})", margin=dict(l=55, r=10, t=45, b=40))
    fig.update_xaxes(title="digit", type="category", tickfont=AXIS_FONT)
    fig.update_yaxes(title="% of samples", range=[0, max(100 * 0.5, max(histogram) * 1.05)], tickfont=AXIS_FONT)
    return fig


def coverage_history_figure(coverage: dict, height: int = 220) -> go.Figure:
    """Digits present (of 10, left axis) and the confident share (%, right axis) at every probe so far."""
    steps = coverage["step"]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=coverage["classes_present"], mode="lines+markers", name="digits present",
                             line=dict(color=COLORS["data"], width=3)))
    fig.add_trace(go.Scatter(x=steps, y=[100 * c for c in coverage["confident_fraction"]], mode="lines+markers",
                             name="confident %", yaxis="y2", line=dict(color=COLORS["gen"], width=3, dash="dash")))
    # no title: the legend above the plot names both lines (a title beside it collided at 1280 px)
    fig.update_layout(template="plotly_white", font={**FONT, "size": 14}, height=height,
                      margin=dict(l=55, r=55, t=45, b=40),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
                      yaxis=dict(title="digits", range=[0, 10.5], tickfont=AXIS_FONT),
                      yaxis2=dict(title="confident %", range=[0, 105], overlaying="y", side="right",
                                  showgrid=False, tickfont=AXIS_FONT))
    fig.update_xaxes(title="generator step", rangemode="tozero", tickfont=AXIS_FONT)
    return fig
