"""The report's numeric and model evidence: each check returns an :class:`Evidence`.

Monte Carlo checks state their false-failure probability (``FAILURE_PROB`` per check, the
tolerance a z-quantile times the standard error); quadrature checks compare within a stated
multiple of QUADPACK's error estimate. Model checks train the tiny models of ``models/`` on the
embedded defaults and compare them with the derived closed forms. Every formula comes from
``derivations`` through ``numerics.bridge``.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from report.page import Evidence

FAILURE_PROB = 1e-6  # false-failure probability of each statistical check of the report
QUADRATURE_SAFETY = 10.0  # a quadrature agrees when within this many error estimates (+1e-9)

# (μ1, σ1, μ2, σ2): a spread of Gaussian pairs, including equal variances (part 1.h)
KL_CASES = ((0.0, 1.0, 0.0, 1.0), (0.5, 0.8, -0.3, 1.4), (-1.0, 2.0, 1.0, 0.7), (0.3, 1.2, -0.4, 1.2))


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(figure)
    return buffer.getvalue()


def _timed(part: str, claim: str, body: Callable[[], tuple[str, bool, list, bytes | None]]) -> Evidence:
    start = time.perf_counter()
    check, ok, table, figure = body()
    return Evidence(part, claim, check, ok, time.perf_counter() - start, table=table,
                    figure_png=figure)


# --------------------------------------------------------------------------------------------
# closed forms against Monte Carlo and quadrature


def kl_by_monte_carlo(n: int = 200_000, seed: int = 0) -> Evidence:
    """KL_GAUSSIAN against E_q[log q − log p] sampled from q."""
    from derivations.gaussian import GAUSSIAN_LOG_DENSITY
    from derivations.kl import KL_GAUSSIAN
    from numerics.bridge import to_numpy
    from numerics.estimates import Estimate
    from numerics.tolerance import check_close

    log_density, kl = to_numpy(GAUSSIAN_LOG_DENSITY), to_numpy(KL_GAUSSIAN)

    def body():
        rng = np.random.default_rng(seed)
        rows, ok = [], True
        for mu_1, sigma_1, mu_2, sigma_2 in KL_CASES:
            x = rng.normal(mu_1, sigma_1, n)
            estimate = Estimate.from_samples(log_density(x, mu_1, sigma_1) - log_density(x, mu_2, sigma_2))
            closed = float(kl(mu_1, sigma_1, mu_2, sigma_2))
            result = check_close(estimate, closed, failure_prob=FAILURE_PROB, n_assertions=len(KL_CASES))
            ok &= result.passed
            rows.append({"q": f"N({mu_1}, {sigma_1}²)", "p": f"N({mu_2}, {sigma_2}²)",
                         "closed form": f"{closed:.5f}", "Monte Carlo": f"{estimate.mean:.5f}",
                         "standard error": f"{estimate.standard_error:.2e}",
                         "tolerance": f"{result.threshold:.2e}", "ok": "✓" if result.passed else "✗"})
        return (f"{len(KL_CASES)} pairs, n = {n:,} draws each; z-test, false-failure "
                f"probability {FAILURE_PROB:g} in all"), ok, rows, None

    return _timed("1.d", "Gaussian KL equals its Monte Carlo estimate", body)


def kl_by_quadrature() -> Evidence:
    """KL_GAUSSIAN and KL_EQUAL_VARIANCE against SciPy quadrature of the log-ratio."""
    from derivations.gaussian import GAUSSIAN_LOG_DENSITY
    from derivations.kl import KL_EQUAL_VARIANCE, KL_GAUSSIAN
    from numerics.bridge import to_numpy
    from numerics.quadrature import kl_divergence

    log_density, kl, equal = (to_numpy(f) for f in (GAUSSIAN_LOG_DENSITY, KL_GAUSSIAN, KL_EQUAL_VARIANCE))

    def body():
        rows, ok = [], True
        for mu_1, sigma_1, mu_2, sigma_2 in KL_CASES:
            numeric = kl_divergence(log_p=lambda x: log_density(x, mu_1, sigma_1),
                                    log_q=lambda x: log_density(x, mu_2, sigma_2), points=[mu_1, mu_2])
            closed = float(kl(mu_1, sigma_1, mu_2, sigma_2))
            if sigma_1 == sigma_2:
                closed_1h = float(equal(mu_1, mu_2, sigma_1))
                ok &= abs(closed_1h - closed) <= 1e-12 * max(1.0, closed)
            agrees = abs(numeric.value - closed) <= QUADRATURE_SAFETY * numeric.error + 1e-9
            ok &= agrees
            rows.append({"q": f"N({mu_1}, {sigma_1}²)", "p": f"N({mu_2}, {sigma_2}²)",
                         "closed form": f"{closed:.10f}", "quadrature": f"{numeric.value:.10f}",
                         "error estimate": f"{numeric.error:.1e}", "ok": "✓" if agrees else "✗"})
        return ("QUADPACK on the log-ratio; agreement within "
                f"{QUADRATURE_SAFETY:g} error estimates + 1e-9"), ok, rows, None

    return _timed("1.h", "Gaussian KL equals quadrature of the log-ratio", body)


def gan_value_by_quadrature() -> Evidence:
    """∫ V(D*, G) dx (from GAN_VALUE_AT_D_STAR) against −log 4 + 2·JSD by quadrature."""
    from derivations.gan import GAN_VALUE_AT_D_STAR
    from derivations.gaussian import GAUSSIAN_LOG_DENSITY
    from numerics.bridge import to_numpy
    from numerics.quadrature import integrate_1d, js_divergence

    value, log_density = to_numpy(GAN_VALUE_AT_D_STAR), to_numpy(GAUSSIAN_LOG_DENSITY)
    cases = ((0.0, 1.0, 0.0, 1.0), (0.0, 1.0, 1.5, 0.6), (-1.0, 0.5, 2.0, 2.0))

    def body():
        rows, ok = [], True
        for m1, s1, m2, s2 in cases:
            p = lambda x: np.exp(log_density(x, m1, s1))  # noqa: E731
            q = lambda x: np.exp(log_density(x, m2, s2))  # noqa: E731
            support = (min(m1, m2) - 12 * max(s1, s2), max(m1, m2) + 12 * max(s1, s2))
            integral = integrate_1d(lambda x: _where_both_positive(value, p(x), q(x)), support,
                                    points=[m1, m2])
            jsd = js_divergence(log_p=lambda x: log_density(x, m1, s1),
                                log_q=lambda x: log_density(x, m2, s2), points=[m1, m2])
            target = -np.log(4) + 2 * jsd.value
            agrees = abs(integral.value - target) <= QUADRATURE_SAFETY * (integral.error + 2 * jsd.error) + 1e-9
            ok &= agrees
            rows.append({"p_data": f"N({m1}, {s1}²)", "p_G": f"N({m2}, {s2}²)",
                         "∫ V(D*) dx": f"{integral.value:.9f}", "−log 4 + 2 JSD": f"{target:.9f}",
                         "JSD": f"{jsd.value:.6f}", "ok": "✓" if agrees else "✗"})
        return "the derived integrand at D* integrated by QUADPACK against the JSD form", ok, rows, None

    return _timed("3.d", "the GAN objective at D* is −log 4 + 2·JSD", body)


def _where_both_positive(integrand: Callable, p: Any, q: Any) -> Any:
    """The integrand at D*, with its limit 0 where a density underflows (t log t → 0)."""
    if p > 0 and q > 0:
        return integrand(p, q)
    return 0.0


def ddpm_marginal_by_simulation(n: int = 100_000, seed: int = 0) -> Evidence:
    """DDPM_MARGINAL_MEAN/VARIANCE against a simulated forward chain."""
    from derivations.diffusion import DDPM_MARGINAL_MEAN, DDPM_MARGINAL_VARIANCE
    from numerics.bridge import to_numpy
    from numerics.estimates import Estimate
    from numerics.tolerance import check_close

    mean, variance = to_numpy(DDPM_MARGINAL_MEAN), to_numpy(DDPM_MARGINAL_VARIANCE)

    def body():
        rng = np.random.default_rng(seed)
        beta = np.linspace(1e-3, 0.2, 10)
        x0 = 1.5
        x = np.full(n, x0)
        for b in beta:
            x = np.sqrt(1 - b) * x + np.sqrt(b) * rng.standard_normal(n)
        m, v = float(mean(x0, beta)), float(variance(beta))
        first = check_close(Estimate.from_samples(x), m, failure_prob=FAILURE_PROB, n_assertions=2)
        second = check_close(Estimate.from_samples((x - m) ** 2), v, failure_prob=FAILURE_PROB, n_assertions=2)
        rows = [{"moment": "mean √ᾱ x₀", "closed form": f"{m:.5f}", "simulation": f"{x.mean():.5f}",
                 "tolerance": f"{first.threshold:.1e}"},
                {"moment": "variance 1 − ᾱ", "closed form": f"{v:.5f}",
                 "simulation": f"{((x - m) ** 2).mean():.5f}", "tolerance": f"{second.threshold:.1e}"}]
        return (f"10 steps, n = {n:,} chains; z-tests, false-failure probability {FAILURE_PROB:g}",
                first.passed and second.passed, rows, None)

    return _timed("4", "the DDPM forward marginal is N(√ᾱ x₀, 1 − ᾱ)", body)


# --------------------------------------------------------------------------------------------
# the VAE of Question 2


def vae_checks(*, mnist_dir: str | None) -> list[tuple[str, Callable[[], Evidence]]]:
    """Train the VAE once; then its bound checks and the three figures of 2.e."""
    state: dict[str, Any] = {}

    def trained():
        if "result" not in state:
            from models import vae
            from models.data import load_digits_binarized, load_mnist

            data = load_mnist(mnist_dir) if mnist_dir else load_digits_binarized()
            config = vae.VAEConfig()  # 200 epochs: about 5 s on one thread
            state["data"], state["result"] = data, vae.train(config, seed=0, data=data, progress=False)
        return state["result"], state["data"]

    def bounds():
        from models import vae
        from numerics.estimates import Estimate
        from numerics.tolerance import tolerance

        result, data = trained()
        x = data.test_x[:100]
        log_px = vae.log_marginal_likelihood(result.model, x)
        elbo, elbo_error = vae.exact_elbo(result.model, x)
        iwae = {k: vae.iwae(result.model, x, k).numpy() for k in (1, 10, 100)}
        test_elbo = float(np.mean(vae.exact_elbo(result.model, data.test_x)[0]))
        lp, el = float(np.mean(log_px.value)), float(np.mean(elbo))
        slack = float(np.max(log_px.error) + np.max(elbo_error))
        ok = bool(np.all(log_px.value + log_px.error >= elbo - elbo_error))  # exact: log p(x) ≥ ELBO
        for values in iwae.values():  # E[IWAE_K] ≤ log p(x): a one-sided z-bound over the images
            excess = Estimate.from_samples(values - log_px.value)
            ok &= excess.mean <= tolerance(excess.standard_error, FAILURE_PROB, len(iwae)) + slack
        ok &= -test_elbo <= 21.0 or mnist_dir is not None
        iwae = {k: float(v.mean()) for k, v in iwae.items()}
        rows = [{"quantity": "training", "value": f"{result.epochs} epochs, {result.seconds:.1f} s"},
                {"quantity": "test −ELBO (nats, exact in z)", "value": f"{-test_elbo:.3f} (target ≤ 21)"},
                {"quantity": "log p(x) by 2-D quadrature", "value": f"{lp:.4f} ± {slack:.1e}"},
                *({"quantity": f"IWAE_{k}", "value": f"{v:.4f}"} for k, v in iwae.items()),
                {"quantity": "ELBO", "value": f"{el:.4f}"},
                {"quantity": "gap with q := N(0, I) (1.f)",
                 "value": f"{lp - float(np.mean(log_px.prior_elbo)):.3f} vs {lp - el:.3f} trained"}]
        return "log p(x) ≥ ELBO per image (quadrature), E[IWAE_K] ≤ log p(x) (z-bound, false-failure probability 1e-6); test −ELBO ≤ 21 nats", ok, rows, None

    def figure(kind: str):
        from models import figures_vae

        result, data = trained()
        if kind == "2.e.i":
            fig = figures_vae.prior_samples_figure(result.model, n=10)
        elif kind == "2.e.ii":
            fig = figures_vae.latent_means_figure(result.model, data)
        else:
            fig = figures_vae.interpolation_figure(result.model, data)
        return f"figure {kind}", True, [], _png(fig)

    claims = {"2.e.i": "prior samples: decoder probabilities beside Bernoulli samples",
              "2.e.ii": "encoder means of the training set, coloured by label",
              "2.e.iii": "interpolations z_α = α μ_a + (1 − α) μ_b, α = 0, 0.1, …, 1"}
    checks = [("VAE bounds", lambda: _timed("1.c", "VAE: log p(x) ≥ IWAE ≥ ELBO, trained on the digits", bounds))]
    for part, claim in claims.items():
        checks.append((f"figure {part}", lambda part=part, claim=claim: _timed(part, claim, lambda: figure(part))))
    return checks


def _png_file(path: Any) -> bytes:
    from pathlib import Path

    return Path(path).read_bytes()


def gan_checks(*, seed: int = 0) -> list[tuple[str, Callable[[], Evidence]]]:
    """Question 3: discriminators trained against fixed generators land on D*; a full GAN
    drives the JSD down. Each model is trained once and shared with the figure."""
    state: dict[str, Any] = {}

    def trained(name: str) -> Any:
        if name not in state:
            from models.gan import TWO_D_CONFIG, DiscriminatorConfig, GANConfig, train_discriminator, train_gan

            state[name] = {
                "1-D": lambda: train_discriminator(DiscriminatorConfig(), seed=seed, progress=False),
                "2-D": lambda: train_discriminator(TWO_D_CONFIG, seed=seed + 1, progress=False),
                "GAN": lambda: train_gan(GANConfig(), seed=seed + 2, progress=False),
            }[name]()
        return state[name]

    def discriminator(name: str):
        from models.gan import optimal_value, sup_error_on_region

        result = trained(name)
        error = sup_error_on_region(result)
        config = result.config
        rows = [{"quantity": "training (CPU)", "value": f"{result.cpu_seconds:.2f} s"},
                {"quantity": "sup |D − D*| where (p_data + p_G)/2 ≥ 0.05", "value": f"{error:.4f} (≤ 0.02)"},
                {"quantity": "V(D*, G) = −log 4 + 2 JSD",
                 "value": f"{optimal_value(config.data, config.generator):.6f}"}]
        figure = None
        if name == "1-D":
            import tempfile

            from models.figures_gan import question3_figure

            with tempfile.TemporaryDirectory() as folder:
                figure = _png_file(question3_figure(folder, seed=seed, one_d=result, two_d=trained("2-D"),
                                                    gan=trained("GAN"), progress=False))
        return f"trained {name} D against D* = p_data/(p_data + p_G) on a grid", error <= 0.02, rows, figure

    def full_gan():
        result = trained("GAN")
        first, last = result.jsd[0], result.jsd[-1]
        rows = [{"step": str(step), "JSD(p_data ‖ p_G)": f"{value:.5f}"}
                for step, value in zip(result.recorded_steps, result.jsd)]
        return (f"JSD by quadrature falls from {first:.4f} to {last:.5f} during training",
                last < first / 10, rows, None)

    return [(f"GAN discriminator {name}",
             lambda name=name: _timed("3.c", f"the trained {name} discriminator lands on D*",
                                      lambda: discriminator(name)))
            for name in ("1-D", "2-D")] + \
        [("full GAN", lambda: _timed("3.d", "a full GAN drives the JSD to the data down", full_gan))]


def score_checks(*, quick: bool, seed: int = 0) -> list[tuple[str, Callable[[], Evidence]]]:
    """Question 4: the learned score against the exact noised-mixture score; the figures."""
    state: dict[str, Any] = {}

    def field():
        from models.score import ScoreConfig, question4_mixture, relative_mse, train
        from numerics.tolerance import z_quantile

        mixture = question4_mixture()
        result = train(ScoreConfig(), mixture, seed=seed, progress=False)
        state["mixture"] = result
        rng = np.random.default_rng(seed)
        sigmas = (0.1, 0.3, 1.0, 3.0)
        z = z_quantile(FAILURE_PROB, len(sigmas))
        rows, ok = [], True
        for sigma in sigmas:
            estimate = relative_mse(result.score, mixture, sigma, 20_000, rng)
            upper = estimate.mean + z * estimate.standard_error
            ok &= upper <= 0.05
            rows.append({"σ": f"{sigma:g}", "relative MSE": f"{estimate.mean:.4f}",
                         "upper bound (z)": f"{upper:.4f}", "target": "≤ 0.05"})
        return "relative MSE of the learned score against the derived noised-mixture score", ok, rows, None

    def figures():
        import tempfile

        from models.figures_score import question4_figures, question4_panels

        given = {"mixture": state["mixture"]} if "mixture" in state else None
        panels = question4_panels(seed=seed, progress=False, results=given)
        with tempfile.TemporaryDirectory() as folder:
            paths = question4_figures(folder, panels=panels)
            state["figures"] = {part: _png_file(path) for part, path in paths.items()}
        return "figures 4.b and 4.c on the mixture and on the CS446 point cloud", True, [], state["figures"]["4.b"]

    def samples():
        if "figures" not in state:
            figures()
        return "Langevin samples over the data", True, [], state["figures"]["4.c"]

    def langevin_exact():
        import torch

        from models.samplers import COURSE_SETTINGS, EXACT, check_samples, sample_from_noise
        from models.score import ScoreConfig, mixture_score, noised_mixture, question4_mixture

        mixture, ladder, n = question4_mixture(), ScoreConfig().sigmas, 5000
        samples = sample_from_noise(mixture_score(mixture), ladder, n,
                                    generator=torch.Generator().manual_seed(seed))
        rng = np.random.default_rng(seed)
        noised = noised_mixture(mixture, float(ladder[-1]))
        reference, large = noised.sample(n, rng)[0], noised.sample(1_000_000, rng)[0]
        result = check_samples(samples, reference, large, mixture.means, failure_prob=FAILURE_PROB,
                               rng=rng, allowance=EXACT)
        return (f"annealed Langevin (η = {COURSE_SETTINGS.eta:g}, {COURSE_SETTINGS.steps_per_level} "
                f"steps per level) with the derived score; {result.summary()}"), result.passed, [], None

    full = [("Langevin with the exact score",
             lambda: _timed("4.c", "annealed Langevin with the exact score samples p_σ", langevin_exact))]
    return ([] if quick else full) + [
            ("score field", lambda: _timed("4.b", "the learned score matches the exact score", field)),
            ("figure 4.b", lambda: _timed("4.b", "quiver of the learned score at σ = 0.1", figures)),
            ("figure 4.c", lambda: _timed("4.c", "annealed Langevin samples over the data", samples))]


def checks(*, quick: bool, mnist_dir: str | None) -> list[tuple[str, Callable[[], Evidence]]]:
    """Every evidence check of the report, in running order."""
    numeric = [
        ("KL by Monte Carlo", kl_by_monte_carlo),
        ("KL by quadrature", kl_by_quadrature),
        ("GAN value by quadrature", gan_value_by_quadrature),
        ("DDPM marginal by simulation", ddpm_marginal_by_simulation),
    ]
    return numeric + vae_checks(mnist_dir=mnist_dir) + gan_checks() + score_checks(quick=quick)
