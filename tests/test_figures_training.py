"""ganplay.figures.training: the smoothed tiles' value and the charts' layout, against hand-computed values."""
import math

import numpy as np

from ganplay.figures.training import EMA_SPAN, HEIGHT, d_outputs_figure, ema, losses_figure, robust_range


def history(d_loss, g_loss=None):
    n = len(d_loss)
    return {"step": list(range(1, n + 1)), "d_loss": list(d_loss), "g_loss": list(g_loss or [0.7] * n),
            "d_real": [0.6] * n, "d_fake": [0.4] * n}


def test_ema_matches_a_hand_computed_one():
    # span 3: weight 2/(3+1) = 0.5 on each newer value, started from the first
    assert math.isclose(ema([0.103, 0.523, 0.931], span=3), 0.5 * 0.931 + 0.5 * (0.5 * 0.523 + 0.5 * 0.103))
    values = [0.2, 0.9, 0.1, 0.8]
    a = 2 / (EMA_SPAN + 1)
    expected = values[0]
    for v in values[1:]:
        expected = a * v + (1 - a) * expected
    assert math.isclose(ema(values), expected)
    assert ema([0.4]) == 0.4 and math.isnan(ema([]))


def test_a_lone_early_spike_does_not_set_the_loss_axis():
    rng = np.random.default_rng(0)
    d = list(0.7 + 0.05 * rng.standard_normal(200))
    d[3] = 25.0                                            # one early spike
    fig = losses_figure(history(d))
    lo, hi = fig.layout.yaxis.range
    assert hi < 1.5 and lo > 0.3                           # the axis follows the recent losses...
    assert any("25" in a.text for a in fig.layout.annotations)   # ...and says the spike is off the chart
    assert fig.data[0].y[3] == 25.0                        # the data is not altered: autoscale still reaches it


def test_a_wild_first_phase_does_not_set_the_loss_axis():
    rng = np.random.default_rng(1)
    g = list(np.r_[np.full(40, 8.0), np.full(260, 1.0)] + 0.1 * rng.standard_normal(300))   # what a run showed
    lo, hi = losses_figure(history([0.7] * 300, g)).layout.yaxis.range
    assert hi < 2.0 and lo < 0.7 and hi > np.percentile(g[40:], 98)   # the later phase of both losses fits


def test_losses_that_fit_leave_the_axis_to_plotly():
    assert losses_figure(history([0.7] * 10)).layout.yaxis.range is None          # too short to judge
    assert robust_range(np.linspace(0.5, 1.0, 100)) is None                       # nothing sticks out


def test_charts_are_tall_with_large_axis_text():
    for fig in (losses_figure(history([0.7] * 30)), d_outputs_figure(history([0.7] * 30))):
        assert fig.layout.height == HEIGHT > 280
        assert fig.layout.yaxis.tickfont.size >= 14 and fig.layout.xaxis.title.font.size >= 14


def test_the_half_label_sits_inside_the_plot():
    fig = d_outputs_figure(history([0.7] * 30), "probability")
    label = next(a for a in fig.layout.annotations if "D cannot tell" in a.text)
    assert label.xref == "x domain" and label.x < 1 and label.xanchor == "right"   # its right edge inside
    assert label.y == 0.5 and tuple(fig.layout.yaxis.range) == (0, 1)


def test_coverage_figures_draw_the_judges_numbers():
    from ganplay.figures.training import coverage_figure, coverage_history_figure

    cov = {"step": [200.0, 400.0], "classes_present": [3, 8], "confident_fraction": [0.1, 0.55],
           "histogram": [0.3, 0.2, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]}
    bars = coverage_figure(cov)
    assert list(bars.data[0].x) == [str(d) for d in range(10)]
    assert np.allclose(bars.data[0].y, [30, 20, 0, 0, 10, 10, 10, 10, 5, 5])
    assert "step 400" in bars.layout.title.text and bars.layout.shapes[0].y0 == 10   # the balanced 10 % line
    lines = coverage_history_figure(cov)
    assert list(lines.data[0].y) == [3, 8] and np.allclose(lines.data[1].y, [10, 55])
    assert lines.data[1].yaxis == "y2"


def test_a_flat_loss_after_a_spike_gets_a_readable_axis():
    """D has won: both losses sit near 0 after an early spike to 25. The axis is clipped to the recent values but
    keeps MIN_SPAN of height (the page once showed ticks of 100 nano)."""
    from ganplay.figures.training import MIN_SPAN, robust_range
    flat = [25.0] * 3 + [1e-7 * (i % 3) for i in range(200)]
    low, high = robust_range(flat, flat)
    assert high - low >= MIN_SPAN and low <= 0 <= high and high < 1
