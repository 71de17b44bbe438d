"""Plotly figures for the GAN theory on the real line (see `ganplay.theory`).

Each function takes plain values and returns a `plotly.graph_objects.Figure`, styled to be read
from the back of a lecture room: large fonts, thick lines, one colour per quantity everywhere
(data blue, generator vermillion, D* green, JSD purple, W1 dark green).

    from ganplay.figures.theory import densities_figure
    from ganplay.theory import SITUATIONS
    s = SITUATIONS["far_apart"]
    densities_figure(s.p_data, s.p_g).show()
"""

from __future__ import annotations

import functools
import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ganplay.theory import (
    LOG2,
    Distribution,
    SeparationSweep,
    generator_losses,
    optimal_discriminator,
    plot_interval,
)

# Okabe–Ito based, colour-blind safe, dark enough for a projector.
COLORS = {
    "data": "#0072B2",
    "gen": "#D55E00",
    "dstar": "#009E73",
    "jsd": "#7B3294",
    "w1": "#1B7837",
    "minimax": "#D55E00",
    "nonsaturating": "#0072B2",       # keyed by the loss names of ganplay.losses
    "least-squares": "#009E73",
    "guide": "#555555",
}
FONT = dict(family="Source Sans Pro, Arial, sans-serif", size=18, color="#111111")
LINE_WIDTH = 4


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _style(fig: go.Figure, height: int) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        font=FONT,
        height=height,
        margin=dict(l=70, r=30, t=70, b=70),
        legend=dict(orientation="h", yanchor="bottom", y=1.06, xanchor="left", x=0, font=dict(size=18)),
        hoverlabel=dict(font_size=16),
        hovermode="x unified",
    )
    fig.update_annotations(font=dict(size=19))  # subplot titles
    fig.update_xaxes(showline=True, linecolor="#444", gridcolor="#e4e4e4", zeroline=False,
                     title_font=dict(size=19), tickfont=dict(size=16))
    fig.update_yaxes(showline=True, linecolor="#444", gridcolor="#e4e4e4", zeroline=False,
                     title_font=dict(size=19), tickfont=dict(size=16))
    return fig


def fixed_interval(mean_range: tuple[float, float], *dists: Distribution,
                   width: float = 4.0) -> tuple[float, float]:
    """An x-range that shows every component of `dists` wherever its mean sits within `mean_range`.

    It depends on the components' widths only, so moving a mean does not rescale the axis (a rescaling
    axis makes p_g's movement look smaller than it is).
    """
    widest = max(c.sigma for d in dists for c in d.components)
    lo, hi = plot_interval(*dists, width=width)
    return min(lo, mean_range[0] - width * widest), max(hi, mean_range[1] + width * widest)


def densities_figure(p_data: Distribution, p_g: Distribution, n: int = 1000,
                     x_range: tuple[float, float] | None = None) -> go.Figure:
    """p_data and p_g (left axis) with the optimal discriminator D*(x) on its own axis (right).

    x_range: the x-axis (e.g. `fixed_interval` over the sliders' range); by default it fits both distributions.
    """
    lo, hi = x_range if x_range is not None else plot_interval(p_data, p_g)
    x = np.linspace(lo, hi, n)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for dist, key, name in ((p_data, "data", "p_data (real)"), (p_g, "gen", "p_g (generator)")):
        fig.add_trace(go.Scatter(
            x=x, y=dist.pdf(x), name=name, mode="lines", line=dict(color=COLORS[key], width=LINE_WIDTH),
            fill="tozeroy", fillcolor=_rgba(COLORS[key], 0.18), hovertemplate="%{y:.3f}",
        ), secondary_y=False)
    fig.add_trace(go.Scatter(
        x=x, y=optimal_discriminator(p_data, p_g, x), name="D*(x)  (right axis)",
        mode="lines", line=dict(color=COLORS["dstar"], width=LINE_WIDTH, dash="dash"),
        hovertemplate="%{y:.3f}",
    ), secondary_y=True)
    fig.add_hline(y=0.5, line=dict(color=COLORS["guide"], width=1.5, dash="dot"), secondary_y=True)
    _style(fig, height=480)
    # On D*'s axis, so its height on the density axis means nothing: the label names the axis. Added by hand
    # after _style (which sizes subplot titles): add_hline would anchor the label on the density axis.
    fig.add_annotation(x=0, xref="x domain", y=0.5, yref="y2", xanchor="left", yanchor="bottom", showarrow=False,
                       text="D* = ½: cannot tell (right axis)", bgcolor="rgba(255,255,255,0.85)",
                       font=dict(size=15, color=COLORS["guide"]))
    fig.update_xaxes(title_text="x", range=[lo, hi])
    fig.update_yaxes(title_text="density", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="D*(x)", range=[-0.03, 1.03], tickvals=[0, 0.25, 0.5, 0.75, 1],
                     showgrid=False, title_font=dict(color=COLORS["dstar"]),
                     tickfont=dict(color=COLORS["dstar"]), secondary_y=True)
    return fig


