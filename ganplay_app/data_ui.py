"""The Training page's dataset panel: what is missing, a Download button with a progress bar, and how to get the
files by hand when the download fails (offline).

How: the download runs inside the clicking session's script run (one blocking call, each network wait bounded by
DOWNLOAD_TIMEOUT_S), split by split with t10k first, because t10k alone is a dataset ganplay trains on. A
process-wide lock per dataset (resources.download_lock) keeps two tabs from fetching the same files at once; a
second click in the same tab reruns the script, which stops the first download at its next progress update
(its temp file is removed) and starts again, skipping the files already verified. Messages for the next run
(what a download brought, why it failed) wait in st.session_state under "data_*" keys.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from ganplay.data import DATA_ENV_VAR, DATASETS, DataError, find_data_dir, get_spec
from ganplay.data import download_dir
from ganplay.download import download_dataset, download_order, split_order
from ganplay_app import resources

DOWNLOAD_TIMEOUT_S = 10.0


def fetch_splits(name: str, dest: Path, progress: Callable[[int, int | None, str], None] | None = None,
                 timeout: float = DOWNLOAD_TIMEOUT_S) -> tuple[list[str], str | None]:
    """Download `name` into dest split by split, t10k first. Returns (splits now complete, why the next failed).

    download_dataset leaves no half split behind (a labels file without its images would make the whole folder
    unreadable), so a failed split is simply absent.
    """
    spec = get_spec(name)
    done: list[str] = []
    for split in split_order(name):
        try:
            download_dataset(name, dest, files=spec.splits[split], timeout=timeout, progress=progress)
        except DataError as error:
            return done, str(error)
        done.append(split)
    return done, None


def _progress_bar(bar, files: list[str]) -> Callable[[int, int | None, str], None]:
    """A download progress callback that redraws `bar` only when the shown percentage changes."""
    last = [None]

    def report(done: int, total: int | None, file_name: str) -> None:
        fraction = done / total if total else 0.0
        shown = (file_name, int(100 * fraction) if total else done >> 20)
        if shown == last[0]:
            return
        last[0] = shown
        size = f"{done / 1e6:.1f}" + (f" of {total / 1e6:.1f}" if total else "") + " MB"
        bar.progress(min(fraction, 1.0), text=f"{file_name} (file {files.index(file_name) + 1} of {len(files)}) "
                                              f"· {size}")
    return report


def download_button_ui(name: str, key: str, primary: bool = False) -> None:
    """The Download button; a click downloads in this script run, records what came of it, and reruns the page."""
    spec = get_spec(name)
    slot = st.empty()
    clicked = slot.button(f"Download {spec.title}", key=key, type="primary" if primary else "secondary",
                          icon=":material/download:")
    if st.session_state.pop("data_busy", None) == name:
        st.info(f"Another tab is downloading {spec.title} right now. Reload this page in a minute: it will be "
                f"ready then.")
    if not clicked:
        return
    failures = st.session_state.setdefault("data_failures", {})
    failures.pop(name, None)
    lock = resources.download_lock(name)
    if not lock.acquire(blocking=False):
        st.session_state.data_busy = name
        st.rerun()
    dest = download_dir(name)
    try:
        bar = slot.progress(0.0, text=f"Connecting to fetch {spec.title}…")
        got, error = fetch_splits(name, dest, _progress_bar(bar, download_order(name)))
    finally:
        lock.release()
    if not got:
        failures[name] = error      # shown by failure_ui under a fresh button after the rerun
        st.rerun()
    resources.dataset.clear()       # a failed load is not cached, but a t10k-only dataset loaded earlier is
    st.session_state.data_choice = name
    notices = st.session_state.setdefault("data_notices", [])
    if error is None:
        notices.append(("success", f"Downloaded {spec.title} into `{dest}`. It is selected in the sidebar.", None))
    else:
        missing = [s for s in spec.splits if s not in got]
        notices.append(("warning", f"Downloaded {spec.title}'s {' + '.join(got)} split into `{dest}`: enough to "
                        f"train on, and selected in the sidebar. The {' + '.join(missing)} split did not download "
                        f"(below); fetch it later with `{spec.download_command} --dest {dest}`.", error))
    st.rerun()


def notices_ui() -> None:
    """What the last download brought, shown once."""
    for kind, text, detail in st.session_state.pop("data_notices", []):
        getattr(st, kind)(text)
        if detail:
            st.code(detail, language=None, wrap_lines=True)


def apply_choice(available: list[str]) -> None:
    """Select a just-downloaded dataset; must run before the Dataset menu is drawn."""
    choice = st.session_state.pop("data_choice", None)
    if choice in available:
        st.session_state.tr_dataset = choice


def _is_missing(name: str) -> bool:
    """True when no folder holds the files (rather than files that are there but damaged)."""
    try:
        find_data_dir(name)
        return False
    except DataError:
        return True


def failure_ui(name: str) -> bool:
    """The last failed download of `name`: downloader's message, then the ways round it. False if none."""
    message = st.session_state.get("data_failures", {}).get(name)
    if message is None:
        return False
    st.error(f"**The download of {get_spec(name).title} failed.** No file was left half-written.")
    st.code(message, language=None, wrap_lines=True)
    return True


