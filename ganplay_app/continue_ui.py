"""Training page: continue a saved run from its checkpoint.

A checkpoint written with its training state (the Training page's download, `python -m ganplay train`) holds
what the run needs to go on where it stopped: weights, both optimisers, the random state and the step counters
(ganplay.resume). Uploaded here, it becomes a live run at that step, with its own recipe. An older checkpoint,
or one without its discriminator, can still be sampled on the Latent space page but not continued; the page
says so. The upload is parsed as safetensors and JSON only (ganplay.checkpoint.load_checkpoint): nothing in it
is unpickled or executed.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ganplay.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from ganplay.data import FOLDER_DATASET
from ganplay.live import RunRegistry
from ganplay.models import MAX_CHECKPOINT_MB
from ganplay.presets import IMAGE_PRESETS
from ganplay_app import resources
from ganplay_app.run_ui import USER_ERRORS, session_token
from ganplay_app.training_ui import load_config_into_state

FILE_KEY = "tr_resume_file"
NOT_CONTINUABLE = ("This checkpoint can be sampled on the **Latent space** page, but not continued: it carries no "
                   "training state (it was saved before checkpoints kept one, with --half, or without its "
                   "discriminator). To train on, start a new run.")


@dataclass
class SavedRun:
    """An uploaded checkpoint and, if it cannot continue here, why."""

    name: str
    data: bytes                  # loaded again for each run: a run's optimisers would share the parsed tensors
    checkpoint: Checkpoint
    problem: str | None

    @property
    def step(self) -> int:
        return int(self.checkpoint.training_state["meta"]["counters"]["step_count"])


def why_not_continuable(ckpt: Checkpoint, status: dict[str, str | None]) -> str | None:
    """Why this page cannot continue `ckpt` (`status`: each dataset -> None if loadable, else its problem)."""
    if ckpt.training_state is None or ckpt.discriminator is None:
        return NOT_CONTINUABLE
    dataset = ckpt.config.train.dataset
    if ckpt.config.model.is_points:
        return f"This run trained on points ({dataset}); the Training page continues runs on images."
    if dataset == FOLDER_DATASET:
        return ("This run trained on your own images, which the server does not keep: continue it with "
                "`python -m ganplay train --resume FILE` on those images.")
    if status.get(dataset, "unknown") is not None:
        return (f"This run trained on {dataset}, which is not available on this server"
                f"{': ' + status[dataset] if status.get(dataset) else '.'}")
    return None


def continue_ui(registry: RunRegistry, status: dict[str, str | None]) -> None:
    """The expander: upload, what the file is, and the button that continues it as this session's run. The page
    draws it only while this session has no live run."""
    ss = st.session_state
    saved: SavedRun | None = ss.get("tr_resume")
    with st.expander("Continue a saved run", expanded=saved is not None or bool(ss.get("tr_resume_error"))):
        st.file_uploader("Checkpoint (.safetensors)", type=["safetensors"], key=uploader_key(),
                         on_change=_on_upload, args=(status,), max_upload_size=MAX_CHECKPOINT_MB,
                         help="A checkpoint downloaded from this page or written by `python -m ganplay train`. "
                              "It is read as data only: nothing in it is ever executed.")
        if ss.get("tr_resume_error"):
            st.error(ss.tr_resume_error, icon=":material/block:")
        if saved is None:
            return
        if saved.problem:
            st.warning(saved.problem)
            return
        cfg = saved.checkpoint.config
        st.caption(f"**{saved.name}**: recipe `{cfg.name}` ({cfg.train.loss} loss) on {cfg.train.dataset}, "
                   f"saved at step {saved.step:,}. It goes on with its own recipe, shown in the sidebar.")
        st.button(f"Continue from step {saved.step:,}", icon=":material/play_arrow:", on_click=_continue,
                  args=(registry,))


def uploader_key() -> str:
    """The uploader's key: a new one once its file became a run, which empties it (and folds the expander)."""
    used = st.session_state.get("tr_resume_used", 0)
    return f"{FILE_KEY}_{used}" if used else FILE_KEY


def _on_upload(status: dict[str, str | None]) -> None:
    ss = st.session_state
    file = ss.get(uploader_key())
    ss.tr_resume, ss.tr_resume_error = None, None
    if file is None:
        return
    try:
        ckpt = load_checkpoint(file.getvalue())
    except CheckpointError as err:
        ss.tr_resume_error = f"That file was refused: {err}"
        return
    ss.tr_resume = SavedRun(file.name, file.getvalue(), ckpt, why_not_continuable(ckpt, status))


def _continue(registry: RunRegistry) -> None:
    """Make the saved run this session's run and start it (the page's buttons steer it from here)."""
    ss = st.session_state
    saved: SavedRun = ss.tr_resume
    cfg = saved.checkpoint.config
    try:
        run = registry.create(cfg, resources.dataset(cfg.train.dataset), resume=load_checkpoint(saved.data),
                              owner=session_token())     # the uploader controls it; a link only watches
    except USER_ERRORS as err:        # CheckpointError is a ValueError; a busy server, data gone
        ss.tr_resume_error = f"The run could not continue: {err}"
        return
    ss.tr_resume_error = ss.train_error = None
    ss.run_id = run.id
    st.query_params["run"] = run.id
    load_config_into_state(cfg, cfg.name if cfg.name in IMAGE_PRESETS else ss.get("tr_preset", "lecture"))
    ss.tr_dataset, ss.tr_steps = cfg.train.dataset, 0
    ss.tr_resume, ss.tr_resume_used = None, ss.get("tr_resume_used", 0) + 1    # folded away: the run shows now
    run.start()
