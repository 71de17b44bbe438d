"""The Training page's "Your own images" panel: a folder on the server or a zip upload, loaded once per choice.

    data = own_images_ui(size=config.model.image_size, locked=locked)   # FolderImages, or None until loaded
    config, data = config_and_data(config)                              # in the Start callback

The loading and every safety check are `ganplay.data` (load_image_folder, load_image_zip); this module draws the
widgets, states the limits and keeps the loaded images in this session's st.session_state under "own_*" keys
(never in a shared cache: one user's images are nobody else's).
"""
from __future__ import annotations

import streamlit as st

from ganplay.data import (FOLDER_DATASET, MAX_DATASET_BYTES, MAX_ZIP_BYTES, MAX_ZIP_FILES, MAX_ZIP_UNPACKED_BYTES,
                          DataError, FolderImages, fit_config, load_image_folder, load_image_zip)
from ganplay.data.folder import preview_grid
from ganplay.images import upscale

OWN = FOLDER_DATASET                   # the Dataset menu's entry for your own images
TITLE = "Your own images"
SOURCES = ("A folder on the server", "A zip upload")


def upload_limit_bytes() -> int:
    """The zip size accepted: the smaller of server.maxUploadSize (.streamlit/config.toml) and MAX_ZIP_BYTES."""
    return min(int(st.get_option("server.maxUploadSize")) * 1024 * 1024, MAX_ZIP_BYTES)


def limits_text() -> str:
    return (f"Limits: a zip of at most {upload_limit_bytes() / 2**20:,.0f} MB, {MAX_ZIP_FILES:,} files and "
            f"{MAX_ZIP_UNPACKED_BYTES / 2**30:g} GB unpacked; the images in memory at most "
            f"{MAX_DATASET_BYTES / 2**30:g} GB. PNG, JPEG or WebP; images directly in the zip (or in its one "
            f"top folder) are unlabelled, one subfolder per class makes labels.")


def own_images_ui(size: int, locked: bool) -> FolderImages | None:
    """Where the images come from, the loaded set's description and a few of its images. None until loaded."""
    ss = st.session_state
    how = st.radio("Where are your images?", SOURCES, key="own_how", horizontal=True, disabled=locked)
    if how == SOURCES[0]:
        path = st.text_input("Folder on the server", key="own_path", disabled=locked,
                             placeholder="/path/to/images",
                             help="A folder of PNG, JPEG or WebP files on the machine running the app; one "
                                  "subfolder per class if they have labels.").strip()
        key = ("folder", path, size) if path else None

        def load():
            return load_image_folder(path, size)
    else:
        st.caption(limits_text())
        upload = st.file_uploader("Zip of images", type="zip", key="own_zip", disabled=locked)
        key = ("zip", upload.file_id, size) if upload is not None else None

        def load():
            return load_image_zip(upload.getvalue(), size, title=upload.name, max_bytes=upload_limit_bytes())
    if key is None:
        st.info("Give a folder or upload a zip of images: they are centre-cropped to a square and resized to "
                f"{size}×{size} (the preset's size); colour images train a colour model.")
        return None
    if ss.get("own_key") != key and not locked:
        ss.own_key, ss.own_data, ss.own_error = key, None, None
        try:
            with st.spinner("Reading your images…"):
                ss.own_data = load()
        except DataError as error:
            ss.own_error = str(error)
    if ss.get("own_error"):
        st.error(ss.own_error)
        return None
    data = ss.get("own_data")
    if data is not None:
        st.caption(data.describe())
        st.image(upscale(preview_grid(data, 16), max(1, 64 // data.image_size)), output_format="PNG",
                 caption="A few of your images, as the discriminator sees them")
    return data


def config_and_data(config):
    """The run's config fitted to the loaded images (their channels, train.dataset "folder") and the images."""
    data = st.session_state.get("own_data")
    if data is None:
        raise DataError("Load your images first: give a folder on the server or upload a zip above.")
    return fit_config(config, data), data
