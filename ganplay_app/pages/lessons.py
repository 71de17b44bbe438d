"""Lessons: the failure gallery. Each card runs one seeded failure live (mode collapse, the saturating minimax
loss, D overpowering G, oscillation, divergence to NaN, WGAN's weight clipping), asks for a prediction first,
explains why it happens, and applies the fix with a second click: to the running game where it can, else as a
fresh run of the fixed recipe. `?item=<slug>` opens a card (ganplay.lessons.gallery names them).
"""
from __future__ import annotations

import streamlit as st

from ganplay_app import lessons_ui

st.title("Lessons: why GANs fail")
st.caption("One click shows a failure, seeded so it happens the same way in front of every class; a second "
           "click applies the fix.")
ss = st.session_state
item = lessons_ui.choose_item()
control = lessons_ui.control_for(item)
run = control.current()
if run is not None and ss.get(lessons_ui.RUN_ITEM_KEY) != item.slug:   # a run of another card (URL changed)
    lessons_ui.discard_run()
    run = None

st.subheader(item.title)
st.markdown(f"*{item.asked}*")
left, right = st.columns([1, 1], gap="large")
with left:
    lessons_ui.prediction_ui(item, revealed=run is not None)
    lessons_ui.buttons_ui(item, control, run)
    lessons_ui.status_ui(item, run)
with right:
    lessons_ui.card_text_ui(item)

if run is None:
    lessons_ui.preview_ui(item)
else:
    lessons_ui.live_ui(item, control, run)
