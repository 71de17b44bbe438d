"""ganplay.figures.training: the smoothed tiles' value and the charts' data and specs, against hand-computed
values. The specs must not depend on the data (so the browser updates a chart in place while a run trains)."""
import json
import math

import numpy as np

from ganplay.figures.training import (EMA_SPAN, HEIGHT, MIN_SPAN, coverage_bars, coverage_lines, d_histogram_chart,
                                      d_outputs_chart, ema, gradients_chart, losses_chart, robust_range)
from ganplay.live.lane import OutputHistograms


def history(d_loss, g_loss=None, d_real=0.6, d_fake=0.4):
    n = len(d_loss)
    return {"step": list(range(1, n + 1)), "d_loss": list(d_loss), "g_loss": list(g_loss or [0.7] * n),
            "d_real": [d_real] * n, "d_fake": [d_fake] * n, "d_grad_norm": [2.0] * n, "g_grad_norm": [1e-4] * n,
            "penalty": [0.25] * n}


def spec_text(chart) -> str:
    return json.dumps(chart[1], sort_keys=True)


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


def test_a_lone_early_spike_is_drawn_at_the_edge_and_named():
    rng = np.random.default_rng(0)
    d = list(0.7 + 0.05 * rng.standard_normal(200))
    d[3] = 25.0                                            # one early spike
    data, spec = losses_chart(history(d))
    raw = data["raw"][data["raw"].series == "D loss"]
    lo, hi = robust_range(d, [0.7] * 200)
    assert hi < 1.5 and lo > 0.3                           # the range follows the recent losses...
    assert math.isclose(raw.value.max(), hi) and raw.value.max() < 25   # ...the spike drawn at its top edge...
    assert "up to 25" in data["note"].text[0]               # ...and the note says how high it went


def test_a_wild_first_phase_does_not_set_the_loss_axis():
    rng = np.random.default_rng(1)
    g = list(np.r_[np.full(40, 8.0), np.full(260, 1.0)] + 0.1 * rng.standard_normal(300))   # what a run showed
    data, _ = losses_chart(history([0.7] * 300, g))
    top = data["raw"].value.max()
    assert top < 2.0 and top > np.percentile(g[40:], 98)   # the later phase of both losses fits


def test_losses_that_fit_are_drawn_as_they_are():
    d = list(np.linspace(0.5, 1.0, 100))
    data, _ = losses_chart(history(d))
    assert np.allclose(data["raw"][data["raw"].series == "D loss"].value, d)
    assert len(data["note"]) == 0                           # no note, but the layer is there (constant spec)
    assert robust_range(np.linspace(0.5, 1.0, 100)) is None


def test_specs_do_not_depend_on_the_data():
    """Two moments of one run give the same spec, so Streamlit updates the chart in place."""
    rng = np.random.default_rng(2)
    early, late = history([0.7] * 30), history(list(0.7 + rng.standard_normal(500)), d_real=0.99, d_fake=0.01)
    late["d_loss"][5] = 1e3
    for build in (losses_chart, gradients_chart, lambda h: d_outputs_chart(h, "probability"),
                  lambda h: d_outputs_chart(h, "critic", gp=True), lambda h: d_outputs_chart(h, "score")):
        assert spec_text(build(early)) == spec_text(build(late))
    cov1 = {"step": [200.0], "classes_present": [3], "confident_fraction": [0.1], "histogram": [0.1] * 10}
    cov2 = {"step": [200.0, 400.0], "classes_present": [3, 8], "confident_fraction": [0.1, 0.5],
            "histogram": [0.5, 0.5] + [0] * 8}
    assert spec_text(coverage_bars(cov1)) == spec_text(coverage_bars(cov2))
    assert spec_text(coverage_lines(cov1)) == spec_text(coverage_lines(cov2))


def test_long_histories_are_thinned_for_the_browser():
    data, _ = losses_chart(history([0.7] * 2000))
    assert 250 <= (data["raw"].series == "D loss").sum() <= 300


def test_charts_are_tall_and_the_half_line_is_labelled():
    data, spec = d_outputs_chart(history([0.7] * 30), "probability")
    assert spec["height"] == HEIGHT > 280
    assert spec["config"]["axis"]["labelFontSize"] >= 14
    y = spec["layer"][0]["encoding"]["y"]
    assert y["scale"]["domain"] == [0.0, 1.0]
    assert list(data["rule"].value) == [0.5] and "D cannot tell" in data["rule"].series[0]
    # the label is drawn over a white halo of itself, last, so the curves crossing it at ½ leave it readable
    labels = [layer["mark"] for layer in spec["layer"] if layer["mark"]["type"] == "text"
              and layer["encoding"].get("text") == {"field": "series"}]
    assert [m.get("stroke") for m in labels] == ["white", None] and labels[0]["strokeWidth"] >= 4
    assert spec["layer"][-2]["mark"] == labels[-1] or spec["layer"][-1]["mark"] == labels[-1]


