"""ganplay.theory against closed forms, an independent brute-force integrator and Monte Carlo."""

import math

import numpy as np
import pytest

from ganplay import theory
from ganplay.figures import theory_vega
from ganplay.figures.theory import (
    _loss_curves,
    densities_figure,
    fixed_interval,
    generator_loss_figure,
    separation_figure,
)
from ganplay.losses import LOSSES
from ganplay.theory import (
    LOG2,
    LOG4,
    SITUATIONS,
    Gaussian,
    Mixture,
    js_divergence,
    kl_divergence,
    optimal_discriminator,
    value_at_optimum,
    wasserstein1,
)

BIMODAL = Mixture((Gaussian(-2.0, 0.5), Gaussian(1.5, 1.2)), (0.3, 0.7))
SKEWED = Mixture((Gaussian(0.0, 1.0), Gaussian(0.8, 0.3), Gaussian(-4.0, 2.0)), (2.0, 1.0, 1.0))


def kl_gaussians(p: Gaussian, q: Gaussian) -> float:
    return math.log(q.sigma / p.sigma) + (p.sigma**2 + (p.mu - q.mu) ** 2) / (2 * q.sigma**2) - 0.5


def w1_gaussians(p: Gaussian, q: Gaussian) -> float:
    """E|Δμ + Δσ Z|: the quantile coupling of two Gaussians is x → μ_q + σ_q (x − μ_p) / σ_p."""
    m, s = q.mu - p.mu, abs(q.sigma - p.sigma)
    if s == 0:
        return abs(m)
    return s * math.sqrt(2 / math.pi) * math.exp(-m * m / (2 * s * s)) + m * math.erf(m / (s * math.sqrt(2)))


# --- an independent reference: a very fine uniform grid (trapezoid), its own densities and CDFs ----

def _ref_logpdf(p, x):
    comps = np.array([(c.mu, c.sigma) for c in p.components])
    w = np.asarray(p.weights)
    z = (x[None, :] - comps[:, :1]) / comps[:, 1:]
    terms = np.log(w)[:, None] - 0.5 * z**2 - np.log(comps[:, 1:] * math.sqrt(2 * math.pi))
    return np.logaddexp.reduce(terms, axis=0)


def _ref_cdf(p, x):
    erf = np.vectorize(math.erf)
    return sum(w * 0.5 * (1 + erf((x - c.mu) / (c.sigma * math.sqrt(2)))) for c, w in zip(p.components, p.weights))


def reference(p, q):
    comps = list(p.components) + list(q.components)
    lo = min(c.mu - 30 * c.sigma for c in comps)
    hi = max(c.mu + 30 * c.sigma for c in comps)
    x = np.linspace(lo, hi, 400_001)
    lp, lq = _ref_logpdf(p, x), _ref_logpdf(q, x)
    lm = np.logaddexp(lp, lq) - math.log(2)
    return {
        "jsd": 0.5 * np.trapezoid(np.exp(lp) * (lp - lm) + np.exp(lq) * (lq - lm), x),
        "kl_pq": np.trapezoid(np.exp(lp) * (lp - lq), x),
        "kl_qp": np.trapezoid(np.exp(lq) * (lq - lp), x),
        "w1": np.trapezoid(np.abs(_ref_cdf(p, x) - _ref_cdf(q, x)), x),
    }


# --- closed forms -----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [Gaussian(0, 1), Gaussian(3, 0.2), BIMODAL, SKEWED])
def test_identical_distributions_have_zero_divergence(p):
    assert js_divergence(p, p) == pytest.approx(0, abs=1e-12)
    assert kl_divergence(p, p) == pytest.approx(0, abs=1e-12)
    assert wasserstein1(p, p) == pytest.approx(0, abs=1e-12)
    assert value_at_optimum(p, p) == pytest.approx(-LOG4, abs=1e-10)
    np.testing.assert_allclose(optimal_discriminator(p, p, np.linspace(-10, 10, 51)), 0.5)


@pytest.mark.parametrize("gap", [20.0, 60.0, 400.0])
def test_jsd_of_disjoint_distributions_is_log2(gap):
    p, q = Gaussian(-gap / 2, 1.0), Gaussian(gap / 2, 0.5)
    assert js_divergence(p, q) == pytest.approx(LOG2, abs=1e-10)
    assert value_at_optimum(p, q) == pytest.approx(0.0, abs=1e-10)
    assert wasserstein1(p, q) == pytest.approx(gap, rel=1e-10)


