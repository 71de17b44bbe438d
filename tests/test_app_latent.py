"""The Latent space page under Streamlit's AppTest, on small untrained checkpoints in a temporary folder.

The page reads its models from $GANPLAY_PRETRAINED, so these tests never need the bundled ones.
"""
import io
import os
import re
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from ganplay.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from ganplay.classifier import DigitClassifier, save_classifier
from ganplay.latent import principal_directions
from ganplay.models import build_models
from ganplay.presets import preset
from ganplay_app.latent_models import load_upload

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "latent.py")
VERDICT = re.compile(r"^\d · \d{1,3}%$")


def _save(folder: Path, name: str) -> Path:
    cfg = preset(name)
    generator, discriminator = build_models(cfg.model, seed=0)
    return save_checkpoint(folder / f"{name}.safetensors", config=cfg, generator=generator,
                           discriminator=discriminator, record={"steps": 0})


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """An unconditional and a conditional generator, plus an (untrained) digit classifier to label frames."""
    folder = tmp_path_factory.mktemp("pretrained")
    _save(folder, "lecture")
    _save(folder, "cdcgan")
    torch.manual_seed(0)
    save_classifier(folder / "classifier.safetensors", DigitClassifier().eval(), {"holdout_accuracy": 0.0})
    return folder


@pytest.fixture
def app(pretrained, monkeypatch):
    monkeypatch.setenv("GANPLAY_PRETRAINED", str(pretrained))

    def make():
        at = AppTest.from_file(PAGE, default_timeout=30)
        at.run()
        assert not at.exception, at.exception
        return at

    return make


def choose(at, name):
    path = Path(os.environ["GANPLAY_PRETRAINED"]) / f"{name}.safetensors"
    at.selectbox(key="lt_model").set_value(str(path)).run()
    assert not at.exception, at.exception
    return path


def current_code(at):
    return torch.tensor(at.session_state.lt_current["code"])


def test_the_page_lists_the_generators_but_not_the_classifier(app):
    at = app()
    picker = at.selectbox(key="lt_model")
    assert picker.options == ["Digits · conditional DCGAN", "Digits · DCGAN"]
    # the full titles, the files and the steps are in the help beside the menu
    assert "- **Digits · conditional DCGAN**: cdcgan · `cdcgan.safetensors` · 0 steps" in picker.help
    assert "`lecture.safetensors`" in picker.help
    assert len(at.image) == 3                                   # the sample, the interpolation strip, the plane
    assert VERDICT.match(at.image[0].captions[0].split("classifier: ")[1])


def test_a_principal_direction_slider_moves_the_code_and_the_image(app):
    at = app()
    ckpt = load_checkpoint(choose(at, "lecture"))
    before_code, before_url = current_code(at), at.image[0].value[0]
    at.slider(key="lt_pc1").set_value(2.0).run()
    assert not at.exception
    assert at.image[0].value[0] != before_url
    pcs = principal_directions(ckpt.generator, k=10, prior=ckpt.config.model.prior)   # what the page computes
    assert torch.allclose(current_code(at) - before_code, 2.0 * pcs.std[0] * pcs.directions[0], atol=1e-5)

    at.slider(key="lt_pc1").set_value(0.0).run()
    assert torch.allclose(current_code(at), before_code, atol=1e-6)
    at.slider(key="lt_dz0").set_value(1.5).run()                # a raw coordinate moves by exactly 1.5 σ = 1.5
    assert torch.allclose(current_code(at) - before_code, 1.5 * torch.eye(ckpt.config.model.latent_dim)[0], atol=1e-5)


def test_seed_box_randomize_and_reset(app):
    at = app()
    choose(at, "lecture")
    at.number_input(key="lt_seed").set_value(7).run()
    seven = current_code(at)
    assert at.session_state.lt_current["seed"] == 7
    at.slider(key="lt_pc2").set_value(-1.0).run()
    next(b for b in at.button if b.label == "Reset sliders").click().run()
    assert at.slider(key="lt_pc2").value == 0.0 and torch.allclose(current_code(at), seven)
    next(b for b in at.button if b.label == "Randomize").click().run()
    assert not at.exception and at.session_state.lt_current["seed"] != 7


def test_the_class_of_a_conditional_model(app):
    at = app()
    choose(at, "cdcgan")
    before = at.image[0].value[0]
    at.selectbox(key="lt_class").select(8).run()
    assert not at.exception
    assert at.session_state.lt_current["class"] == 8
    assert at.image[0].value[0] != before


