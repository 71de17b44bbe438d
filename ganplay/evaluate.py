"""How good are a generator's digits? Class coverage, confidence and a Fréchet distance, all from the classifier.

    report = evaluate("runs/lecture.safetensors", n=1000)      # or a Checkpoint, or a sampler function
    report.recognizable, report.classifier_fd, report.classifier_fd_real_baseline

What is measured on n generated samples (conditional models get balanced labels, n/10 per class):
- `class_histogram`: the share of samples whose most likely class (argmax) is each digit;
- `classes_present`: digits holding at least PRESENT_MIN_SHARE of the samples (so one stray sample is not a class);
- `kl_to_uniform`: KL(histogram || uniform) in nats, 0 for perfectly balanced, log 10 for a single class;
- `confident_fraction`: share of samples whose top class probability is at least CONFIDENT_PROBABILITY;
- `classifier_fd`: Fréchet distance between Gaussians fitted to the digit classifier's penultimate features
  (128-d) of the n samples and of n held-out real digits (set A below). FID's formula in this small
  classifier's features, not Inception's, so it is not comparable with published FIDs;
- `classifier_fd_real_baseline`: the same distance between two disjoint sets of n held-out real digits
  (A against B).
  The distance is biased upwards at small n, so a generator's figure means something only beside this one.
  A and B are the first n and the next n digits of the 2,000-digit holdout in a fixed order
  (numpy default_rng(REAL_ORDER_SEED).permutation), which is why n is at most 1,000.
- `class_accuracy` (conditional models only): share of samples classified as the label they were asked for.

A generator's digits are **recognizable** when at least 80 % are confident, all 10 classes are present and no
class takes more than 25 % (`is_recognizable`, with the bar in named constants below).
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, replace
from typing import Callable, Union

import numpy as np
import torch
import torch.nn.functional as F

from ganplay.checkpoint import Checkpoint, load_checkpoint
from ganplay.classifier import NUM_CLASSES, DigitClassifier, classify, load_classifier
from ganplay.data import ImageDataset, images_to_unit, load_dataset
from ganplay.models import Generator, balanced_labels, eval_mode, sample_latent

CONFIDENT_PROBABILITY = 0.9     # a sample is "confident" when the classifier's top probability reaches this
MIN_CONFIDENT_FRACTION = 0.8    # recognizable: at least this share of confident samples ...
MIN_CLASSES_PRESENT = 10        # ... every digit present ...
MAX_CLASS_FRACTION = 0.25       # ... and no digit taking more than this share
PRESENT_MIN_SHARE = 0.01        # a digit is present when at least this share of samples is classified as it
MAX_N = 1000                    # two disjoint real sets of n must fit in the 2,000-digit holdout
REAL_ORDER_SEED = 0

# A sampler draws n images (n, C, S, S) in [-1, 1], optionally with the class labels it asked for.
Sampler = Callable[[int, torch.Generator], Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]]


@dataclass(frozen=True)
class EvalReport:
    n: int
    classes_present: int
    kl_to_uniform: float
    confident_fraction: float
    class_histogram: list[float]        # share of samples per digit 0..9 (argmax), sums to 1
    classifier_fd: float                # Fréchet distance in the digit classifier's features (not an Inception FID)
    classifier_fd_real_baseline: float
    recognizable: bool
    class_accuracy: float | None = None   # conditional generators only
    seed: int = 0

    @property
    def max_class_fraction(self) -> float:
        return max(self.class_histogram)

    def to_dict(self) -> dict:
        return {**asdict(self), "max_class_fraction": self.max_class_fraction}


def is_recognizable(report: EvalReport) -> bool:
    """The bar: >= 80 % confident, all 10 classes present, no class above 25 %."""
    return (report.confident_fraction >= MIN_CONFIDENT_FRACTION
            and report.classes_present >= MIN_CLASSES_PRESENT
            and report.max_class_fraction <= MAX_CLASS_FRACTION)


# -- the numbers ---------------------------------------------------------------------------------------------
def kl_to_uniform(histogram: np.ndarray | list[float]) -> float:
    """KL(p || uniform) = sum p log(p K) in nats, for a histogram p over K classes (counts or shares)."""
    p = np.asarray(histogram, dtype=np.float64)
    p = p / p.sum()
    nonzero = p[p > 0]
    return float(np.sum(nonzero * np.log(nonzero * len(p))))


def gaussian_stats(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean (d,) and covariance (d, d) of features (n, d), in float64."""
    x = np.asarray(features, dtype=np.float64)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; tiny negative eigenvalues (rounding) count as 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, cov1: np.ndarray, mu2: np.ndarray, cov2: np.ndarray) -> float:
    r"""|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2}) between N(mu1, S1) and N(mu2, S2).

    Tr (S1 S2)^{1/2} is computed as Tr (S1^{1/2} S2 S1^{1/2})^{1/2}: the two matrices have the same eigenvalues,
    and the second is symmetric PSD, so both square roots come from `eigh` and stay real even when a covariance
    is singular (fewer samples than feature dimensions), where scipy's general sqrtm turns complex.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    root1 = _sqrt_psd(cov1)
    middle = root1 @ cov2 @ root1
    eigenvalues = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues, 0.0, None)).sum()
    distance = np.sum((mu1 - mu2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def feature_distance(features_a: np.ndarray | torch.Tensor, features_b: np.ndarray | torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (n, d)."""
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