def test_jsd_approaches_log2_from_below_as_gaussians_separate():
    jsds = [js_divergence(Gaussian(0, 1), Gaussian(d, 1)) for d in (0.5, 2, 4, 8, 12)]
    assert all(a < b for a, b in zip(jsds, jsds[1:]))
    assert LOG2 - jsds[-1] < 1e-6
    assert LOG2 - jsds[-2] > 1e-6  # at 8σ the tails still overlap measurably


@pytest.mark.parametrize("p,q", [
    (Gaussian(0, 1), Gaussian(1, 1)),
    (Gaussian(0.3, 1.2), Gaussian(-1, 0.7)),
    (Gaussian(-5, 1), Gaussian(5, 1)),
    (Gaussian(2, 0.1), Gaussian(-3, 4)),
])
def test_kl_of_gaussians_matches_closed_form(p, q):
    assert kl_divergence(p, q) == pytest.approx(kl_gaussians(p, q), rel=1e-10, abs=1e-12)
    assert kl_divergence(q, p) == pytest.approx(kl_gaussians(q, p), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("p,q", [
    (Gaussian(0, 1), Gaussian(2.5, 1)),
    (Gaussian(-5, 1), Gaussian(5, 1)),
    (Gaussian(1, 2), Gaussian(1, 0.5)),  # the CDFs cross at x = 1: W1 = 1.5·sqrt(2/π)
    (Gaussian(0, 1), Gaussian(0.7, 2)),
])
def test_w1_of_gaussians_matches_closed_form(p, q):
    assert wasserstein1(p, q) == pytest.approx(w1_gaussians(p, q), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("delta", [0.3, -2.0, 7.5])
def test_w1_of_a_shifted_copy_is_the_shift(delta):
    assert wasserstein1(SKEWED, SKEWED.shifted(delta)) == pytest.approx(abs(delta), rel=1e-10)


@pytest.mark.parametrize("p,q", [(Gaussian(0, 1), Gaussian(1.3, 0.6)), (BIMODAL, SKEWED), (BIMODAL, Gaussian(9, 1))])
def test_value_at_optimum_is_two_jsd_minus_log4(p, q):
    assert value_at_optimum(p, q) == pytest.approx(2 * js_divergence(p, q) - LOG4, abs=1e-12)
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), abs=1e-12)


def test_optimal_discriminator_is_half_where_densities_cross():
    p, q = Gaussian(0, 1), Gaussian(2, 1)
    assert optimal_discriminator(p, q, 1.0) == pytest.approx(0.5, abs=1e-15)
    # N(0,1) and N(0,2) cross where x² (1 − 1/4) / 2 = log 2
    crossing = math.sqrt(2 * math.log(2) / 0.75)
    p, q = Gaussian(0, 1), Gaussian(0, 2)
    np.testing.assert_allclose(optimal_discriminator(p, q, [-crossing, crossing]), 0.5, atol=1e-12)
    x = np.linspace(-6, 6, 101)
    d = optimal_discriminator(BIMODAL, SKEWED, x)
    np.testing.assert_allclose(d, BIMODAL.pdf(x) / (BIMODAL.pdf(x) + SKEWED.pdf(x)), rtol=1e-12)
    np.testing.assert_allclose(d + optimal_discriminator(SKEWED, BIMODAL, x), 1.0, atol=1e-15)


def test_optimal_discriminator_stays_finite_where_densities_underflow():
    d = optimal_discriminator(Gaussian(-30, 1), Gaussian(30, 1), np.array([-60.0, -1.0, 0.0, 1.0, 60.0]))
    assert np.all(np.isfinite(d))
    np.testing.assert_allclose(d, [1, 1, 0.5, 0, 0], atol=1e-12)


# --- accuracy on every one-click situation, against the brute-force reference ----------------------

@pytest.mark.parametrize("key", list(SITUATIONS))
def test_situations_are_accurate_to_1e6(key):
    s = SITUATIONS[key]
    ref = reference(s.p_data, s.p_g)
    assert js_divergence(s.p_data, s.p_g) == pytest.approx(ref["jsd"], abs=1e-7)
    assert kl_divergence(s.p_data, s.p_g) == pytest.approx(ref["kl_pq"], abs=1e-7)
    assert kl_divergence(s.p_g, s.p_data) == pytest.approx(ref["kl_qp"], abs=1e-7)
    assert wasserstein1(s.p_data, s.p_g) == pytest.approx(ref["w1"], abs=1e-6)
    assert value_at_optimum(s.p_data, s.p_g) == pytest.approx(2 * ref["jsd"] - LOG4, abs=1e-7)


