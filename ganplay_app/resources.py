"""Process-wide, read-only or self-locking resources shared by every session (st.cache_resource).

Only things that are safe to share live here: the run registry (it has its own lock and cap) and loaded
datasets (read-only tensors). A model being trained is never cached here; each session's run is reached
through its id in st.session_state.
"""
from __future__ import annotations

import streamlit as st

from ganplay.data import DATASETS, DataError, ImageDataset, load_dataset
from ganplay.live import RunRegistry


@st.cache_resource(show_spinner=False)
def run_registry() -> RunRegistry:
    return RunRegistry()


@st.cache_resource(show_spinner="Loading the dataset…")
def dataset(name: str, part: str = "train") -> ImageDataset:
    return load_dataset(name, part=part)


def dataset_status() -> dict[str, str | None]:
    """Each dataset name -> None if it can be loaded, else the error message (which says what to do)."""
    status = {}
    for name in DATASETS:
        try:
            dataset(name)
            status[name] = None
        except DataError as err:
            status[name] = str(err)
    return status