def separation_figure(sweep: SeparationSweep, current: float | None = None) -> go.Figure:
    """JSD, W1 and the generator's gradient magnitudes against mean(p_g) − mean(p_data)."""
    s = sweep.separation
    fig = make_subplots(
        rows=1, cols=3, shared_xaxes=True, horizontal_spacing=0.07,
        subplot_titles=("Jensen–Shannon divergence (nats)", "Wasserstein-1 distance",
                        "Gradient size for the generator"),
    )
    fig.add_trace(go.Scatter(x=s, y=sweep.jsd, name="JSD", line=dict(color=COLORS["jsd"], width=LINE_WIDTH),
                             hovertemplate="%{y:.4f}"), row=1, col=1)
    fig.add_hline(y=LOG2, line=dict(color=COLORS["guide"], width=2, dash="dot"), row=1, col=1,
                  annotation_text="log 2", annotation_position="top left", annotation_font_size=17)
    fig.add_trace(go.Scatter(x=s, y=sweep.w1, name="W1", line=dict(color=COLORS["w1"], width=LINE_WIDTH),
                             hovertemplate="%{y:.3f}"), row=1, col=2)
    fig.add_trace(go.Scatter(
        x=s, y=sweep.minimax_grad, name="minimax |∂V(D*, G)/∂δ| = 2|∂JSD/∂δ|",
        line=dict(color=COLORS["minimax"], width=LINE_WIDTH), hovertemplate="%{y:.4f}",
    ), row=1, col=3)
    fig.add_trace(go.Scatter(
        x=s, y=sweep.w1_grad, name="|∂W1/∂δ|",
        line=dict(color=COLORS["w1"], width=LINE_WIDTH, dash="dash"), hovertemplate="%{y:.3f}",
    ), row=1, col=3)
    fig.add_trace(go.Scatter(
        x=s, y=sweep.nonsaturating_grad, name="non-saturating, D* held fixed",
        line=dict(color=COLORS["nonsaturating"], width=3, dash="dot"), hovertemplate="%{y:.3f}",
        visible="legendonly",
    ), row=1, col=3)
    if current is not None:
        fig.add_vline(x=current, line=dict(color=COLORS["gen"], width=2.5, dash="dash"), row="all", col="all")
    _style(fig, height=470)
    fig.update_layout(margin=dict(t=120), legend=dict(y=1.2))
    fig.update_xaxes(title_text="separation δ = mean(p_g) − mean(p_data)", title_font=dict(size=16))
    fig.update_yaxes(rangemode="tozero")
    fig.update_yaxes(range=[0, LOG2 * 1.12], row=1, col=1)
    return fig


@functools.lru_cache(maxsize=4)
def _loss_curves(n: int) -> tuple[np.ndarray, dict]:
    """The generator losses on a fixed grid of D: they never change, so a slider's rerun reuses them (~9 ms)."""
    d = np.linspace(1e-3, 1 - 1e-3, n)
    return d, generator_losses(d)