def test_situation_far_apart_and_mode_dropping_numbers():
    far = SITUATIONS["far_apart"]
    assert js_divergence(far.p_data, far.p_g) == pytest.approx(LOG2, abs=1e-5)
    assert wasserstein1(far.p_data, far.p_g) == pytest.approx(10.0, rel=1e-12)
    drop = SITUATIONS["mode_dropping"]
    # moving the dropped half of the mass across 6 units costs 3
    assert wasserstein1(drop.p_data, drop.p_g) == pytest.approx(3.0, rel=1e-9)
    assert kl_divergence(drop.p_g, drop.p_data) == pytest.approx(LOG2, abs=1e-3)
    assert kl_divergence(drop.p_data, drop.p_g) > 10


# --- Monte Carlo -------------------------------------------------------------------------------------

def test_monte_carlo_estimates_agree():
    """Sample averages with a fixed seed; tolerances are about 5 standard errors (n = 200 000)."""
    rng = np.random.default_rng(0)
    p, q, n = BIMODAL, SKEWED, 200_000
    xp, xq = p.sample(n, rng), q.sample(n, rng)
    log_ratio = p.logpdf(xp) - q.logpdf(xp)
    assert kl_divergence(p, q) == pytest.approx(log_ratio.mean(), abs=5 * log_ratio.std() / math.sqrt(n))
    a = np.log(2) + p.logpdf(xp) - np.logaddexp(p.logpdf(xp), q.logpdf(xp))
    b = np.log(2) + q.logpdf(xq) - np.logaddexp(p.logpdf(xq), q.logpdf(xq))
    se = math.sqrt(a.var() + b.var()) / (2 * math.sqrt(n))
    assert js_divergence(p, q) == pytest.approx(0.5 * (a.mean() + b.mean()), abs=5 * se)
    # W1 between two equal-size samples: match them in sorted order
    assert wasserstein1(p, q) == pytest.approx(np.mean(np.abs(np.sort(xp) - np.sort(xq))), abs=0.02)


def test_samples_follow_the_distribution():
    x = SKEWED.sample(100_000, rng=1)
    assert x.mean() == pytest.approx(SKEWED.mean, abs=0.03)
    assert x.std() == pytest.approx(SKEWED.std, abs=0.03)
    np.testing.assert_array_equal(x, SKEWED.sample(100_000, rng=1))
    assert Gaussian(2, 3).sample(50_000, np.random.default_rng(2)).std() == pytest.approx(3, rel=0.02)


def test_pdf_integrates_to_one_and_cdf_matches():
    x = np.linspace(-40, 40, 200_001)
    assert np.trapezoid(SKEWED.pdf(x), x) == pytest.approx(1.0, abs=1e-9)
    left = np.linspace(-40, 0.8, 200_001)
    assert SKEWED.cdf(0.8) == pytest.approx(np.trapezoid(SKEWED.pdf(left), left), abs=1e-8)
    assert Gaussian(1, 2).cdf(1.0) == pytest.approx(0.5)


def test_invalid_distributions_are_rejected():
    with pytest.raises(ValueError):
        Gaussian(0, 0)
    with pytest.raises(ValueError):
        Gaussian(float("nan"), 1)
    with pytest.raises(ValueError):
        Mixture((Gaussian(0, 1),), (-1.0,))
    with pytest.raises(ValueError):
        Mixture((Gaussian(0, 1), Gaussian(1, 1)), (1.0,))
    with pytest.raises(ValueError):
        Mixture(())
    assert Mixture((Gaussian(0, 1), Gaussian(1, 1)), (1, 3)).weights == (0.25, 0.75)
    assert Mixture((Gaussian(0, 1), Gaussian(1, 1))).weights == (0.5, 0.5)


# --- gradients and the sweep -------------------------------------------------------------------------

