"""Tests for ganplay.config: JSON round trips of every preset, strict parsing (unknown fields, wrong types),
and replace() with dotted keys."""
import json

import pytest

from ganplay.config import ConfigError, GeneratorConfig, ModelConfig, RunConfig, TrainConfig
from ganplay.presets import PRESETS, preset, preset_help, preset_summary, preset_title


@pytest.mark.parametrize("name", list(PRESETS))
def test_json_round_trip(name):
    cfg = PRESETS[name]
    text = cfg.to_json()
    back = RunConfig.from_json(text)
    assert back == cfg
    assert back.to_json() == text
    assert RunConfig.from_dict(json.loads(text)) == cfg
    # tuples come back as tuples (JSON has only lists), so equality and hashing keep working
    assert isinstance(back.model.generator.hidden, tuple) and isinstance(back.train.betas_g, tuple)
    assert hash(back) == hash(cfg)


def test_default_config_round_trips():
    assert RunConfig.from_json(RunConfig().to_json()) == RunConfig()


def test_ints_are_accepted_for_floats():
    data = preset("lecture").to_dict()
    data["train"]["lr_g"] = 1
    cfg = RunConfig.from_dict(data)
    assert cfg.train.lr_g == 1.0 and isinstance(cfg.train.lr_g, float)


@pytest.mark.parametrize("path, field", [
    ((), "colour"),
    (("model",), "depth"),
    (("model", "generator"), "dropout"),
    (("train",), "learning_rate"),
])
def test_unknown_fields_are_refused_by_name(path, field):
    data = preset("lecture").to_dict()
    node = data
    for part in path:
        node = node[part]
    node[field] = 1
    with pytest.raises(ConfigError, match=field):
        RunConfig.from_dict(data)


@pytest.mark.parametrize("path, value", [
    (("train", "lr_g"), "fast"),
    (("train", "lr_g"), True),                 # a bool is not a number here
    (("train", "batch_size"), 64.0),
    (("train", "batch_size"), "64"),
    (("train", "batch_size"), False),
    (("train", "betas_g"), 0.5),
    (("train", "betas_g"), ["a", "b"]),
    (("model", "latent_dim"), None),
    (("model", "generator", "hidden"), "64,32"),
    (("model", "generator", "hidden"), [64.5, 32]),
    (("model", "generator", "batchnorm"), 1),
    (("model", "generator"), "deconv"),
    (("model", "prior"), 3),
    (("name",), ["lecture"]),
])
def test_wrong_types_are_refused_by_field(path, value):
    data = preset("lecture").to_dict()
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=r"config\." + r"\.".join(path)):
        RunConfig.from_dict(data)


@pytest.mark.parametrize("data", [None, [], "lecture", 3])
def test_non_objects_are_refused(data):
    with pytest.raises(ConfigError, match="expected an object"):
        RunConfig.from_dict(data)


@pytest.mark.parametrize("text", ["", "{", "not json", None])
def test_bad_json_is_a_config_error(text):
    with pytest.raises(ConfigError):
        RunConfig.from_json(text)


def test_missing_fields_take_defaults():
    cfg = RunConfig.from_dict({"name": "x", "train": {"lr_g": 1e-3}})
    assert cfg.name == "x" and cfg.train.lr_g == 1e-3
    assert cfg.train.lr_d == TrainConfig().lr_d and cfg.model == ModelConfig()


def test_replace_with_dotted_keys():
    cfg = preset("lecture")
    new = cfg.replace(**{"train.lr_g": 1e-3, "model.generator.hidden": [16, 8], "name": "mine"})
    assert new.train.lr_g == 1e-3 and new.name == "mine"
    assert new.model.generator.hidden == (16, 8)
    # everything else is untouched, and the original is unchanged (configs are frozen values)
    assert new.train.lr_d == cfg.train.lr_d and new.model.discriminator == cfg.model.discriminator
    assert cfg.train.lr_g == 3e-3 and cfg.model.generator.hidden == (32, 16)


def test_replace_a_whole_section():
    cfg = preset("lecture").replace(**{"model.generator": GeneratorConfig().__dict__ | {"hidden": [8]}})
    assert cfg.model.generator == GeneratorConfig(hidden=(8,))


@pytest.mark.parametrize("key", ["train.learning_rate", "model.generator.depth", "nope", "train.lr_g.x",
                                 "name.first"])
def test_replace_refuses_unknown_keys(key):
    with pytest.raises(ConfigError, match="unknown config field"):
        preset("lecture").replace(**{key: 1})


def test_replace_checks_types():
    with pytest.raises(ConfigError, match="config.train.batch_size"):
        preset("lecture").replace(**{"train.batch_size": "big"})


def test_with_overrides_reads_json_values_and_bare_strings():
    cfg = preset("lecture").with_overrides(["train.lr_g=1e-3", "train.betas_d=[0.0, 0.9]", "train.loss=hinge",
                                            "train.reuse_fake=true", "model.latent_dim=64"])
    assert (cfg.train.lr_g, cfg.train.betas_d, cfg.train.loss) == (1e-3, (0.0, 0.9), "hinge")
    assert cfg.train.reuse_fake is True and cfg.model.latent_dim == 64
    assert preset("lecture").with_overrides([]) == preset("lecture")


@pytest.mark.parametrize("pairs, words", [
    (["train.lr_g"], "FIELD=VALUE"),
    (["train.colour=red"], "unknown config field"),
    (["train.batch_size=big"], "batch_size"),
])
def test_with_overrides_refuses_in_words(pairs, words):
    with pytest.raises(ConfigError, match=words):
        preset("lecture").with_overrides(pairs)


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_has_a_title_and_sentence_for_a_person_and_cites_its_source(name):
    title, summary = preset_title(name), preset_summary(name)
    assert title and len(title) <= 34 and ".txt" not in title and title != name
    assert summary.endswith(".") and summary.count(". ") == 0 and "x7x7" not in summary
    assert PRESETS[name].source in preset_help(name) and PRESETS[name].description in preset_help(name)
