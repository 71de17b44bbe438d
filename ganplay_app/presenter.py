"""Presenter mode: one toggle, on every page, that folds the controls away and makes what the class should read
large enough for the back of a room at 1280×720.

`streamlit_app.py` calls `setup()` once per script run, before the page runs: it draws the toggle (pinned to the
top bar), keeps it in the URL as `present=1` (a bookmark opens in presenter mode) and injects the page's CSS.
Page scripts ask `active()` when they draw something differently for a room (a bigger plane, fewer captions).

What the CSS does while active: hides the sidebar (the recipe) and every expander (settings, formulas,
downloads), lets the page use the full width, and enlarges the metric tiles' numbers and labels and the
captions. (Charts keep the pixel sizes their panels give them: a bigger plane needs the panel's parameter.)
"""
from __future__ import annotations

import streamlit as st

from ganplay_app.urlstate import Param, boolean, flag, restore, store

KEY = "present"
PARAMS = [Param("present", KEY, boolean, flag, False)]
METRIC_VALUE_SIZE = "3.4rem"         # the theme's metric value is 2.1rem

# Always: the toggle sits in the top bar, right of the page links; the owner-cookie holder takes no room.
# (their wrappers, so the page's flex gap does not count them).
BASE_CSS = """
div:has(> .st-key-ganplay_presenter) { position: fixed; top: 0.85rem; right: 9.5rem; z-index: 1000002; width: auto; }
.st-key-ganplay_presenter label p { font-size: 0.95rem; }
div:has(> .st-key-ganplay_owner_cookie) { display: none; }
"""

PRESENT_CSS = f"""
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stLayoutWrapper"]:has(> [data-testid="stExpander"]), [data-testid="stExpander"] {{ display: none !important; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100% !important; padding: 4.2rem 1.5rem 1rem 1.5rem !important; }}
[data-testid="stMain"] h1 {{ font-size: 1.9rem !important; padding: 0 0 0.3rem 0 !important; }}
[data-testid="stMetricValue"] {{ font-size: {METRIC_VALUE_SIZE} !important; line-height: 1.15 !important; }}
[data-testid="stMetricValue"] > div {{ font-size: {METRIC_VALUE_SIZE} !important; }}
[data-testid="stMetricLabel"] p {{ font-size: 1.3rem !important; font-weight: 600 !important; }}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {{ font-size: 1.05rem !important; }}
[data-testid="stImage"] img {{ image-rendering: pixelated; }}
"""


def active() -> bool:
    """Whether this session shows the page in presenter mode."""
    return bool(st.session_state.get(KEY, False))


def setup() -> None:
    """The toggle, its URL parameter and the CSS; call from streamlit_app.py before the page runs."""
    restore("app", PARAMS)
    with st.container(key="ganplay_presenter"):
        st.toggle(":material/co_present: Presenter", key=KEY,
                  help="Presenter mode: fold the controls away and enlarge the pictures and numbers for a room. "
                       "Kept in the URL (present=1), so a bookmark opens this way.")
    store("app", PARAMS)
    st.html(f"<style>{BASE_CSS}{PRESENT_CSS if active() else ''}</style>")
