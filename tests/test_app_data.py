"""The app with no dataset anywhere, under Streamlit's AppTest: every page runs, and the Training page downloads
MNIST from a real HTTP server on 127.0.0.1 (reached through $GANPLAY_MIRRORS) or explains how to get it by hand.

The mirror serves copies of the real t10k files from $GANPLAY_DATA and answers 404 for the train files (they are
not on this machine), so a download brings the t10k split only: a valid dataset for ganplay.
"""
import shutil
import socket
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganplay.data import DATASETS, find_data_dir
from ganplay.data.locate import download_dir
from ganplay_app import HOME_PAGE, LESSONS, resources
from tests.test_download import Mirror     # a real HTTP server on 127.0.0.1 serving one folder, 404 otherwise

ROOT = Path(__file__).resolve().parents[1]
TRAINING = "ganplay_app/pages/training.py"
PAGES = [HOME_PAGE] + [lesson.page for lesson in LESSONS if lesson.page]
SPEC = DATASETS["mnist"]
T10K = list(SPEC.splits["t10k"])


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/"   # nothing listens there once the socket closes


@pytest.fixture
def nowhere(mnist_dir, tmp_path, monkeypatch):
    """No data anywhere: $GANPLAY_DATA an empty folder, the working directory a folder without ./data, and OS
    package folders off (this machine may have Debian's Fashion-MNIST; a fresh one has not)."""
    data, cwd = tmp_path / "data-home", tmp_path / "cwd"
    data.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("GANPLAY_DATA", str(data))
    monkeypatch.setenv("GANPLAY_SYSTEM_DATA", "off")
    monkeypatch.chdir(cwd)
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    resources.dataset.clear()           # datasets loaded by other tests are shared process-wide
    yield data
    resources.dataset.clear()
    resources.run_registry().stop_all()


@pytest.fixture
def mirror(mnist_dir, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    for name in T10K:
        shutil.copy(mnist_dir / name, served / name)
    m = Mirror(served)
    monkeypatch.setenv("GANPLAY_MIRRORS", m.url)
    yield m
    m.close()


def training_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(TRAINING).run()
    assert not at.exception, at.exception
    return at


def button(at, label):
    return next(b for b in at.button if b.label == label)


def texts(at) -> str:
    """Everything the page wrote as text, in one string."""
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "success", "info", "code")
             for e in getattr(at, kind) if isinstance(e.value, str)]
    return "\n".join(parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_any_dataset(nowhere, page):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title, "the page drew nothing"
    if page == TRAINING:
        assert "MNIST is not on this machine yet" in at.warning[0].value
        assert button(at, "Download MNIST").disabled is False
        assert not at.error and "tr_dataset" not in at.session_state     # no recipe without data
    else:
        assert not at.error


def test_download_goes_where_find_data_dir_looks(nowhere, monkeypatch):
    assert download_dir("mnist") == nowhere / "mnist"                 # inside $GANPLAY_DATA: searched first
    monkeypatch.setenv("GANPLAY_DATA", str(nowhere / "mnist"))
    (nowhere / "mnist").mkdir()
    assert download_dir("mnist") == nowhere / "mnist"                 # the dataset's own folder: into it
    assert download_dir("fashion-mnist") == nowhere / "mnist" / "fashion-mnist"
    monkeypatch.delenv("GANPLAY_DATA")
    assert download_dir("mnist") == Path.cwd() / "data" / "mnist"
    monkeypatch.setenv("GANPLAY_DATA", str(nowhere / "absent"))
    assert download_dir("mnist") == Path.cwd() / "data" / "mnist"    # never creates a folder the user named


@pytest.mark.parametrize("env", ["GANPLAY_DATA empty folder", "GANPLAY_DATA unset"])
def test_download_button_fetches_t10k_from_a_mirror_and_the_page_trains_on_it(nowhere, mirror, monkeypatch, env):
    if env == "GANPLAY_DATA unset":
        monkeypatch.delenv("GANPLAY_DATA")
    dest = nowhere / "mnist" if env == "GANPLAY_DATA empty folder" else Path.cwd() / "data" / "mnist"
    at = training_page()
    button(at, "Download MNIST").click().run()
    assert not at.exception, at.exception

    assert sorted(p.name for p in dest.iterdir()) == sorted(T10K)     # no train labels left without images
    assert find_data_dir("mnist") == dest.resolve()
    assert mirror.requests == ["/t10k-labels-idx1-ubyte.gz", "/t10k-images-idx3-ubyte.gz",
                               "/train-labels-idx1-ubyte.gz"]           # t10k first; train stops at the 404
    assert at.selectbox(key="tr_dataset").value == "mnist"
    assert "mnist" in at.selectbox(key="tr_dataset").options[0].lower()
    assert "t10k split" in at.warning[0].value and "train split did not download" in at.warning[0].value
    assert "HTTP 404" in at.code[0].value
    assert any(c.value.startswith("MNIST · t10k split · 8,000 training images") for c in at.caption)
    assert button(at, "Start").disabled is False
    at.run()
    assert not at.warning                                              # the notice is shown once


def test_offline_download_explains_how_to_get_the_files_and_a_later_try_works(nowhere, mirror, monkeypatch):
    monkeypatch.setenv("GANPLAY_MIRRORS", closed_port_url())
    at = training_page()
    button(at, "Download MNIST").click().run()
    assert not at.exception, at.exception
    assert "download of MNIST failed" in at.error[0].value
    assert button(at, "Download MNIST").disabled is False              # ready for another try
    page = texts(at)
    assert "cannot connect" in at.code[0].value and "t10k-labels-idx1-ubyte.gz" in at.code[0].value
    assert "\n".join(SPEC.file_names) in page                          # the exact four names, one a line
    assert str(nowhere / "mnist") in page                               # the folder to copy them into
    assert "GANPLAY_DATA=/path/to/mnist streamlit run streamlit_app.py" in page
    assert "sudo apt-get install dataset-fashion-mnist" in page
    assert not (nowhere / "mnist").exists() or not any((nowhere / "mnist").iterdir())
    at.run()
    assert "download of MNIST failed" in at.error[0].value             # the help stays while the user reads it

    monkeypatch.setenv("GANPLAY_MIRRORS", mirror.url)                  # back online: the same button now works
    button(at, "Download MNIST").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="tr_dataset").value == "mnist"


