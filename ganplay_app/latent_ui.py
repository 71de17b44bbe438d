"""Widgets of the Latent space page; each `*_ui()` draws and returns plain values.

The models and their caches are in `ganplay_app.latent_models`, the URL state in `ganplay_app.latent_url`.
Widget keys start with `lt_`; `latent_url` reads a link into them and writes them back to the URL.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import streamlit as st

from ganplay.checkpoint import CheckpointError
from ganplay.images import make_grid, upscale
from ganplay.latent import INTERPOLATIONS
from ganplay.models import MAX_CHECKPOINT_MB
from ganplay_app.latent_models import UPLOAD, Upload, available_models, checkpoint, load_upload
from ganplay_app.latent_url import GRID, MAX_FRAMES, N_SLIDERS, SLIDER_SIGMAS, SPAN, interpolation_defaults

FRAGMENT_THREADS = 1               # torch threads for the page's sections (see ganplay.latent.torch_threads)
STRIP_WIDTH_PX, STRIP_GAP_PX = 760, 8   # the main column at 1280×720 with the sidebar open is ~790 px
STRIP_MIN_FRAME_PX = 56            # narrower frames wrap into rows instead: a verdict caption needs room


def strip_frame_width(frames: int) -> int:
    """Pixel width of each interpolation frame: the strip fits one row at 1280×720 (10 frames: 68 px each),
    frames are never narrower than STRIP_MIN_FRAME_PX (long strips wrap) nor wider than 84 px."""
    return int(min(84, max(STRIP_MIN_FRAME_PX, (STRIP_WIDTH_PX - STRIP_GAP_PX * (frames - 1)) // frames)))


def tiles(images, scale: int) -> list:
    """Each image (C, S, S) of a batch as its own picture, enlarged `scale` times without smoothing."""
    return [upscale(make_grid(image[None], padding=0), scale) for image in images]


# ---------------------------------------------------------------- widgets
def model_picker_ui() -> str | None:
    """Sidebar: choose a bundled or uploaded generator, or upload one. Returns the model key (None if none)."""
    models, about, problems = available_models()
    for problem in problems:
        st.warning(problem)
    key = st.selectbox("Generator", list(models), key="lt_model", format_func=models.get, on_change=_on_new_model,
                       placeholder="No generator yet: upload one",
                       help="\n".join(f"- **{models[k]}**: {about[k]}" for k in models)) if models else None
    st.file_uploader("Upload a checkpoint", type=["safetensors"], key="lt_file", on_change=_on_upload,
                     max_upload_size=MAX_CHECKPOINT_MB,       # what any ganplay model's checkpoint fits
                     help="A .safetensors checkpoint saved from the Training page or by `python -m ganplay train`. "
                          "It is parsed as data only: nothing in it is ever executed.")
    if st.session_state.get("lt_upload_error"):
        st.error(f"That file was refused: {st.session_state.lt_upload_error}", icon=":material/block:")
    return key


def _on_upload() -> None:
    file = st.session_state.get("lt_file")
    st.session_state.lt_upload_error = None
    if file is None:
        return
    try:
        ckpt = load_upload(file.getvalue())
    except CheckpointError as err:
        st.session_state.lt_upload_error = str(err)
        return
    st.session_state.lt_upload = Upload(file.name, ckpt)
    st.session_state.lt_model = UPLOAD
    _on_new_model()


def _on_new_model() -> None:
    """Another model opens on its own interpolation defaults, and its class boxes are set anew: deleting their
    state left the browser showing the old model's choices (a digit model showed "Dress", "Bag")."""
    key = st.session_state.get("lt_model")
    if key is not None:
        st.session_state.update(interpolation_defaults(checkpoint(key).config.model.num_classes), lt_class=0,
                                lt_grid_class=0)


def _randomize() -> None:
    st.session_state.lt_seed = secrets.randbelow(100_000)   # no shared RNG state: sessions run in threads


def _reset_sliders() -> None:
    for key in list(st.session_state):
        if str(key).startswith(("lt_pc", "lt_dz")):
            st.session_state[key] = 0.0


def _class_name(names: tuple[str, ...], c: int) -> str:
    return names[c] if c < len(names) else str(c)


def seed_ui(num_classes: int, names: tuple[str, ...] = ()) -> tuple[int, int | None]:
    """Seed box with Randomize, plus the class for a conditional model: (seed, class)."""
    # Two columns, not three: at 1280×720 a third column truncated the labels ("Random…").
    c1, c2 = st.columns([1.2, 1], vertical_alignment="bottom")
    seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="lt_seed")
    c2.button("Randomize", on_click=_randomize, icon=":material/casino:", width="stretch",
              help="A random seed: a new starting code z.")
    label = st.selectbox("Class", list(range(num_classes)), key="lt_class",
                         format_func=lambda c: _class_name(names, c)) if num_classes else None
    return int(seed), label