@pytest.mark.parametrize("p,q", [(Gaussian(0, 1), Gaussian(1.2, 1)), (BIMODAL, Gaussian(0.5, 1.3)), (SKEWED, BIMODAL)])
def test_gradients_match_finite_differences(p, q):
    h = 1e-4
    fd_value = (value_at_optimum(p, q.shifted(h)) - value_at_optimum(p, q.shifted(-h))) / (2 * h)
    assert theory.minimax_gradient(p, q) == pytest.approx(fd_value, abs=1e-7)
    fd_w1 = (wasserstein1(p, q.shifted(h)) - wasserstein1(p, q.shifted(-h))) / (2 * h)
    assert theory.wasserstein1_gradient(p, q) == pytest.approx(fd_w1, abs=1e-7)


def test_far_apart_gradients():
    p, q = Gaussian(0, 1), Gaussian(12, 1)
    assert abs(theory.minimax_gradient(p, q)) < 1e-6  # the vanishing gradient
    assert theory.wasserstein1_gradient(p, q) == pytest.approx(1.0, abs=1e-12)
    # D* ≈ 0 on the fakes, so the non-saturating gradient is E_g[s_g − s_data] = Δμ / σ²
    assert theory.nonsaturating_gradient(p, q) == pytest.approx(12.0, abs=1e-6)
    assert theory.mean_optimal_d_on_fakes(p, q) < 1e-8
    assert theory.mean_optimal_d_on_fakes(p, p) == pytest.approx(0.5)


def test_separation_sweep_shows_jsd_saturating_and_w1_linear():
    p = Gaussian(1.0, 1.0)
    seps = np.linspace(-12, 12, 49)
    sweep = theory.separation_sweep(p, Gaussian(-3.0, 1.0), seps)
    np.testing.assert_allclose(sweep.separation, seps)
    np.testing.assert_allclose(sweep.w1, np.abs(seps), atol=1e-9)
    assert sweep.jsd[seps == 0] == pytest.approx(0, abs=1e-12)
    assert np.all(LOG2 - sweep.jsd[np.abs(seps) >= 12] < 1e-6)
    assert np.all(sweep.minimax_grad[np.abs(seps) >= 12] < 1e-5)
    np.testing.assert_allclose(sweep.w1_grad[seps != 0], 1.0, atol=1e-9)
    np.testing.assert_allclose(sweep.minimax_grad, 2 * np.abs(np.gradient(sweep.jsd, seps)), atol=0.05)
    assert sweep.minimax_grad.max() > 0.3


# --- generator losses ---------------------------------------------------------------------------------

def test_generator_losses_values_and_derivatives():
    d = np.linspace(0.01, 0.99, 99)
    losses = theory.generator_losses(d)
    assert set(losses) == {"minimax", "nonsaturating", "least-squares"}      # the loss registry's names
    for key, g in losses.items():                    # titles and formulas are the loss objects' own
        assert (g.name, g.title, g.formula) == (key, LOSSES[key].title, LOSSES[key].g_formula)
    half = theory.generator_losses(0.5)
    assert half["minimax"].loss == pytest.approx(-LOG2)
    assert half["nonsaturating"].loss == pytest.approx(LOG2)
    assert half["least-squares"].loss == pytest.approx(0.125)
    # by hand at D = 0.2: log 0.8, −log 0.2, ½ · 0.8²; derivatives in D −1/0.8, −1/0.2, −0.8
    fifth = theory.generator_losses(0.2)
    assert [fifth[k].loss for k in ("minimax", "nonsaturating", "least-squares")] == pytest.approx(
        [-0.22314355131, 1.60943791243, 0.32])
    assert [fifth[k].dloss_dd for k in ("minimax", "nonsaturating", "least-squares")] == pytest.approx(
        [-1.25, -5.0, -0.8])
    assert [fifth[k].dloss_dscore for k in ("minimax", "nonsaturating", "least-squares")] == pytest.approx(
        [-0.2, -0.8, -0.8])
    h = 1e-6
    above, below = theory.generator_losses(d + h), theory.generator_losses(d - h)
    for key, g in losses.items():
        np.testing.assert_allclose(g.dloss_dd, (above[key].loss - below[key].loss) / (2 * h), rtol=1e-6)
    # chain rule through D = sigmoid(a): dD/da = D(1 − D)
    for key in ("minimax", "nonsaturating"):
        np.testing.assert_allclose(losses[key].dloss_dscore, losses[key].dloss_dd * d * (1 - d), rtol=1e-12)
    tiny = theory.generator_losses(1e-6)
    assert abs(tiny["minimax"].dloss_dscore) < 1e-5  # minimax saturates where D rejects the fakes
    assert tiny["nonsaturating"].dloss_dscore == pytest.approx(-1, abs=1e-5)
    ends = theory.generator_losses([0.0, 1.0])       # the score is ±inf there; what reaches G stays finite
    np.testing.assert_array_equal(ends["minimax"].dloss_dscore, [0.0, -1.0])
    np.testing.assert_array_equal(ends["nonsaturating"].dloss_dscore, [-1.0, 0.0])
    with pytest.raises(ValueError):
        theory.generator_losses(1.5)


