"""Latent space: explore a trained generator's codes.

Three sections, each an `st.fragment`, so moving one of its widgets reruns only that section while the model and
its principal directions come from caches (ganplay_app.latent_ui): (1) one large sample moved along GANSpace
directions and raw latent coordinates, (2) an interpolation between two codes or two classes, each frame labelled
by the digit classifier, exported as GIF and PNG strip, (3) a 2-D slice of latent space as a grid.
Everything on it round-trips through the URL (ganplay_app.latent_url): a link opens the same view.
"""
import streamlit as st

from ganplay import latent
from ganplay.evaluate import digit_judge_refusal
from ganplay.images import make_grid, png_bytes, upscale
from ganplay_app import latent_models, latent_ui, latent_url

st.title("Latent space")
st.markdown(
    "A generator maps a code $z$ to an image. Nearby codes give similar digits, so the code space can be "
    "explored: push one sample along the directions that change images most (the principal components of the "
    "generator's early activations, as GANSpace finds them), walk from one code to another, or lay out a "
    "plane of codes as a grid."
)
latent_url.restore()
with st.sidebar:
    key = latent_ui.model_picker_ui()
if notes := st.session_state.pop("lt_url_notes", None):
    st.warning("Some settings in this link were ignored, the page shows its defaults for them: " + "; ".join(notes)
               + ".", icon=":material/link_off:")
if key is None:
    st.info("No generator to explore yet. Train one on the Training page, or with `python -m ganplay train "
            "--preset lecture --seconds 60 --out lecture.safetensors`, and upload the checkpoint in the sidebar.")
    st.stop()

ckpt = latent_models.checkpoint(key)
cfg, G = ckpt.config.model, ckpt.generator
pcs = latent_models.directions(key)
judge_refusal = digit_judge_refusal(ckpt.config)     # the digit classifier only knows MNIST digits
probabilities = latent_models.classifier_probabilities() if judge_refusal is None else None
class_names = latent_models.class_names(ckpt.config)
size = cfg.image_size
steps = ckpt.record.get("steps")
st.caption(" · ".join(filter(None, [
    ckpt.card.get("description") or ckpt.config.description,
    f"{cfg.generator.arch} generator, {cfg.latent_dim}-dimensional code z ~ "
    f"{'N(0, I)' if cfg.prior == 'normal' else 'U[-1, 1)'}",
    f"{cfg.num_classes} classes" if cfg.num_classes else None,
    f"{steps:,} training steps" if isinstance(steps, int) else None,
])))
if judge_refusal is not None:
    st.caption(f"Samples are not labelled by the digit classifier: {judge_refusal.removeprefix('no digit scores: ')}.")
elif probabilities is None:
    st.caption("The digit classifier (pretrained/classifier.safetensors) is not installed, so samples are not "
               "labelled with a class and a confidence.")


def verdicts(images) -> list[str] | None:
    """'7 · 98%' per image when the classifier is installed."""
    return latent.prediction_labels(probabilities(images)) if probabilities else None


st.subheader("1 · One sample, many directions", divider="gray")


