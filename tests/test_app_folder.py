"""The Training page's "Your own images" under Streamlit's AppTest: a server folder and zip uploads, trained on."""
import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ganplay_app import resources, run_ui

PAGE = str(Path(__file__).resolve().parents[1] / "ganplay_app" / "pages" / "training.py")


@pytest.fixture
def page(mnist_dir, monkeypatch):
    monkeypatch.setenv("GANPLAY_DATA", str(mnist_dir))
    monkeypatch.setattr(run_ui, "STEP_WAIT_S", 50.0)     # the step's redraw shows it however loaded the machine is
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    at.selectbox(key="tr_dataset").select("folder").run()
    assert not at.exception, at.exception
    yield at
    resources.run_registry().stop_all()
    resources.run_registry.clear()


def button(at, label):
    return next(b for b in at.button if b.label == label)


def png(colour, size=(36, 24)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="PNG")
    return buf.getvalue()


def test_a_server_folder_of_rgb_images_trains_an_rgb_model(page, tmp_path):
    for i in range(5):
        (tmp_path / f"{i}.png").write_bytes(png((50 * i, 100, 200)))
    (tmp_path / "broken.png").write_bytes(b"not a png")
    page.text_input(key="own_path").input(str(tmp_path)).run()
    assert not page.exception and not page.error
    described = f"{tmp_path.name} · 5 images, no classes · 28×28 RGB · 1 unreadable file skipped"
    assert any(c.value == described for c in page.caption)
    assert len(page.get("image")) == 1                                     # a preview of the user's images
    button(page, "Step once").click().run()
    assert not page.exception and not page.error
    run = resources.run_registry().get(page.session_state["run_id"])
    config = run.trainer.config
    assert (config.model.channels, config.train.dataset, config.name) == (3, "folder", "lecture")
    assert run.snapshot().step == 1 and run.snapshot().grid.shape[-1] == 3    # the live grid is in colour
    captions = [img.caption for e in page.get("image") for img in e.proto.imgs]
    assert captions[1:] == ["G(fixed noise) at step 1", "your images"]    # the preview, G's grid, the real ones
    coverage, = [c.value for c in page.caption if c.value.startswith("Digit coverage")]   # no digit judge here
    assert "only knows MNIST digits" in coverage and "your own images" in coverage


def test_a_wrong_folder_is_a_message_and_start_says_what_is_missing(page, tmp_path):
    page.text_input(key="own_path").input(str(tmp_path / "nowhere")).run()
    assert [e.value for e in page.error] == [f"{tmp_path / 'nowhere'}: no such folder."]
    button(page, "Start").click().run()
    assert not page.exception
    assert any("Load your images first" in e.value for e in page.error)
    assert "run_id" not in page.session_state or page.session_state["run_id"] is None


def test_zip_uploads_with_limits_stated_and_a_hostile_zip_refused(page):
    page.radio(key="own_how").set_value("A zip upload").run()
    assert any(c.value.startswith("Limits: a zip of at most 200 MB, 20,000 files and 1 GB unpacked")
               for c in page.caption)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("shapes/a.png", png((255, 0, 0)))
        archive.writestr("shapes/b.png", png((0, 255, 0)))
    page.file_uploader(key="own_zip").set_value(("shapes.zip", buf.getvalue(), "application/zip")).run()
    assert not page.exception and not page.error
    assert any(c.value.startswith("shapes.zip · 2 images, no classes · 28×28 RGB") for c in page.caption)

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../evil.png", png((0, 0, 0)))
    page.file_uploader(key="own_zip").set_value(("evil.zip", evil.getvalue(), "application/zip")).run()
    assert not page.exception
    assert [e.value for e in page.error] == ["this zip was refused and nothing was unpacked: an entry climbs out of "
                                             "its folder ('../evil.png')."]