def test_an_unconditional_model_has_no_class_box(app):
    at = app()
    choose(at, "lecture")
    assert not [s for s in at.selectbox if s.key == "lt_class"]


@pytest.mark.parametrize("model", ["lecture", "cdcgan"])
@pytest.mark.parametrize("mode", ["seeds", "classes"])
def test_an_interpolation_shows_n_labelled_frames(app, model, mode):
    at = app()
    choose(at, model)
    at.radio(key="lt_mode").set_value(mode).run()
    if not at.radio(key="lt_method").disabled:                  # a class blend has no path to choose
        at.radio(key="lt_method").set_value("spherical")
    at.slider(key="lt_frames").set_value(8).run()
    assert not at.exception and not at.error
    strip = at.image[1]
    assert len(strip.value) == 8
    assert all(VERDICT.match(c) for c in strip.captions)
    assert [b.label for b in at.get("download_button")][:2] == ["Animated GIF", "PNG strip"]


def test_the_plane_shows_one_grid(app):
    at = app()
    choose(at, "cdcgan")
    before = at.image[2].value[0]
    at.selectbox(key="lt_axis_b").set_value(("z", 3))
    at.slider(key="lt_grid_n").set_value(5).run()
    assert not at.exception and at.image[2].value[0] != before
    assert "PC1" in at.image[2].captions[0] and "z[3]" in at.image[2].captions[0]


def _pickle_bytes() -> bytes:
    buffer = io.BytesIO()
    torch.save({"generator": torch.zeros(3)}, buffer)
    return buffer.getvalue()


def _checkpoint() -> bytes:
    cfg = preset("lecture")
    generator, _ = build_models(cfg.model, seed=1)
    return checkpoint_bytes(cfg, generator, record={"steps": 5})


BAD_UPLOADS = {
    "pickle": (_pickle_bytes, "pickle"),
    "truncated in the header": (lambda: _checkpoint()[:100], "truncated"),
    "truncated in the weights": (lambda: _checkpoint()[:-1000], "damaged"),
    "random": (lambda: torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                     dtype=torch.uint8).numpy().tobytes(), "not a safetensors"),
    "empty": (lambda: b"", "empty"),
}