def how_to_get_ui(name: str, status: dict[str, str | None]) -> None:
    """The ways to get `name` without the button: copy the files, $GANPLAY_DATA, the CLI, an OS package."""
    spec = get_spec(name)
    t10k_images, t10k_labels = spec.splits["t10k"]
    st.markdown(f"**Copy the four files by hand** (from any machine with internet, e.g. from {spec.mirrors[0]}) "
                f"into this folder, then reload the page:")
    st.code(str(download_dir(name)), language=None, wrap_lines=True)
    st.code("\n".join(spec.file_names), language=None)
    st.markdown(f"The two t10k files alone ({t10k_images}, {t10k_labels}: 10,000 images) are enough to train.  \n"
                f"**Or** start the app with `{DATA_ENV_VAR}` naming a folder that already holds them:")
    st.code(f"{DATA_ENV_VAR}=/path/to/{name} streamlit run streamlit_app.py", language="bash", wrap_lines=True)
    st.markdown("**Or**, on a machine with internet, from a terminal:")
    st.code(spec.download_command, language="bash")
    if spec.system_package:
        st.markdown(f"**Or** `sudo apt-get install {spec.system_package}` (Debian): it installs into "
                    f"`{spec.system_dirs[0]}`, where ganplay finds it at once.")
    for other in DATASETS:
        other_spec = get_spec(other)
        if other == name or not other_spec.system_package:
            continue
        if status.get(other) is None:
            st.success(f"**{other_spec.title} is available already** (in `{find_data_dir(other)}`): pick it in "
                       f"the sidebar's Dataset menu and train on it now.")
        else:
            st.markdown(f"**Or train on {other_spec.title} instead:** `sudo apt-get install "
                        f"{other_spec.system_package}` (Debian) puts it in `{other_spec.system_dirs[0]}`, where "
                        f"ganplay finds it at once; reload this page after.")
    if _is_missing(name) and status.get(name):
        st.caption("Where ganplay looked, in order:")
        st.code(status[name], language=None, wrap_lines=True)


def no_data_ui(status: dict[str, str | None]) -> None:
    """The Training page when nothing can be trained: what is missing, the Download button, the alternatives."""
    name = "mnist"
    spec = get_spec(name)
    env_value = os.environ.get(DATA_ENV_VAR)
    if not _is_missing(name) or (env_value and not Path(env_value).expanduser().is_dir()):
        st.error(status[name])             # unreadable files or a wrong $GANPLAY_DATA: that message is the news
    else:
        st.warning(f"**{spec.title} is not on this machine yet**: download it below, or train on your own images. "
                   f"The Theory, Latent space and Toy lab pages need no dataset: they work now.")
    st.markdown(f"Download {spec.title} (about 11 MB) into `{download_dir(name)}`, where ganplay finds it:")
    download_button_ui(name, key=f"data_download_{name}", primary=True)
    if failure_ui(name):
        how_to_get_ui(name, status)
    else:
        with st.expander("No internet? Other ways to get the files"):
            how_to_get_ui(name, status)


def more_datasets_ui(status: dict[str, str | None]) -> None:
    """The sidebar's compact "Get more datasets" expander: a line per dataset not available, a button for each,
    the other ways in one caption. A failed download's full help goes to the main area (download_failures_ui)."""
    missing = [name for name, error in status.items() if error is not None]
    if not missing:
        return
    with st.expander("Get more datasets", icon=":material/download:"):
        for name in missing:
            spec = get_spec(name)
            if _is_missing(name):
                st.markdown(f"**{spec.title}** is not on this machine.")
            else:
                st.markdown(f"**{spec.title}** cannot be read:")
                st.caption(status[name])
            download_button_ui(name, key=f"data_more_{name}")
            package = f", or `sudo apt-get install {spec.system_package}` (Debian)" if spec.system_package else ""
            st.caption(f"Or copy {', '.join(spec.file_names)} into `{download_dir(name)}`, or run "
                       f"`{spec.download_command}`{package}.")


def download_failures_ui(status: dict[str, str | None]) -> None:
    """Main-area help for each dataset whose download from the sidebar failed and that is still not available."""
    for name, message in st.session_state.get("data_failures", {}).items():
        if status.get(name) is not None:
            with st.expander(f"The {get_spec(name).title} download failed: what to do", expanded=True,
                             icon=":material/cloud_off:"):
                failure_ui(name)
                how_to_get_ui(name, status)
