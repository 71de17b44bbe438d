"""Mode coverage, live: the bundled digit classifier judges G's samples from a fixed noise batch every few
seconds of training (or every `every_steps` steps), so the page can show which digits G draws and how sure
the judge is.

    probe = CoverageProbe(trainer.config, trainer)          # None-like (probe.refusal set) for non-digit runs
    probe.maybe_measure(trainer)                            # from the worker, after a step; cheap when not due
    probe.history()  -> {"step": [...], "classes_present": [...], "confident_fraction": [...], "histogram": [10],
                         "recognizable_at": (step, training seconds) of the first probe past the bar, or None}

The numbers are the ones `ganplay.evaluate` reports (argmax histogram, classes present from 1 % of samples,
confident at p >= 0.9), on SAMPLES samples: a couple of hundred, so a probe costs a few tens of milliseconds.
The first probe that passes `ganplay.evaluate`'s recognizable bar (>= 80 % confident, 10 digits, none above
25 %) is remembered: the moment a lecturer's digits became recognizable, on SAMPLES samples rather than eval's n.
"""
from __future__ import annotations

import contextlib
import functools

import torch

from ganplay.checkpoint import CheckpointError
from ganplay.classifier import NUM_CLASSES, DigitClassifier, classify, load_classifier
from ganplay.evaluate import (CONFIDENT_PROBABILITY, MAX_CLASS_FRACTION, MIN_CLASSES_PRESENT, MIN_CONFIDENT_FRACTION,
                              PRESENT_MIN_SHARE, digit_judge_refusal, to_classifier_input)
from ganplay.models import balanced_labels

SAMPLES = 200
EVERY_STEPS = 200           # a probe at least this often in steps ...
EVERY_S = 5.0               # ... or this often in training seconds, whichever comes first
PROBE_SEED_OFFSET = 3       # the probe's noise: seed + 3 (the grid uses seed + 1, the point probes seed + 2)


@functools.lru_cache(maxsize=1)
def shared_classifier() -> DigitClassifier:
    """The bundled classifier, loaded once per process; read-only (eval mode, no_grad), so threads share it."""
    model, _ = load_classifier()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def measure(images: torch.Tensor, classifier: DigitClassifier) -> dict:
    """The judge's verdict on images (N, C, S, S) in [-1, 1]: the argmax histogram (shares per digit 0..9),
    digits present (at least PRESENT_MIN_SHARE of the samples) and the share of confident samples."""
    probs, _ = classify(classifier, to_classifier_input(images))
    top, predicted = probs.max(dim=1)
    histogram = (torch.bincount(predicted, minlength=NUM_CLASSES).double() / len(predicted)).tolist()
    return {"histogram": histogram,
            "classes_present": int(sum(share >= PRESENT_MIN_SHARE for share in histogram)),
            "confident_fraction": float((top >= CONFIDENT_PROBABILITY).double().mean())}


class CoverageProbe:
    """A run's coverage history. `refusal` is why it cannot judge (not MNIST digits); then it never measures."""

    def __init__(self, config, trainer=None, every_steps: int = EVERY_STEPS, every_s: float = EVERY_S,
                 max_points: int = 500):
        self.refusal = digit_judge_refusal(config)
        self.every_steps, self.every_s = every_steps, every_s
        self.max_points = max_points
        self.records: dict[str, list[float]] = {"step": [], "classes_present": [], "confident_fraction": []}
        self.histogram: list[float] | None = None
        self.recognizable_at: tuple[int, float] | None = None
        self._last = (0, 0.0)        # (step, training seconds) of the last probe: the first one comes one interval in
        self.z = self.y = None
        if self.refusal is None and trainer is not None:
            # fixed noise, so a change in the histogram is G changing, not the draw
            rng = torch.Generator().manual_seed(config.train.seed + PROBE_SEED_OFFSET)
            self.z = trainer.noise(SAMPLES, rng)
            self.y = balanced_labels(SAMPLES, config.model.num_classes, self.z.device)

    def due(self, step: int, seconds: float) -> bool:
        return (self.refusal is None and self.z is not None and step > 0
                and (step - self._last[0] >= self.every_steps or seconds - self._last[1] >= self.every_s))

    def maybe_measure(self, trainer, lock=contextlib.nullcontext()) -> bool:
        """Probe now if due (call with the model lock held, between steps); the result is recorded under
        `lock` (the run's snapshot lock), so a reader never sees half a probe. True when it measured."""
        at = self.take(trainer)
        verdict = self.judge(lambda: trainer.sample(self.z, self.y)) if at is not None else None
        if verdict is None:                # not due, or no judge (then `refusal` says why, and it is never due)
            return False
        self.record(at, verdict, lock)
        return True

    def take(self, trainer) -> tuple[int, float] | None:
        """For a probe made elsewhere (ganplay.live.painter): if one is due, the (step, training seconds) it is
        for, counted as taken, so the next one comes an interval later; else None."""
        if trainer is None or not self.due(trainer.step_count, trainer.seconds):
            return None
        self._last = (trainer.step_count, trainer.seconds)
        return self._last

    def judge(self, images) -> dict | None:
        """The judge's verdict on `images()` (called only once the judge is there), or None, with `refusal`
        saying why, when the bundled classifier cannot be loaded: then training goes on without scores."""
        try:
            judge = shared_classifier()
        except CheckpointError as err:     # no bundled classifier file: say so, and let training go on
            self.refusal = f"no digit scores: {err}"
            return None
        return measure(images(), judge)

    def record(self, at: tuple[int, float], verdict: dict, lock=contextlib.nullcontext()) -> None:
        """Keep a verdict on G's samples at `at` = (step, training seconds), under `lock`."""
        with lock:
            self._record(at[0], verdict)
            if self.recognizable_at is None and recognizable(verdict):
                self.recognizable_at = at

    def _record(self, step: int, verdict: dict) -> None:
        for key, column in self.records.items():
            column.append(float(step if key == "step" else verdict[key]))
        if len(self.records["step"]) > self.max_points:     # bounded: keep every other probe, the newest last
            self.records = {k: v[::-1][::2][::-1] for k, v in self.records.items()}
        self.histogram = verdict["histogram"]

    def history(self) -> dict | None:
        """A copy for the snapshot; None for a run the judge cannot read or before the first probe."""
        if self.histogram is None:
            return None
        return {**{k: list(v) for k, v in self.records.items()}, "histogram": list(self.histogram),
                "recognizable_at": self.recognizable_at}


def recognizable(verdict: dict) -> bool:
    """`ganplay.evaluate.is_recognizable`'s bar applied to a probe's verdict."""
    return (verdict["confident_fraction"] >= MIN_CONFIDENT_FRACTION
            and verdict["classes_present"] >= MIN_CLASSES_PRESENT
            and max(verdict["histogram"]) <= MAX_CLASS_FRACTION)
