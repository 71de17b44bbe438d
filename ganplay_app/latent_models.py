"""The Latent space page's models: which generators there are, their names in the menu, and their caches.

Models are reached through a key: the path of a bundled checkpoint (every `*.safetensors` in the pretrained
folder except the classifier), or UPLOAD for the checkpoint this session uploaded. Bundled models are shared
by every session through `st.cache_resource` (read-only: eval mode, never trained); an upload lives in this
session's `st.session_state` only. The pretrained folder is `$GANPLAY_PRETRAINED` when set (tests point it
at a temporary folder), else the repository's `pretrained/`; it is read at call time.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import streamlit as st

from ganplay.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from ganplay.data import DATASETS
from ganplay.latent import PrincipalDirections, principal_directions

REPO_PRETRAINED = Path(__file__).resolve().parents[1] / "pretrained"
CLASSIFIER_FILE = "classifier.safetensors"
UPLOAD = "upload"                  # the model key of this session's uploaded checkpoint
N_DIRECTIONS = 10                  # principal directions computed per model
# What the menu says a model learned from: short, so a title fits the sidebar (about 30 characters).
DATA_WORDS = {"mnist": "Digits", "fashion-mnist": "Fashion"}
LOSS_WORDS = {"least-squares": "least-squares ", "wgan-gp": "WGAN-GP ", "wgan": "WGAN ", "hinge": "hinge "}


def pretrained_dir() -> Path:
    return Path(os.environ.get("GANPLAY_PRETRAINED") or REPO_PRETRAINED)


def bundled_paths() -> list[Path]:
    return sorted(p for p in pretrained_dir().glob("*.safetensors") if p.name != CLASSIFIER_FILE)


@dataclass
class Upload:
    name: str
    checkpoint: Checkpoint
    directions: dict[int, PrincipalDirections] = field(default_factory=dict)


def load_upload(data: bytes) -> Checkpoint:
    """A ganplay checkpoint from uploaded bytes, generator only; raises CheckpointError with the reason (a file
    over MAX_CHECKPOINT_MB among them). Nothing in the file is executed: load_checkpoint parses safetensors and
    JSON and never unpickles."""
    return _for_viewing(load_checkpoint(data))


def _for_viewing(ckpt: Checkpoint) -> Checkpoint:
    ckpt.generator.eval().requires_grad_(False)
    return dataclasses.replace(ckpt, discriminator=None)


@st.cache_resource(show_spinner="Loading the model…", max_entries=16)
def _bundled(path: str, mtime_ns: int) -> Checkpoint:      # mtime: a replaced file is loaded anew
    return _for_viewing(load_checkpoint(path))


@st.cache_resource(show_spinner="Finding the principal directions…", max_entries=32)
def _bundled_directions(path: str, mtime_ns: int, k: int) -> PrincipalDirections:
    ckpt = _bundled(path, mtime_ns)
    return principal_directions(ckpt.generator, k=k, prior=ckpt.config.model.prior)


def checkpoint(key: str) -> Checkpoint:
    if key == UPLOAD:
        return st.session_state.lt_upload.checkpoint
    return _bundled(key, Path(key).stat().st_mtime_ns)


def directions(key: str, k: int = N_DIRECTIONS) -> PrincipalDirections:
    if key != UPLOAD:
        return _bundled_directions(key, Path(key).stat().st_mtime_ns, k)
    upload: Upload = st.session_state.lt_upload
    if k not in upload.directions:
        ckpt = upload.checkpoint
        with st.spinner("Finding the principal directions…"):
            upload.directions[k] = principal_directions(ckpt.generator, k=k, prior=ckpt.config.model.prior)
    return upload.directions[k]


def short_title(ckpt: Checkpoint) -> str:
    """What the menu shows: what the model learned from and what kind of GAN it is, e.g. "Digits · conditional
    DCGAN" (about 30 characters at most, so the sidebar shows all of it; the card's full title, the file and the
    steps are in the menu's help)."""
    cfg = ckpt.config
    data = DATA_WORDS.get(cfg.train.dataset) or (DATASETS[cfg.train.dataset].title if cfg.train.dataset in DATASETS
                                                 else "Images")
    net = "MLP GAN" if cfg.model.generator.arch == "mlp" else "DCGAN"
    kind = ("conditional " if cfg.model.num_classes else "") + LOSS_WORDS.get(cfg.train.loss, "") + net
    return f"{data} · {kind}"


def full_title(ckpt: Checkpoint) -> str:
    """The model card's title, else the recipe's name."""
    return str(ckpt.card.get("title") or ckpt.config.name)


def available_models() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """({model key: menu title}, {model key: "full title, file"}, [messages about bundled files that could not be
    loaded]). Two models with one menu title get their file's name added."""
    titles, about, problems = {}, {}, []
    for path in bundled_paths():
        try:
            ckpt = checkpoint(str(path))
        except CheckpointError as err:
            problems.append(f"{path.name}: {err}")
            continue
        titles[str(path)] = short_title(ckpt)
        steps = ckpt.record.get("steps")
        about[str(path)] = f"{full_title(ckpt)} · `{path.name}`" + (f" · {steps:,} steps" if isinstance(steps, int)
                                                                       else "")
    if "lt_upload" in st.session_state:
        upload = st.session_state.lt_upload
        steps = upload.checkpoint.record.get("steps")
        titles[UPLOAD] = f"Uploaded · {short_title(upload.checkpoint)}"
        about[UPLOAD] = f"{full_title(upload.checkpoint)} · your upload `{upload.name}`" + (
            f" · {steps:,} steps" if isinstance(steps, int) else "")
    repeated = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    for key, title in titles.items():
        if title in repeated and key != UPLOAD:
            titles[key] = f"{title} ({Path(key).stem})"
    return titles, about, problems


def bundled_stem_to_key() -> dict[str, str]:
    """{file stem: model key} of the bundled models: what a link's `model=` names."""
    return {path.stem: str(path) for path in bundled_paths()}


def class_names(config) -> tuple[str, ...]:
    """What a conditional model's class ids mean, from its dataset (Fashion-MNIST's garments); digits otherwise."""
    spec = DATASETS.get(config.train.dataset)
    k = config.model.num_classes
    if k and spec is not None and len(spec.class_names) >= k:
        return spec.class_names[:k]
    return tuple(str(i) for i in range(k or 10))


# ---------------------------------------------------------------- the classifier that labels frames
@st.cache_resource(show_spinner=False)
def _classifier(path: str, mtime_ns: int):
    from ganplay.classifier import load_classifier
    return load_classifier(path)[0]


def classifier_probabilities() -> Callable | None:
    """images (N, C, S, S) in [-1, 1] -> class probabilities (N, 10), or None when no classifier is installed
    (the pretrained folder's classifier first, then the repository's)."""
    try:
        from ganplay.classifier import classify
        from ganplay.evaluate import to_classifier_input
    except ImportError:
        return None
    for path in (pretrained_dir() / CLASSIFIER_FILE, REPO_PRETRAINED / CLASSIFIER_FILE):
        if path.is_file():
            try:
                model = _classifier(str(path), path.stat().st_mtime_ns)
            except CheckpointError:
                return None
            return lambda images: classify(model, to_classifier_input(images))[0]
    return None