# -- images and samplers ---------------------------------------------------------------------------------------
def to_classifier_input(images: torch.Tensor) -> torch.Tensor:
    """Any generator output (B, C, S, S) in [-1, 1] -> (B, 1, 28, 28): channels averaged, 32 px centre-cropped
    (ganplay pads MNIST by 2 px to reach 32), other sizes area-downsampled (64 px is MNIST upscaled)."""
    x = images.detach().float().cpu()
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (B, C, H, W), got {tuple(x.shape)}")
    if x.shape[1] != 1:
        x = x.mean(dim=1, keepdim=True)
    size = x.shape[-1]
    if size == 32 and x.shape[-2] == 32:
        x = x[:, :, 2:30, 2:30]
    elif x.shape[-2:] != (28, 28):
        x = F.interpolate(x, size=(28, 28), mode="area")
    return x.clamp(-1.0, 1.0)


def generator_sampler(generator: Generator, model_config, batch_size: int = 250) -> Sampler:
    """A sampler for a generator: z from its prior; a conditional one gets balanced labels 0, 1, ..., 9, 0, ..."""

    @torch.no_grad()
    def sample(n: int, rng: torch.Generator):
        k = model_config.num_classes
        z = sample_latent(model_config, n, rng)
        y = balanced_labels(n, k)
        device = next(generator.parameters()).device
        parts = []
        with eval_mode(generator):
            for start in range(0, n, batch_size):
                yc = None if y is None else y[start:start + batch_size].to(device)
                parts.append(generator(z[start:start + batch_size].to(device), yc).float().cpu())
        images = torch.cat(parts)
        return (images, y) if k else images

    return sample


def dataset_sampler(dataset: ImageDataset) -> Sampler:
    """Real digits as if they were generated: n distinct images drawn without replacement."""

    def sample(n: int, rng: torch.Generator) -> torch.Tensor:
        if n > len(dataset):
            raise ValueError(f"the dataset has only {len(dataset)} images, {n} were asked for")
        index = torch.randperm(len(dataset), generator=rng)[:n]
        return images_to_unit(dataset.images[index])

    return sample


