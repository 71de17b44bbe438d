"""Process-wide, read-only or self-locking resources shared by every session (st.cache_resource).

Only things that are safe to share live here: the run registry (it has its own lock and cap), loaded
datasets (read-only tensors) and one lock per dataset download, so two tabs never fetch the same files at once. A model being trained is never cached here; each session's run is reached
through its id in st.session_state.
"""
from __future__ import annotations

import threading

import streamlit as st

from ganplay.data import DATASETS, DataError, ImageDataset, load_dataset
from ganplay.live import RunRegistry


@st.cache_resource(show_spinner=False)
def run_registry() -> RunRegistry:
    return RunRegistry()


@st.cache_resource(show_spinner="Loading the dataset…")
def dataset(name: str, part: str = "train") -> ImageDataset:
    return load_dataset(name, part=part)


@st.cache_resource(show_spinner=False)
def download_lock(name: str) -> threading.Lock:
    return threading.Lock()


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