def generator_loss_figure(mark: float | None = None, wrt: str = "score", vanish_below: float = 0.1,
                          n: int = 600) -> go.Figure:
    """The three generator losses against D(G(z)) (left) and the size of their derivatives (right).

    wrt="score": derivative w.r.t. the discriminator's raw score (what reaches the generator);
    wrt="D": derivative w.r.t. D itself. The band D < vanish_below marks where the minimax
    gradient through a sigmoid is nearly zero; `mark` draws a vertical line (e.g. E_{p_g}[D*]).
    """
    if wrt not in ("score", "D"):
        raise ValueError(f"wrt must be 'score' or 'D', got {wrt!r}")
    d, losses = _loss_curves(n)
    right_title = ("|∂ loss / ∂ score|: what reaches the generator" if wrt == "score"
                   else "|∂ loss / ∂D|")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09,
                        subplot_titles=("Generator loss", right_title))
    for key, loss in losses.items():
        grad = loss.dloss_dscore if wrt == "score" else loss.dloss_dd
        # least squares drawn dashed: in the score view its gradient |D − 1| lies on the non-saturating one
        line = dict(color=COLORS[key], width=LINE_WIDTH, dash="dash" if key == "least-squares" else "solid")
        fig.add_trace(go.Scatter(x=d, y=loss.loss, name=loss.title, legendgroup=key, line=line,
                                 hovertemplate="%{y:.3f}"), row=1, col=1)
        fig.add_trace(go.Scatter(x=d, y=np.abs(grad), name=loss.title, legendgroup=key, line=line,
                                 showlegend=False, hovertemplate="%{y:.3f}"), row=1, col=2)
    for col in (1, 2):
        fig.add_vrect(x0=0, x1=vanish_below, fillcolor=_rgba(COLORS["minimax"], 0.13), line_width=0,
                      row=1, col=col)
    if wrt == "score":  # between the curves: above minimax's |D| and below the others' |1 − D|
        fig.add_annotation(x=vanish_below, y=0.5, xref="x2", yref="y2 domain", xanchor="left", xshift=4,
                           text="◀ minimax<br>gradient ≈ 0", showarrow=False, align="left",
                           bgcolor="rgba(255,255,255,0.85)", font=dict(size=16, color=COLORS["minimax"]))
    else:  # one line at the top, right of where 1/D falls below 6.5 (D > 0.15): lower down, 1/D ran through it
        fig.add_annotation(x=0.15, y=0.97, xref="x2", yref="y2 domain", xanchor="left", yanchor="top",
                           text="◀ D rejects the fakes", showarrow=False, bgcolor="white",
                           font=dict(size=16, color=COLORS["minimax"]))
    if wrt == "score":
        # Centred in the gap above where |D| and |1 − D| cross (at ½, height ½); two lines keep it clear of both.
        fig.add_annotation(x=0.5, y=0.98, xref="x2", yref="y2 domain", xanchor="center", yanchor="top",
                           showarrow=False, text="non-saturating and<br>least squares: both |1 − D|",
                           bgcolor="white", font=dict(size=15, color=COLORS["guide"]))
    if mark is not None and math.isfinite(mark):
        fig.add_vline(x=mark, line=dict(color=COLORS["gen"], width=2.5, dash="dash"), row="all", col="all")
        # Two short lines at the bottom, on the side of the mark away from where the minimax curve dives
        # (below −2.6 only past D ≈ 0.93): one long line beside a mark near ½ ran into it.
        left = mark < 0.55
        fig.add_annotation(x=mark, y=0.03, xref="x", yref="y domain", yanchor="bottom", align="left",
                           xanchor="left" if left else "right", xshift=6 if left else -6,
                           text=f"your p_g:<br>E[D*(G(z))] = {mark:.2f}", showarrow=False,
                           bgcolor="rgba(255,255,255,0.85)", font=dict(size=16, color=COLORS["gen"]))
    _style(fig, height=470)
    fig.update_layout(margin=dict(t=120), legend=dict(y=1.2))
    fig.update_xaxes(title_text="D(G(z))", range=[0, 1])
    fig.update_yaxes(range=[-4.2, 4.2], row=1, col=1)
    fig.update_yaxes(range=[0, 1.08] if wrt == "score" else [0, 8], row=1, col=2)
    return fig