def direction_sliders_ui(explained: list[float]) -> list[float]:
    """A heading with Reset sliders, then one slider per principal direction (in prior σ along it)."""
    head, reset = st.columns([1.6, 1], vertical_alignment="center")
    head.markdown("**Principal directions** of the generator, largest first")
    reset.button("Reset sliders", on_click=_reset_sliders, icon=":material/restart_alt:", width="stretch",
                 help="Every direction and raw-coordinate slider back to 0.")
    amounts = []
    cols = st.columns(2)
    for i, share in enumerate(explained[:N_SLIDERS]):
        amounts.append(cols[i % 2].slider(
            f"PC{i + 1} · {share:.1%} of the variance", -SLIDER_SIGMAS, SLIDER_SIGMAS, 0.0, 0.1, format="%+.1f σ",
            key=f"lt_pc{i + 1}"))
    return amounts


def raw_sliders_ui(latent_dim: int) -> tuple[list[int], list[float]]:
    """Pick up to four raw latent coordinates and an offset for each: (dims, offsets in prior std units)."""
    dims = st.multiselect("Raw latent coordinates", list(range(latent_dim)), key="lt_dims", max_selections=4,
                          default=[d for d in (0, 1) if d < latent_dim], format_func=lambda d: f"z[{d}]")
    cols = st.columns(2)
    offsets = [cols[i % 2].slider(f"z[{d}] offset", -SLIDER_SIGMAS, SLIDER_SIGMAS, 0.0, 0.1, format="%+.1f σ",
                                  key=f"lt_dz{d}") for i, d in enumerate(dims)]
    return dims, offsets


@dataclass(frozen=True)
class InterpolationSettings:
    mode: str               # "seeds" | "classes"
    seed_a: int
    seed_b: int
    class_a: int
    class_b: int
    method: str             # a key of ganplay.latent.INTERPOLATIONS
    frames: int


def interpolation_ui(num_classes: int, can_pick_classes: bool, names: tuple[str, ...] = ()) -> InterpolationSettings:
    """Endpoints (two seeds, or class A -> class B), method and number of frames."""
    modes = {"seeds": "Two seeds", "classes": "Class A → class B"}
    c = st.columns([1.4, 1, 1, 1, 1])
    for key, value in interpolation_defaults(num_classes).items():   # defaults via state: no index clashes
        st.session_state.setdefault(key, value)
    mode = c[0].radio("Endpoints", list(modes), format_func=modes.get, key="lt_mode", horizontal=True,
                      disabled=not can_pick_classes)
    mode = mode if can_pick_classes else "seeds"
    conditional_classes = mode == "classes" and num_classes > 0
    seed_a = c[1].number_input("Seed A" if mode == "seeds" else "Seed", 0, 2**31 - 1, 1, key="lt_seed_a")
    seed_b = c[2].number_input("Seed B", 0, 2**31 - 1, 2, key="lt_seed_b", disabled=mode != "seeds")
    classes = list(range(num_classes or 10))
    class_a = c[3].selectbox("Class A" if mode == "classes" else "Class", classes, key="lt_class_a",
                             disabled=mode == "seeds" and not num_classes, format_func=lambda c: _class_name(names, c))
    class_b = c[4].selectbox("Class B", classes, key="lt_class_b", disabled=mode == "seeds",
                             format_func=lambda c: _class_name(names, c))
    c2 = st.columns([1.4, 3])
    method = c2[0].radio("Path", list(INTERPOLATIONS), key="lt_method", horizontal=True,
                         disabled=conditional_classes,
                         help="Linear: a straight line. Spherical: along the great circle, so the codes keep the "
                              "length typical of the prior instead of passing near its centre.")
    frames = c2[1].slider("Frames", 2, MAX_FRAMES, 10, key="lt_frames")
    return InterpolationSettings(mode, int(seed_a), int(seed_b), int(class_a), int(class_b), method, int(frames))


def axis_name(axis: tuple[str, int]) -> str:
    kind, i = axis
    return f"PC{i + 1}" if kind == "pc" else f"z[{i}]"


def slice_ui(n_directions: int, latent_dim: int,
             num_classes: int, names: tuple[str, ...] = ()
             ) -> tuple[tuple[str, int], tuple[str, int], float, int, int, int | None]:
    """Two axes, each ("pc", i) for a principal direction or ("z", d) for a raw coordinate; the span in σ, the
    grid size, the centre's seed and the class (conditional models)."""
    axes = [("pc", i) for i in range(n_directions)] + [("z", d) for d in range(latent_dim)]
    c = st.columns(6 if num_classes else 5)
    axis_a = c[0].selectbox("Across →", axes, index=0, key="lt_axis_a", format_func=axis_name)
    axis_b = c[1].selectbox("Down ↓", axes, index=1, key="lt_axis_b", format_func=axis_name)
    span = c[2].slider("Span (± σ)", SPAN[0], SPAN[1], 2.5, SPAN[2], key="lt_span")
    n = c[3].slider("Grid size", *GRID, 7, key="lt_grid_n")
    seed = c[4].number_input("Centre seed", 0, 2**31 - 1, 0, key="lt_grid_seed")
    label = c[5].selectbox("Class", list(range(num_classes)), key="lt_grid_class",
                           format_func=lambda c: _class_name(names, c)) if num_classes else None
    return axis_a, axis_b, float(span), int(n), int(seed), label