def real_reference_sets(holdout: ImageDataset, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sets A and B: the first n and the next n held-out digits in the fixed order, (n, 1, 28, 28) each."""
    order = torch.from_numpy(np.random.default_rng(REAL_ORDER_SEED).permutation(len(holdout)))
    images = images_to_unit(holdout.images[order])
    return images[:n], images[n:2 * n]


# -- the evaluation --------------------------------------------------------------------------------------------
def evaluate(source: str | os.PathLike | Checkpoint | Sampler, n: int = 1000, seed: int = 0,
             classifier: DigitClassifier | None = None, holdout: ImageDataset | None = None,
             data_root: str | os.PathLike | None = None) -> EvalReport:
    """Score n samples of a generator (a checkpoint path, a loaded Checkpoint or a sampler) against the holdout.

    classifier defaults to the bundled one; holdout to load_dataset("mnist", data_root, part="holdout").
    """
    if not 2 <= n <= MAX_N:
        raise ValueError(f"n must be between 2 and {MAX_N} (two disjoint real sets of n come from the "
                         f"2,000-digit holdout), got {n}")
    sampler = _as_sampler(source)
    if classifier is None:
        classifier, _ = load_classifier()
    if holdout is None:
        holdout = load_dataset("mnist", data_root, part="holdout")
    if len(holdout) < 2 * n:
        raise ValueError(f"the holdout has {len(holdout)} digits; n = {n} needs {2 * n}")

    drawn = sampler(n, torch.Generator().manual_seed(seed))
    images, asked = drawn if isinstance(drawn, tuple) else (drawn, None)
    if images.shape[0] != n:
        raise ValueError(f"the sampler returned {images.shape[0]} images, {n} were asked for")
    probs, features = classify(classifier, to_classifier_input(images))
    if not torch.isfinite(probs).all():
        raise ValueError("the generator produced NaN or infinite pixels")
    real_a, real_b = real_reference_sets(holdout, n)
    _, features_a = classify(classifier, real_a)
    _, features_b = classify(classifier, real_b)

    top, predicted = probs.max(dim=1)
    counts = torch.bincount(predicted, minlength=NUM_CLASSES).double()
    histogram = (counts / n).tolist()
    report = EvalReport(
        n=n,
        classes_present=int(sum(share >= PRESENT_MIN_SHARE for share in histogram)),
        kl_to_uniform=kl_to_uniform(counts.numpy()),
        confident_fraction=(top >= CONFIDENT_PROBABILITY).double().mean().item(),
        class_histogram=histogram,
        classifier_fd=feature_distance(features.numpy(), features_a.numpy()),
        classifier_fd_real_baseline=feature_distance(features_b.numpy(), features_a.numpy()),
        recognizable=False,
        class_accuracy=None if asked is None else (predicted == asked.cpu()).double().mean().item(),
        seed=seed,
    )
    return replace(report, recognizable=is_recognizable(report))


def digit_judge_refusal(config) -> str | None:
    """Why the digit classifier cannot judge a generator with this RunConfig, or None when it can: it knows
    grey MNIST digits only, so anything trained on other data, or making colour images, gets no digit scores."""
    model, dataset = config.model, config.train.dataset
    if dataset == "mnist" and not model.is_points and model.channels == 1:
        return None
    from ganplay.data import DATASETS

    title = DATASETS[dataset].title if dataset in DATASETS else dataset
    what = ("your own images (a folder or zip)" if dataset == "folder" else title) + (
        f", {model.channels}-channel colour images" if model.channels != 1 and not model.is_points else "")
    return (f"no digit scores: the digit judge only knows MNIST digits and this generator was trained on {what}; "
            f"scoring its samples as digits would mean nothing")


def _as_sampler(source) -> Sampler:
    if isinstance(source, (str, os.PathLike, bytes)):
        source = load_checkpoint(source)
    if isinstance(source, Checkpoint):
        refusal = digit_judge_refusal(source.config)
        if refusal:
            raise ValueError(refusal)
        return generator_sampler(source.generator, source.config.model)
    if callable(source):
        return source
    raise ValueError(f"cannot evaluate a {type(source).__name__}: pass a checkpoint path, a Checkpoint or a sampler")


def format_report(report: EvalReport, title: str = "") -> str:
    """A readable table of the report, as `python -m ganplay eval` prints it."""
    top = int(np.argmax(report.class_histogram))
    bar = (f"bar: >= {MIN_CONFIDENT_FRACTION:.0%} confident, {MIN_CLASSES_PRESENT}/{NUM_CLASSES} classes, "
           f"no class above {MAX_CLASS_FRACTION:.0%}")
    rows = [
        ("samples", f"{report.n} (seed {report.seed})"),
        ("classes present", f"{report.classes_present} / {NUM_CLASSES}  (a class counts from "
                            f"{PRESENT_MIN_SHARE:.0%} of samples)"),
        ("largest class", f"{report.max_class_fraction:.1%} (digit {top})"),
        ("KL to uniform", f"{report.kl_to_uniform:.4f} nats  (0 balanced, {math.log(NUM_CLASSES):.3f} one class)"),
        (f"confident (p >= {CONFIDENT_PROBABILITY:g})", f"{report.confident_fraction:.1%}"),
        ("Fréchet distance", f"{report.classifier_fd:.3f}  (digit-classifier features; not an Inception FID; "
                             f"real vs real at n={report.n}: {report.classifier_fd_real_baseline:.3f})"),
    ]
    if report.class_accuracy is not None:
        rows.append(("class accuracy", f"{report.class_accuracy:.1%}  (classified as the label asked for)"))
    rows.append(("recognizable", f"{'yes' if report.recognizable else 'no'}  ({bar})"))
    width = max(len(name) for name, _ in rows)
    lines = [title] if title else []
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    lines.append("histogram".ljust(width) + "  " + "  ".join(f"{d}:{share:5.1%}" for d, share in
                                                              enumerate(report.class_histogram)))
    return "\n".join(lines)
