"""ganplay.diagnose: hand-made histories for each failure it names, and a healthy run that draws no finding."""
import numpy as np
import pytest

from ganplay.diagnose import WINDOW, diagnose


def history(n=200, d_loss=1.2, g_loss=0.9, d_real=0.6, d_fake=0.4, noise=0.05, seed=0):
    """A run of n recorded steps; each metric a constant (or an array) plus a little batch noise."""
    rng = np.random.default_rng(seed)
    cols = {"step": list(range(1, n + 1))}
    for key, value in (("d_loss", d_loss), ("g_loss", g_loss), ("d_real", d_real), ("d_fake", d_fake)):
        base = np.broadcast_to(np.asarray(value, dtype=float), (n,))
        jitter = noise * rng.standard_normal(n)
        if key in ("d_real", "d_fake"):
            cols[key] = list(np.clip(base + jitter, 0.0, 1.0))
        else:
            cols[key] = list(base + jitter)
    return cols


def coverage(histogram, confident, steps=(400, 600)):
    """Two probes that both read `histogram` with `confident` (a collapse must last two probes)."""
    present = sum(share >= 0.01 for share in histogram)
    return {"step": list(steps), "classes_present": [present, present], "confident_fraction": [confident] * 2,
            "histogram": histogram}


BALANCED = [0.1] * 10


def test_a_healthy_run_has_no_finding():
    assert diagnose(history(), "nonsaturating", (2e-3, 2e-3), coverage(BALANCED, 0.85)) == []
    assert diagnose(history(), "minimax", (2e-4, 2e-4)) == []


def test_d_has_won_under_minimax_names_the_saturation_and_the_rates_in_use():
    won = history(d_loss=0.001, g_loss=-0.0005, d_real=0.999, d_fake=0.0005, noise=0.0005)
    [f] = diagnose(won, "minimax", (2e-3, 0.5))
    assert f.kind == "d_won" and f.severity == "error" and f.theory
    assert "G 0.002, D 0.5" in f.sentence                       # the rates passed in, not the preset's
    assert "D(x) = 0.999" in f.sentence and "last 50 recorded steps" in f.sentence and "minimax loss saturates" in f.sentence
    assert "non-saturating loss" in f.suggestion and "lower D's learning rate from 0.5 to 0.002" in f.suggestion


def test_d_has_won_with_a_huge_g_rate_says_lower_g_and_needs_a_full_window():
    won = history(d_real=0.995, d_fake=0.004, noise=0.001)
    [f] = diagnose(won, "nonsaturating", (10.0, 2e-3))
    assert not f.theory and "lower G's learning rate from 10 to about 0.0002" in f.suggestion
    assert "non-saturating" not in f.suggestion                 # it already is
    short = {k: v[:WINDOW - 1] for k, v in won.items()}
    assert diagnose(short, "nonsaturating", (10.0, 2e-3)) == []  # too few steps to judge


def test_d_has_won_needs_both_sides_and_a_probability_loss():
    assert diagnose(history(d_real=0.995, d_fake=0.05, noise=0.001), "minimax", (2e-4, 2e-4)) == []
    assert diagnose(history(d_real=0.995, d_fake=0.004, noise=0.001), "wgan-gp", (2e-4, 2e-4)) == []


def test_exploding_losses_by_growth_and_by_bound():
    growing = history(g_loss=np.geomspace(1.0, 5e3, 200), noise=0.0)
    [f] = diagnose(growing, "least-squares", (0.5, 0.1))
    assert f.kind == "exploding" and "G's loss grew" in f.sentence and "G 0.5, D 0.1" in f.sentence
    assert "G 0.05 / D 0.01" in f.suggestion
    spike = history()
    spike["d_loss"][-3] = 2e5
    [f] = diagnose(spike, "nonsaturating", (2e-4, 2e-4))
    assert f.kind == "exploding" and "D's loss has reached 2e+05" in f.sentence
    # a hundredfold growth among small numbers is not an explosion
    assert diagnose(history(g_loss=np.geomspace(0.01, 1.5, 200), noise=0.0), "least-squares", (2e-4, 2e-4)) == []


def test_collapsed_to_a_few_digits_when_confident():
    few = [0, 0.7, 0, 0, 0, 0, 0, 0.3, 0, 0]
    [f] = diagnose(history(), "nonsaturating", (2e-3, 1e-3), coverage(few, 0.6))
    assert f.kind == "collapsed" and "collapsed to 2 of the 10 digits (mostly 1, 7)" in f.sentence
    assert "60%" in f.sentence and "G 0.002, D 0.001" in f.sentence and "to 0.001" in f.suggestion
    # early noise lands in few classes too, but the judge is not confident about it: no finding
    assert diagnose(history(), "nonsaturating", (2e-3, 1e-3), coverage(few, 0.05)) == []
    assert diagnose(history(), "nonsaturating", (2e-3, 1e-3), coverage([0.25] * 4 + [0] * 6, 0.9)) == []
    # an untrained G's first blobs can read as one confident digit: not a collapse before MIN_COLLAPSE_STEP ...
    assert diagnose(history(), "nonsaturating", (2e-3, 1e-3), coverage([1.0] + [0] * 9, 1.0, (10, 19))) == []
    # ... nor when only the last probe shows it
    once = coverage(few, 0.6)
    once["classes_present"][0], once["confident_fraction"][0] = 10, 0.6
    assert diagnose(history(), "nonsaturating", (2e-3, 1e-3), once) == []


def test_d_winning_overrides_collapse_and_rates_must_be_numbers():
    won = history(d_real=0.999, d_fake=0.001, noise=0.0005)
    found = diagnose(won, "minimax", (2e-4, 2e-4), coverage([1.0] + [0] * 9, 0.9))
    assert [f.kind for f in found] == ["d_won"]          # not "collapsed": G's few digits fool nobody
    spike = history()
    spike["g_loss"][-1] = 5e4
    found = diagnose(spike, "nonsaturating", (2e-4, 2e-4), coverage([1.0] + [0] * 9, 0.9))
    assert [f.kind for f in found] == ["exploding", "collapsed"]   # warnings, in a fixed order
    with pytest.raises(ValueError):
        diagnose(won, "minimax", (float("nan"), 2e-4))


def test_a_real_minimax_run_with_a_fast_discriminator_is_told_d_has_won(mnist):
    """The issue's silent failure, for real: `lecture` with the minimax loss and D's learning rate 25 times G's.
    D wins within about a hundred steps; the diagnosis names it with the rates the run is using now."""
    from ganplay.live import TrainingRun
    from ganplay.presets import preset

    config = preset("lecture").replace(**{"train.batch_size": 16, "train.loss": "minimax", "train.lr_d": 0.05})
    run = TrainingRun(config, mnist, max_steps=300, device="cpu")
    run.set_hyperparameters(lr_g=1e-3)          # changed before the start: the finding must quote 0.001, not 0.003
    try:
        run.start()
        assert run.wait_until(lambda s: s.step >= 300, timeout=300)
        snap = run.snapshot()
    finally:
        run.stop()
        run.join(60)
    assert snap.learning_rates == (1e-3, 0.05)
    findings = diagnose(snap.history, config.train.loss, snap.learning_rates)
    assert [f.kind for f in findings] == ["d_won"]
    assert "G 0.001, D 0.05" in findings[0].sentence and "minimax loss saturates" in findings[0].sentence
    assert "lower D's learning rate from 0.05 to 0.001" in findings[0].suggestion
