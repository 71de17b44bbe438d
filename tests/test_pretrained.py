"""The bundled generators in pretrained/: each loads, carries a model card and draws recognizable digits.

"Recognizable" is the evaluation's bar (ganplay.evaluate.is_recognizable, scored by the bundled classifier
on the MNIST holdout). The issue asks for at least an MLP generator, an unconditional DCGAN and a
class-conditional DCGAN.
"""
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganplay.checkpoint import load_checkpoint
from ganplay.latent import principal_directions

REPO_ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = REPO_ROOT / "pretrained"
GENERATORS = sorted(p for p in PRETRAINED.glob("*.safetensors") if p.name != "classifier.safetensors")
PAGE = str(REPO_ROOT / "ganplay_app" / "pages" / "latent.py")
MIN_CLASS_ACCURACY = 0.9     # a conditional model must draw the digit it is asked for (to morph a 3 into an 8)


def test_the_bundled_set_is_complete():
    models = [load_checkpoint(p).config.model for p in GENERATORS]
    assert len(models) >= 3, f"pretrained/ holds {len(models)} generator checkpoints; at least 3 are needed"
    assert any(m.generator.arch == "mlp" for m in models), "no MLP generator"
    assert any(m.generator.arch != "mlp" and not m.num_classes for m in models), "no unconditional DCGAN"
    assert any(m.generator.arch != "mlp" and m.num_classes for m in models), "no class-conditional DCGAN"


@pytest.mark.parametrize("path", GENERATORS, ids=lambda p: p.stem)
def test_a_bundled_generator_carries_a_card_whose_figures_reproduce(path, mnist_dir):
    from ganplay.evaluate import evaluate

    card = load_checkpoint(path).card
    for field in ("title", "recipe", "source", "data", "steps", "seed", "training_seconds", "command", "eval"):
        assert field in card, f"{path.name}: the card lacks {field!r}"
    assert card["command"].split("python -m ganplay train ")[1].startswith(f"--preset {card['recipe']} ")
    assert "2,000 held out" in card["data"]                  # trained without the evaluation holdout
    report = evaluate(load_checkpoint(path), n=card["eval"]["n"], seed=card["eval"]["seed"], data_root=mnist_dir)
    assert report.confident_fraction == pytest.approx(card["eval"]["confident_fraction"], abs=0.01)
    assert report.classifier_fd == pytest.approx(card["eval"]["classifier_fd"], rel=0.02)


@pytest.mark.parametrize("path", GENERATORS, ids=lambda p: p.stem)
def test_the_card_beside_a_bundled_generator_is_the_card_inside_it(path):
    # The embedded cards predate the rename fid -> classifier_fd (load_checkpoint maps the old names); the
    # NAME.json sidecars carry the new names. Both must read the same.
    sidecar = json.loads(path.with_suffix(".json").read_text())
    assert "classifier_fd" in sidecar["eval"] and "fid" not in sidecar["eval"]
    assert load_checkpoint(path).card == sidecar


@pytest.mark.parametrize("path", GENERATORS, ids=lambda p: p.stem)
def test_a_bundled_generator_draws_recognizable_digits(path, mnist_dir):
    from ganplay.evaluate import evaluate, format_report

    ckpt = load_checkpoint(path)
    report = evaluate(ckpt, n=1000, data_root=mnist_dir)
    assert report.recognizable, format_report(report, path.name)
    if ckpt.config.model.num_classes:
        assert report.class_accuracy >= MIN_CLASS_ACCURACY, format_report(report, path.name)


@pytest.mark.parametrize("path", GENERATORS, ids=lambda p: p.stem)
def test_a_bundled_generator_has_orthonormal_principal_directions(path):
    ckpt = load_checkpoint(path)
    pcs = principal_directions(ckpt.generator, k=10, prior=ckpt.config.model.prior)
    gram = pcs.directions @ pcs.directions.T
    assert (gram - gram.new_ones(len(gram)).diag()).abs().max() < 1e-4


def test_the_latent_page_offers_every_bundled_generator(monkeypatch):
    monkeypatch.delenv("GANPLAY_PRETRAINED", raising=False)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception and not at.warning, (at.exception, at.warning)
    if GENERATORS:
        assert len(at.selectbox(key="lt_model").options) == len(GENERATORS)
