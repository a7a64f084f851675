"""Tests of models/gan.py: a trained discriminator against D* = p_data/(p_data + p_G), its value
against −log 4 + 2·JSD, the maximality of D* under perturbations, and a full GAN whose JSD to
the data falls.

Independent routes: D* and V(D*) come from ``derivations.gan`` through the bridges; the JSD is
computed here by quadrature of log-densities (no derivation involved), and the textbook value
−log 4 + 2·JSD (Goodfellow et al. 2014, Theorem 1) is typed in this file.

Statistics: the only random assertions are the two Monte Carlo value checks; the per-file
false-failure budget 1e-6 is split over them (5e-7 each, z ≈ 5.0). Each is a z-bound on an
estimate from n = 200,000 draws of each distribution (se ≈ 1.7e-3): it detects an error in the
value of δ + (z + 1.64)·se ≈ 0.013 nats with probability 0.95, far less than the mutants'
errors (JSD ≈ 0.17–0.28 for a lost factor 2, > 1.5 for a flipped sign).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.gan import (BUGS, TWO_D_CONFIG, DiscriminatorConfig, GANConfig, js_divergence,
                        optimal_discriminator, optimal_value, region_grid, sup_error_on_region,
                        train_discriminator, train_gan, value_by_quadrature, value_estimate)
from numerics.tolerance import z_quantile

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]



FILE_BUDGET = 1e-6
VALUE_ASSERTIONS = 2  # the two Monte Carlo value checks of this file
SUP_TOLERANCE = 0.02  # sup |D − D*| on the region (p_data + p_G)/2 ≥ 0.05 (the target)
REGION = 0.05
TRAINING_SECONDS = 3.0  # CPU seconds of one thread (process time: immune to other processes)
SUBOPTIMALITY = 2e-3  # V(D*) − V(D) allowed for a trained D (measured ≈ 1.5e-4 by quadrature)
VALUE_SAMPLES = 200_000


@pytest.fixture(params=["1-D", "2-D"])
def trained(request, trained_discriminator_1d, trained_discriminator_2d):
    return trained_discriminator_1d if request.param == "1-D" else trained_discriminator_2d


def textbook_value(jsd: float) -> float:
    """−log 4 + 2·JSD(p_data ‖ p_G): Goodfellow et al. (2014), Theorem 1 (typed, on purpose)."""
    return -math.log(4) + 2 * jsd


def _value_bound_holds(estimate, claimed: float) -> bool:
    """V̂ within [claimed − δ − z·se, claimed + z·se]: a trained D cannot beat the optimum."""
    z = z_quantile(FILE_BUDGET, VALUE_ASSERTIONS)
    return claimed - SUBOPTIMALITY - z * estimate.standard_error <= estimate.mean <= \
        claimed + z * estimate.standard_error


# --------------------------------------------------------------------------------------------
# the discriminator against a fixed generator


def test_discriminator_converges_to_d_star_on_the_data_region(trained):
    error = sup_error_on_region(trained, threshold=REGION)
    assert error <= SUP_TOLERANCE, f"sup |D − D*| = {error:.4f} > {SUP_TOLERANCE}"
    assert trained.cpu_seconds <= TRAINING_SECONDS, \
        f"training took {trained.cpu_seconds:.2f} CPU s > {TRAINING_SECONDS} s"


def test_the_sup_check_rejects_d_star_with_its_arguments_swapped(trained):
    """Twin: the trained D against p_G/(p_data + p_G) (D* with swapped arguments) fails."""
    config = trained.config
    swapped = optimal_discriminator(config.generator, config.data)
    grid = region_grid(config.data, config.generator)
    inside = 0.5 * (config.data.density(grid) + config.generator.density(grid)) >= REGION
    error = float(np.max(np.abs(trained.probability(grid) - swapped(grid))[inside]))
    assert error > SUP_TOLERANCE


@pytest.mark.parametrize("bug", BUGS)
def test_a_discriminator_trained_with_a_bug_is_caught(bug):
    """Twin: swapped labels, or log D(G(z)) for log(1 − D(G(z))), miss D* by far."""
    config = DiscriminatorConfig(steps=150, bug=bug, threads=1)
    buggy = train_discriminator(config, seed=0, progress=False)
    assert sup_error_on_region(buggy, threshold=REGION) > SUP_TOLERANCE


def test_training_is_deterministic_under_a_seed():
    config = DiscriminatorConfig(steps=20, threads=1)
    first, second = (train_discriminator(config, seed=7, progress=False) for _ in range(2))
    assert first.losses == second.losses


# --------------------------------------------------------------------------------------------
# the value at the trained discriminator


def test_value_at_d_star_by_quadrature_is_minus_log_4_plus_twice_the_jsd(trained):
    """Deterministic: ∫ GAN_VALUE_AT_D_STAR (derived) = −log 4 + 2 JSD (typed), JSD by quadrature."""
    config = trained.config
    jsd = js_divergence(config.data, config.generator)
    assert optimal_value(config.data, config.generator) == pytest.approx(textbook_value(jsd),
                                                                         abs=1e-8)


def test_value_at_the_trained_discriminator_is_minus_log_4_plus_twice_the_jsd(trained):
    config = trained.config
    jsd = js_divergence(config.data, config.generator)
    estimate = value_estimate(trained.probability, config.data, config.generator,
                              VALUE_SAMPLES, np.random.default_rng(2024))
    assert _value_bound_holds(estimate, textbook_value(jsd)), \
        f"V̂(D) = {estimate} vs −log 4 + 2 JSD = {textbook_value(jsd):.6f} (JSD = {jsd:.6f})"
    # the mutants of the closed form are rejected by the same bound, on the same estimate
    for mutant in (-math.log(4) + jsd, math.log(4) - 2 * jsd, -math.log(2) + 2 * jsd):
        assert not _value_bound_holds(estimate, mutant)


def test_the_value_of_a_buggy_discriminator_falls_outside_the_bound(trained):
    """Twin: D ↦ 1 − D (labels swapped after training) is far below −log 4 + 2 JSD."""
    config = trained.config
    jsd = js_divergence(config.data, config.generator)
    estimate = value_estimate(lambda x: 1.0 - trained.probability(x), config.data,
                              config.generator, 20_000, np.random.default_rng(5))
    assert not _value_bound_holds(estimate, textbook_value(jsd))


def test_quadrature_gap_of_the_trained_discriminator_is_small_and_nonnegative(
        trained_discriminator_1d):
    config = trained_discriminator_1d.config
    gap = optimal_value(config.data, config.generator) - value_by_quadrature(
        trained_discriminator_1d.probability, config.data, config.generator)
    assert -1e-9 <= gap <= SUBOPTIMALITY


# --------------------------------------------------------------------------------------------
# D* maximises V: no perturbation raises the value (Hypothesis)


ONE_D = DiscriminatorConfig()


def _bumped(base, amplitude: float, centre: float, width: float):
    """x ↦ sigmoid(logit base(x) + amplitude · exp(−(x − centre)²/(2 width²))), in (0, 1)."""
    from scipy.special import expit, logit

    def d(x: np.ndarray) -> np.ndarray:
        b = np.clip(base(x), 1e-15, 1 - 1e-15)
        bump = amplitude * np.exp(-((x[..., 0] - centre) ** 2) / (2 * width**2))
        return expit(logit(b) + bump)

    return d


@given(amplitude=st.floats(-3.0, 3.0).filter(lambda a: abs(a) > 1e-3),
       centre=st.floats(-4.0, 4.0), width=st.floats(0.2, 3.0))
def test_no_perturbation_of_d_star_raises_the_value(amplitude, centre, width):
    d_star = optimal_discriminator(ONE_D.data, ONE_D.generator)
    best = value_by_quadrature(d_star, ONE_D.data, ONE_D.generator)
    perturbed = value_by_quadrature(_bumped(d_star, amplitude, centre, width), ONE_D.data,
                                    ONE_D.generator)
    assert perturbed <= best + 1e-9


def test_a_perturbation_raises_the_value_of_a_wrong_discriminator():
    """Twin: for D = p_G/(p_data + p_G) (arguments swapped), a step toward D* raises V, so the
    property above would fail for it."""
    from scipy.special import logit

    wrong = optimal_discriminator(ONE_D.generator, ONE_D.data)
    right = optimal_discriminator(ONE_D.data, ONE_D.generator)

    def stepped(x: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return expit(0.9 * logit(np.clip(wrong(x), 1e-15, 1 - 1e-15))
                     + 0.1 * logit(np.clip(right(x), 1e-15, 1 - 1e-15)))

    assert value_by_quadrature(stepped, ONE_D.data, ONE_D.generator) > \
        value_by_quadrature(wrong, ONE_D.data, ONE_D.generator) + 1e-3


# --------------------------------------------------------------------------------------------
# a full GAN


def _jsd_fell(jsd: list[float]) -> bool:
    """The JSD fell: its final value is below a tenth of its first, and so is the mean of the
    last third of the records."""
    last = jsd[len(jsd) - max(1, len(jsd) // 3):]
    return jsd[-1] <= 0.1 * jsd[0] and float(np.mean(last)) <= 0.1 * jsd[0]


def test_a_full_gan_lowers_the_jsd_to_the_data(trained_gan):
    assert trained_gan.jsd[0] > 0.3  # the generator starts far from the data
    assert _jsd_fell(trained_gan.jsd), f"JSD along training: {np.round(trained_gan.jsd, 5)}"
    # JSD by quadrature of the exact generator density agrees with the textbook Gaussian case
    final = trained_gan.generator.distribution()
    assert js_divergence(trained_gan.config.data, final) == pytest.approx(trained_gan.jsd[-1])


def test_a_gan_whose_generator_does_not_learn_is_caught():
    """Twin: with a zero generator learning rate the JSD stays where it started."""
    config = GANConfig(steps=40, record_every=20, generator_learning_rate=0.0, threads=1)
    frozen = train_gan(config, seed=0, progress=False)
    assert not _jsd_fell(frozen.jsd)


def test_the_two_d_problem_is_the_one_documented():
    assert TWO_D_CONFIG.data.dim == 2
    assert js_divergence(TWO_D_CONFIG.data, TWO_D_CONFIG.generator) == pytest.approx(0.2811, abs=1e-3)
    assert replace(TWO_D_CONFIG, threads=1).threads == 1


# --------------------------------------------------------------------------------------------
# the figure


def test_figure_3_shows_the_trained_discriminator_beside_d_star(
        tmp_path, trained_discriminator_1d, trained_discriminator_2d, trained_gan):
    from models.figures_gan import question3_figure

    path = question3_figure(tmp_path, one_d=trained_discriminator_1d,
                            two_d=trained_discriminator_2d, gan=trained_gan, dpi=60)
    assert path.name == "figure_3.png" and path.stat().st_size > 20_000
    with open(path, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
