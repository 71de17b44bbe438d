"""ganplay.toy's data: the TOYS registry against its definitions, the mode metrics against hand-computed
values, and the user's own points (CSV parsing, drawing) against good and bad input."""

import math

import numpy as np
import pytest
import torch

from ganplay.registry import UnknownNameError
from ganplay.theory import SITUATIONS, Gaussian, Mixture, plot_interval
from ganplay.toy.distributions import TOYS, ToyDataError, ToyDistribution, from_theory, get_toy
from ganplay.toy.modes import MODE_SAMPLES, mode_metrics
from ganplay.toy.userdata import from_points, parse_csv, to_csv

RING8_HIGH_QUALITY = 1.0 - math.exp(-4.5)    # P(chi²_2 <= 9): a perfect 2-D sample within 3 sigma


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def inside(x: np.ndarray, extent) -> np.ndarray:
    return np.all([(x[:, i] >= lo) & (x[:, i] <= hi) for i, (lo, hi) in enumerate(extent)], axis=0)


# ---- every registry entry ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(TOYS))
def test_sample_shape_dtype_and_seeding(name):
    toy = TOYS[name]
    x = toy.sample(1000, seeded(0))
    assert x.shape == (1000, toy.dim) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert torch.isfinite(x).all()
    torch.manual_seed(1)                        # the global stream must not matter: only the generator does
    again = toy.sample(1000, seeded(0))
    torch.manual_seed(2)
    assert torch.equal(again, x)
    assert not torch.equal(toy.sample(1000, seeded(1)), x)
    g = seeded(0)
    first, second = toy.sample(500, g), toy.sample(500, g)
    assert not torch.equal(first, second)       # the generator advances
    assert x.std(dim=0).min() > 0


@pytest.mark.parametrize("name", list(TOYS))
def test_extent_shows_the_data(name):
    toy = TOYS[name]
    x = toy.sample(5000, seeded(3)).numpy()
    assert inside(x, toy.extent).mean() >= 0.995
    for i, (lo, hi) in enumerate(toy.extent):   # and is not so wide the data is a speck (GAN Lab's line is thin)
        assert np.ptp(x[:, i]) >= 0.25 * (hi - lo)


@pytest.mark.parametrize("name", list(TOYS))
def test_registry_entry_fields(name):
    toy = get_toy(name)
    assert toy.name == name and toy.title and toy.summary and toy.source
    assert len(toy.extent) == toy.dim and toy.class_names == ()
    line = toy.describe()
    assert toy.title in line and f"{toy.dim}-D" in line
    assert (toy.modes is None) == (toy.mode_sigma is None)     # the Toy lab scores modes whenever they are set
    if toy.modes is not None:
        assert toy.modes.shape[1] == toy.dim and f"{len(toy.modes)} mode" in line and toy.mode_sigma > 0
        assert not toy.modes.flags.writeable
    assert (toy.density is not None) == (toy.dim == 1)


def test_modes_need_a_sigma():
    with pytest.raises(ToyDataError, match="together"):
        ToyDistribution("x", "X", 1, "s", "t", ((0.0, 1.0),), modes=np.zeros((1, 1)),
                        _sampler=lambda n, g: torch.zeros(n, 1))


def test_registry_names_and_errors():
    assert list(TOYS)[:2] == ["ring8", "grid25"]
    assert {"moons", "spiral", "circles", "line", "two-gaussians", "ring", "three-blobs",
            "gaussian-1d", "bimodal-1d", "trimodal-1d"} <= set(TOYS)
    for name in ("line", "two-gaussians", "ring", "three-blobs"):
        assert "GAN Lab" in TOYS[name].source and "unit square" in TOYS[name].summary
    with pytest.raises(UnknownNameError, match="unknown toy data set 'ring9'.*ring8.*grid25"):
        get_toy("ring9")
    assert issubclass(ToyDataError, ValueError)
    with pytest.raises(ValueError, match="positive"):
        TOYS["ring8"].sample(0)


