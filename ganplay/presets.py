"""Named recipes. Each seed article's GAN is reproduced as data: architecture, loss, optimiser, learning rates,
betas, batch size, latent size and noise prior as the article gives them (its file name is in `source`).

    from ganplay.presets import PRESETS, preset
    cfg = preset("dcgan")             # a RunConfig; edit with cfg.replace(**{"train.lr_g": 1e-4})

Where an article leaves something open it is said in the description. Menus list `PRESETS` in this order,
labelled by `preset_title(name)`, with `preset_summary(name)` below and `preset_help(name)` (the full recipe
and its source) on hover.
"""
from __future__ import annotations

from ganplay.config import DiscriminatorConfig, GeneratorConfig, ModelConfig, RunConfig, TrainConfig
from ganplay.registry import Registry
from ganplay.toy.presets import TOY_PRESETS, TOY_TEXT


_LECTURE = RunConfig(
    name="lecture",
    description="Small DCGAN tuned so digits become recognisable within a minute on a 2-core CPU: z dim 12, "
                "G 12-256-(32x7x7)-16-1 with BN, D 5x5 strided convs 16-32 with BN and an fc layer of 64, BCE, "
                "Adam G 3e-3 and D 1.5e-3 with betas (0.5, 0.999), batch 64, bfloat16 where the hardware is fast "
                "at it.",
    source="ganplay (tuned with bench/time_to_digits.py and bench/recipes.py)",
    model=ModelConfig(
        # Chosen by trying changes with bench/time_to_digits.py: a small latent space (12 instead of 32), batch
        # norm in D, and the fc layers in G and D moved the time to recognizable digits most. Then, with
        # bench/recipes.py (steps to the bar and steps per second apart): half the conv channels in G and D
        # (64-32 and 32-64 before) step about 1.7x faster and, with G's rate raised and D's lowered, need about
        # as many steps.
        latent_dim=12, image_size=28, prior="normal",
        generator=GeneratorConfig(arch="deconv", hidden=(32, 16), fc=(256,), batchnorm=True, bias=False,
                                  project_act=True, project_norm=True),
        discriminator=DiscriminatorConfig(arch="strided", hidden=(16, 32), kernel=5, slope=0.2, batchnorm=True,
                                          fc=(64,), head="linear"),
    ),
    # bfloat16 where the CPU or GPU has fast bf16 kernels: the same steps to recognizable digits, reached sooner.
    train=TrainConfig(loss="nonsaturating", lr_g=3e-3, lr_d=1.5e-3, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                      batch_size=64, precision="auto"),
)

_SEED_001 = RunConfig(
    name="mlp-vanilla",
    description="Vanilla MLP GAN: D 784-1024-512-256-1 with ReLU and dropout 0.3, G 100-256-512-1024-784, BCE, "
                "Adam 1e-4, batch 32, z ~ N(0, I).",
    source="001_08dc60fbc13b54b5.txt",
    model=ModelConfig(
        latent_dim=100, prior="normal",
        generator=GeneratorConfig(arch="mlp", hidden=(256, 512, 1024), activation="relu"),
        discriminator=DiscriminatorConfig(arch="mlp", hidden=(1024, 512, 256), activation="relu", dropout=0.3),
    ),
    # torch.optim.Adam defaults: betas (0.9, 0.999). G's target is "real", i.e. the non-saturating loss.
    train=TrainConfig(loss="nonsaturating", lr_g=1e-4, lr_d=1e-4, betas_g=(0.9, 0.999), betas_d=(0.9, 0.999),
                      batch_size=32),
)

_SEED_004 = RunConfig(
    name="mlp-batchnorm",
    description="MLP GAN with batch norm and LeakyReLU(0.2) in G (64-256-512-1024-784), LeakyReLU(0.1) and "
                "dropout 0.2 in D (784-512-256-128-1), BCE, Adam 3e-4, batch 32, z dim 64.",
    source="004_015bb32f8b342aac.txt",
    model=ModelConfig(
        latent_dim=64, prior="normal",
        # The article writes BatchNorm1d(n, 0.8): the second argument is eps, so eps = 0.8 is reproduced.
        generator=GeneratorConfig(arch="mlp", hidden=(256, 512, 1024), activation="leaky_relu", slope=0.2,
                                  batchnorm=True, bn_eps=0.8),
        discriminator=DiscriminatorConfig(arch="mlp", hidden=(512, 256, 128), activation="leaky_relu", slope=0.1,
                                          dropout=0.2),
    ),
    # The article scores the same fake_img again for the generator's loss, after D's update.
    train=TrainConfig(loss="nonsaturating", lr_g=3e-4, lr_d=3e-4, betas_g=(0.9, 0.999), betas_d=(0.9, 0.999),
                      batch_size=32, reuse_fake=True),
)