# --- figures -------------------------------------------------------------------------------------------

def test_figures_plot_the_computed_curves():
    s = SITUATIONS["mode_dropping"]
    fig = densities_figure(s.p_data, s.p_g)
    data, gen, dstar = fig.data[:3]
    np.testing.assert_allclose(dstar.y, optimal_discriminator(s.p_data, s.p_g, dstar.x))
    np.testing.assert_allclose(gen.y, s.p_g.pdf(gen.x))
    assert dstar.yaxis == "y2"
    sweep = theory.separation_sweep(s.p_data, s.p_g, np.linspace(-5, 5, 5))
    fig = separation_figure(sweep, current=theory.separation(s.p_data, s.p_g))
    np.testing.assert_allclose(fig.data[0].y, sweep.jsd)
    fig = generator_loss_figure(mark=0.3, wrt="D")
    assert len(fig.data) == 6
    with pytest.raises(ValueError):
        generator_loss_figure(wrt="logit")


def test_the_half_line_says_it_is_d_stars_half():
    s = SITUATIONS["far_apart"]
    fig = densities_figure(s.p_data, s.p_g, x_range=(-14.0, 14.0))
    assert list(fig.layout.xaxis.range) == [-14.0, 14.0]
    (line,) = fig.layout.shapes
    assert line.y0 == line.y1 == 0.5 and line.yref == "y2"     # on D*'s axis, not the density's
    (label,) = [a for a in fig.layout.annotations if "½" in a.text]
    assert "D*" in label.text and label.yref == "y2" and label.y == 0.5


def test_fixed_interval_ignores_where_the_means_sit():
    assert fixed_interval((-10, 10), Gaussian(0, 1), Gaussian(3, 1)) == (-14, 14)
    assert fixed_interval((-10, 10), Gaussian(-9, 1), Gaussian(9.5, 1)) == (-14, 14)
    assert fixed_interval((-10, 10), Gaussian(0, 1), Gaussian(3, 0.5)) == (-14, 14)    # the widest σ counts
    assert fixed_interval((-1, 1), Gaussian(5, 1)) == (-5, 9)                           # a mean outside: shown


def test_jsd_and_the_minimax_gradient_have_their_own_colours():
    s = SITUATIONS["shifted"]
    sweep = theory.separation_sweep(s.p_data, s.p_g, np.linspace(-5, 5, 5))
    fig = separation_figure(sweep)
    colours = {t.name.split()[0]: t.line.color for t in fig.data}
    assert colours["JSD"] != colours["minimax"]
    # the same minimax colour as in the loss figure below it
    loss_colours = {t.name: t.line.color for t in generator_loss_figure().data if t.showlegend is not False}
    assert colours["minimax"] in loss_colours.values()



def test_the_shared_gradient_label_sits_in_the_gap_above_the_crossing():
    fig = generator_loss_figure(wrt="score")
    (label,) = [a for a in fig.layout.annotations if "both |1 − D|" in a.text]
    assert (label.x, label.xanchor, label.yanchor, label.xref) == (0.5, "center", "top", "x2")
    # under the label (about D in [0.25, 0.75], y from 0.98 of the axis down two text lines) no curve rises
    # above 0.75, while the label's lower edge stays above 0.8 of the [0, 1.08] axis
    for trace in fig.data:
        if trace.xaxis == "x2":
            under = (trace.x >= 0.25) & (trace.x <= 0.75)
            assert trace.y[under].max() <= 0.75 + 1e-9, trace.name
    assert fig.layout.yaxis2.range[1] * (label.y - 0.15) > 0.8


