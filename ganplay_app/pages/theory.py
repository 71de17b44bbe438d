"""Theory: the GAN game on the real line, with exact numbers from `ganplay.theory`.

Sections: (1) p_data, p_g and the optimal discriminator with the divergences beside them;
(2) sliding p_g onto p_data: JSD saturates while W1 keeps its slope; (3) the generator losses as
functions of D(G(z)). Every setting lives in the URL.

The three sections are one `st.fragment`: a slider or a situation button reruns only them, and the charts are
Vega-Lite with specs that a slider step does not change, so the browser updates them in place instead of
building new charts (bench/theory_latency.py measures input -> new numbers and charts in Chromium).
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


@st.fragment
def game() -> None:
    st.subheader("1 · Two distributions and the optimal discriminator", divider="gray")
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
    theory_text.optimal_discriminator_ui()
    st.page_link("ganplay_app/pages/toy_lab.py", label="Train a GAN on this p_data in the Toy lab, and watch its "
                 "learned D approach D*", icon=":material/scatter_plot:",
                 query_params=toy_ui.theory_link_params(p_data))

    st.subheader("2 · Slide p_g onto p_data: JSD saturates, W1 keeps its slope", divider="gray")
    current = theory.separation(p_data, p_g)
    st.vega_lite_chart(None, with_data(*separation_chart(theory_ui.sweep_for(p_data, p_g), current=current)),
                       theme=None, key="theory_separation")
    theory_text.separation_ui()

    st.subheader("3 · What the generator's loss makes of D's verdict", divider="gray")
    wrt = theory_ui.gradient_wrt_ui()
    on_fakes = theory.mean_optimal_d_on_fakes(p_data, p_g)
    st.vega_lite_chart(None, with_data(*theory_ui.loss_chart(round(on_fakes, 3), wrt)), theme=None,
                       key="theory_losses")
    st.caption(
        f"Dashed line: for the distributions above, the optimal discriminator's average verdict on the "
        f"generator's samples is E[D*(G(z))] = {on_fakes:.3f}. The shaded band is where a minimax "
        "generator stops learning."
    )
    theory_text.losses_ui()


game()
