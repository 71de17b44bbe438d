"""The UI layer of ganplay: Streamlit pages and the `*_ui()` helpers that draw their widgets.

This package is the only place that imports streamlit; it reads widgets, calls the pure `ganplay`
package with plain values and draws the results. Run the app with `streamlit run streamlit_app.py`.

`LESSONS` below is the app's table of contents: `streamlit_app.py` builds the navigation from it and
the home page describes each lesson, linking those whose page exists. Adding a page is one line:
give its lesson the page script's path.
"""

from __future__ import annotations

from dataclasses import dataclass

HOME_PAGE = "ganplay_app/pages/home.py"


@dataclass(frozen=True)
class Lesson:
    """One lesson of the app: its title and icon, what it teaches, and its page script (if built)."""

    title: str
    icon: str
    summary: str
    page: str | None  # path from the repository root, or None while the page is still to come


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "Theory", ":material/function:",
        "The GAN game on the real line. Shape a data and a generator distribution and watch the optimal "
        "discriminator, the Jensen–Shannon and Kullback–Leibler divergences and the Wasserstein distance "
        "respond; see why JSD stops helping once the two are far apart, and why the non-saturating loss "
        "keeps the generator learning.",
        "ganplay_app/pages/theory.py",
    ),
    Lesson(
        "Training", ":material/model_training:",
        "A GAN learning MNIST live. Pick a loss and an architecture, press start, and follow the losses, "
        "the discriminator's verdicts and a fixed batch of samples as they turn from noise into digits; the "
        "page says in words when something goes wrong. Or replay a recorded run, or train two recipes side by "
        "side on the same batches.",
        "ganplay_app/pages/training.py",
    ),
    Lesson(
        "Latent space", ":material/blur_on:",
        "Pretrained generators to explore: move through the latent space, interpolate between two "
        "samples and see which directions change which features of the digits.",
        "ganplay_app/pages/latent.py",
    ),
    Lesson(
        "Toy lab", ":material/scatter_plot:",
        "The game itself, on points in 1-D and 2-D: the discriminator's verdict over the whole plane, the "
        "push of the generator's loss on every fake sample, the generator's manifold, modes captured and "
        "dropped, and on the line the learned D drawn over the optimal D*. Step it, slow it down, or train "
        "several losses side by side.",
        "ganplay_app/pages/toy_lab.py",
    ),
    Lesson(
        "Lessons", ":material/school:",
        "Why GANs fail, one seeded click each: mode collapse, a minimax loss that stalls, a discriminator that "
        "wins outright, oscillation, NaN, WGAN's weight clipping. Predict, watch, read why, then apply the fix "
        "to the running game.",
        "ganplay_app/pages/lessons.py",
    ),
)
