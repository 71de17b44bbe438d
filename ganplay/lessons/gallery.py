"""The failure gallery: seeded, one-click demonstrations of how GANs fail, each with the metric that shows it
and the fix, as data.

    item = GALLERY["saturating-minimax"]
    item.recipe                      # the RunConfig that fails (seeded: it fails the same way every time)
    item.fix.live                    # what Trainer.set_hyperparameters changes on the running game, or {}
    item.fix.recipe                  # the fixed recipe, started fresh, where a live switch cannot do it
    demo = demonstrate(item)         # trains both on the CPU and measures: demo.failing, demo.fixed

    python -m ganplay.lessons.gallery                 # every item's metric, failing recipe against its fix
    python -m ganplay.lessons.gallery oscillation     # one item

Each `GalleryItem` names one `metric` (ganplay.lessons.metrics): the number that shows the failure, read the
same way in the tests, the CLI above and the page. The recipes are small MLP GANs on the Toy lab's point data
(and one small MLP on MNIST, judged by the bundled digit classifier), so a whole demonstration takes seconds.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field

import torch

from ganplay.config import DiscriminatorConfig, GeneratorConfig, ModelConfig, RunConfig, TrainConfig
from ganplay.lessons.metrics import METRICS, Evidence, measure, train
from ganplay.presets import preset
from ganplay.registry import Registry
from ganplay.toy.presets import point_model
from ganplay.trainer import Trainer


@dataclass(frozen=True)
class Fix:
    """The second click: what changes, and whether the running game can take it."""

    text: str                              # the fix in one or two sentences
    live: dict = field(default_factory=dict)   # Trainer.set_hyperparameters(**live) on the running run
    recipe: RunConfig | None = None        # else: this recipe, started fresh
    why_not_live: str = ""                 # why a fresh run is needed (said on the card)

    @property
    def is_live(self) -> bool:
        return bool(self.live) and self.recipe is None


@dataclass(frozen=True)
class Prediction:
    """"Predict, then run": the question a card poses before its run, a few answers, the right one."""

    question: str
    answers: tuple[str, ...]
    correct: int


@dataclass(frozen=True)
class GalleryItem:
    slug: str                   # stable: ?item=<slug> on the Lessons page opens this card
    title: str
    asked: str                  # how students ask about it
    recipe: RunConfig
    steps: int                  # iterations the failure needs to show
    metric: str                 # a name in ganplay.lessons.metrics.METRICS
    expect: str                 # what the metric reads when it fails, and after the fix
    watch: str                  # what to watch on the page
    why: str                    # why it happens, a few sentences (Markdown)
    formula: str                # LaTeX
    fix: Fix
    fix_steps: int              # iterations after the fix (live) or of the fixed recipe
    prediction: Prediction
    source: str = "ganplay"     # where the recipe comes from (a seed article's file name, a paper)

    @property
    def dataset(self) -> str:
        return self.recipe.train.dataset

    @property
    def is_points(self) -> bool:
        return self.recipe.model.is_points


def _toy(name: str, toy: str = "ring8", hidden: tuple[int, ...] = (64, 64, 64), **train) -> RunConfig:
    """A small MLP GAN on points: 3 x 64 units in G and D, 2-D normal noise, non-saturating, Adam 1e-3 (0.5,
    0.999), batch 128, seed 0; `train` overrides TrainConfig fields."""
    base = TrainConfig(loss="nonsaturating", lr_g=1e-3, lr_d=1e-3, betas_g=(0.5, 0.999), betas_d=(0.5, 0.999),
                       batch_size=128, dataset=toy, seed=0)
    return RunConfig(name=f"gallery-{name}", model=point_model(2, 2, hidden, hidden),
                     train=dataclasses.replace(base, **train))


_GANLAB_BLOBS = preset("toy-ganlab").replace(**{"name": "gallery-mode-collapse", "train.dataset": "three-blobs"})
_RING_NETS_BLOBS = preset("toy-ring").replace(**{"name": "gallery-mode-collapse-fixed", "train.dataset": "three-blobs"})

_SMALL_MLP_MNIST = RunConfig(
    name="gallery-mode-collapse-mnist",
    description="A small MLP GAN on MNIST that over-trains G: z 16, G 16-128-784, D 784-128-1, non-saturating, "
                "Adam, G 5e-3 with 5 G steps per D step, D 2e-3, batch 64.",
    model=ModelConfig(latent_dim=16, generator=GeneratorConfig(arch="mlp", hidden=(128,)),
                      discriminator=DiscriminatorConfig(arch="mlp", hidden=(128,))),
    train=TrainConfig(loss="nonsaturating", lr_g=5e-3, lr_d=2e-3, batch_size=64, g_steps=5, dataset="mnist", seed=0),
)
_LECTURE_FIXED = preset("lecture").replace(**{"name": "gallery-mode-collapse-mnist-fixed",
                                              "train.precision": "float32"})

ITEMS = [
    GalleryItem(
        slug="mode-collapse",
        title="Mode collapse: two of three blobs dropped",
        asked="“Is this mode collapse?” — the samples cover part of the data and never reach the rest.",
        recipe=_GANLAB_BLOBS,
        steps=900,
        metric="modes",
        expect="1 of 3 blobs captured; with the fix, all 3",
        watch="The orange fakes settle into a thin streak through one of the three green blobs and never reach "
              "the other two; the **Modes** tile stays at 1 / 3. D's verdict (the heatmap) is almost flat and "
              "D(x) ≈ D(G(z)) ≈ 0.48: with 8 hidden units D cannot tell the missed blobs are real, so nothing "
              "pushes G towards them.",
        why="G is rewarded for any sample D rates as real, not for covering the data. When D is too weak to "
            "see the blobs G misses (here: one hidden layer of 8 units, GAN Lab's default), putting every "
            "sample on one blob is a perfectly good answer to D, and the game stalls there. The objective "
            "only asks that p_g fool D; it has no term for the modes G leaves out.",
        formula=r"\begin{gathered}\min_G \max_D\; \mathbb{E}_{x\sim p_\text{data}}[\log D(x)] + "
                r"\mathbb{E}_{z}[\log(1 - D(G(z)))]\\ \text{is satisfied locally by any } p_g "
                r"\text{ that this } D \text{ cannot tell from } p_\text{data}\end{gathered}",
        fix=Fix("Give D (and G) the capacity to see every blob: 3 hidden layers of 128 units, Adam, a larger "
                "batch and a moving average of G's weights (the toy-ring recipe).",
                recipe=_RING_NETS_BLOBS,
                why_not_live="The networks change shape, so the fixed recipe starts a new run."),
        fix_steps=400,
        prediction=Prediction("GAN Lab's tiny nets (8 hidden units) learn three blobs. After 900 iterations, "
                              "how many of the blobs will the generator's samples reach?",
                              ("All three", "Two", "One", "None: the samples stay noise"), 2),
        source="GAN Lab (Kahng et al. 2018): its default nets and SGD 0.1 on its three-blob data",
    ),
    GalleryItem(
        slug="mode-collapse-mnist",
        title="Mode collapse on MNIST: every sample the same image",
        asked="“All my samples look the same.”",
        recipe=_SMALL_MLP_MNIST,
        steps=300,
        metric="classes",
        expect="every sample the same image (diversity under 0.3 of the data's, at most 3 digits read, none "
               "confidently); with the fix 7 or more digits and diversity above 0.6",
        watch="Within a hundred iterations all 64 cells of the sample grid show *the same* image, although each "
              "comes from a different noise vector z: G has learned to ignore z. The digit judge's histogram "
              "has one or two bars, and it is not even sure those are digits.",
        why="Here G takes 5 steps, at 2.5× D's learning rate, for every D step. Against a D that hardly moves, "
            "G's best reply is to send *every* z to the single image D currently rates most real; nothing in "
            "the loss rewards variety. D then learns that image is fake and G moves all its samples, together, "
            "to the next one (the “Helvetica scenario” of Goodfellow's 2016 tutorial). Once collapsed, this "
            "small G does not recover within a few hundred iterations even with balanced steps (measured: 2 "
            "digits, diversity 0.33 after 300 more), so the fix starts afresh.",
        formula=r"G(z_1) \approx G(z_2) \approx \dots \approx x^\star,\quad x^\star = \arg\max_x D(x)"
                r"\ \text{ for the current } D",
        fix=Fix("Start again with one G step per D step and the convolutional `lecture` recipe (a small DCGAN "
                "with batch norm, article 002's architecture family), which learns varied digits within a "
                "couple of hundred iterations.",
                recipe=_LECTURE_FIXED,
                why_not_live="A collapsed G stays collapsed for hundreds of iterations, and the architecture "
                             "changes (MLP to convolutional), so the fixed recipe starts a new run."),
        fix_steps=150,
        prediction=Prediction("A small MLP GAN trains on MNIST with G taking 5 steps, at a higher learning "
                              "rate, for each D step. After a few hundred iterations, what does the sample grid "
                              "of 64 different z show?",
                              ("64 different blurry digits", "A few different digits",
                               "The same image 64 times", "Pure noise"), 2),
        source="the fix: DCGAN (Radford et al. 2016; 002_47c42fbbfbd24483.txt), as ganplay's lecture preset",
    ),
    GalleryItem(
        slug="saturating-minimax",
        title="The minimax loss stalls: G's gradient vanishes while D wins",
        asked="“G loss is flat and nothing moves”: D is sure every fake is fake, and G gets no signal.",
        recipe=_toy("saturating-minimax", loss="minimax", lr_g=1e-4, lr_d=2e-3, d_steps=5),
        steps=300,
        metric="g_grad",
        expect="G's gradient norm under minimax is orders of magnitude below the non-saturating loss's",
        watch="The arrows on the fakes (G's push) shrink to almost nothing while D(G(z)) falls towards 0. "
              "Press the fix: the same nets, the same D, one loss switched, and the arrows grow back at once.",
        why="The original generator loss is log(1 − D(G(z))). Its gradient with respect to D's logit ℓ is "
            "−σ(ℓ) = −D(G(z)): when D confidently rejects the fakes, D(G(z)) ≈ 0 and the gradient is ≈ 0, "
            "exactly when G needs it most. The non-saturating loss −log D(G(z)) has the same fixed points but "
            "gradient −(1 − D(G(z))) ≈ −1 there. (Goodfellow et al. 2014, section 3.)",
        formula=r"\begin{aligned}\text{minimax: }\ \tfrac{\partial}{\partial \ell}\log(1-\sigma(\ell)) &= "
                r"-\sigma(\ell) = -D(G(z)) \to 0\\ \text{non-saturating: }\ "
                r"\tfrac{\partial}{\partial \ell}\big(-\log\sigma(\ell)\big) &= -(1-\sigma(\ell)) \to -1"
                r"\end{aligned}",
        fix=Fix("Switch the running game to the non-saturating loss −log D(G(z)).",
                live={"loss": "nonsaturating"}),
        fix_steps=20,
        prediction=Prediction("D learns 20× faster than G and takes 5 steps per G step, and G uses the original "
                              "minimax loss log(1 − D(G(z))). What happens to G's gradient?",
                              ("It grows: D gives G clear directions", "It stays about the same",
                               "It shrinks towards zero: G stops learning", "It becomes NaN"), 2),
        source="Goodfellow et al. 2014; the Theory page's minimax section",
    ),
    GalleryItem(
        slug="d-overpowers",
        title="D overpowers G: D loss → 0, D(G(z)) → 0",
        asked="“My D loss went to 0” — is that good?",
        recipe=_toy("d-overpowers", lr_d=5e-3, lr_g=1e-5, d_steps=5),
        steps=300,
        metric="d_fake",
        expect="mean D(G(z)) under 0.01 with D loss near 0; with the fix, D(G(z)) back above 0.2",
        watch="The **D(G(z))** tile drops towards 0 and the D loss curve towards 0 while the fakes hardly move: "
              "D learns 500× faster than G and takes 5 steps for each of G's. The heatmap turns purple "
              "everywhere except tight green islands on the data.",
        why="D learns 500× faster than G and takes 5 steps for each of G's, so whenever G moves a little, D has "
            "already learned to reject the new fakes perfectly: D loss 0, D(G(z)) 0. With the non-saturating "
            "loss G still gets a strong gradient, but it only says “get out of the purple patch D has drawn "
            "around you”, not where the data is, and G's tiny steps never get out before D redraws it. (With "
            "the minimax loss even that gradient would vanish: the minimax card.) The game needs players of "
            "comparable strength: equal learning rates, one D step per G step for the non-saturating loss.",
        formula=r"\begin{gathered}L_D = -\mathbb{E}_x[\log D(x)] - \mathbb{E}_z[\log(1 - D(G(z)))] \to 0"
                r"\\ \iff D(x)\to 1 \text{ and } D(G(z)) \to 0\end{gathered}",
        fix=Fix("Balance the players on the running game: D's learning rate down to G's, one D step per G step.",
                live={"lr_d": 1e-3, "lr_g": 1e-3, "d_steps": 1}),
        fix_steps=300,
        prediction=Prediction("D learns 500× faster than G and takes 5 steps for each G step. Where does "
                              "D(G(z)), D's verdict on the fakes, go?",
                              ("Towards 0: D spots every fake", "Towards 0.5: the game balances",
                               "Towards 1: G fools D", "It swings between 0 and 1"), 0),
    ),
    GalleryItem(
        slug="oscillation",
        title="Oscillation: samples circling, never settling",
        asked="“The samples keep jumping around”: the losses wiggle, nothing converges.",
        recipe=_toy("oscillation", lr_g=5e-3, lr_d=5e-3, betas_g=(0.9, 0.999), betas_d=(0.9, 0.999)),
        steps=600,
        metric="drift",
        expect="the fakes move further than the ring's radius every 100 iterations; with the fix, 10× less, on "
               "all 8 modes",
        watch="The fakes, bunched into a tight clump, sweep across the plane from one side of the ring to the "
              "other, never staying on a mode; the losses swing without trend; the **Modes** tile stays at "
              "0 / 8. The fixed recipe's fakes spread out, slow down and settle on all eight modes.",
        why="GAN training is a game, not a minimisation: simultaneous gradient steps on a min-max problem "
            "rotate around the equilibrium instead of descending into it (on the bilinear game x·y they spiral "
            "outwards). High learning rates and heavy momentum (Adam's β₁ = 0.9) make each step overshoot, so "
            "the players chase each other. Smaller steps, β₁ = 0.5 (DCGAN) or averaging G's weights damp it.",
        formula=r"\begin{gathered}\min_x\max_y\ xy:\quad \begin{pmatrix}x\\y\end{pmatrix}_{t+1} = "
                r"\begin{pmatrix}1 & -\eta\\ \eta & 1\end{pmatrix}\begin{pmatrix}x\\y\end{pmatrix}_t"
                r"\\ \lVert(x, y)\rVert_{t+1} = \sqrt{1+\eta^2}\,\lVert(x, y)\rVert_t\end{gathered}",
        fix=Fix("Start again with Adam's β₁ = 0.5 (DCGAN's choice) and learning rate 1e-3, and draw the samples "
                "from a moving average of G's weights (decay 0.98), which smooths what oscillation is left.",
                recipe=_toy("oscillation-fixed", g_ema=0.98),
                why_not_live="Adam's momentum cannot change on a running optimiser, and lowering only the "
                             "learning rates (measured: to 1e-4) stops the circling but leaves G stuck on one "
                             "point, 0 of 8 modes; so the fixed recipe starts a fresh run."),
        fix_steps=1200,
        prediction=Prediction("Adam with learning rate 5e-3 and momentum β₁ = 0.9 for both players. What do the "
                              "fakes do?",
                              ("Settle on the ring quickly", "Sweep around the plane, never settling on a mode",
                               "Collapse onto one point and stop", "Become NaN"), 1),
        source="Mescheder et al. 2018 (“Which training methods for GANs do actually converge?”); DCGAN's β₁ = 0.5, "
               "002_47c42fbbfbd24483.txt",
    ),
    GalleryItem(
        slug="divergence-nan",
        title="Divergence: learning rate 10 ends in NaN",
        asked="“My losses became NaN”: what happened, and what do I change?",
        recipe=_toy("divergence-nan", optimizer="sgd", lr_g=10.0, lr_d=10.0),
        steps=200,
        metric="diverged",
        expect="the run stops with the trainer's plain message; with a sane learning rate it trains on",
        watch="Within four iterations the losses overflow and the run stops with the trainer's message: where it "
              "diverged, the learning rates, what to try. D's verdict has already swung to one colour over the "
              "whole plane: each step of size 10 throws the weights far past any sensible value.",
        why="A gradient step of size η·∇L overshoots whenever η exceeds 2 / (the curvature of L); on a GAN the "
            "overshoot feeds the other player, the logits grow without bound and the losses overflow to inf, "
            "then NaN. ganplay's trainer refuses an update whose loss or gradient is not finite, so the weights "
            "are left as they were and the run stops with a message instead of silently training on garbage.",
        formula=r"\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)\ \text{ is unstable for }\ "
                r"\eta > \frac{2}{\lambda_{\max}(\nabla^2 L)}",
        fix=Fix("Start again with learning rate 1e-3 (Adam): a diverged run cannot continue.",
                recipe=_toy("divergence-nan-fixed"),
                why_not_live="The trainer stopped the run at the non-finite update; a fresh run starts with the "
                             "fixed recipe."),
        fix_steps=200,
        prediction=Prediction("Plain SGD with learning rate 10 for both players. What happens?",
                              ("It learns ten times faster", "It learns, but noisily",
                               "Within a few steps the numbers overflow and the run stops", "Nothing moves"), 2),
    ),
    GalleryItem(
        slug="wgan-clipping",
        title="WGAN: weight clipping cripples the critic; the gradient penalty does not",
        asked="“WGAN is supposed to be stable, why are my samples blurry / slow?”",
        recipe=_toy("wgan-clipping", loss="wgan", optimizer="rmsprop", lr_g=5e-4, lr_d=5e-4, d_steps=5,
                    clip_value=0.01),
        steps=300,
        metric="critic_grad",
        expect="the critic's gradient norm ‖∇ₓD‖ far below 1 under clipping; ≈ 1 with the gradient penalty",
        watch="The critic's landscape (the heatmap) stays a faint, almost linear ramp and the arrows are tiny: "
              "with every weight clipped to ±0.01, the critic is a nearly flat function (its scale is ±0.01). "
              "The fixed recipe's critic spans about ±10 over the plane, with gradient norm ≈ 1.",
        why="WGAN needs a 1-Lipschitz critic. Clipping every weight to [−c, c] enforces *some* Lipschitz bound, "
            "but pushes most weights to ±c and leaves the critic too weak to model the data: its gradient "
            "norm is far below 1, and what G learns from it is a blunt push. The gradient penalty instead asks "
            "for gradient norm 1 on points between real and fake samples (Gulrajani et al. 2017).",
        formula=r"\begin{gathered}L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)] + \lambda\,\mathbb{E}_{\hat x}"
                r"\big[(\lVert\nabla_{\hat x}D(\hat x)\rVert_2 - 1)^2\big]\\ \hat x = \epsilon x + "
                r"(1-\epsilon)G(z),\quad \text{clipping instead: } w \leftarrow \mathrm{clip}(w, -c, c)"
                r"\end{gathered}",
        fix=Fix("Start again with the gradient penalty (λ = 10) and Adam 1e-4, β = (0.5, 0.9), 5 critic steps, "
                "as Gulrajani et al. train it.",
                recipe=_toy("wgan-gp-fixed", loss="wgan-gp", lr_g=1e-4, lr_d=1e-4, betas_g=(0.5, 0.9),
                            betas_d=(0.5, 0.9), d_steps=5),
                why_not_live="A live switch is possible (the trainer takes it), but a critic trained under "
                             "clipping is a bad start: its scale jumps ten-thousandfold and throws G's samples "
                             "off the plane. So the fixed recipe starts a fresh run."),
        fix_steps=300,
        prediction=Prediction("A Wasserstein critic with every weight clipped to ±0.01. How steep is the "
                              "critic as a function of x (its gradient norm; 1 is the ideal)?",
                              ("About 1, as WGAN wants", "Far below 1: the critic is nearly flat",
                               "Far above 1", "Infinite"), 1),
        source="Arjovsky et al. 2017 (WGAN: RMSprop 5e-5, c = 0.01, 5 critic steps); Gulrajani et al. 2017 (GP)",
    ),
]

GALLERY: Registry[GalleryItem] = Registry("gallery item", ((item.slug, item) for item in ITEMS))


@dataclass
class Demo:
    """A demonstration measured: the metric on the failing recipe, and after the fix."""

    item: GalleryItem
    failing: Evidence
    fixed: Evidence

    def line(self) -> str:
        return f"{self.item.slug:20s} {self.item.metric:12s} failing: {self.failing.text:40s} fixed: {self.fixed.text}"


def dataset_for(item: GalleryItem, images=None):
    """The data a recipe trains on: a toy distribution, or the MNIST dataset given (or loaded)."""
    if item.is_points:
        from ganplay.toy import TOYS
        return TOYS[item.dataset]
    if images is None:
        from ganplay.data import load_dataset
        images = load_dataset(item.dataset)
    return images


def demonstrate(item: GalleryItem, images=None, device: str = "cpu") -> Demo:
    """Train the failing recipe for item.steps and measure; apply the fix (live, or as a fresh run) and measure
    again after item.fix_steps. Seeded: the same numbers every time on the CPU."""
    data = dataset_for(item, images)
    trainer = Trainer(item.recipe, data, device=device)
    failing = measure(item.metric, trainer, train(trainer, item.steps), data)
    if item.fix.is_live:
        trainer.set_hyperparameters(**item.fix.live)
        fixed_trainer = trainer
    else:
        fixed_trainer = Trainer(item.fix.recipe, data, device=device)
    fixed = measure(item.metric, fixed_trainer, train(fixed_trainer, item.fix_steps), data)
    return Demo(item, failing, fixed)


def main(argv: list[str] | None = None) -> int:
    torch.set_num_threads(1)          # as the tests run them: the same numbers
    names = (argv if argv is not None else sys.argv[1:]) or list(GALLERY)
    for name in names:
        print(demonstrate(GALLERY[name]).line(), flush=True)
    return 0


assert set(item.metric for item in ITEMS) <= set(METRICS)

if __name__ == "__main__":
    raise SystemExit(main())
