"""Theory: the GAN game on the real line, with exact numbers from `ganplay.theory`.

Sections: (1) p_data, p_g and the optimal discriminator with the divergences beside them;
(2) sliding p_g onto p_data: JSD saturates while W1 keeps its slope; (3) the generator losses as
functions of D(G(z)). Every setting lives in the URL.

What a slider or a situation button changes is one `st.fragment` (`interactive`), so an input reruns only that: the
sliders, tiles and charts of section 1, and the charts of sections 2 and 3, which it writes into `st.empty` slots
held by the page, so the explanations between them (markdown and formulas) are neither rebuilt nor re-sent. The
charts are Vega-Lite with specs that an input does not change, so the browser updates them in place
(bench/theory_latency.py measures input -> new numbers and charts in Chromium).
"""

import streamlit as st

from ganplay import theory
from ganplay.figures.theory import fixed_interval
from ganplay.figures.theory_vega import densities_chart, separation_chart, with_data
from ganplay_app import theory_text, theory_ui, toy_ui

st.title("The GAN game on the real line")
st.markdown(
    "Real data $p_\\text{data}$ and a generator's distribution $p_g$ in one dimension, where every "
    "quantity of the original GAN can be computed exactly. Pick a situation, or shape both "
    "distributions with the sliders below the chart."
)
theory_text.game_ui()

st.subheader("1 · Two distributions and the optimal discriminator", divider="gray")
section_1 = st.container()
theory_text.optimal_discriminator_ui()
toy_link = st.empty()
st.subheader("2 · Slide p_g onto p_data: JSD saturates, W1 keeps its slope", divider="gray")
separation_slot = st.empty()
theory_text.separation_ui()
st.subheader("3 · What the generator's loss makes of D's verdict", divider="gray")
wrt = theory_ui.gradient_wrt_ui()      # outside the fragment: changing it reruns the page (it is rarely changed)
losses_slot, losses_caption = st.empty(), st.empty()
theory_text.losses_ui()


@st.fragment
def interactive() -> None:
    buttons_slot = st.container()
    lesson_slot = st.container()
    chart_col, metrics_col = st.columns([1.8, 1], gap="medium")
    data_col, gen_col = st.columns(2, gap="large")
    with data_col.container(border=True):
        p_data = theory_ui.distribution_ui("data")
    with gen_col.container(border=True):
        p_g = theory_ui.distribution_ui("gen")

    active = theory_ui.matching_situation(p_data, p_g)
    with buttons_slot:
        theory_ui.situation_ui(active)
    with lesson_slot:
        if active:
            st.info(theory.SITUATIONS[active].lesson, icon=":material/school:")
        else:
            st.info("Your own setting: compare it with the situations above.", icon=":material/tune:")
    with chart_col:
        # x-axis fixed over the mean sliders' whole range: it changes with the widths only, never as p_g moves
        x_range = fixed_interval(theory_ui.MEAN_RANGE[:2], p_data, p_g)
        st.vega_lite_chart(None, with_data(*densities_chart(p_data, p_g, x_range=x_range)), theme=None,
                           key="theory_densities")
    with metrics_col:
        theory_ui.metrics_ui(p_data, p_g)
    toy_link.page_link("ganplay_app/pages/toy_lab.py", label="Train a GAN on this p_data in the Toy lab, and watch "
                       "its learned D approach D*", icon=":material/scatter_plot:",
                       query_params=toy_ui.theory_link_params(p_data))
    current = theory.separation(p_data, p_g)
    separation_slot.vega_lite_chart(
        None, with_data(*separation_chart(theory_ui.sweep_for(p_data, p_g), current=current)), theme=None,
        key="theory_separation")
    on_fakes = theory.mean_optimal_d_on_fakes(p_data, p_g)
    losses_slot.vega_lite_chart(None, with_data(*theory_ui.loss_chart(round(on_fakes, 3), wrt)), theme=None,
                                key="theory_losses")
    losses_caption.caption(
        f"Dashed line: for the distributions above, the optimal discriminator's average verdict on the "
        f"generator's samples is E[D*(G(z))] = {on_fakes:.3f}. The shaded band is where a minimax "
        "generator stops learning."
    )


with section_1:
    interactive()