_SEED_000 = RunConfig(
    name="lsgan-dcgan",
    description="Least-squares DCGAN: G linear 1024 -> 128x7x7 -> transposed convs (ReLU then BN), D 5x5 convs "
                "with max-pool and LeakyReLU(0.01), z ~ U[-1, 1) of dim 96, Adam 1e-3 betas (0.5, 0.999), batch 128.",
    source="000_034fd5d25fd0bd7e.txt",
    model=ModelConfig(
        latent_dim=96, image_size=28, prior="uniform",
        generator=GeneratorConfig(arch="deconv", hidden=(128, 64), fc=(1024,), activation="relu", batchnorm=True,
                                  norm_first=False, bias=True, project_act=True, project_norm=True),
        discriminator=DiscriminatorConfig(arch="pool", hidden=(32, 64), kernel=5, padding=0, fc=(1024,),
                                          activation="leaky_relu", slope=0.01, head="linear"),
    ),
    train=TrainConfig(loss="least-squares", lr_g=1e-3, lr_d=1e-3, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                      batch_size=128),
)


def _dcgan(name: str, image_size: int, channels: int, widths: tuple[int, ...], description: str) -> RunConfig:
    return RunConfig(
        name=name, description=description, source="002_47c42fbbfbd24483.txt",
        model=ModelConfig(
            latent_dim=100, image_size=image_size, channels=channels, prior="normal",
            # project-and-reshape: a linear layer (with bias) straight into the first map, no BN or activation
            generator=GeneratorConfig(arch="deconv", hidden=widths, activation="relu", batchnorm=True, bias=False,
                                      project_act=False, init_std=0.2),
            discriminator=DiscriminatorConfig(arch="strided", hidden=widths[::-1], kernel=4, activation="leaky_relu",
                                              slope=0.2, batchnorm=True, bias=False, head="conv", init_std=0.2),
        ),
        # G's update passes the D step's `fake` through the updated D again (no second generator forward).
        train=TrainConfig(loss="nonsaturating", lr_g=2e-4, lr_d=2e-4, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                          batch_size=128, real_label=0.9, reuse_fake=True),
    )


_SEED_002 = _dcgan(
    "dcgan", 28, 1, (128, 64),
    "DCGAN at MNIST size: project-and-reshape G with transposed convs + BN + ReLU, strided-conv D with BN and "
    "LeakyReLU(0.2), one-sided label smoothing (real label 0.9), Adam 2e-4 betas (0.5, 0.999), batch 128, "
    "weights ~ N(0, 0.2).")
_SEED_002_64 = _dcgan(
    "dcgan-64", 64, 3, (512, 256, 128, 64),
    "The article's 64x64 RGB DCGAN (G 3,583,872 / D 2,765,568 parameters); MNIST is resized to 64 px and "
    "repeated over 3 channels. Slow on a CPU.")

_SEED_003 = RunConfig(
    name="upsample-dcgan",
    description="Upsample+conv G (dense 256x8x8, two blocks of nearest upsampling, 3x3 conv, BN, LeakyReLU 0.2), "
                "3x3 conv D (64 stride 1, 128 and 256 stride 2), BCE, Adam 1e-4 betas (0.5, 0.9), MNIST padded "
                "to 32x32, z dim 64, batch 32; D steps per G step adjustable (the article's training ratio).",
    source="003_f61dfe141d0e852d.txt",
    model=ModelConfig(
        latent_dim=64, image_size=32, prior="normal",
        # Keras BatchNormalization(momentum=0.8) is torch momentum 0.2.
        generator=GeneratorConfig(arch="upsample", hidden=(256, 128, 64), activation="leaky_relu", slope=0.2,
                                  batchnorm=True, bn_eps=1e-3, bn_momentum=0.2, project_act=True),
        discriminator=DiscriminatorConfig(arch="strided", hidden=(64, 128, 256), strides=(1, 2, 2), kernel=3,
                                          activation="leaky_relu", slope=0.2, head="linear"),
    ),
    # Batch size 32 is the article's repository default (its text does not state it).
    train=TrainConfig(loss="nonsaturating", lr_g=1e-4, lr_d=1e-4, betas_g=(0.5, 0.9), betas_d=(0.5, 0.9),
                      batch_size=32, d_steps=1),
)

_WGAN_GP = RunConfig(
    name="wgan-gp",
    description="WGAN-GP (Gulrajani et al. 2017): DCGAN-style G, critic without batch norm, gradient penalty 10, "
                "5 critic steps per G step, Adam 1e-4 betas (0.5, 0.9), batch 64.",
    source="Gulrajani et al., Improved Training of Wasserstein GANs (2017)",
    model=ModelConfig(
        latent_dim=128, image_size=28, prior="normal",
        generator=GeneratorConfig(arch="deconv", hidden=(128, 64), batchnorm=True, bias=False, project_act=True,
                                  project_norm=True),
        discriminator=DiscriminatorConfig(arch="strided", hidden=(64, 128), kernel=4, slope=0.2, head="linear"),
    ),
    train=TrainConfig(loss="wgan-gp", lr_g=1e-4, lr_d=1e-4, betas_g=(0.5, 0.9), betas_d=(0.5, 0.9), batch_size=64,
                      d_steps=5, gp_weight=10.0),
)