# ---- the benchmarks match their definitions -----------------------------------------------------------------

def test_ring8_means_are_eight_points_45_degrees_apart():
    toy = TOYS["ring8"]
    assert toy.modes.shape == (8, 2) and toy.mode_sigma == 0.01
    np.testing.assert_allclose(np.linalg.norm(toy.modes, axis=1), 1.0, atol=1e-12)
    angles = np.sort(np.mod(np.arctan2(toy.modes[:, 1], toy.modes[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    gaps = np.linalg.norm(toy.modes[:, None] - toy.modes[None], axis=-1) + np.eye(8) * 9
    assert gaps.min() == pytest.approx(2 * math.sin(math.pi / 8))   # neighbours, no repeated endpoint


def test_grid25_means_are_the_grid():
    toy = TOYS["grid25"]
    assert toy.mode_sigma == 0.05
    grid = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert len(toy.modes) == 25 and {tuple(m) for m in toy.modes.tolist()} == grid


@pytest.mark.parametrize("name, n", [("ring8", 20_000), ("grid25", 100_000), ("three-blobs", 20_000)])
def test_mixture_samples_match_definition(name, n):
    toy = TOYS[name]
    modes, sigma, k = toy.modes, toy.mode_sigma, len(toy.modes)
    x = toy.sample(n, seeded(5)).numpy().astype(float)
    nearest = ((x[:, None] - modes[None]) ** 2).sum(-1).argmin(1)
    counts = np.bincount(nearest, minlength=k)
    binomial_std = math.sqrt(n * (1 / k) * (1 - 1 / k))
    assert np.abs(counts - n / k).max() <= 4 * binomial_std
    residual = x - modes[nearest]                                     # (n, 2)
    for j in range(k):
        r = residual[nearest == j]
        np.testing.assert_allclose(r.std(axis=0), sigma, rtol=0.05)
        assert np.abs(r.mean(axis=0)).max() <= 5 * sigma / math.sqrt(len(r))
    np.testing.assert_allclose(residual.std(axis=0), sigma, rtol=0.015)


def test_ganlab_two_gaussians_have_different_sigmas_so_no_mode_metrics():
    toy = TOYS["two-gaussians"]
    assert toy.modes is None and toy.mode_sigma is None
    x = toy.sample(40_000, seeded(2)).numpy()
    tall = x[x[:, 0] > 0.55]                    # the second blob (x 0.7, sd 0.05) barely reaches x 0.55
    np.testing.assert_allclose(tall.mean(axis=0), [0.7, 0.4], atol=0.01)
    np.testing.assert_allclose(tall.std(axis=0), [0.05, 0.2], rtol=0.1)
    assert 0.47 < len(tall) / len(x) < 0.53


def test_shapes_lie_on_their_curves():
    r = np.linalg.norm(TOYS["circles"].sample(5000, seeded(0)).numpy(), axis=1)
    assert np.all(np.minimum(np.abs(r - 1.0), np.abs(r - 0.5)) < 5 * 0.03)
    assert 0.45 < (r > 0.75).mean() < 0.55
    moons = TOYS["moons"].sample(20_000, seeded(0)).numpy()
    np.testing.assert_allclose(moons.mean(axis=0), 0.0, atol=0.02)
    x = TOYS["ring"].sample(5000, seeded(0)).numpy()
    ellipse = ((x[:, 0] - 0.5) / 0.3) ** 2 + ((x[:, 1] - 0.45) / 0.25) ** 2
    assert np.abs(np.sqrt(ellipse) - 1).max() < 0.5
    spiral = TOYS["spiral"].sample(5000, seeded(0)).numpy()
    assert np.linalg.norm(spiral, axis=1).max() < 1.1


# ---- 1-D entries are the theory objects ------------------------------------------------------------------------

@pytest.mark.parametrize("name, p", [
    ("gaussian-1d", SITUATIONS["identical"].p_data),
    ("bimodal-1d", SITUATIONS["mode_dropping"].p_data),
    ("trimodal-1d", None),
])
def test_one_dimensional_entries_sample_their_density(name, p):
    toy = TOYS[name]
    if p is not None:
        assert toy.density is p
    p = toy.density
    assert toy.dim == 1 and toy.extent == (plot_interval(p, width=4.0),)
    np.testing.assert_allclose(toy.modes[:, 0], [c.mu for c in p.components])
    n = 100_000
    x = toy.sample(n, seeded(7)).numpy()[:, 0].astype(float)
    assert abs(x.mean() - p.mean) <= 4 * p.std / math.sqrt(n)
    assert x.std() == pytest.approx(p.std, rel=0.01)


def test_from_theory_with_unequal_weights_and_sigmas():
    p = Mixture((Gaussian(-2.0, 0.5), Gaussian(1.5, 1.2)), (0.2, 0.8))
    toy = from_theory(p)
    assert toy.name == "theory-1d" and toy.density is p and toy.modes is None and toy.mode_sigma is None
    x = np.sort(toy.sample(100_000, seeded(1)).numpy()[:, 0].astype(float))
    for q in (-2.0, -1.0, 0.0, 1.5, 3.0):        # empirical CDF against the exact one (KS 1% level: 0.005)
        assert np.searchsorted(x, q) / len(x) == pytest.approx(float(p.cdf(q)), abs=0.006)
    single = from_theory(Gaussian(2.0, 0.5), name="g")
    assert single.mode_sigma == 0.5 and single.modes.tolist() == [[2.0]] and "N(2, 0.5²)" in single.title
    with pytest.raises(ToyDataError, match="Gaussian or Mixture"):
        from_theory("not a distribution")


# ---- mode metrics ----------------------------------------------------------------------------------------------

RING = TOYS["ring8"].modes
SIGMA = TOYS["ring8"].mode_sigma


def test_samples_on_every_mode_score_perfectly():
    stats = mode_metrics(np.repeat(RING, 10, axis=0), RING, SIGMA)
    assert (stats.captured, stats.total, stats.high_quality) == (8, 8, 1.0)
    assert stats.reverse_kl == pytest.approx(0.0, abs=1e-12) and stats.counts.tolist() == [10] * 8


def test_samples_on_one_mode():
    stats = mode_metrics(np.repeat(RING[3:4], 50, axis=0), RING, SIGMA)
    assert (stats.captured, stats.high_quality) == (1, 1.0)
    assert stats.reverse_kl == pytest.approx(math.log(8))
    assert stats.counts.tolist() == [0, 0, 0, 50, 0, 0, 0, 0]


def test_half_the_samples_far_away():
    samples = np.vstack([np.repeat(RING, 5, axis=0), np.full((40, 2), 10.0)])
    stats = mode_metrics(samples, RING, SIGMA)
    assert stats.high_quality == 0.5 and stats.captured == 8 and stats.counts.sum() == 40


def test_three_sigma_boundary():
    direction = np.array([math.cos(0.3), math.sin(0.3)])
    samples = np.array([RING[0] + 2.9 * SIGMA * direction, RING[5] + 3.1 * SIGMA * direction])
    stats = mode_metrics(samples, RING, SIGMA)
    assert stats.counts.tolist() == [1, 0, 0, 0, 0, 0, 0, 0] and stats.high_quality == 0.5
    assert mode_metrics(samples, RING, SIGMA, threshold=3.2).captured == 2


def test_reverse_kl_by_hand():
    modes = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    samples = np.array([[0.1, 0.0], [0.0, -0.2], [0.3, 0.3], [10.0, 0.5]])   # counts [3, 1, 0, 0]
    stats = mode_metrics(samples, modes, sigma=1.0)
    assert stats.counts.tolist() == [3, 1, 0, 0] and stats.captured == 2
    # KL(q || uniform) = 0.75·log(0.75·4) + 0.25·log(0.25·4) = 0.75·log 3
    assert stats.reverse_kl == pytest.approx(0.75 * math.log(3))


def test_no_high_quality_sample():
    stats = mode_metrics(np.full((10, 2), 10.0), RING, SIGMA)
    assert (stats.captured, stats.high_quality, stats.reverse_kl) == (0, 0.0, math.inf)


def test_perfect_ring8_samples():
    assert MODE_SAMPLES == 2500
    stats = mode_metrics(TOYS["ring8"].sample(MODE_SAMPLES, seeded(0)).numpy(), RING, SIGMA)
    assert stats.captured == 8 and stats.high_quality == pytest.approx(RING8_HIGH_QUALITY, abs=0.01)
    big = mode_metrics(TOYS["ring8"].sample(200_000, seeded(1)).numpy(), RING, SIGMA)
    assert big.high_quality == pytest.approx(RING8_HIGH_QUALITY, abs=0.0015)   # ~6 binomial std
    assert big.reverse_kl < 1e-3


def test_perfect_grid25_samples_and_one_dimensional_modes():
    grid = TOYS["grid25"]
    stats = mode_metrics(grid.sample(MODE_SAMPLES, seeded(0)).numpy(), grid.modes, grid.mode_sigma)
    assert stats.captured == stats.total == 25
    tri = TOYS["trimodal-1d"]
    x = tri.sample(50_000, seeded(0)).numpy()[:, 0]          # (N,) is accepted for 1-D modes
    stats = mode_metrics(x, tri.modes, tri.mode_sigma)
    assert stats.captured == 3 and stats.high_quality == pytest.approx(0.9973, abs=0.002)


def test_mode_metrics_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="samples"):
        mode_metrics(np.zeros((5, 3)), RING, SIGMA)
    with pytest.raises(ValueError, match="sigma"):
        mode_metrics(np.zeros((5, 2)), RING, 0.0)


# ---- CSV ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "x,y\n1,2\n3,4\n-5.5,6e-1\n",
    "1;2\n\n3;4\n-5.5;0.6",
    "1 2\r\n3\t4\r\n  -5.5   0.6  \r\n",
    b"\xef\xbb\xbfx, y\n1, 2\n3, 4\n-5.5, 0.6\n",           # UTF-8 with a byte-order mark
    "# drawn by hand\nx;y\n1;2\n3;4\n-5.5;.6\n",
])
def test_parse_good_two_column_files(text):
    np.testing.assert_array_equal(parse_csv(text), [[1, 2], [3, 4], [-5.5, 0.6]])


def test_parse_good_one_column_files():
    for text in ("x\n1\n2\n3\n", b"1\n2\n3", "value\n1\n\n2\n3\n"):
        np.testing.assert_array_equal(parse_csv(text), [[1], [2], [3]])


@pytest.mark.parametrize("data, message", [
    (b"", "empty"),
    ("  \n\n ", "empty"),
    (b"x,y\n\xff\xfe1,2\n", "UTF-8"),
    (b"\x80\x04\x95\x00\x00cos\nsystem\n", "not text"),    # a pickle is refused, never loaded
    ("x,y\n1,2\nabc,3\n4,5\n", "line 3: 'abc' is not a number"),
    ("1,2\n3,4\n__import__('os').system('ls'),1\n", "line 3"),
    ("1,2\n3,4\n5\n", "ragged: line 3 has 1 value but line 1 has 2"),
    ("1,2,3\n4,5,6\n7,8,9\n", "3 columns"),
    ("1,2\n3,nan\n4,5\n", "line 2: 'nan' is not a finite number"),
    ("1\n-inf\n3\n", "line 2"),
    ("1,2\n3,\n4,5\n", "line 2 has an empty cell"),
    ("x,y\n1,2\n3,4\n", "only 2 rows"),
    ("x,y\n", "only 0 rows"),
    ("x,y\n1\n2\n3\n", "header on line 1 names 2 columns"),
])
def test_parse_bad_files(data, message):
    with pytest.raises(ToyDataError) as caught:
        parse_csv(data)
    assert message.lower() in str(caught.value).lower()


def test_parse_size_limits():
    with pytest.raises(ToyDataError, match="too large"):
        parse_csv("1,2\n" * 100, max_bytes=100)
    assert parse_csv("1,2\n" * 25, max_bytes=100).shape == (25, 2)
    with pytest.raises(ToyDataError, match="more than 100,000 rows"):
        parse_csv("1\n" * 100_001)
    assert parse_csv("1\n" * 100_000).shape == (100_000, 1)


@pytest.mark.parametrize("name", ["ring8", "gaussian-1d"])
def test_csv_round_trip(name):
    x = TOYS[name].sample(300, seeded(0)).numpy()
    text = to_csv(x)
    assert text.splitlines()[0] == ("x,y" if x.shape[1] == 2 else "x") and len(text.splitlines()) == 301
    np.testing.assert_array_equal(parse_csv(text).astype(np.float32), x)     # float32 values come back exactly


def test_to_csv_headers():
    assert to_csv(np.arange(3.0)) == "x\n0\n1\n2\n"
    assert to_csv(np.ones((3, 3))).splitlines()[0] == "x1,x2,x3"


# ---- the user's own points ---------------------------------------------------------------------------------------

POINTS = np.array([[0.1, 0.2], [0.5, 0.9], [0.8, 0.3], [0.4, 0.4], [0.9, 0.95]])


def test_from_points_samples_near_the_points():
    toy = from_points(POINTS, noise=0.02)
    assert isinstance(toy, ToyDistribution) and toy.dim == 2 and toy.name == "drawn"
    x = toy.sample(5000, seeded(0)).numpy().astype(float)
    dist = np.linalg.norm(x[:, None] - POINTS[None], axis=-1)          # (5000, 5)
    assert dist.min(axis=1).max() <= 5 * 0.02
    counts = np.bincount(dist.argmin(axis=1), minlength=5)
    assert np.abs(counts - 1000).max() <= 4 * math.sqrt(5000 * 0.2 * 0.8)
    np.testing.assert_allclose((x - POINTS[dist.argmin(axis=1)]).std(axis=0), 0.02, rtol=0.05)
    assert torch.equal(toy.sample(100, seeded(4)), toy.sample(100, seeded(4)))
    assert np.all(inside(POINTS, toy.extent))


def test_from_points_exact_copies_and_one_dimension():
    points = POINTS.copy()
    toy = from_points(points, noise=0.0)
    points[:] = 100.0                               # the toy kept its own copy
    x = toy.sample(200, seeded(0)).numpy()
    assert {tuple(r) for r in x.tolist()} <= {tuple(r) for r in POINTS.astype(np.float32).tolist()}
    line = from_points([1.0, 2.0, 4.0], noise=0.1)
    assert line.dim == 1 and line.sample(10, seeded(0)).shape == (10, 1)
    same = from_points(np.ones((3, 2)), noise=0.0)   # identical points still get a plot range
    assert all(hi - lo > 0 for lo, hi in same.extent)


@pytest.mark.parametrize("points, message", [
    (np.zeros((2, 2)), "at least 3"),
    (np.zeros((100_001, 1)), "100,000"),
    (np.array([[0.0, 1.0], [np.nan, 1.0], [2.0, 2.0]]), "Point 2"),
    (np.array([[0.0, 1.0], [1.0, np.inf], [2.0, 2.0]]), "finite"),
    (np.zeros((5, 3)), "1 or 2 coordinates"),
    (np.zeros((5, 2, 2)), "1 or 2 coordinates"),
    ([["a", "b"], ["c", "d"], ["e", "f"]], "numbers"),
])
def test_from_points_rejects_bad_points(points, message):
    with pytest.raises(ToyDataError, match=message):
        from_points(points)


def test_from_points_rejects_bad_noise():
    with pytest.raises(ToyDataError, match="noise"):
        from_points(POINTS, noise=-0.1)
