"""ganplay, the app: `streamlit run streamlit_app.py`.

Sets up the page and routes to the page scripts in `ganplay_app/pages/`; the list of lessons (and so
of pages) lives in `ganplay_app.LESSONS`. Every page gets the presenter-mode toggle (ganplay_app.presenter)
and keeps this browser's run-owner secret in a cookie (ganplay_app.run_ui), so a reloaded tab still controls
the runs it started.
"""

import streamlit as st

from ganplay_app import HOME_PAGE, LESSONS, presenter, run_ui

st.set_page_config(page_title="ganplay", page_icon="🎭", layout="wide")

pages = [st.Page(HOME_PAGE, title="Home", icon=":material/home:", default=True)]
pages += [st.Page(lesson.page, title=lesson.title, icon=lesson.icon) for lesson in LESSONS if lesson.page]
page = st.navigation(pages, position="top")
presenter.setup()
run_ui.remember_owner_ui()
page.run()
