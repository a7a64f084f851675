"""The report's numeric evidence passes with the derived closed forms and catches wrong ones.

False-failure budget: the two Monte Carlo checks each spend 1e-6 / their cases (see
report.evidence.FAILURE_PROB); with fixed seeds the runs are reproducible. The twins are off
by a factor of 2 or a sign, hundreds of standard errors away: caught with certainty.
"""

from __future__ import annotations

import sympy as sp

from derivations import diffusion, gan, kl
from report import evidence


def test_the_kl_checks_pass_with_the_derived_kl():
    assert evidence.kl_by_monte_carlo().ok
    assert evidence.kl_by_quadrature().ok


def test_a_kl_with_a_lost_factor_of_two_fails_both_checks(monkeypatch):
    derived = kl.KL_GAUSSIAN
    monkeypatch.setattr(kl, "KL_GAUSSIAN", sp.Lambda(derived.variables, 2 * derived.expr))
    assert not evidence.kl_by_monte_carlo().ok
    assert not evidence.kl_by_quadrature().ok


def test_the_gan_value_at_d_star_integrates_to_the_jsd_form():
    assert evidence.gan_value_by_quadrature().ok


def test_a_gan_value_with_the_wrong_sign_of_the_jsd_term_fails(monkeypatch):
    derived = gan.GAN_VALUE_AT_D_STAR
    p, q = derived.variables
    wrong = -derived.expr - 2 * (p + q) * sp.log(2)  # −(2·JSD integrand) − (p+q) log 2
    monkeypatch.setattr(gan, "GAN_VALUE_AT_D_STAR", sp.Lambda(derived.variables, wrong))
    assert not evidence.gan_value_by_quadrature().ok


def test_the_ddpm_marginal_matches_a_simulated_chain_and_a_square_root_slip_does_not(monkeypatch):
    assert evidence.ddpm_marginal_by_simulation().ok
    derived = diffusion.DDPM_MARGINAL_VARIANCE
    wrong = sp.Lambda(derived.variables, 1 - sp.sqrt(1 - derived.expr))  # √ᾱ for ᾱ
    monkeypatch.setattr(diffusion, "DDPM_MARGINAL_VARIANCE", wrong)
    assert not evidence.ddpm_marginal_by_simulation().ok


QUICK = {"KL by Monte Carlo", "KL by quadrature", "GAN value by quadrature",
         "DDPM marginal by simulation", "GAN discriminator 1-D", "score field"}
LARGEST = {"VAE bounds", "figure 2.e.i", "figure 2.e.ii", "figure 2.e.iii", "GAN discriminator 2-D",
           "full GAN", "figure 3", "Langevin with the exact score", "figure 4.b", "figure 4.c"}


def test_quick_mode_keeps_the_numeric_checks_and_the_smallest_models_only():
    quick = {check.name for check in evidence.checks(quick=True, mnist_dir=None)}
    full = {check.name for check in evidence.checks(quick=False, mnist_dir=None)}
    assert quick == QUICK and full == QUICK | LARGEST


def test_twin_a_quick_mode_that_drops_one_check_is_caught():
    full = [check.name for check in evidence.checks(quick=False, mnist_dir=None)]
    old_quick = {name for name in full if name != "Langevin with the exact score"}  # the old --quick
    assert old_quick != QUICK


def test_each_numeric_check_is_filed_under_the_part_it_carries_and_runs_in_the_main_process():
    for check in evidence.checks(quick=True, mnist_dir=None)[:4]:
        assert check.process is None and check.run().part == check.part


def test_checks_that_share_a_trained_model_share_a_worker_process():
    vae = {"VAE bounds", "figure 2.e.i", "figure 2.e.ii", "figure 2.e.iii"}
    for quick in (True, False):
        for check in evidence.checks(quick=quick, mnist_dir=None)[4:]:
            expected = evidence.VAE_PROCESS if check.name in vae else evidence.GAN_AND_SCORE_PROCESS
            assert check.process == expected, check.name
