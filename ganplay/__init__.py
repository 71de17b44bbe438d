"""ganplay: an interactive playground for teaching generative adversarial networks — the torch package.

The registries below are what menus, the command line and parametrised tests read:

    import ganplay
    ganplay.PRESETS["lecture"]        # RunConfig recipes (the seed articles' GANs and a few more)
    ganplay.LOSSES["hinge"]           # GANLoss: pure d_loss / g_loss on logits, with formulas
    ganplay.GENERATORS, ganplay.DISCRIMINATORS, ganplay.DATASETS, ganplay.TOYS
    ganplay.LOSSES["hnge"]            # UnknownNameError (a KeyError) naming the kind and listing the choices

Each is a `ganplay.Registry`: a read-only mapping in menu order, with `names("wgan*")` to filter.

This package never imports streamlit; the app lives in `ganplay_app`. Run `python -m ganplay --help`.
"""
from ganplay.config import ConfigError, DiscriminatorConfig, GeneratorConfig, ModelConfig, RunConfig, TrainConfig
from ganplay.data import DATASETS, DataError, load_dataset
from ganplay.losses import LOSSES
from ganplay.models import DISCRIMINATORS, GENERATORS, build_models
from ganplay.presets import PRESETS, preset
from ganplay.registry import Registry, UnknownNameError
from ganplay.toy import TOYS

__version__ = "0.1.0"

__all__ = [
    "ConfigError", "DataError", "DATASETS", "DISCRIMINATORS", "DiscriminatorConfig", "GENERATORS",
    "GeneratorConfig", "LOSSES", "ModelConfig", "PRESETS", "Registry", "RunConfig", "TOYS", "TrainConfig",
    "UnknownNameError", "build_models", "load_dataset", "preset",
]
