"""Lessons: the failure gallery. Each card runs one seeded failure live (mode collapse, the saturating minimax
loss, D overpowering G, oscillation, divergence to NaN, WGAN's weight clipping), asks for a prediction first,
explains why it happens, and applies the fix with a second click: to the running game where it can, else as a
fresh run of the fixed recipe. `?item=<slug>` opens a card (ganplay.lessons.gallery names them).
"""
from __future__ import annotations

import streamlit as st

from ganplay.live import RUNNING
from ganplay_app import lessons_ui

ss = st.session_state
head, menu = st.columns([1, 1.3], vertical_alignment="bottom")
head.title("Why GANs fail")
with menu:
    item = lessons_ui.choose_item()
control = lessons_ui.control_for(item)
run = control.current()
if run is not None and ss.get(lessons_ui.RUN_ITEM_KEY) != item.slug:   # a run of another card (URL changed)
    lessons_ui.discard_run()
    run = None

st.markdown(f"*{item.asked}*")
revealed = run is not None
left, right = st.columns([1, 1], gap="large")
with left:
    lessons_ui.prediction_ui(item, revealed)
    lessons_ui.buttons_ui(item, control, run)
    lessons_ui.status_ui(item, control.current, running=revealed and run.state == RUNNING)
with right:
    lessons_ui.watch_ui(item)
    if revealed:
        lessons_ui.metric_ui(item, control.current, running=run.state == RUNNING)
    else:
        lessons_ui.why_ui(item, revealed)

if run is None:
    lessons_ui.preview_ui(item)
else:
    lessons_ui.live_ui(item, control, run)
    lessons_ui.why_ui(item, revealed)
lessons_ui.fix_text_ui(item)
