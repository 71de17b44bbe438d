"""Trainer throughput: ganplay's `Trainer.step()` against a plain loop written the way the seed articles write theirs.

    GANPLAY_DATA=../shared/data/mnist python -m bench.throughput                  # every preset but dcgan-64
    GANPLAY_DATA=../shared/data/mnist python -m bench.throughput --presets dcgan mlp-vanilla --seconds 3
    GANPLAY_DATA=../shared/data/mnist python -m bench.throughput --presets dcgan --threads 1 --profile

The plain loop ("seed-style") is what the articles do: a torch DataLoader (shuffle=True) over a Dataset that turns
each uint8 digit into a float tensor normalised per sample (what ToTensor + Normalize do), new label tensors
(torch.ones / torch.zeros / torch.full) every step, the discriminator ending in nn.Sigmoid with nn.BCELoss for the
BCE presets, G's fakes computed with autograd and then `.detach()`-ed for D, and D's weights left trainable
during G's update. Architecture (the very same modules), loss, batch size, optimiser, learning rates, label
smoothing, D steps per G step and the noise prior are the preset's; like the seed it follows, G's step scores
D's batch of fakes again (seeds 002, 004: `reuse_fake`) or draws new noise (the others), as ganplay does.

ganplay runs twice: at float32, and with bfloat16 autocast (`train.precision`), so the table shows what each
part buys. The quality side of bfloat16 is in bench/README.md.

Both run in this one process on the same threads: after a warm-up the two alternate in slices of `--seconds`,
`--rounds` times; the table gives each one's median steps per second over the slices and the median of the
per-round ratios. Steps are generator updates (each with the preset's D updates).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from bench import machine_line
from ganplay.data import load_dataset
from ganplay.models import build_models
from ganplay.models.mlp import Dropout
from ganplay.presets import PRESETS, preset
from ganplay.trainer import Trainer

COMPARED = ("float32", "bfloat16")      # what `auto` chooses between
MLP_PRESETS = ("mlp-vanilla", "mlp-batchnorm")
DEFAULT_SKIP = ("dcgan-64",)          # about 10 s a step on 2 cores: ask for it by name


class PerSampleDigits(Dataset):
    """uint8 (N, S, S) -> per-sample (C, S, S) floats in [-1, 1], as ToTensor() + Normalize((0.5,), (0.5,))."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, channels: int):
        self.images, self.labels, self.channels = images, labels, channels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        x = self.images[i].float().div(255.0).unsqueeze(0)      # ToTensor: (1, S, S) in [0, 1]
        x = (x - 0.5) / 0.5                                     # Normalize((0.5,), (0.5,))
        if self.channels != 1:
            x = x.repeat(self.channels, 1, 1)
        return x, int(self.labels[i])


def _with_torch_dropout(net: nn.Module) -> nn.Module:
    for parent in list(net.modules()):
        for name, child in parent.named_children():
            if isinstance(child, Dropout):
                setattr(parent, name, nn.Dropout(child.p))
    return net


class WithSigmoid(nn.Module):
    """The seeds' discriminator: the same network with nn.Sigmoid at the end, for nn.BCELoss."""

    def __init__(self, discriminator: nn.Module):
        super().__init__()
        self.body, self.sigmoid = discriminator, nn.Sigmoid()

    def forward(self, x, y=None):
        return self.sigmoid(self.body(x, y))


