"""Plotly figures for a training run's metric history (the dicts `ganplay.live.RunSnapshot.history` holds).

    history = {"step": [...], "d_loss": [...], "g_loss": [...], "d_real": [...], "d_fake": [...]}
    losses_figure(history).show()
    d_outputs_figure(history, output="probability").show()

Plain dict specs built with graph_objects; no smoothing hides what happened, but a running mean is drawn
over the raw (faint) values so a trend shows through the noise of single batches.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ganplay.figures.theory import COLORS, FONT

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
    fig.update_layout(template="plotly_white", font={**FONT, "size": 15}, height=height, title=title,
                      margin=dict(l=60, r=20, t=60, b=50), hovermode="x unified",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    fig.update_xaxes(title="generator step", rangemode="tozero")
    fig.update_yaxes(title=y_title)
    return fig


def losses_figure(history: dict[str, list[float]], height: int = 320) -> go.Figure:
    return _lines(history, ("d_loss", "g_loss"), "Losses", "loss", height)


def d_outputs_figure(history: dict[str, list[float]], output: str = "probability", height: int = 320) -> go.Figure:
    """Mean D(x) and D(G(z)); probabilities get a fixed [0, 1] axis and the 1/2 line of a fooled D."""
    y_title = {"probability": "mean D (probability)", "score": "mean D score", "critic": "mean critic score"}[output]
    fig = _lines(history, ("d_real", "d_fake"), "What the discriminator says", y_title, height)
    if output == "probability":
        fig.update_yaxes(range=[0, 1])
        fig.add_hline(y=0.5, line=dict(color=COLORS["guide"], dash="dot", width=1.5),
                      annotation_text="½: D cannot tell", annotation_position="bottom right")
    return fig
