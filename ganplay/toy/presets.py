"""The Toy lab's recipes, as data: small MLP GANs on 1-D and 2-D points. `ganplay.presets.PRESETS` holds them
beside the image recipes, so the CLI, the menus and the tests see them all.

`toy-ring` and `toy-grid` are the benchmark recipes (bench/toy_modes.py measures them by PacGAN's definitions);
`toy-ganlab` is GAN Lab's default net; `toy-1d` shows the learned D against D* on the real line.
"""
from __future__ import annotations

from ganplay.config import DiscriminatorConfig, GeneratorConfig, ModelConfig, RunConfig, TrainConfig


def point_model(dim: int = 2, latent_dim: int = 2, g_hidden: tuple[int, ...] = (128, 128, 128),
                d_hidden: tuple[int, ...] = (128, 128, 128), activation: str = "relu",
                prior: str = "normal", g_output: str = "linear", batchnorm: bool = False) -> ModelConfig:
    """An MLP G and D for points in `dim` dimensions (what every toy recipe and the Toy lab's menus build)."""
    return ModelConfig(
        latent_dim=latent_dim, prior=prior, data_shape=(dim,),
        generator=GeneratorConfig(arch="mlp", hidden=g_hidden, activation=activation, output=g_output,
                                  batchnorm=batchnorm),
        discriminator=DiscriminatorConfig(arch="mlp", hidden=d_hidden,
                                          activation="leaky_relu" if activation == "relu" else activation),
    )


TOY_RING = RunConfig(
    name="toy-ring",
    description="Ring of 8 Gaussians (σ 0.01, as PacGAN): MLP G of 3 × 128 ReLU units with a linear output, "
                "2-D uniform noise; MLP D of 3 × 128 LeakyReLU(0.2) units, no dropout; non-saturating loss, "
                "Adam 2e-3 for both with betas (0.5, 0.9999) (the long second-moment memory shrinks the steps "
                "as the gradients calm down), batch 384, 2 D steps per G step; samples from a moving average "
                "of G's weights (decay 0.98), which smooths out the game's oscillation around the modes. "
                "Aims at 8 of 8 modes with >= 95 % high quality in 15 s; bench/toy_modes.py, one CPU thread: "
                "a median 1,900 steps, 14 s.",
    source="ganplay (data: PacGAN, Lin et al. 2018; weight average: Yazıcı et al. 2019)",
    model=point_model(2, 2, prior="uniform"),
    train=TrainConfig(loss="nonsaturating", lr_g=2e-3, lr_d=2e-3, betas_g=(0.5, 0.9999), betas_d=(0.5, 0.9999),
                      batch_size=384, d_steps=2, g_ema=0.98, dataset="ring8"),
)

TOY_GRID = RunConfig(
    name="toy-grid",
    description="Grid of 25 Gaussians (σ 0.05, as PacGAN): MLP G of 3 × 128 ReLU units with a linear output, "
                "2-D normal noise; MLP D of 3 × 128 LeakyReLU(0.2) units, no dropout; non-saturating loss, "
                "Adam 1e-3 for both with betas (0.5, 0.9999), batch 256, 1 D step per G step; samples from a "
                "moving average of G's weights (decay 0.98). Aims at 25 of 25 modes with >= 90 % high quality "
                "in 60 s; bench/toy_modes.py, one CPU thread: a median 8,600 steps, 30 s.",
    source="ganplay (data: PacGAN, Lin et al. 2018; weight average: Yazıcı et al. 2019)",
    model=point_model(2, 2),
    train=TrainConfig(loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, betas_g=(0.5, 0.9999), betas_d=(0.5, 0.9999),
                      batch_size=256, g_ema=0.98, dataset="grid25"),
)

TOY_GANLAB = RunConfig(
    name="toy-ganlab",
    description="GAN Lab's default game: one hidden layer of 8 ReLU units in G and D, tanh output, SGD lr 0.1, "
                "2 D steps per G step, real label 0.95, batch 150, on GAN Lab's two Gaussians.",
    source="GAN Lab (Kahng et al. 2018, poloclub/ganlab)",
    model=ModelConfig(
        latent_dim=2, prior="uniform", data_shape=(2,),
        generator=GeneratorConfig(arch="mlp", hidden=(8,), activation="relu", output="tanh"),
        discriminator=DiscriminatorConfig(arch="mlp", hidden=(8,), activation="relu"),
    ),
    train=TrainConfig(loss="nonsaturating", optimizer="sgd", lr_g=0.1, lr_d=0.1, batch_size=150, d_steps=2,
                      real_label=0.95, dataset="two-gaussians"),
)

TOY_1D = RunConfig(
    name="toy-1d",
    description="Two Gaussians on the real line (the Theory page's mode-dropping data): 1-D noise, MLP G and D "
                "of 2 × 64 units, non-saturating loss, Adam 1e-3. Watch the learned D approach D*.",
    source="ganplay (data: the Theory page)",
    model=point_model(1, 1, (64, 64), (64, 64)),
    train=TrainConfig(loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                      batch_size=256, dataset="bimodal-1d"),
)

TOY_PRESETS = (TOY_RING, TOY_GRID, TOY_GANLAB, TOY_1D)

# What a menu shows for each recipe: (short title, one plain sentence). Display only; the recipe and its
# description above stay the reference.
TOY_TEXT = {
    "toy-ring": ("Ring of 8 Gaussians", "Eight tight clusters on a circle: watch whether G finds every one."),
    "toy-grid": ("Grid of 25 Gaussians", "Twenty-five clusters on a square grid, a harder test of finding every mode."),
    "toy-ganlab": ("GAN Lab's default game", "Tiny nets of 8 units on two Gaussian blobs, as in GAN Lab."),
    "toy-1d": ("Two bumps on a line (1-D)", "Points on the real line, where you can watch the learned D approach D*."),
}
