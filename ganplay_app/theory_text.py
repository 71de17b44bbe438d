"""The Theory page's explanations: short prose and the formulas behind each figure (st.latex)."""

from __future__ import annotations

import streamlit as st

from ganplay.losses import LOSSES
from ganplay.theory import generator_losses


def game_ui() -> None:
    """The value function of the game, stated once at the top of the page."""
    st.latex(
        r"\min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\bigl[\log D(x)\bigr]"
        r" + \mathbb{E}_{z \sim p_z}\bigl[\log\bigl(1 - D(G(z))\bigr)\bigr]"
    )


def optimal_discriminator_ui() -> None:
    st.markdown(
        "Hold the generator fixed. Written as one integral over $x$, the discriminator's objective is "
        "$\\int p_\\text{data}(x)\\log D(x) + p_g(x)\\log(1 - D(x))\\,dx$, and it can be maximised at "
        "every $x$ separately: $a\\log D + b\\log(1-D)$ peaks at $D = a/(a+b)$. So the best possible "
        "discriminator is the share of real data at $x$:"
    )
    st.latex(r"D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)}")
    with st.expander("Plug D* back in: the generator is minimising a Jensen–Shannon divergence"):
        st.markdown("The game's value as a function of the generator alone is")
        st.latex(
            r"C(G) = \max_D V(D, G) = \mathbb{E}_{p_\text{data}}\Bigl[\log \tfrac{p_\text{data}}{p_\text{data} + p_g}\Bigr]"
            r" + \mathbb{E}_{p_g}\Bigl[\log \tfrac{p_g}{p_\text{data} + p_g}\Bigr]."
        )
        st.markdown(
            "Add $\\log 2$ inside each expectation and take $\\log 4$ away outside. Each expectation now "
            "compares a distribution with the average $m = \\tfrac12(p_\\text{data} + p_g)$, which is a "
            "Kullback–Leibler divergence:"
        )
        st.latex(
            r"C(G) = -\log 4 + \mathrm{KL}\bigl(p_\text{data} \,\|\, m\bigr) + \mathrm{KL}\bigl(p_g \,\|\, m\bigr)"
            r" = -\log 4 + 2\,\mathrm{JSD}\bigl(p_\text{data} \,\|\, p_g\bigr)."
        )
        st.markdown(
            "JSD is never negative and is zero only when the two distributions agree, so the generator's "
            "best move is to reproduce the data exactly; the game then ends at $-\\log 4$, with "
            "$D^* = \\tfrac12$ everywhere. The tile $V(D^*, G)$ is computed from its own integral, not "
            "from the JSD, and the two always agree."
        )


def separation_ui() -> None:
    st.markdown(
        "Keep the shape of $p_g$ and slide it along the line; the dashed line marks the current "
        "setting. Once the two distributions stop overlapping, the average $m$ sees each of them as "
        "half of itself, so JSD is $\\log 2$ **however far apart they are**. A flat objective has no "
        "slope: with an optimal discriminator the minimax generator learns nothing about which way "
        "to move. The Wasserstein-1 distance measures how far the mass must travel instead, so it "
        "keeps growing and its slope keeps pointing home. (Click *non-saturating* in the legend: the "
        "gradient of $-\\log D^*$ grows, rather than vanishes, as the two move apart.)"
    )
    left, right = st.columns(2)
    with left:
        st.latex(r"\frac{\partial C}{\partial \delta} = \int \frac{p_\text{data}\,p_g}{p_\text{data} + p_g}"
                 r"\,\bigl(s_g - s_\text{data}\bigr)\,dx \;\longrightarrow\; 0")
        st.caption("δ shifts p_g; s = d/dx log p is each density's score. The weight p_data·p_g/(p_data + p_g) "
                   "is zero wherever the two do not overlap.")
    with right:
        st.latex(r"W_1(p_\text{data}, p_g) = \int \bigl|F_\text{data}(x) - F_g(x)\bigr|\,dx")
        st.caption("F is the cumulative distribution function: on the line, W1 is the area between the two "
                   "CDFs. Once the distributions are apart, sliding p_g by δ changes W1 by exactly δ: "
                   "|∂W1/∂δ| = 1.")


def losses_ui() -> None:
    st.markdown(
        "The generator only learns through the discriminator's verdict $D = D(G(z))$ on its fakes. "
        "Early in training fakes are easy to spot, $D \\approx 0$, and that is where the minimax loss "
        "fails: through the sigmoid $D = \\sigma(a)$ its gradient is $-D$, nearly nothing. The "
        "non-saturating loss keeps the same fixed point but flips the question, *maximise the "
        "chance of being mistaken for real*, and its gradient $-(1-D)$ is largest exactly when the "
        "generator is losing. The least-squares loss drops the sigmoid and pulls the raw score "
        "towards 1 with a force proportional to the gap."
    )
    losses = generator_losses([0.5])
    rows = "\n".join(
        f"| {g.title} | ${g.formula}$ | ${g.dd_latex}$ | ${g.dscore_latex}$ |" for g in losses.values()
    )
    st.markdown(
        "| generator loss | formula | derivative in $D$ | derivative in the score |\n"
        "|---|---|---|---|\n" + rows
    )
    with st.expander("The discriminators that go with them"):
        st.markdown("Minimax and non-saturating GANs share the discriminator's cross-entropy loss:")
        st.latex(LOSSES["nonsaturating"].d_formula)
        st.markdown(
            "With the non-saturating generator the two players no longer optimise one value with "
            "opposite signs, so the game is not zero-sum, but $D^*$ is unchanged. A least-squares GAN "
            "scores samples without a sigmoid and regresses them onto targets 1 (real) and 0 (fake):"
        )
        least_squares = LOSSES["least-squares"]
        st.latex(least_squares.d_formula)
        st.latex(least_squares.g_formula)
        st.markdown("The ½ only tidies the derivatives; a fake scored 0 is still pulled towards 1 with full force.")
