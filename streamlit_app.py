"""ganplay, the app: `streamlit run streamlit_app.py`.

Sets up the page and routes to the page scripts in `ganplay_app/pages/`; the list of lessons (and so
of pages) lives in `ganplay_app.LESSONS`.
"""

import streamlit as st

from ganplay_app import HOME_PAGE, LESSONS

st.set_page_config(page_title="ganplay", page_icon="🎭", layout="wide")

pages = [st.Page(HOME_PAGE, title="Home", icon=":material/home:", default=True)]
pages += [st.Page(lesson.page, title=lesson.title, icon=lesson.icon) for lesson in LESSONS if lesson.page]
st.navigation(pages, position="top").run()