def test_files_copied_by_hand_after_a_failed_load_are_found(nowhere, mnist_dir):
    at = training_page()
    assert "Download MNIST" in [b.label for b in at.button]
    (nowhere / "mnist").mkdir()
    for name in T10K:
        shutil.copy(mnist_dir / name, nowhere / "mnist" / name)
    at.run()
    assert not at.exception
    assert at.selectbox(key="tr_dataset").value == "mnist" and button(at, "Start")


def test_fashion_only_trains_on_it_and_offers_mnist_in_an_expander(nowhere, mnist_dir, mirror):
    fashion = nowhere / "fashion-mnist"      # the real t10k files, standing in for Fashion-MNIST's of that name
    fashion.mkdir()
    for name in T10K:
        shutil.copy(mnist_dir / name, fashion / name)
    at = training_page()
    assert at.selectbox(key="tr_dataset").options == ["Fashion-MNIST", "Your own images"]
    assert not at.warning and not at.error
    more = next(e for e in at.sidebar.expander if e.label == "Get more datasets")
    assert "**MNIST** is not on this machine." in [m.value for m in more.markdown]
    assert str(nowhere / "mnist") in more.caption[0].value and "python -m ganplay data download mnist" in \
        more.caption[0].value
    assert not [c for c in at.sidebar.caption if "is not available" in c.value]

    button(at, "Download MNIST").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tr_dataset").options == ["MNIST", "Fashion-MNIST", "Your own images"]
    assert at.selectbox(key="tr_dataset").value == "mnist"             # the new dataset is selected
    assert not [e for e in at.sidebar.expander if e.label == "Get more datasets"]


def test_a_click_while_another_tab_downloads_fetches_nothing(nowhere, mirror):
    at = training_page()
    lock = resources.download_lock("mnist")
    with lock:                                # held as another tab's download would hold it
        button(at, "Download MNIST").click().run()
    assert not at.exception
    assert "Another tab is downloading MNIST" in at.info[0].value
    assert mirror.requests == [] and not (nowhere / "mnist").exists()
    assert not lock.locked()


def test_fashion_only_and_offline_the_mnist_failure_shows_in_the_sidebar(nowhere, mnist_dir, monkeypatch):
    fashion = nowhere / "fashion-mnist"
    fashion.mkdir()
    for name in T10K:
        shutil.copy(mnist_dir / name, fashion / name)
    monkeypatch.setenv("GANPLAY_MIRRORS", closed_port_url())
    at = training_page()
    button(at, "Download MNIST").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tr_dataset").value == "fashion-mnist"     # training on what is there goes on
    assert [e.label for e in at.sidebar.expander] == ["Adam betas, seed, precision and run length",
                                                      "Get more datasets"]      # still compact
    panel = next(e for e in at.main.expander if e.label == "The MNIST download failed: what to do")
    assert "download of MNIST failed" in panel.error[0].value and "cannot connect" in panel.code[0].value
    assert str(nowhere / "mnist") in [c.value for c in panel.code]
    assert any("Fashion-MNIST is available already" in s.value for s in panel.success)


def test_a_wrong_ganplay_data_is_named_on_the_training_page(nowhere, monkeypatch):
    monkeypatch.setenv("GANPLAY_DATA", str(nowhere / "typo"))
    at = training_page()
    assert f"GANPLAY_DATA={nowhere / 'typo'} but" in at.error[0].value and "is not a folder" in at.error[0].value


def test_without_any_dataset_your_own_images_still_train(nowhere, tmp_path):
    """A fresh offline machine: MNIST is missing, yet a folder of the user's own images trains at once."""
    from PIL import Image

    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (30, 30), (60 * i, 20, 200)).save(folder / f"{i}.png")
    at = training_page()
    button(at, "Or train on your own images").click().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="tr_dataset").options == ["Your own images"]
    at.text_input(key="own_path").input(str(folder)).run()
    button(at, "Step once").click().run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    run = resources.run_registry().get(at.session_state["run_id"])
    assert run.trainer.config.model.channels == 3 and run.wait_until(lambda s: s.step == 1, timeout=60)
