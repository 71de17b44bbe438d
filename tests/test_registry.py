"""Tests for ganplay.registry: the Registry itself, then every registry in ganplay, found by walking the package
(so a new registry is tested without anyone listing it here), and the lookups that go through them."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

from ganplay.lessons.gallery import GALLERY

import ganplay
from ganplay.config import ConfigError
from ganplay.data import DATASETS, find_data_dir, get_spec, load_data, load_dataset
from ganplay.losses import LOSSES, get_loss
from ganplay.models import DISCRIMINATORS, GENERATORS, build_models, validate
from ganplay.models.mlp import ACTIVATIONS
from ganplay.presets import PRESETS, preset
from ganplay.registry import Registry, UnknownNameError
from ganplay.theory import SITUATIONS
from ganplay.toy import TOYS, get_toy
from ganplay.trainer import validate_run


# -- the Registry ----------------------------------------------------------------------------------------------

def fruit() -> Registry[int]:
    r = Registry("fruit", {"pear": 1, "apple": 2})
    r.register("fig", 3)

    @r.register("plum")
    def plum():
        return 4

    return r


def test_names_keep_registration_order():
    r = fruit()
    assert list(r) == r.names() == ["pear", "apple", "fig", "plum"]
    assert len(r) == 4 and r["fig"] == 3 and r["plum"]() == 4
    assert list(Registry("fruit", [("b", 1), ("a", 2)])) == ["b", "a"]
    assert repr(r) == "Registry('fruit', ['pear', 'apple', 'fig', 'plum'])"


def test_register_refuses_a_second_entry_and_empty_names():
    r = fruit()
    with pytest.raises(ValueError, match="a fruit named 'fig' is registered already"):
        r.register("fig", 30)
    assert r["fig"] == 3
    with pytest.raises(ValueError, match="non-empty string"):
        r.register("", 5)
    with pytest.raises(ValueError, match="non-empty string"):
        r.register(7, 5)
    with pytest.raises(ValueError, match="registered already"):
        Registry("fruit", [("a", 1), ("a", 2)])


def test_unknown_name_lists_every_choice_in_order():
    with pytest.raises(UnknownNameError) as caught:
        fruit()["kiwi"]
    assert str(caught.value) == "unknown fruit 'kiwi'; choose one of: pear, apple, fig, plum"
    assert (caught.value.kind, caught.value.name, caught.value.choices) == ("fruit", "kiwi",
                                                                            ("pear", "apple", "fig", "plum"))
    assert isinstance(caught.value, KeyError)


def test_unknown_name_suggests_a_close_one():
    with pytest.raises(UnknownNameError, match=r"^unknown fruit 'appel' \(did you mean 'apple'\?\); choose one of: "
                                               r"pear, apple, fig, plum$"):
        fruit()["appel"]


def test_unhashable_or_odd_names_are_unknown_not_a_type_error():
    r = fruit()
    with pytest.raises(UnknownNameError, match=r"unknown fruit \['pear'\]; choose one of"):
        r[["pear"]]
    with pytest.raises(UnknownNameError, match="unknown fruit None"):
        r[None]
    assert ["pear"] not in r and None not in r


def test_membership_get_and_pattern():
    r = fruit()
    assert "pear" in r and "kiwi" not in r
    assert r.get("apple") == 2 and r.get("kiwi") is None and r.get("kiwi", 0) == 0
    assert r.names("p*") == ["pear", "plum"]
    assert r.names("*i*") == ["fig"]
    assert r.names("P*") == []                    # case-sensitive, as the names are
    assert dict(r.items()) == {"pear": 1, "apple": 2, "fig": 3, "plum": r["plum"]}


def test_unknown_returns_the_lookup_error_without_raising():
    err = fruit().unknown("kiwi")
    assert isinstance(err, UnknownNameError) and err.choices == ("pear", "apple", "fig", "plum")


# -- every registry in ganplay ---------------------------------------------------------------------------------

def ganplay_registries() -> dict[str, Registry]:
    """Every Registry held by a module of the ganplay package, keyed by its kind (each kind once)."""
    found: dict[int, Registry] = {}
    for info in pkgutil.walk_packages(ganplay.__path__, "ganplay."):
        if info.name.endswith("__main__"):             # importing it would run the CLI
            continue
        module = importlib.import_module(info.name)
        found.update((id(value), value) for value in vars(module).values() if isinstance(value, Registry))
    kinds = [r.kind for r in found.values()]
    assert len(set(kinds)) == len(kinds), f"two registries share a kind: {sorted(kinds)}"
    return {r.kind: r for r in found.values()}


REGISTRIES = ganplay_registries()


def test_the_walk_finds_every_registry():
    assert REGISTRIES == {
        "dataset": DATASETS, "loss": LOSSES, "discriminator architecture": DISCRIMINATORS,
        "generator architecture": GENERATORS, "activation": ACTIVATIONS, "preset": PRESETS,
        "theory situation": SITUATIONS, "toy data set": TOYS, "gallery item": GALLERY,
    }
    assert all(REGISTRIES[r.kind] is r for r in (DATASETS, LOSSES, DISCRIMINATORS, GENERATORS, ACTIVATIONS,
                                                 PRESETS, SITUATIONS, TOYS))
    assert ganplay.PRESETS is PRESETS and ganplay.TOYS is TOYS and ganplay.LOSSES is LOSSES


@pytest.mark.parametrize("registry", REGISTRIES.values(), ids=REGISTRIES.keys())
def test_every_registry_is_filled_and_retrievable(registry):
    assert len(registry) >= 2
    for name in registry:
        assert isinstance(name, str) and name in registry
        assert registry[name] is registry.get(name) is not None


@pytest.mark.parametrize("registry", REGISTRIES.values(), ids=REGISTRIES.keys())
def test_every_registry_names_its_kind_and_choices_for_unknown_names(registry):
    with pytest.raises(UnknownNameError) as caught:
        registry["no-such-name"]
    message = str(caught.value)
    assert message.startswith(f"unknown {registry.kind} 'no-such-name'")
    assert message.endswith("choose one of: " + ", ".join(registry))


# -- the lookups around the registries -------------------------------------------------------------------------

def test_menu_order_is_as_before():
    assert list(LOSSES) == ["nonsaturating", "minimax", "least-squares", "wgan", "wgan-gp", "hinge"]
    assert list(PRESETS)[:3] == ["lecture", "mlp-vanilla", "mlp-batchnorm"]
    assert list(PRESETS)[-4:] == ["toy-ring", "toy-grid", "toy-ganlab", "toy-1d"]
    assert list(DATASETS) == ["mnist", "fashion-mnist"]
    assert list(GENERATORS) == ["mlp", "deconv", "upsample"]
    assert list(DISCRIMINATORS) == ["mlp", "strided", "pool"]
    assert list(TOYS)[:2] == ["ring8", "grid25"]
    assert list(SITUATIONS) == ["identical", "shifted", "far_apart", "mode_dropping", "mode_covering"]


@pytest.mark.parametrize("lookup, registry", [
    (preset, PRESETS), (get_loss, LOSSES), (get_spec, DATASETS), (get_toy, TOYS),
])
def test_the_named_lookups_are_the_registries(lookup, registry):
    first = next(iter(registry))
    assert lookup(first) is registry[first]
    with pytest.raises(UnknownNameError) as caught:
        lookup("no-such-name")
    assert caught.value.kind == registry.kind and caught.value.choices == tuple(registry)


def test_dataset_lookups_raise_the_registry_error():
    for call in (lambda: load_dataset("cifar"), lambda: find_data_dir("cifar")):
        with pytest.raises(UnknownNameError, match="unknown dataset 'cifar'; choose one of: mnist, fashion-mnist$"):
            call()


def test_load_data_lists_image_and_toy_names_for_an_unknown_name():
    with pytest.raises(UnknownNameError) as caught:
        load_data("moon")
    assert caught.value.choices == (*DATASETS, *TOYS)
    assert str(caught.value).startswith("unknown dataset 'moon' (did you mean 'moons'?); choose one of: "
                                        "mnist, fashion-mnist, ring8, grid25,")
    assert load_data("grid25") is TOYS["grid25"]


@pytest.mark.parametrize("change, message", [
    ({"model.generator.arch": "transformer"},
     "model.generator.arch: unknown generator architecture 'transformer'; choose one of: mlp, deconv, upsample"),
    ({"model.discriminator.arch": "dense"},
     "model.discriminator.arch: unknown discriminator architecture 'dense'; choose one of: mlp, strided, pool"),
    ({"model.generator.activation": "gelu"},
     "model.generator.activation: unknown activation 'gelu' (did you mean 'elu'?); choose one of: relu, "
     "leaky_relu, elu, tanh"),
    ({"model.discriminator.activation": "swish"},
     "model.discriminator.activation: unknown activation 'swish'; choose one of: relu, leaky_relu, elu, tanh"),
])
def test_a_bad_config_stays_a_config_error_with_the_registry_message(change, message):
    cfg = preset("lecture").replace(**change)
    with pytest.raises(ConfigError) as caught:
        validate(cfg.model)
    assert str(caught.value) == message
    with pytest.raises(ConfigError):
        build_models(cfg.model)


def test_an_unknown_loss_in_a_config_is_a_config_error_listing_the_losses():
    with pytest.raises(ConfigError) as caught:
        validate_run(preset("toy-ring").replace(**{"train.loss": "hinj"}))
    assert str(caught.value) == ("train.loss: unknown loss 'hinj' (did you mean 'hinge'?); choose one of: "
                                 "nonsaturating, minimax, least-squares, wgan, wgan-gp, hinge")