@st.fragment
@latent.torch_threads(latent_ui.FRAGMENT_THREADS)
def explorer() -> None:
    image_col, controls = st.columns([1, 1.5], gap="large")
    with controls:
        seed, label = latent_ui.seed_ui(cfg.num_classes, class_names)
        amounts = latent_ui.direction_sliders_ui(pcs.explained_variance.tolist())
        dims, offsets = latent_ui.raw_sliders_ui(cfg.latent_dim)
    z = latent.explorer_code(cfg, pcs, seed, amounts, dims, offsets)
    image = latent.generate(G, z, label)
    verdict = verdicts(image)
    with image_col:
        st.image(latent_ui.tiles(image, max(1, 336 // size))[0], output_format="PNG",
                 caption=f"seed {seed}" + (f" · classifier: {verdict[0]}" if verdict else ""))
    st.session_state.lt_current = {"model": key, "seed": seed, "class": label, "code": z.tolist()}
    latent_url.publish(key)


explorer()
with st.expander("How are the principal directions found?"):
    st.markdown(
        f"Following GANSpace (Härkönen et al., 2020): 2,000 codes from the prior go through the generator and the "
        f"output of its first linear block (layer {latent.feature_layer(G)} of `G.net`) is recorded. PCA of those "
        "activations gives the directions in which the early features vary most; a least-squares regression from "
        "the PCA coordinates back to $z$ turns each into a direction in latent space (made orthonormal). "
        "For a class-conditional model each class's mean is removed first, so the directions describe style "
        "(slant, thickness, width) rather than which digit it is. Sliders move in standard deviations σ of "
        "the prior along each direction."
    )

st.subheader("2 · Interpolation", divider="gray")


@st.fragment
@latent.torch_threads(latent_ui.FRAGMENT_THREADS)
def interpolation() -> None:
    s = latent_ui.interpolation_ui(cfg.num_classes, can_pick_classes=bool(cfg.num_classes or probabilities),
                                   names=class_names)
    y = s.class_a if cfg.num_classes else None
    if s.mode == "seeds":
        codes = latent.interpolate(latent.seed_code(cfg, s.seed_a), latent.seed_code(cfg, s.seed_b), s.frames,
                                   s.method)
    elif cfg.num_classes:
        # same code, the label blended from one-hot A to one-hot B
        codes = latent.seed_code(cfg, s.seed_a).expand(s.frames, -1)
        y = latent.soft_labels(s.class_a, s.class_b, s.frames, cfg.num_classes)
    else:
        # the codes among 256 that the classifier finds most typical of each class
        ends = [latent.code_for_class(G, cfg, probabilities, c, seed=s.seed_a)[0] for c in (s.class_a, s.class_b)]
        codes = latent.interpolate(*ends, s.frames, s.method)
    images = latent.generate(G, codes, y)
    st.image(latent_ui.tiles(images, max(1, 84 // size)), output_format="PNG",
             width=latent_ui.strip_frame_width(len(images)),
             caption=verdicts(images) or [f"t = {i / (len(images) - 1):.2f}" for i in range(len(images))])
    if s.mode == "classes":
        st.caption("Class A → class B keeps the code and blends the generator's class input from one to the other."
                   if cfg.num_classes else
                   "Class A → class B starts from the code (among 256 from the seed) that the classifier finds most "
                   "typical of A, and ends at the one most typical of B.")
    name = f"{ckpt.config.name}-{s.mode}-{s.frames}frames"
    d = st.columns([1, 1, 3])
    d[0].download_button("Animated GIF", lambda: latent.morph_gif(images, scale=4), f"{name}.gif", "image/gif",
                         on_click="ignore", icon=":material/download:", width="stretch")
    d[1].download_button("PNG strip", lambda: png_bytes(upscale(make_grid(images, nrow=len(images)), 4)),
                         f"{name}.png", "image/png", on_click="ignore", icon=":material/download:", width="stretch")
    latent_url.publish(key)


interpolation()

st.subheader("3 · A plane through latent space", divider="gray")


@st.fragment
@latent.torch_threads(latent_ui.FRAGMENT_THREADS)
def latent_plane() -> None:
    axis_a, axis_b, span, n, seed, label = latent_ui.slice_ui(len(pcs.directions), cfg.latent_dim, cfg.num_classes,
                                                                class_names)
    across, down = (latent.axis_direction(axis, pcs, cfg) for axis in (axis_a, axis_b))
    codes = latent.latent_grid(latent.seed_code(cfg, seed), across, down, span, n)
    grid = upscale(make_grid(latent.generate(G, codes, label), nrow=n), max(1, round(600 / (n * size))))
    across, down = (latent_ui.axis_name(axis) for axis in (axis_a, axis_b))
    st.image(grid, output_format="PNG", caption=f"→ {across} and ↓ {down}, each from −{span:g}σ to "
                                                f"+{span:g}σ around seed {seed}")
    st.download_button("Grid (PNG)", png_bytes(grid), f"{ckpt.config.name}-plane.png", "image/png",
                       on_click="ignore", icon=":material/download:")
    latent_url.publish(key)


latent_plane()
