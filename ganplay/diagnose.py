"""What is going wrong with a run, in plain words, from its recent metric history (and its digit coverage).

    findings = diagnose(snap.history, "minimax", trainer.learning_rates, coverage=snap.coverage)
    for f in findings:
        print(f.severity, f.sentence, f.suggestion)

A pure function of numbers the live run already records (`ganplay.live.METRICS`, the coverage probe of
`ganplay.live.coverage`), so the page, a notebook and the tests all read the same verdicts. It names three
failures that never reach NaN, so the trainer's own divergence check stays silent about them:

- `d_won`: D separates real from fake almost perfectly (probability losses only: mean D(x) > 0.98 and mean
  D(G(z)) < 0.02 over the last WINDOW recorded steps), so G's gradient has all but vanished;
- `exploding`: a loss above EXPLODE_BOUND, or grown a hundredfold between the first and the last fifth of
  the last 4 × WINDOW recorded steps;
- `collapsed`: G's samples, as the digit judge reads them, fall into at most COLLAPSED_CLASSES digits while a
  good share of them is confident, at two probes in a row and past MIN_COLLAPSE_STEP (so it is not merely
  early noise).

Every message states the learning rates in use (which the page may have changed since the start).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ganplay.losses import LOSSES

WINDOW = 50                 # recorded steps the verdicts look back over
D_WON_REAL, D_WON_FAKE = 0.98, 0.02
EXPLODE_BOUND = 1e4         # |loss| above this is exploding, whatever it started at
EXPLODE_GROWTH = 100.0      # two orders of magnitude between the window's first and last fifth ...
EXPLODE_FLOOR = 10.0        # ... when the later losses are also large (0.01 -> 1 is not an explosion)
COLLAPSED_CLASSES = 3       # at most this many digits present ...
MIN_CONFIDENT = 0.25        # ... with at least this share of confident samples: collapse, not noise ...
MIN_COLLAPSE_STEP = 300     # ... at two probes in a row, the last one this many steps in: the first blobs of an
                            # untrained G can read as one confident digit (seen: "collapsed to 8" at step 19)
SAFE_LR = 2e-4              # Adam's usual GAN learning rate (DCGAN), the reference for "far too high"


@dataclass(frozen=True)
class Finding:
    kind: str               # "d_won", "exploding", "collapsed"
    severity: str           # "error" (the run has stopped learning) or "warning"
    sentence: str           # what is happening, in plain words, with the learning rates in use
    suggestion: str         # what to try
    theory: bool = False    # the Theory page's section on the minimax loss explains it


def _rates(learning_rates: tuple[float, float]) -> str:
    lr_g, lr_d = learning_rates
    return f"Learning rates in use: G {lr_g:g}, D {lr_d:g}."


def _recent(history: dict[str, list[float]], key: str, window: int) -> np.ndarray:
    values = np.asarray(history.get(key, [])[-window:], dtype=float)
    return values[np.isfinite(values)]


def _d_won(history, loss_name, learning_rates, window) -> Finding | None:
    real, fake = _recent(history, "d_real", window), _recent(history, "d_fake", window)
    if len(real) < window or len(fake) < window or LOSSES[loss_name].output != "probability":
        return None         # too early to tell, or D's outputs are scores, not probabilities
    if not (real.mean() > D_WON_REAL and fake.mean() < D_WON_FAKE):
        return None
    lr_g, lr_d = learning_rates
    sentence = (f"D has won: it rates real images D(x) = {real.mean():.3f} and generated ones D(G(z)) = "
                f"{fake.mean():.3f} (mean of the last {window} recorded steps), so G's gradient has all but "
                f"vanished and G no longer learns.")
    if loss_name == "minimax":
        sentence += (" The minimax loss saturates exactly here: G minimises log(1 − D(G(z))), which is flat "
                     "where D(G(z)) ≈ 0.")
    sentence += " " + _rates(learning_rates)
    tries = ["switch to the non-saturating loss (same game, a gradient that is largest when G is losing)"] \
        if loss_name == "minimax" else []
    if lr_g > 50 * SAFE_LR:         # G's steps are so large it jumps past anything D would teach it
        tries.append(f"lower G's learning rate from {lr_g:g} to about {SAFE_LR:g}")
    elif lr_d > lr_g:
        tries.append(f"lower D's learning rate from {lr_d:g} to {lr_g:g} (G's)")
    else:
        tries.append(f"lower D's learning rate from {lr_d:g} to {lr_d / 4:g}, or raise G's from {lr_g:g} "
                     f"to {min(lr_g * 2, 50 * SAFE_LR):g}")
    return Finding("d_won", "error", sentence, "Try: " + "; or ".join(tries) + ".", theory=loss_name == "minimax")


def _exploding(history, learning_rates, window) -> Finding | None:
    for key, who in (("d_loss", "D's"), ("g_loss", "G's")):
        values = np.abs(_recent(history, key, window))
        if len(values) < 10:
            continue
        fifth = max(len(values) // 5, 2)
        early, late = float(np.median(values[:fifth])), float(np.median(values[-fifth:]))
        if values.max() > EXPLODE_BOUND:
            how = f"has reached {values.max():.3g}"
        elif late > EXPLODE_FLOOR and late > EXPLODE_GROWTH * max(early, 1e-12):
            how = f"grew from about {early:.3g} to {late:.3g} within the last {len(values)} recorded steps"
        else:
            continue
        lr_g, lr_d = learning_rates
        return Finding(
            "exploding", "warning",
            f"The losses are exploding: {who} loss {how}. No NaN yet, but the weights are running away. "
            + _rates(learning_rates),
            f"Try: lower both learning rates ten times, to G {lr_g / 10:g} / D {lr_d / 10:g}; or a loss with "
            f"bounded gradients (non-saturating or least-squares); or batch norm in the generator.")
    return None


def _collapsed(coverage, learning_rates) -> Finding | None:
    if not coverage or not coverage.get("step"):
        return None
    if len(coverage["step"]) < 2 or coverage["step"][-1] < MIN_COLLAPSE_STEP:
        return None
    for i in (-2, -1):
        if coverage["classes_present"][i] > COLLAPSED_CLASSES or coverage["confident_fraction"][i] < MIN_CONFIDENT:
            return None
    present, confident = int(coverage["classes_present"][-1]), float(coverage["confident_fraction"][-1])
    histogram = coverage["histogram"]
    digits = [d for d, share in sorted(enumerate(histogram), key=lambda x: -x[1]) if share > 0][:present]
    lr_g, lr_d = learning_rates
    return Finding(
        "collapsed", "warning",
        f"The samples collapsed to {present} of the 10 digits (mostly {', '.join(map(str, digits))}): the digit "
        f"judge finds {confident:.0%} of them confident, so G has found a few digits that fool D and stopped "
        f"exploring. " + _rates(learning_rates),
        f"Try: lower G's learning rate from {lr_g:g} to {lr_g / 2:g} so D can catch up and push it elsewhere; or "
        f"the WGAN-GP loss, whose critic keeps a gradient towards the missing digits; or press Reset and start "
        f"again with another seed.")


def diagnose(history: dict[str, list[float]], loss_name: str, learning_rates: tuple[float, float],
             coverage: dict | None = None, window: int = WINDOW) -> list[Finding]:
    """Findings about a run from its metric history ("step", "d_loss", "g_loss", "d_real", "d_fake", ...,
    oldest first), its loss's name, the (G, D) learning rates in use and, for digit runs, the coverage
    history ("step", "classes_present", "confident_fraction", the latest "histogram"). Empty: nothing wrong seen.
    Errors first."""
    if not all(math.isfinite(lr) for lr in learning_rates):
        raise ValueError(f"learning rates must be finite, got {learning_rates}")
    won = _d_won(history, loss_name, learning_rates, window)
    # When D has won, G's few "digits" fool nobody: junk the judge happens to read as one digit (a black
    # grid reads as a confident 8), so a collapse finding would point at the wrong cure.
    found = [won, _exploding(history, learning_rates, 4 * window),   # losses run away over longer spans
             None if won else _collapsed(coverage, learning_rates)]
    return sorted((f for f in found if f is not None), key=lambda f: f.severity != "error")