@pytest.mark.parametrize("kind", list(BAD_UPLOADS))
def test_a_bad_upload_is_refused_with_a_clear_message(app, kind):
    make, expected = BAD_UPLOADS[kind]
    with pytest.raises(CheckpointError, match=expected):
        load_upload(make())
    at = app()
    at.file_uploader(key="lt_file").set_value((f"{kind}.safetensors", make(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and "refused" in at.error[0].value and expected in at.error[0].value
    assert "lt_upload" not in at.session_state
    picker = at.selectbox(key="lt_model")
    assert picker.options == ["Digits · conditional DCGAN", "Digits · DCGAN"]
    # the full titles, the files and the steps are in the help beside the menu
    assert "- **Digits · conditional DCGAN**: cdcgan · `cdcgan.safetensors` · 0 steps" in picker.help
    assert "`lecture.safetensors`" in picker.help


def test_uploads_take_exactly_what_a_checkpoint_may_weigh(app):
    """Issue 13: one limit. The uploader's limit is the checkpoint limit (not a second number), and a file one
    byte over it is refused with that limit in the message."""
    from ganplay.checkpoint import MAX_BYTES
    from ganplay.models import MAX_CHECKPOINT_MB
    at = app()
    assert at.file_uploader(key="lt_file").proto.max_upload_size_mb == MAX_CHECKPOINT_MB == MAX_BYTES // 10**6
    with pytest.raises(CheckpointError, match=f"{MAX_CHECKPOINT_MB} MB at most"):
        load_upload(bytes(MAX_BYTES + 1))


def test_a_good_upload_is_explored_in_this_session(app):
    at = app()
    at.file_uploader(key="lt_file").set_value(("mine.safetensors", _checkpoint(), "application/octet-stream")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="lt_model").value == "upload"
    assert at.session_state.lt_current["model"] == "upload"
    at.slider(key="lt_pc1").set_value(1.0).run()
    assert not at.exception and at.session_state.lt_current["model"] == "upload"


def test_without_a_classifier_the_frames_are_labelled_by_t(app, tmp_path, monkeypatch):
    _save(tmp_path, "lecture")
    monkeypatch.setenv("GANPLAY_PRETRAINED", str(tmp_path))
    monkeypatch.setattr("ganplay_app.latent_models.REPO_PRETRAINED", tmp_path)    # no bundled classifier either
    at = app()
    assert any("classifier" in c.value and "not installed" in c.value for c in at.caption)
    assert at.image[1].captions[0] == "t = 0.00"
    assert at.radio(key="lt_mode").disabled                     # class A -> B needs the classifier


def test_an_empty_pretrained_folder_asks_for_an_upload(app, tmp_path, monkeypatch):
    monkeypatch.setenv("GANPLAY_PRETRAINED", str(tmp_path))
    at = app()
    assert not at.image and "No generator" in at.info[0].value


def test_a_conditional_model_opens_on_a_class_morph_and_says_so_only_there(app):
    at = app()
    choose(at, "cdcgan")
    assert at.radio(key="lt_mode").value == "classes"           # two seeds of one class: ten near-identical 3s
    assert (at.selectbox(key="lt_class_a").value, at.selectbox(key="lt_class_b").value) == (3, 8)
    frames = at.image[1].value
    assert len(frames) == 10 and frames[0] != frames[-1]
    blend = "Class A → class B keeps the code"
    assert any(blend in c.value for c in at.caption)
    at.radio(key="lt_mode").set_value("seeds").run()
    assert not at.exception
    assert not any("Class A → class B" in c.value for c in at.caption)


def test_an_unconditional_model_opens_on_two_seeds(app):
    at = app()
    choose(at, "lecture")
    assert at.radio(key="lt_mode").value == "seeds"
    assert not any("Class A → class B" in c.value for c in at.caption)
    at.radio(key="lt_mode").set_value("classes").run()          # the classifier picks typical codes
    assert any("most typical of A" in c.value for c in at.caption)


def test_the_default_strip_fits_one_row_at_1280_wide():
    from ganplay_app.latent_ui import STRIP_GAP_PX, STRIP_MIN_FRAME_PX, STRIP_WIDTH_PX, strip_frame_width
    width = strip_frame_width(10)
    assert width == 68 and 10 * width + 9 * STRIP_GAP_PX <= STRIP_WIDTH_PX
    assert strip_frame_width(2) == 84                           # never blown up past 3× a 28 px digit
    assert strip_frame_width(32) == STRIP_MIN_FRAME_PX          # long strips wrap rather than shrink to specks


def test_switching_models_shows_the_new_models_class_names(app, tmp_path, monkeypatch):
    import dataclasses
    cfg = preset("cdcgan")
    fashion = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, dataset="fashion-mnist"))
    generator, discriminator = build_models(fashion.model, seed=0)
    save_checkpoint(tmp_path / "cdcgan-fashion.safetensors", config=fashion, generator=generator,
                    discriminator=discriminator, record={"steps": 0})
    _save(tmp_path, "cdcgan")
    monkeypatch.setenv("GANPLAY_PRETRAINED", str(tmp_path))
    at = app()                                                  # opens on the Fashion-MNIST model
    assert at.selectbox(key="lt_class_a").value == 3 and at.selectbox(key="lt_class_a").options[3] == "Dress"
    choose(at, "cdcgan")
    for key in ("lt_class", "lt_class_a", "lt_class_b", "lt_grid_class"):
        box = at.selectbox(key=key)
        assert box.options == [str(i) for i in range(10)], key
    assert (at.selectbox(key="lt_class_a").value, at.selectbox(key="lt_class_b").value) == (3, 8)


# --- the URL: a link opens the same view ---------------------------------------------------------------------

def reopen(app_factory, query: dict[str, str]) -> AppTest:
    """A fresh session (a student opening the link) on the page with these URL parameters."""
    at = AppTest.from_file(PAGE, default_timeout=30)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, at.exception
    return at


def url_of(at) -> dict[str, str]:
    return {name: at.query_params[name] for name in at.query_params}


SHOWN = ("lt_seed", "lt_pc1", "lt_pc3", "lt_dims", "lt_dz3", "lt_mode", "lt_seed_a", "lt_seed_b", "lt_method",
         "lt_frames", "lt_axis_a", "lt_axis_b", "lt_span", "lt_grid_n", "lt_grid_seed")


def test_a_link_reopens_the_same_view(app):
    at = app()
    choose(at, "lecture")
    at.number_input(key="lt_seed").set_value(7).run()
    at.slider(key="lt_pc1").set_value(1.5).run()
    at.slider(key="lt_pc3").set_value(-2.2).run()
    at.multiselect(key="lt_dims").set_value([0, 3]).run()
    at.slider(key="lt_dz3").set_value(-1.0).run()
    at.number_input(key="lt_seed_a").set_value(4).run()
    at.number_input(key="lt_seed_b").set_value(9).run()
    at.radio(key="lt_method").set_value("spherical").run()
    at.slider(key="lt_frames").set_value(12).run()
    at.selectbox(key="lt_axis_a").set_value(("z", 3)).run()
    at.slider(key="lt_span").set_value(3.0).run()
    at.slider(key="lt_grid_n").set_value(5).run()
    at.number_input(key="lt_grid_seed").set_value(11).run()
    assert not at.exception
    url = url_of(at)
    assert url == {"model": "lecture", "seed": "7", "pc1": "1.5", "pc3": "-2.2", "dims": "0,3", "dz3": "-1",
                   "seed_a": "4", "seed_b": "9", "path": "spherical", "frames": "12", "across": "z3", "span": "3",
                   "grid": "5", "grid_seed": "11"}
    student = reopen(app, url)
    assert not student.warning                               # nothing in the link was ignored
    assert student.selectbox(key="lt_model").value.endswith("lecture.safetensors")
    for key in SHOWN:
        assert student.session_state[key] == at.session_state[key], key
    assert torch.allclose(current_code(student), current_code(at))
    assert len(student.image[1].value) == 12
    assert url_of(student) == url                            # and the student's URL is the lecturer's


def test_a_link_to_a_conditional_model_keeps_its_classes(app):
    at = app()
    choose(at, "cdcgan")
    at.selectbox(key="lt_class").select(8).run()
    at.selectbox(key="lt_class_a").select(1).run()
    at.selectbox(key="lt_class_b").select(7).run()
    url = url_of(at)
    assert {k: url[k] for k in ("model", "class", "class_a", "class_b")} == {
        "model": "cdcgan", "class": "8", "class_a": "1", "class_b": "7"}
    assert "mode" not in url                                  # a conditional model's default: class A -> B
    student = reopen(app, url)
    assert student.session_state.lt_current["class"] == 8
    assert (student.selectbox(key="lt_class_a").value, student.selectbox(key="lt_class_b").value) == (1, 7)
    assert torch.allclose(current_code(student), current_code(at))


HOSTILE = {
    "model": "../../etc/passwd", "seed": "-1", "seed_a": "1e99", "seed_b": "99999999999", "pc1": "nan",
    "pc2": "inf", "pc3": "9", "pc4": "1.0; drop", "dims": "0,0,99", "frames": "1000", "across": "pc99",
    "down": "<script>alert(1)</script>", "path": "wormhole", "span": "-2", "grid": "2", "mode": "teleport",
    "class": "3", "utm_source": "x" * 500,
}


def test_hostile_link_values_are_ignored_with_a_note(app):
    at = reopen(app, HOSTILE)
    assert not at.exception
    (note,) = at.warning
    for name in HOSTILE:
        if name not in ("utm_source", "class"):                # cdcgan has a class 3
            assert f"`{name}=" in note.value, name
    assert "`utm_source` is not a setting of this page" in note.value
    assert "<script>" not in note.value.replace("`down=<script>alert(1)</", "")   # shown as code, cut short
    # every widget fell back to its default, on the page's first model (cdcgan: `class` 3 was valid there)
    assert at.selectbox(key="lt_model").value.endswith("cdcgan.safetensors")
    defaults = {"lt_seed": 0, "lt_seed_a": 1, "lt_seed_b": 2, "lt_pc1": 0.0, "lt_pc2": 0.0, "lt_pc3": 0.0,
                "lt_pc4": 0.0, "lt_dims": [0, 1], "lt_frames": 10, "lt_axis_a": ("pc", 0), "lt_axis_b": ("pc", 1),
                "lt_method": "linear", "lt_span": 2.5, "lt_grid_n": 7, "lt_mode": "classes"}
    for key, value in defaults.items():
        assert at.session_state[key] == value, key
    assert at.session_state.lt_current["class"] == 3
    at.slider(key="lt_pc1").set_value(1.0).run()               # the note is shown once, then the page goes on
    assert not at.warning and not at.exception


def test_a_class_in_a_link_to_an_unconditional_model_is_ignored(app):
    at = reopen(app, {"model": "lecture", "class": "3", "grid_class": "2", "seed": "5"})
    (note,) = at.warning
    assert "`class=3` (expected this model has no classes)" in note.value
    assert at.session_state.lt_current["seed"] == 5