class SeedStyleLoop:
    """One preset trained the seed articles' way; `step()` is one G update after the preset's D updates."""

    def __init__(self, name: str, dataset):
        cfg = preset(name)
        self.cfg, m, t = cfg, cfg.model, cfg.train
        # The same modules in PyTorch's default memory layout (the seeds never ask for channels-last), with
        # torch's own nn.Dropout where ganplay has its seeded one.
        G, D = (_with_torch_dropout(net.to(memory_format=torch.contiguous_format))
                for net in build_models(m, seed=t.seed))
        self.G = G
        self.bce = t.loss in ("nonsaturating", "minimax")
        self.D = WithSigmoid(D) if self.bce else D
        self.criterion = nn.BCELoss()
        data = dataset.resized(m.image_size)
        self.loader = DataLoader(PerSampleDigits(data.images, data.labels, m.channels), batch_size=t.batch_size,
                                 shuffle=True, drop_last=True)
        self.batches = iter(self.loader)
        opt = (lambda p, lr, betas: torch.optim.RMSprop(p, lr=lr)) if t.optimizer == "rmsprop" else \
            (lambda p, lr, betas: torch.optim.Adam(p, lr=lr, betas=betas))
        self.opt_g, self.opt_d = opt(G.parameters(), t.lr_g, t.betas_g), opt(self.D.parameters(), t.lr_d, t.betas_d)
        self.concat_d = name == "mlp-vanilla"       # seed 001 feeds torch.cat((real, fake)) to D in one pass

    def next_batch(self):
        try:
            return next(self.batches)
        except StopIteration:                       # a new epoch, reshuffled
            self.batches = iter(self.loader)
            return next(self.batches)

    def noise(self, b: int) -> torch.Tensor:
        shape = (b, self.cfg.model.latent_dim)
        return torch.rand(shape) * 2 - 1 if self.cfg.model.prior == "uniform" else torch.randn(shape)

    def fake_labels(self, b: int):
        k = self.cfg.model.num_classes
        return torch.randint(0, k, (b,)) if k else None

    def step(self) -> tuple[float, float]:
        t = self.cfg.train
        G, D = self.G, self.D
        for _ in range(t.d_steps):
            real, y_real = self.next_batch()
            b = real.size(0)
            y_real = y_real if self.cfg.model.num_classes else None
            y_fake = self.fake_labels(b)
            fake = G(self.noise(b), y_fake)
            D.zero_grad()
            if self.bce and self.concat_d:
                out = D(torch.cat((real, fake.detach()))).view(-1)
                targets = torch.cat((torch.full((b,), t.real_label), torch.zeros(b)))
                errD = 2 * self.criterion(out, targets)     # = mean over real + mean over fake, as ganplay
            elif self.bce:
                errD = (self.criterion(D(real, y_real).view(-1), torch.full((b,), t.real_label))
                        + self.criterion(D(fake.detach(), y_fake).view(-1), torch.zeros(b)))
            else:
                real_out, fake_out = D(real, y_real).view(-1), D(fake.detach(), y_fake).view(-1)
                errD = self._critic_loss(real_out, fake_out, real, fake.detach(), y_real)
            errD.backward()
            self.opt_d.step()
            if t.loss == "wgan":
                for p in D.parameters():
                    p.data.clamp_(-t.clip_value, t.clip_value)
        G.zero_grad()
        if not t.reuse_fake:                        # seeds 002 and 004 score the same `fake` again
            y_fake = self.fake_labels(b)
            fake = G(self.noise(b), y_fake)
        out = D(fake, y_fake).view(-1)
        if self.bce:
            errG = self.criterion(out, torch.ones(b))
        elif t.loss == "least-squares":
            errG = 0.5 * torch.square(out - 1).mean()
        else:
            errG = -out.mean()
        errG.backward()
        self.opt_g.step()
        return errD.item(), errG.item()

    def _critic_loss(self, real_out, fake_out, real, fake, y_real):
        t = self.cfg.train
        if t.loss == "least-squares":
            return 0.5 * torch.square(real_out - t.real_label).mean() + 0.5 * torch.square(fake_out).mean()
        if t.loss == "hinge":
            return torch.relu(1 - real_out).mean() + torch.relu(1 + fake_out).mean()
        loss = fake_out.mean() - real_out.mean()
        if t.loss == "wgan-gp":
            eps = torch.rand(real.size(0), 1, 1, 1)
            mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
            grad = torch.autograd.grad(self.D(mixed, y_real).sum(), mixed, create_graph=True)[0]
            loss = loss + t.gp_weight * ((grad.view(grad.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()
        return loss


def measure(name: str, dataset, seconds: float, rounds: int, warmup: int = 3) -> dict:
    """Alternate the trainers in time slices; median steps/s of each and the median of the per-round ratios to
    the seed-style loop."""
    cfg = preset(name)
    runners = {"seed-style": SeedStyleLoop(name, dataset).step}
    for precision in COMPARED:
        trainer = Trainer(cfg.replace(**{"train.precision": precision}), dataset, device="cpu")
        runners[precision] = trainer.step
    for step in runners.values():
        for _ in range(warmup):
            step()
    rates: dict[str, list[float]] = {who: [] for who in runners}
    names = list(runners)
    for r in range(rounds):
        for who in names[r % len(names):] + names[:r % len(names)]:       # rotate who goes first
            start, steps = time.perf_counter(), 0
            while True:
                runners[who]()
                steps += 1
                if time.perf_counter() - start >= seconds:
                    break
            rates[who].append(steps / (time.perf_counter() - start))
    # Medians over rounds: a slice slowed by another process on the machine does not skew the figure.
    row = {"preset": name, **{who: statistics.median(v) for who, v in rates.items()}}
    for precision in COMPARED:
        row[f"ratio {precision}"] = statistics.median(g / p for g, p in zip(rates[precision], rates["seed-style"]))
    return row


def profile(name: str, precision: str, dataset, steps: int = 5, rows: int = 12) -> str:
    """torch.profiler's table of the ops that take a ganplay step's time, by self CPU time."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    trainer = Trainer(preset(name).replace(**{"train.precision": precision}), dataset, device="cpu")
    for _ in range(3):
        trainer.step()
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            trainer.step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=[p for p in PRESETS if p not in DEFAULT_SKIP],
                        choices=list(PRESETS))
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one time slice")
    parser.add_argument("--rounds", type=int, default=5, help="slices per trainer")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", help="MNIST folder (default: $GANPLAY_DATA)")
    parser.add_argument("--profile", action="store_true",
                        help="instead: where a ganplay step's time goes (torch.profiler, 5 steps per precision)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = load_dataset("mnist", args.data, part="train")
    print(f"{machine_line()}, {dataset.describe()}")
    if args.profile:
        for name in args.presets:
            for precision in COMPARED:
                print(f"\n{name}, {precision}\n{profile(name, precision, dataset)}", flush=True)
        return 0
    print(f"{'preset':<16}{'seed-style':>11}{'ganplay fp32':>14}{'ratio':>7}{'ganplay bf16':>14}{'ratio':>7}"
          f"{'target':>8}   (steps/s)")
    for name in args.presets:
        row = measure(name, dataset, args.seconds, args.rounds)
        target = 1.3 if name in MLP_PRESETS else 2.0
        print(f"{name:<16}{row['seed-style']:>11.2f}{row['float32']:>14.2f}{row['ratio float32']:>6.2f}x"
              f"{row['bfloat16']:>14.2f}{row['ratio bfloat16']:>6.2f}x{target:>7.1f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
