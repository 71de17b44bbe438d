"""Configuration dataclasses: everything needed to rebuild a model and repeat a run.

A `RunConfig` is plain data. It is what a preset is, what the Training page edits, and what a checkpoint
carries as JSON, so a checkpoint alone rebuilds its networks:

    cfg = RunConfig.from_dict(json.loads(text))
    G, D = build_models(cfg.model)
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A configuration that cannot describe a valid model or run (the message says which field)."""


@dataclass(frozen=True)
class GeneratorConfig:
    """How the generator is built.

    arch: "mlp" (fully connected), "deconv" (project, reshape, transposed convolutions that double the size)
    or "upsample" (project, reshape, nearest upsampling + 3x3 convolution, then a same-size output convolution).
    hidden: MLP layer widths, or for conv archs the channel widths from the coarsest map to the finest.
    fc: conv archs only — fully connected layers before the projection to the first feature map.
    """

    arch: str = "mlp"
    hidden: tuple[int, ...] = (256, 512, 1024)
    fc: tuple[int, ...] = ()
    activation: str = "relu"          # "relu" | "leaky_relu"
    slope: float = 0.2                # LeakyReLU negative slope
    batchnorm: bool = False
    bn_eps: float = 1e-5
    bn_momentum: float = 0.1          # torch convention (Keras momentum m is torch 1 - m)
    norm_first: bool = True           # layer -> BN -> act (True) or layer -> act -> BN (False)
    bias: bool = True                 # conv layers' bias (DCGAN drops it before BN)
    project_act: bool = True          # conv archs: activation after the projection (and fc layers)
    project_norm: bool = False        # conv archs: batch norm after the projection (and fc layers)
    init_std: float = 0.0             # > 0: conv weights ~ N(0, init_std), BN weights ~ N(1, 0.02)
    output: str = "tanh"              # "tanh" (images in [-1, 1]) | "linear" (points anywhere on the plane)


@dataclass(frozen=True)
class DiscriminatorConfig:
    """How the discriminator is built. It always returns raw logits of shape (B,).

    arch: "mlp", "strided" (strided convolutions) or "pool" (convolutions each followed by 2x2 max-pool).
    hidden: MLP layer widths, or conv channel widths from the first layer to the last.
    head: "linear" (flatten, then fc layers and a linear unit) or "conv" (a final convolution that covers the
    whole remaining map, as in DCGAN).
    """

    arch: str = "mlp"
    hidden: tuple[int, ...] = (1024, 512, 256)
    fc: tuple[int, ...] = ()
    activation: str = "leaky_relu"
    slope: float = 0.2
    batchnorm: bool = False           # conv archs: BN on every conv but the first
    dropout: float = 0.0
    kernel: int = 4
    strides: tuple[int, ...] = ()     # per conv layer; empty means 2 everywhere ("strided") or 1 ("pool")
    padding: int = -1                 # -1: (kernel - 1) // 2
    bias: bool = True
    head: str = "linear"
    init_std: float = 0.0


@dataclass(frozen=True)
class ModelConfig:
    latent_dim: int = 100
    image_size: int = 28              # 28, 32 (MNIST zero-padded) or 64 (resized)
    channels: int = 1
    num_classes: int = 0              # > 0: class-conditional G and D
    prior: str = "normal"             # "normal": z ~ N(0, I); "uniform": z ~ U[-1, 1)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    # What one sample is: empty for images, (channels, image_size, image_size); (d,) for points in d dimensions
    # (the Toy lab's 1-D and 2-D data). Only the MLP nets take points.
    data_shape: tuple[int, ...] = ()

    @property
    def is_points(self) -> bool:
        return bool(self.data_shape)

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """The shape of one sample G makes and D judges: (C, S, S) for images, (d,) for points."""
        return self.data_shape or (self.channels, self.image_size, self.image_size)