def test_a_critic_shows_its_gap_and_penalty():
    h = history([0.7] * 30, d_real=3.0, d_fake=-1.5)
    data, _ = d_outputs_chart(h, "critic", gp=True)
    gap = data["raw"][data["raw"].series.str.startswith("critic gap")].value
    penalty = data["raw"][data["raw"].series == "gradient penalty"].value
    assert np.allclose(gap, 4.5) and np.allclose(penalty, 0.25)
    data, _ = d_outputs_chart(h, "critic", gp=False)                   # weight clipping: no penalty to show
    assert set(data["raw"].series) == {"critic gap E[D(x)] − E[D(G(z))]"}


def test_gradient_norms_use_a_log_axis_and_a_geometric_mean():
    h = history([0.7] * 50)
    h["g_grad_norm"] = [1e-4, 1e-2] * 25
    data, spec = gradients_chart(h)
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    g_mean = data["mean"][data["mean"].series == "G's gradient norm"].value.to_numpy()
    assert math.isclose(g_mean[-1], 1e-3, rel_tol=1e-9)                # sqrt(1e-4 * 1e-2): a 2-point window (50 // 25)
    h["g_grad_norm"][0] = 0.0                                            # no gradient yet: not drawable on a log axis
    assert len(gradients_chart(h)[0]["raw"].query("series == \"G's gradient norm\"")) == 49


def test_output_histograms_bin_real_and_fake_batches():
    hist = OutputHistograms(probability=True)
    real, fake = np.array([0.96, 0.97, 0.99, 0.5]), np.array([0.01, 0.02, 0.03, 0.5])
    hist.add(10, (real, fake))
    hist.add(10, (real, fake))                                           # the same step twice: one column
    hist.add(20, (fake, real))
    assert [c[0] for c in hist.columns] == [10, 20]
    step, edges, real_share, fake_share = hist.columns[0]
    assert np.allclose(edges, np.linspace(0, 1, 21))
    assert real_share[19] == 0.75 and real_share[10] == 0.25 and fake_share[0] == 0.75 and fake_share.sum() == 1
    data, spec = d_histogram_chart(hist.columns, "probability")
    first = data["real"][data["real"].step == 10]
    assert list(first.share) == [0.25, 0.75] and list(first.step_end) == [20.0, 20.0]
    assert set(data["real"][data["real"].step == 20].step_end) == {30.0}   # the last column: the median gap
    assert spec_text((data, spec)) == spec_text(d_histogram_chart([], "probability"))
    for i in range(200):                                                 # thinned by halves, spanning the run
        hist.add(30 + i, (real, fake))
    assert len(hist.columns) <= hist.max_columns and hist.columns[0][0] == 10


def test_score_histograms_bin_over_each_columns_range():
    hist = OutputHistograms(probability=False)
    hist.add(5, (np.array([2.0, 4.0]), np.array([-4.0, -2.0])))
    _, edges, real_share, fake_share = hist.columns[0]
    assert edges[0] == -4.0 and edges[-1] == 4.0
    assert real_share[-1] == 0.5 and fake_share[0] == 0.5


def test_coverage_charts_draw_the_judges_numbers():
    cov = {"step": [200.0, 400.0], "classes_present": [3, 8], "confident_fraction": [0.1, 0.55],
           "histogram": [0.3, 0.2, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]}
    data, _ = coverage_bars(cov)
    assert list(data["bars"].digit) == [str(d) for d in range(10)]
    assert np.allclose(data["bars"].percent, [30, 20, 0, 0, 10, 10, 10, 10, 5, 5])
    assert data["note"].text[0] == "step 400" and list(data["rule"].value) == [10.0]   # the balanced 10 % line
    data, _ = coverage_lines(cov)
    mean = data["mean"]
    assert list(mean[mean.series == "digits present"].value) == [3, 8]              # exact, not smoothed
    assert np.allclose(mean[mean.series == "% confident ÷ 10"].value, [1.0, 5.5])


def test_a_flat_loss_after_a_spike_gets_a_readable_axis():
    """D has won: both losses sit near 0 after an early spike to 25. The axis is clipped to the recent values but
    keeps MIN_SPAN of height (the page once showed ticks of 100 nano)."""
    flat = [25.0] * 3 + [1e-7 * (i % 3) for i in range(200)]
    low, high = robust_range(flat, flat)
    assert high - low >= MIN_SPAN and low <= 0 <= high and high < 1
