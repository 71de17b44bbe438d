"""GAN losses as pure functions of the discriminator's raw outputs (logits).

One convention for every loss:

    d_loss(real_logits, fake_logits, real_label=1.0) -> scalar   # minimised by D
    g_loss(fake_logits) -> scalar                                # minimised by G

With D(x) = sigmoid(logit), every log D is computed as logsigmoid / softplus, never log(sigmoid(.)), so the
losses stay finite for any logit. `real_label` (t in the formulas) is D's target on real samples: 1, or less
for one-sided label smoothing; the Wasserstein and hinge critics have no target and ignore it. `LOSSES` maps
names to `GANLoss` records that the trainer, the UI menus and the tests all read. Each loss function's
docstring holds its formula in LaTeX; the UI shows it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ganplay.registry import Registry


def _bce_real(logits: Tensor, target: float) -> Tensor:
    # -[t log D + (1 - t) log(1 - D)] with D = sigmoid(logits): softplus(-l) = -log D, softplus(l) = -log(1 - D)
    return (target * F.softplus(-logits) + (1.0 - target) * F.softplus(logits)).mean()


def bce_d_loss(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    r"""L_D = -\mathbb{E}_x[t\log D(x) + (1 - t)\log(1 - D(x))] - \mathbb{E}_z[\log(1 - D(G(z)))],
    \quad t = \text{the real label (1, or less for one-sided smoothing)}"""
    return _bce_real(real_logits, real_label) + F.softplus(fake_logits).mean()


def minimax_g_loss(fake_logits: Tensor) -> Tensor:
    r"""L_G = \mathbb{E}_z[\log(1 - D(G(z)))]"""
    return -F.softplus(fake_logits).mean()


def nonsaturating_g_loss(fake_logits: Tensor) -> Tensor:
    r"""L_G = -\mathbb{E}_z[\log D(G(z))]"""
    return F.softplus(-fake_logits).mean()


def least_squares_d_loss(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    r"""L_D = \tfrac12\mathbb{E}_x[(D(x) - t)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2],
    \quad t = \text{the real label (1, or less for one-sided smoothing)}"""
    return 0.5 * (real_logits - real_label).square().mean() + 0.5 * fake_logits.square().mean()


def least_squares_g_loss(fake_logits: Tensor) -> Tensor:
    r"""L_G = \tfrac12\mathbb{E}_z[(D(G(z)) - 1)^2]"""
    return 0.5 * (fake_logits - 1.0).square().mean()


def wasserstein_d_loss(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    r"""L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)]"""
    return fake_logits.mean() - real_logits.mean()


def wasserstein_g_loss(fake_logits: Tensor) -> Tensor:
    r"""L_G = -\mathbb{E}_z[D(G(z))]"""
    return -fake_logits.mean()


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor, real_label: float = 1.0) -> Tensor:
    r"""L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))]"""
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor,
                     generator: torch.Generator | None = None) -> Tensor:
    r"""\mathbb{E}_{\hat x}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2],\ \hat x = \epsilon x + (1-\epsilon)G(z)

    `critic` maps images to logits (bind class labels before passing it for a conditional D).
    """
    # one mixing weight per sample, broadcast over the rest: (B, 1, 1, 1) for images, (B, 1) for points
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, generator=generator)
    mixed = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1.0).square().mean()


@dataclass(frozen=True)
class GANLoss:
    name: str
    title: str
    d_loss: Callable[..., Tensor]
    g_loss: Callable[[Tensor], Tensor]
    output: str               # how D's output reads: "probability" (sigmoid of logit), "score" or "critic"
    penalty: str = ""         # "clip" (weight clipping after each D step) or "gp" (gradient penalty)
    summary: str = ""

    @property
    def d_formula(self) -> str:
        return self.d_loss.__doc__.strip() + (r" + \lambda\,\mathrm{GP}" if self.penalty == "gp" else "")

    @property
    def g_formula(self) -> str:
        return self.g_loss.__doc__.strip()

    def d_output(self, logits: Tensor) -> Tensor:
        """What the UI calls D(x): a probability for the BCE losses, the raw score otherwise."""
        return torch.sigmoid(logits) if self.output == "probability" else logits


LOSSES: Registry[GANLoss] = Registry("loss", ((loss.name, loss) for loss in [
    GANLoss("nonsaturating", "Non-saturating (BCE)", bce_d_loss, nonsaturating_g_loss, "probability",
            summary="G maximises log D(G(z)): strong gradients while D still wins easily."),
    GANLoss("minimax", "Minimax (saturating)", bce_d_loss, minimax_g_loss, "probability",
            summary="The original game: G minimises log(1 - D(G(z))), whose gradient vanishes when D wins."),
    GANLoss("least-squares", "Least squares (LSGAN)", least_squares_d_loss, least_squares_g_loss, "score",
            summary="D regresses real to the real label (1) and fake to 0; G pulls D(G(z)) towards 1."),
    GANLoss("wgan", "Wasserstein (weight clipping)", wasserstein_d_loss, wasserstein_g_loss, "critic",
            penalty="clip", summary="A critic estimates the Wasserstein-1 distance; weights clipped to stay Lipschitz."),
    GANLoss("wgan-gp", "Wasserstein + gradient penalty", wasserstein_d_loss, wasserstein_g_loss, "critic",
            penalty="gp", summary="WGAN with a penalty pushing the critic's gradient norm to 1."),
    GANLoss("hinge", "Hinge", hinge_d_loss, wasserstein_g_loss, "critic",
            summary="D pays only for margins under 1; G raises D's score on its samples."),
]))


def get_loss(name: str) -> GANLoss:
    """LOSSES[name]: an unknown name raises UnknownNameError listing the losses."""
    return LOSSES[name]
