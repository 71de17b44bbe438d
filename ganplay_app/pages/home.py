"""Home: what ganplay is and what each page teaches, with links to the pages that exist."""

import streamlit as st

from ganplay_app import LESSONS

st.title("ganplay")
st.markdown(
    "#### An interactive playground for generative adversarial networks\n"
    "A generator turns noise into samples; a discriminator tries to tell them from real data; each "
    "learns from the other. These pages take that game apart, from the equations to a network "
    "learning in front of you."
)

for column, lesson in zip(st.columns(len(LESSONS), gap="medium"), LESSONS):
    with column.container(border=True, height="stretch"):
        st.subheader(f"{lesson.icon} {lesson.title}")
        st.markdown(lesson.summary)
        if lesson.page:
            st.page_link(lesson.page, label=f"Open {lesson.title}", icon=":material/arrow_forward:")
        else:
            st.caption("This page arrives in a coming release.")

st.caption("Settings on every page live in the URL: bookmark a view to come back to it, slide by slide. "
           "**Presenter mode** (top right) folds the controls away and enlarges the numbers for a room. The link "
           "of a live run lets a class watch it on their own laptops, read-only: only the tab that started a run "
           "can pause, stop or reset it.")