# Mixed precision: with "bfloat16" G's and D's forward passes (and so their backward passes) run under autocast,
# which on CPUs with AVX512-BF16 cuts the convolutions' time by about 40 %; weights, gradients, Adam's state and
# the losses stay float32. "auto" picks bfloat16 where the hardware has fast bf16 kernels (see
# trainer.resolve_precision). bench/README.md holds the speed and quality figures.
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class TrainConfig:
    loss: str = "nonsaturating"
    optimizer: str = "adam"           # "adam" | "rmsprop" | "sgd": G's optimiser, and D's unless optimizer_d says
    optimizer_d: str = ""             # D's optimiser when it differs from G's ("" = the same as `optimizer`)
    momentum: float = 0.0             # SGD's and RMSprop's momentum (Adam uses its betas)
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas_g: tuple[float, float] = (0.5, 0.999)
    betas_d: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 64
    d_steps: int = 1                  # discriminator updates per iteration
    g_steps: int = 1                  # generator updates per iteration (after the D updates)
    real_label: float = 1.0           # < 1: one-sided label smoothing of D's real targets
    clip_value: float = 0.01          # weight clipping bound for the "wgan" loss
    gp_weight: float = 10.0           # gradient penalty weight for the "wgan-gp" loss
    g_ema: float = 0.0                # > 0: keep an exponential moving average of G's weights with this decay
                                      # (e.g. 0.99); samples and checkpoints then come from the average
    reuse_fake: bool = False          # G's update scores the D step's fakes again (seeds 002, 004) instead of new ones
    precision: str = "float32"        # "bfloat16": forward passes under autocast; weights, Adam and losses stay fp32;
                                      # "auto": bfloat16 where the device has fast bf16 kernels, else float32
    dataset: str = "mnist"            # an image dataset (ganplay.data.DATASETS) or a toy one (ganplay.toy.TOYS)
    seed: int = 0


@dataclass(frozen=True)
class RunConfig:
    """A whole recipe: a name, where it comes from, the model and how to train it."""

    name: str = "custom"
    description: str = ""
    source: str = ""                  # seed article file name or paper the recipe follows
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: Any) -> "RunConfig":
        return _from_dict(cls, data, "config")

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as err:
            raise ConfigError(f"config is not valid JSON: {err}") from None
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> "RunConfig":
        """Copy with changes; dotted keys reach nested fields: replace(**{"train.lr_g": 1e-3})."""
        data = self.to_dict()
        for key, value in changes.items():
            node = data
            *parents, leaf = key.split(".")
            for part in parents:
                if not isinstance(node.get(part), dict):
                    raise ConfigError(f"unknown config field {key!r}")
                node = node[part]
            if leaf not in node:
                raise ConfigError(f"unknown config field {key!r}")
            node[leaf] = value
        return RunConfig.from_dict(data)

    def with_overrides(self, pairs: list[str]) -> "RunConfig":
        """Copy with `FIELD=VALUE` pairs applied, as `ganplay train --set` takes them: VALUE is read as JSON,
        else as a bare string (`train.loss=hinge`)."""
        changes = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            if not sep:
                raise ConfigError(f"--set expects FIELD=VALUE, got {pair!r}")
            try:
                changes[key] = json.loads(raw)
            except json.JSONDecodeError:
                changes[key] = raw
        return self.replace(**changes) if changes else self


def _from_dict(cls: type, data: Any, where: str) -> Any:
    """Rebuild a (nested) config dataclass from JSON-like data, refusing unknown fields and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected an object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(fields)
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, f"{where}.{name}")
    return cls(**kwargs)


_NESTED = {"GeneratorConfig": GeneratorConfig, "DiscriminatorConfig": DiscriminatorConfig,
           "ModelConfig": ModelConfig, "TrainConfig": TrainConfig}


def _coerce(hint: str, value: Any, where: str) -> Any:
    # Annotations are strings (from __future__ import annotations); the set of types used above is small.
    if hint in _NESTED:
        return _from_dict(_NESTED[hint], value, where)
    if hint.startswith("tuple"):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item = float if "float" in hint else int
        return tuple(_coerce(item.__name__, v, where) for v in value)
    if hint == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if hint == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported field type {hint}")  # pragma: no cover - guards new fields
