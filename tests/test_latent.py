"""ganplay.latent: interpolation, GANSpace directions, edits and 2-D slices, checked against closed forms."""
import dataclasses
import io
import math

import pytest
import torch
from PIL import Image

from ganplay import latent
from ganplay.models import build_models
from ganplay.presets import preset


def _angle(u: torch.Tensor, v: torch.Tensor) -> float:
    return math.acos(max(-1.0, min(1.0, float(u.double() @ v.double() / (u.double().norm() * v.double().norm())))))


@pytest.fixture
def pair():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(32, generator=g), torch.randn(32, generator=g)
    return a, b * (a.norm() / b.norm())                   # equal norms


@pytest.mark.parametrize("fn", [latent.lerp, latent.slerp])
def test_interpolations_return_their_endpoints(pair, fn):
    a, b = pair
    assert torch.equal(fn(a, b, 0.0), a) and torch.equal(fn(a, b, 1.0), b)
    out = fn(a, b, torch.tensor([0.0, 0.5, 1.0]))
    assert out.shape == (3, 32) and torch.equal(out[0], a) and torch.equal(out[-1], b)


def test_lerp_is_the_straight_line(pair):
    a, b = pair
    assert torch.allclose(latent.lerp(a, b, 0.25), 0.75 * a + 0.25 * b, atol=1e-6)


def test_slerp_keeps_the_norm_and_moves_at_constant_angular_speed(pair):
    a, b = pair
    codes = latent.slerp(a, b, torch.linspace(0, 1, 9))
    assert torch.allclose(codes.norm(dim=1), a.norm().expand(9), rtol=1e-5)
    steps = [_angle(codes[i], codes[i + 1]) for i in range(8)]
    assert max(steps) - min(steps) < 1e-5
    assert sum(steps) == pytest.approx(_angle(a, b), abs=1e-5)     # the geodesic: no detour


def test_slerp_interpolates_the_norm_for_unequal_lengths(pair):
    a, b = pair
    mid = latent.slerp(a, 3 * b, 0.5)
    assert float(mid.norm()) == pytest.approx(2 * float(a.norm()), rel=1e-5)


def test_slerp_handles_parallel_and_antiparallel_codes(pair):
    a, _ = pair
    t = torch.linspace(0, 1, 7)
    parallel = latent.slerp(a, 2 * a, t)
    assert torch.isfinite(parallel).all() and torch.allclose(parallel, latent.lerp(a, 2 * a, t), atol=1e-5)
    opposite = latent.slerp(a, -a, t)
    assert torch.isfinite(opposite).all()
    assert torch.allclose(opposite.norm(dim=1), a.norm().expand(7), rtol=1e-5)
    assert torch.equal(opposite[-1], -a)
    steps = [_angle(opposite[i], opposite[i + 1]) for i in range(6)]
    assert steps == pytest.approx([math.pi / 6] * 6, abs=1e-4)


def test_slerp_of_a_zero_code_is_the_line(pair):
    a, _ = pair
    zero = torch.zeros_like(a)
    assert torch.allclose(latent.slerp(zero, a, 0.5), 0.5 * a)


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolate_has_n_rows_and_exact_endpoints(pair, method):
    a, b = pair
    codes = latent.interpolate(a, b, 8, method)
    assert codes.shape == (8, 32) and torch.equal(codes[0], a) and torch.equal(codes[-1], b)
    with pytest.raises(ValueError):
        latent.interpolate(a, b, 1, method)
    with pytest.raises(ValueError):
        latent.interpolate(a, b, 4, "cubic")


@pytest.fixture(scope="module", params=["lecture", "cdcgan", "mlp-batchnorm", "lsgan-dcgan"])
def model(request):
    cfg = preset(request.param)
    generator, _ = build_models(cfg.model, seed=0)
    return cfg.model, generator.eval()


def test_principal_directions_are_orthonormal_and_sorted(model):
    cfg, generator = model
    pcs = latent.principal_directions(generator, n_samples=400, k=6, seed=0, prior=cfg.prior)
    d = pcs.directions
    assert d.shape == (6, cfg.latent_dim)
    assert torch.allclose(d @ d.T, torch.eye(6), atol=1e-5)
    ev = pcs.explained_variance
    assert ev.shape == (6,) and (ev[:-1] >= ev[1:] - 1e-6).all() and 0 < float(ev.sum()) <= 1
    assert pcs.std.shape == (6,) and (pcs.std > 0).all()


