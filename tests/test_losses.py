"""Tests for ganplay.losses: every registered loss against values worked out by hand, numerical stability at
extreme logits, the saturating-vs-non-saturating gradient, and the gradient penalty's closed form.

The expected values below are written from the textbook formulas with D(x) = sigmoid(logit) and math.log /
math.exp, never with the softplus identities the package uses, so a slip in those identities shows up here.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from ganplay.losses import LOSSES, GANLoss, get_loss, gradient_penalty
from ganplay.registry import UnknownNameError

REAL = [2.0, -1.0]
FAKE = [0.5, -3.0]


def D(logit: float) -> float:
    """The probability a BCE discriminator assigns: sigmoid, written out."""
    return 1.0 / (1.0 + math.exp(-logit))


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values)


def bce_d(real_label: float) -> float:
    # -E[t log D(x) + (1 - t) log(1 - D(x))] - E[log(1 - D(G(z)))]
    real_part = mean(-(real_label * math.log(D(r)) + (1 - real_label) * math.log(1 - D(r))) for r in REAL)
    return real_part + mean(-math.log(1 - D(f)) for f in FAKE)


def least_squares_d(real_label: float) -> float:
    # 1/2 E[(D(x) - t)^2] + 1/2 E[D(G(z))^2]
    return 0.5 * mean((r - real_label) ** 2 for r in REAL) + 0.5 * mean(f ** 2 for f in FAKE)


# name -> (d_loss(real_label), g_loss), each from the formula with REAL and FAKE plugged in.
EXPECTED = {
    "nonsaturating": (bce_d, -mean(math.log(D(f)) for f in FAKE)),                   # -E[log D(G(z))]
    "minimax": (bce_d, mean(math.log(1 - D(f)) for f in FAKE)),                      # E[log(1 - D(G(z)))]
    "least-squares": (least_squares_d, 0.5 * mean((f - 1) ** 2 for f in FAKE)),
    "wgan": (lambda t: mean(FAKE) - mean(REAL), -mean(FAKE)),                        # the label plays no part
    "wgan-gp": (lambda t: mean(FAKE) - mean(REAL), -mean(FAKE)),
    "hinge": (lambda t: mean(max(0.0, 1 - r) for r in REAL) + mean(max(0.0, 1 + f) for f in FAKE), -mean(FAKE)),
}


def test_hand_values_spelled_out():
    """One case fully by hand, digits included, so the helpers above are themselves checked."""
    # nonsaturating D loss: -(log s(2) + log s(-1))/2 - (log(1 - s(0.5)) + log(1 - s(-3)))/2
    #   log s(2) = -0.126928, log s(-1) = -1.313262, log(1 - s(0.5)) = -0.974077, log(1 - s(-3)) = -0.048587
    assert bce_d(1.0) == pytest.approx((0.126928 + 1.313262) / 2 + (0.974077 + 0.048587) / 2, abs=1e-6)
    # least squares: ((2 - 1)^2 + (-1 - 1)^2) / 4 + (0.25 + 9) / 4 = 1.25 + 2.3125
    assert least_squares_d(1.0) == pytest.approx(3.5625)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("real_label", [1.0, 0.9])
def test_loss_values_match_hand_computation(name, real_label):
    assert name in EXPECTED, f"loss {name!r} has no hand-computed value in this test: add one to EXPECTED"
    loss = LOSSES[name]
    expected_d, expected_g = EXPECTED[name]
    real, fake = torch.tensor(REAL, dtype=torch.float64), torch.tensor(FAKE, dtype=torch.float64)
    assert loss.d_loss(real, fake, real_label).item() == pytest.approx(expected_d(real_label), rel=1e-12)
    assert loss.d_loss(real, fake).item() == pytest.approx(expected_d(1.0), rel=1e-12)   # default label is 1
    assert loss.g_loss(fake).item() == pytest.approx(expected_g, rel=1e-12)


def test_label_smoothing_value():
    """Real label 0.9 (seed 002): the real term is -[0.9 log D(x) + 0.1 log(1 - D(x))]."""
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    smoothed = LOSSES["nonsaturating"].d_loss(real, fake, 0.9).item()
    # by hand for x = 2: -(0.9 * -0.126928 + 0.1 * -2.126928) = 0.326928; x = -1: -(0.9 * -1.313262 + 0.1 *
    # -0.313262) = 1.213262; fake part as above, (0.974077 + 0.048587) / 2 = 0.511332
    assert smoothed == pytest.approx((0.326928 + 1.213262) / 2 + 0.511332, abs=1e-5)
    assert smoothed != pytest.approx(LOSSES["nonsaturating"].d_loss(real, fake).item(), abs=1e-3)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=1, max_size=8), st.lists(st.floats(-30, 30), min_size=1, max_size=8),
       st.floats(0.5, 1.0))
def test_bce_losses_agree_with_torch_reference(real, fake, real_label):
    r, f = torch.tensor(real, dtype=torch.float64), torch.tensor(fake, dtype=torch.float64)
    reference = (F.binary_cross_entropy_with_logits(r, torch.full_like(r, real_label))
                 + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    assert LOSSES["nonsaturating"].d_loss(r, f, real_label).item() == pytest.approx(reference.item(), rel=1e-9,
                                                                                    abs=1e-12)
    ns_reference = F.binary_cross_entropy_with_logits(f, torch.ones_like(f))
    assert LOSSES["nonsaturating"].g_loss(f).item() == pytest.approx(ns_reference.item(), rel=1e-9, abs=1e-12)
    # minimax G minimises E[log(1 - D(G(z)))] = -BCE(fake, 0)
    mm_reference = -F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
    assert LOSSES["minimax"].g_loss(f).item() == pytest.approx(mm_reference.item(), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", list(LOSSES))
def test_extreme_logits_give_finite_losses_and_gradients(name):
    loss = LOSSES[name]
    real = torch.tensor([1000.0, -1000.0], requires_grad=True)
    fake = torch.tensor([-1000.0, 1000.0], requires_grad=True)
    d = loss.d_loss(real, fake, 0.9)
    g = loss.g_loss(fake)
    assert torch.isfinite(d) and torch.isfinite(g)
    d_real_grad, d_fake_grad = torch.autograd.grad(d, (real, fake))
    (g_fake_grad,) = torch.autograd.grad(g, fake)
    for grad in (d_real_grad, d_fake_grad, g_fake_grad):
        assert torch.isfinite(grad).all()


def test_naive_log_sigmoid_is_what_the_stable_form_avoids():
    """The reason for softplus: log(sigmoid(-1000)) is -inf in float32, the loss is 1000."""
    naive = -torch.log(torch.sigmoid(torch.tensor([-1000.0])))
    assert torch.isinf(naive).all()
    stable = LOSSES["nonsaturating"].g_loss(torch.tensor([-1000.0]))
    assert stable.item() == pytest.approx(1000.0)
    # and D confidently wrong on a real image costs 1000 too, not inf
    d = LOSSES["nonsaturating"].d_loss(torch.tensor([-1000.0]), torch.tensor([-1000.0]))
    assert d.item() == pytest.approx(1000.0)


def test_minimax_gradient_vanishes_when_d_rejects_fakes():
    """At D(G(z)) ~ 0 (logit -10): minimax dL/dl = -sigmoid(l) ~ -4.5e-5, non-saturating -sigmoid(-l) ~ -1."""
    grads = {}
    for name in ("minimax", "nonsaturating"):
        logit = torch.tensor([-10.0], dtype=torch.float64, requires_grad=True)
        LOSSES[name].g_loss(logit).backward()
        grads[name] = logit.grad.item()
    assert grads["minimax"] == pytest.approx(-1.0 / (1.0 + math.exp(10.0)), rel=1e-9)        # -4.5398e-5
    assert grads["nonsaturating"] == pytest.approx(-1.0 / (1.0 + math.exp(-10.0)), rel=1e-9)  # -0.9999546
    assert grads["nonsaturating"] / grads["minimax"] > 1e4
    # both push the logit up (negative gradient of a minimised loss): G wants D to say "real"
    assert grads["minimax"] < 0 and grads["nonsaturating"] < 0


def test_gradient_penalty_of_linear_critic_is_closed_form():
    """D(x) = sum(w * x) has gradient w everywhere, so GP = (||w|| - 1)^2 for any interpolation."""
    w = torch.tensor([[[3.0, 0.0], [0.0, 4.0]]], requires_grad=True)     # (C=1, 2, 2), ||w|| = 5
    critic = lambda x: (x * w).flatten(1).sum(1)                          # noqa: E731  (B,)
    real = torch.randn(6, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    fake = torch.randn(6, 1, 2, 2, generator=torch.Generator().manual_seed(1))
    gp = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(2))
    assert gp.item() == pytest.approx((5.0 - 1.0) ** 2, rel=1e-6)
    # The penalty must be differentiable w.r.t. the critic (create_graph): d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w/||w||
    gp.backward()
    assert torch.allclose(w.grad, 2 * (5.0 - 1.0) * w.detach() / 5.0)


def test_gradient_penalty_uses_per_sample_norms():
    """D(x) = sum(x^2)/2 has gradient x; with real == fake the mix is x itself, so GP = mean((||x_i|| - 1)^2).
    Sample norms 2 and 0.5 give ((2 - 1)^2 + (0.5 - 1)^2) / 2 = 0.625; one norm over the batch would not."""
    x = torch.zeros(2, 1, 2, 2)
    x[0, 0, 0, 0] = 2.0
    x[1, 0, 1, 1] = 0.5
    critic = lambda images: 0.5 * images.square().flatten(1).sum(1)       # noqa: E731
    assert gradient_penalty(critic, x, x.clone()).item() == pytest.approx(0.625)


def test_gradient_penalty_interpolates_between_real_and_fake():
    """D(x) = sum(x^2)/2 with real = 2 (one pixel) and fake = 0: the mix is 2 eps, so ||grad|| = 2 eps."""
    real = torch.zeros(4096, 1, 1, 1)
    real[:, 0, 0, 0] = 2.0
    fake = torch.zeros_like(real)
    critic = lambda images: 0.5 * images.square().flatten(1).sum(1)       # noqa: E731
    gp = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0)).item()
    # E[(2 eps - 1)^2] for eps ~ U[0, 1) is 1/3; a mix fixed at either end would give 1
    assert gp == pytest.approx(1.0 / 3.0, abs=0.03)


@pytest.mark.parametrize("name", list(LOSSES))
def test_each_loss_shows_its_formula(name):
    loss = LOSSES[name]
    assert isinstance(loss, GANLoss) and loss.name == name
    assert "\\mathbb{E}" in loss.d_formula
    assert "\\mathbb{E}" in loss.g_formula
    assert loss.title and loss.summary
    if loss.penalty == "gp":
        assert "GP" in loss.d_formula


@pytest.mark.parametrize("name", list(LOSSES))
def test_d_output_reads_as_probability_only_for_bce(name):
    loss = LOSSES[name]
    logits = torch.tensor([0.0, 3.0])
    # by hand: sigmoid(0) = 1/2, sigmoid(3) = 1 / (1 + e^-3) = 0.95257...; scores and critics pass through
    expected = [0.5, 0.9525741268] if loss.output == "probability" else [0.0, 3.0]
    assert loss.d_output(logits).tolist() == pytest.approx(expected, abs=1e-7)
    assert loss.output in ("probability", "score", "critic")
    assert (loss.output == "probability") == (loss.d_loss is LOSSES["nonsaturating"].d_loss)


def test_get_loss_lists_names_for_unknown():
    assert get_loss("hinge") is LOSSES["hinge"]
    with pytest.raises(UnknownNameError, match="unknown loss 'nope'; choose one of: .*wgan-gp"):
        get_loss("nope")