@pytest.mark.parametrize("mark", [0.0, 0.3, 0.5, 0.54, 0.56, 0.8])
def test_the_p_g_mark_label_stays_clear_of_the_minimax_curve(mark):
    # The page's mark E_{p_g}[D*] never exceeds ½ (p_g·p_d/(p_d + p_g) ≤ (p_d + p_g)/4); 0.56 and 0.8 try
    # the other side.
    fig = generator_loss_figure(mark=mark)
    (label,) = [a for a in fig.layout.annotations if "your p_g" in a.text]
    assert "<br>" in label.text and label.yanchor == "bottom"      # two short lines at the bottom
    # the label's two lines take about 0.35 of the D axis beside the mark and reach 0.2 of the height
    lo, hi = (mark, mark + 0.35) if label.xanchor == "left" else (mark - 0.35, mark)
    assert lo >= -0.01 and hi <= 1.01
    y_lo, y_hi = fig.layout.yaxis.range
    top = y_lo + 0.2 * (y_hi - y_lo)
    minimax = next(t for t in fig.data if t.name.startswith("Minimax") and t.xaxis == "x")
    beside = (minimax.x >= lo) & (minimax.x <= hi)
    assert minimax.y[beside].min() > top


def test_the_band_label_in_the_d_view_sits_above_every_curve():
    fig = generator_loss_figure(wrt="D")
    (label,) = [a for a in fig.layout.annotations if "rejects" in a.text]
    assert (label.x, label.xanchor, label.yanchor, label.xref) == (0.15, "left", "top", "x2")
    # one line: about 0.4 of the D axis wide and 0.1 of the height tall, below 0.97 of the [0, 8] axis
    y_hi = fig.layout.yaxis2.range[1]
    bottom = (label.y - 0.1) * y_hi
    for trace in fig.data:
        if trace.xaxis == "x2":
            under = (trace.x >= label.x) & (trace.x <= label.x + 0.4)
            assert trace.y[under].max() < bottom, trace.name


# --- the page's Vega-Lite charts ---------------------------------------------------------------------------

def test_vega_charts_carry_the_computed_curves():
    s = SITUATIONS["mode_dropping"]
    data, spec = theory_vega.densities_chart(s.p_data, s.p_g, x_range=(-14.0, 14.0), n=201)
    x = data["dstar"]["x"].to_numpy()
    assert x[0] == -14.0 and x[-1] == 14.0 and len(x) == 201
    np.testing.assert_allclose(data["dstar"]["y"], optimal_discriminator(s.p_data, s.p_g, x))
    np.testing.assert_allclose(data["p_data"]["y"], s.p_data.pdf(x))
    assert spec["resolve"] == {"scale": {"y": "independent"}}          # D* on its own axis, on the right
    sweep = theory.separation_sweep(s.p_data, s.p_g, np.linspace(-5, 5, 5))
    data, spec = theory_vega.separation_chart(sweep, current=-3.0)
    np.testing.assert_allclose(data["sweep"]["jsd"], sweep.jsd)
    np.testing.assert_allclose(data["sweep"]["nonsat"], sweep.nonsaturating_grad)
    assert data["current"]["x"].tolist() == [-3.0]
    assert [p["title"] for p in spec["hconcat"]][0] == "Jensen–Shannon divergence (nats)"


@pytest.mark.parametrize("mark, side", [(0.0, "left"), (0.3, "left"), (0.54, "left"), (0.56, "right"),
                                        (0.8, "right"), (None, None)])
def test_the_vega_loss_chart_puts_the_mark_label_on_the_side_away_from_the_dive(mark, side):
    data, spec = theory_vega.loss_chart(mark=mark)
    for name in ("mark_left", "mark_right"):
        rows = data[name]
        if name == f"mark_{side}":
            assert rows["x"].tolist() == [mark] and rows["label"].tolist() == [f"your p_g: E[D*(G(z))] = {mark:.2f}"]
        else:
            assert rows.empty
    # the spec does not depend on the mark: the browser moves the line without rebuilding the chart
    assert spec == theory_vega.loss_chart(mark=0.42)[1]


def test_the_vega_loss_chart_plots_the_registrys_losses_and_refuses_an_unknown_derivative():
    data, spec = theory_vega.loss_chart(wrt="D")
    d, losses = _loss_curves(300)
    minimax = data["grads"][data["grads"]["series"] == losses["minimax"].title]
    np.testing.assert_allclose(minimax["y"], np.abs(losses["minimax"].dloss_dd))
    assert spec["hconcat"][1]["title"] == "|∂ loss / ∂D|"
    with pytest.raises(ValueError):
        theory_vega.loss_chart(wrt="logit")