def test_principal_directions_are_deterministic_and_leave_the_model_alone(model):
    cfg, generator = model
    generator.train()
    first = latent.principal_directions(generator, n_samples=300, k=4, seed=3, prior=cfg.prior)
    assert generator.training and not generator.net[latent.feature_layer(generator)]._forward_hooks
    generator.eval()
    again = latent.principal_directions(generator, n_samples=300, k=4, seed=3, prior=cfg.prior)
    assert torch.equal(first.directions, again.directions)


def test_principal_directions_never_seed_fork_or_draw_from_the_global_rng(model, monkeypatch):
    """Issue 13: the Latent page runs in server threads beside training runs; seeding or forking torch's global RNG
    there would break another thread's "a seed repeats a run". Its random projection has its own generator."""
    cfg, generator = model
    reference = latent.principal_directions(generator, n_samples=300, k=4, seed=3, prior=cfg.prior)
    torch.manual_seed(7)
    before = torch.get_rng_state()

    def refuse(*args, **kwargs):
        raise AssertionError("the global RNG was seeded or forked")
    monkeypatch.setattr(torch, "manual_seed", refuse)
    monkeypatch.setattr(torch.random, "manual_seed", refuse)
    monkeypatch.setattr(torch.random, "fork_rng", refuse)
    again = latent.principal_directions(generator, n_samples=300, k=4, seed=3, prior=cfg.prior)
    assert torch.equal(torch.get_rng_state(), before)           # nothing drawn from it either
    assert all(torch.equal(a, b) for a, b in zip(reference, again))


def test_principal_directions_repeat_while_a_thread_uses_the_global_rng():
    from tests.conftest import global_rng_hammered
    cfg = preset("lecture").model
    generator = build_models(cfg, seed=0)[0].eval()
    reference = latent.principal_directions(generator, n_samples=300, k=4, seed=3)
    with global_rng_hammered():
        runs = [latent.principal_directions(generator, n_samples=300, k=4, seed=3) for _ in range(3)]
    assert all(torch.equal(a, b) for run in runs for a, b in zip(reference, run))


@pytest.mark.parametrize("shape", [(300, 40), (40, 300)], ids=["tall", "wide"])
def test_own_lowrank_svd_is_torch_pca_lowrank_with_a_private_generator(shape):
    """Bit for bit what torch.pca_lowrank(center=False) gives after torch.manual_seed(seed), so the directions
    the page shows did not change when it stopped seeding the global RNG."""
    a = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        expected = torch.pca_lowrank(a, q=12, center=False, niter=4)
    got = latent._svd_lowrank(a, 12, 4, torch.Generator().manual_seed(5))
    assert all(torch.equal(x, y) for x, y in zip(expected, got))


def test_principal_directions_find_the_direction_a_linear_layer_stretches():
    """A generator whose first layer is linear and stretches z[5] ten times more than the rest: PC1 must be ±e5."""
    cfg = preset("dcgan").model                        # projection without BN or activation: layer 0 is linear
    generator, _ = build_models(cfg, seed=0)
    with torch.no_grad():
        w = torch.randn(generator.net[0].weight.shape[0], cfg.latent_dim) * 0.01
        w[:, 5] = torch.randn(w.shape[0])
        generator.net[0].weight.copy_(w)
    pcs = latent.principal_directions(generator.eval(), n_samples=500, k=3, prior=cfg.prior)
    assert abs(float(pcs.directions[0, 5])) > 0.99
    assert float(pcs.explained_variance[0]) > 0.9


def test_edit_with_zero_amounts_returns_the_code(model):
    cfg, generator = model
    z0 = latent.seed_code(cfg, 1)
    directions = torch.linalg.qr(torch.randn(cfg.latent_dim, 3))[0].T
    assert torch.equal(latent.edit(z0, directions, [0.0, 0.0, 0.0]), z0)
    moved = latent.edit(z0, directions, [2.0, 0.0, 0.0])
    assert torch.allclose(moved - z0, 2 * directions[0], atol=1e-6)


def test_latent_grid_lays_out_the_plane(pair):
    z0, _ = pair
    e = torch.eye(32)
    codes = latent.latent_grid(z0, e[0], e[1], 2.0, 5)
    assert codes.shape == (25, 32)
    grid = codes.reshape(5, 5, 32)
    assert torch.allclose(grid[2, 2], z0)                              # the centre is z0
    assert torch.allclose(grid[0, 4, :2] - z0[:2], torch.tensor([2.0, -2.0]))   # column -> dir_a, row -> dir_b
    assert torch.allclose(grid[:, :, 2:], z0[2:].expand(5, 5, 30))