_WGAN = RunConfig(
    name="wgan",
    description="WGAN with weight clipping (Arjovsky et al. 2017): clip 0.01, 5 critic steps, RMSprop 5e-5, "
                "batch 64.",
    source="Arjovsky et al., Wasserstein GAN (2017)",
    model=_WGAN_GP.model,
    train=TrainConfig(loss="wgan", optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5, batch_size=64, d_steps=5,
                      clip_value=0.01),
)

_HINGE = RunConfig(
    name="hinge",
    description="Hinge loss with the two-time-scale rule of SAGAN (Zhang et al. 2019): D lr 4e-4, G lr 1e-4, "
                "Adam betas (0, 0.9), batch 64.",
    source="Zhang et al., Self-Attention GANs (2019); Lim & Ye, Geometric GAN (2017)",
    model=_WGAN_GP.model,
    train=TrainConfig(loss="hinge", lr_g=1e-4, lr_d=4e-4, betas_g=(0.0, 0.9), betas_d=(0.0, 0.9), batch_size=64),
)

_CONDITIONAL = RunConfig(
    name="cdcgan",
    description="Class-conditional DCGAN: the label enters G with z and D as extra one-hot planes, so you can ask "
                "for a 3 and morph it into an 8.",
    source="Mirza & Osindero, Conditional GANs (2014), on a small DCGAN",
    model=ModelConfig(
        latent_dim=32, image_size=28, num_classes=10, prior="normal",
        generator=GeneratorConfig(arch="deconv", hidden=(64, 32), batchnorm=True, bias=False, project_act=True,
                                  project_norm=True),
        discriminator=DiscriminatorConfig(arch="strided", hidden=(32, 64), kernel=4, slope=0.2, head="linear"),
    ),
    train=TrainConfig(loss="nonsaturating", lr_g=2e-3, lr_d=2e-3, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                      batch_size=64),
)

PRESETS: Registry[RunConfig] = Registry("preset", ((p.name, p) for p in [
    _LECTURE, _SEED_001, _SEED_004, _SEED_000, _SEED_002, _SEED_002_64, _SEED_003,
    _WGAN_GP, _WGAN, _HINGE, _CONDITIONAL, *TOY_PRESETS,
]))
IMAGE_PRESETS = tuple(name for name, cfg in PRESETS.items() if not cfg.model.is_points)
TOY_PRESET_NAMES = tuple(name for name, cfg in PRESETS.items() if cfg.model.is_points)


def preset(name: str) -> RunConfig:
    """PRESETS[name]: an unknown name raises UnknownNameError listing the presets."""
    return PRESETS[name]


# What a person reads in a menu: (short title, one plain sentence); titles fit the sidebar (<= 34 characters). Display only: the recipe, its detailed
# `description` and its `source` (the seed article's file) stay on the RunConfig and go into the help text.
PRESET_TEXT: dict[str, tuple[str, str]] = {
    "lecture": ("Quick lecture DCGAN",
                "A small convolutional GAN tuned so digits appear within about a minute on a laptop CPU."),
    "mlp-vanilla": ("Plain MLP GAN (article 001)",
                    "The textbook GAN: fully connected G and D, the non-saturating loss and a small learning rate."),
    "mlp-batchnorm": ("Batch-norm MLP GAN (article 004)",
                      "Fully connected nets with batch norm in G and dropout in D."),
    "lsgan-dcgan": ("Least-squares DCGAN (article 000)",
                    "A convolutional GAN whose D is scored by squared error instead of log loss."),
    "dcgan": ("Label-smoothed DCGAN (article 002)",
              "The classic convolutional GAN at MNIST size; D aims at 0.9 instead of 1 on real images."),
    "dcgan-64": ("64×64 colour DCGAN (article 002)",
                 "The article's full-size DCGAN on digits scaled up to 64 pixels: faithful, but slow on a CPU."),
    "upsample-dcgan": ("Upsampling DCGAN (article 003)",
                       "G enlarges its images by upsampling and convolving instead of transposed convolutions."),
    "wgan-gp": ("WGAN-GP (gradient penalty)",
                "A critic scores images on an open scale, kept smooth by a penalty on its gradient."),
    "wgan": ("WGAN with weight clipping",
             "The original Wasserstein GAN: the critic's weights are clipped to keep it smooth."),
    "hinge": ("Hinge loss, two time-scales",
              "The hinge loss, with D learning four times faster than G."),
    "cdcgan": ("Class-conditional DCGAN",
               "G and D both see the digit's label, so you can ask for a particular digit."),
    **TOY_TEXT,
}


def preset_title(name: str) -> str:
    """The short title a menu shows for preset `name` (no file names or layer sizes)."""
    return PRESET_TEXT[preset(name).name][0]


def preset_summary(name: str) -> str:
    """One plain sentence on what preset `name` is."""
    return PRESET_TEXT[preset(name).name][1]


def preset_help(name: str) -> str:
    """The full recipe (layers, optimiser, batch) and where it comes from: hover text beside the summary."""
    cfg = preset(name)
    return f"{cfg.description}\n\nPreset `{cfg.name}`, from {cfg.source}."