def test_seed_code_is_deterministic_and_follows_the_prior():
    normal, uniform = preset("lecture").model, preset("lsgan-dcgan").model
    assert torch.equal(latent.seed_code(normal, 4), latent.seed_code(normal, 4))
    assert not torch.equal(latent.seed_code(normal, 4), latent.seed_code(normal, 5))
    u = latent.seed_code(uniform, 4)
    assert u.shape == (uniform.latent_dim,) and (u.abs() <= 1).all()


def test_soft_labels_drive_a_conditional_generator():
    cfg = preset("cdcgan").model
    generator, _ = build_models(cfg, seed=0)
    generator.eval()
    labels = latent.soft_labels(3, 8, 5, cfg.num_classes)
    assert torch.equal(labels[0], torch.eye(10)[3]) and torch.equal(labels[-1], torch.eye(10)[8])
    assert torch.allclose(labels.sum(dim=1), torch.ones(5))
    z = latent.seed_code(cfg, 0).expand(5, -1)
    images = latent.generate(generator, z, labels)
    assert images.shape == (5, 1, 28, 28)
    # a hard one-hot as soft label gives exactly what the class id gives
    assert torch.allclose(images[0], latent.generate(generator, z[:1], 3)[0], atol=1e-6)
    assert torch.allclose(images[-1], latent.generate(generator, z[:1], torch.tensor([8]))[0], atol=1e-6)


def test_code_for_class_picks_the_most_confident_candidate():
    cfg = preset("lecture").model
    generator, _ = build_models(cfg, seed=0)
    generator.eval()
    # a stand-in classifier: "class 1" is the mean brightness
    def probabilities(images):
        p = (images.mean(dim=(1, 2, 3)) + 1) / 2
        return torch.stack([1 - p, p], dim=1)
    z, confidence = latent.code_for_class(generator, cfg, probabilities, 1, n_candidates=64, seed=0)
    candidates = latent.generate(generator, torch.randn(64, cfg.latent_dim, generator=torch.Generator().manual_seed(0)))
    assert confidence == pytest.approx(float(probabilities(candidates)[:, 1].max()), abs=1e-6)
    assert z.shape == (cfg.latent_dim,)


def test_prediction_labels():
    probs = torch.tensor([[0.01, 0.99] + [0.0] * 8, [0.5, 0.1, 0.4] + [0.0] * 7])
    assert latent.prediction_labels(probs) == ["1 · 99%", "0 · 50%"]


@pytest.mark.parametrize("n", [2, 8, 32])
def test_morph_gif_has_exactly_one_frame_per_code_even_when_frames_repeat(n):
    images = torch.full((n, 1, 28, 28), -1.0)                          # all frames identical
    gif = Image.open(io.BytesIO(latent.morph_gif(images, scale=2)))
    assert gif.n_frames == n and gif.size == (56, 58)                  # 2x digit plus a 2 px progress bar


def test_explorer_code_combines_seed_principal_directions_and_raw_coordinates(model):
    cfg, generator = model
    pcs = latent.principal_directions(generator, n_samples=300, k=3, prior=cfg.prior)
    z0 = latent.seed_code(cfg, 2)
    assert torch.equal(latent.explorer_code(cfg, pcs, 2, [0.0, 0.0, 0.0]), z0)
    moved = latent.explorer_code(cfg, pcs, 2, [0.0, 1.5, 0.0], [4], [2.0])
    raw_step = 2.0 * latent.prior_std(cfg.prior) * torch.eye(cfg.latent_dim)[4]
    expected = z0 + 1.5 * pcs.std[1] * pcs.directions[1] + raw_step
    assert torch.allclose(moved, expected, atol=1e-5)


def test_axis_direction_is_one_prior_sigma_along_a_pc_or_a_raw_coordinate():
    cfg = dataclasses.replace(preset("lecture").model, latent_dim=4, prior="uniform")
    pcs = latent.PrincipalDirections(directions=torch.eye(4)[[2, 0]], std=torch.tensor([0.5, 2.0]),
                                     explained_variance=torch.tensor([0.7, 0.3]))
    assert torch.equal(latent.axis_direction(("pc", 1), pcs, cfg), torch.tensor([2.0, 0.0, 0.0, 0.0]))
    # z[3] under U[-1, 1): one standard deviation is 1/sqrt(3)
    assert torch.allclose(latent.axis_direction(("z", 3), pcs, cfg), torch.tensor([0, 0, 0, 3 ** -0.5]))
