"""The report's numeric and model evidence: each check returns an :class:`Evidence`.

Monte Carlo checks state their false-failure probability (``FAILURE_PROB`` per check, the
tolerance a z-quantile times the standard error); quadrature checks compare within a stated
multiple of QUADPACK's error estimate. Model checks train the tiny models of ``models/`` on the
embedded defaults and compare them with the derived closed forms. Every formula comes from
``derivations`` through ``numerics.bridge``.

A :class:`Check` carries its name and homework part with the function that runs it, so a check
that raises is still reported under its own part. A row's time is the wall time of that check
alone; a model trained once for several checks is trained by the first of them, which carries
the training time (the others reuse it). The model checks run on one torch thread each, in
two worker processes (the VAE; the GAN and score models) while the main process verifies the
derivations.

``quick=True`` keeps the numeric cross-checks and the two smallest models, the 1-D
discriminator (3.c) and the mixture score model (4.b), with their full configurations and
tolerances. It leaves out the VAE of Question 2 with its bounds and the figures of 2.e (the
longest training: 3000 Adam steps), the 2-D discriminator, the full GAN and the figure of
Question 3, annealed Langevin with the exact score, and the CS446 score model with the
figures 4.b and 4.c.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from report.page import Evidence

FAILURE_PROB = 1e-6  # false-failure probability of each statistical check of the report
QUADRATURE_SAFETY = 10.0  # a quadrature agrees when within this many error estimates (+1e-9)
# torch threads of the model checks: the models are tiny, so a second thread does not shorten
# a step, it only spins, and the two model processes and the main one share the two cores.
MODEL_THREADS = 1
# The worker processes of the model checks: a model trained once for several checks stays in one
# process; the two take about the same time.
VAE_PROCESS = "VAE"
GAN_AND_SCORE_PROCESS = "GAN and score models"
# What the model checks of both processes import: loaded once before the workers fork, so that
# neither loads it again (torch's optimizers load torch._dynamo on first use, ~1 s each time).
WORKER_IMPORTS = ("torch", "torch._dynamo", "matplotlib.figure", "matplotlib.backends.backend_agg")

# (μ1, σ1, μ2, σ2): a spread of Gaussian pairs, including equal variances (part 1.h)
KL_CASES = ((0.0, 1.0, 0.0, 1.0), (0.5, 0.8, -0.3, 1.4), (-1.0, 2.0, 1.0, 0.7), (0.3, 1.2, -0.4, 1.2))


class Check(NamedTuple):
    """One check of the report: its name, the homework part it answers, how to run it.

    ``process``: the worker process that may run it beside the others (:func:`report.run.
    run_checks` with ``background=True``); checks that share a trained model share a process,
    and their evidence must pickle (no SymPy: an unevaluated expression would come back
    evaluated). ``None``: the main process (the derivations and the numeric checks).
    """

    name: str
    part: str
    run: Callable[[], Evidence]
    process: str | None = None


def _check(name: str, part: str, claim: str,
           body: Callable[[], tuple[str, bool, list, bytes | None]], process: str | None = None) -> Check:
    return Check(name, part, lambda: _timed(part, claim, body), process)


def _model_check(name: str, part: str, claim: str,
                 body: Callable[[], tuple[str, bool, list, bytes | None]], process: str) -> Check:
    """A check that trains or runs a torch model, in worker ``process`` on one thread (see
    ``MODEL_THREADS``)."""

    def on_one_thread() -> tuple[str, bool, list, bytes | None]:
        from models.layers import threads_limited

        with threads_limited(MODEL_THREADS):
            return body()

    return _check(name, part, claim, on_one_thread, process)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    pyplot = sys.modules.get("matplotlib.pyplot")  # the figures are built without pyplot; a
    if pyplot is not None:                         # pyplot figure is released (importing
        pyplot.close(figure)                       # pyplot only for this costs ~0.3 s)
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


def vae_checks(*, mnist_dir: str | None) -> list[Check]:
    """Train the VAE once (in the bounds check, which carries the training time); then its
    bound checks and the three figures of 2.e."""
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
    checks = [_model_check("VAE bounds", "1.c", "VAE: log p(x) ≥ IWAE ≥ ELBO, trained on the digits",
                           bounds, VAE_PROCESS)]
    for part, claim in claims.items():
        checks.append(_model_check(f"figure {part}", part, claim, lambda part=part: figure(part),
                                   VAE_PROCESS))
    return checks


def _png_file(path: Any) -> bytes:
    from pathlib import Path

    return Path(path).read_bytes()


def gan_checks(*, quick: bool = False, seed: int = 0) -> list[Check]:
    """Question 3: discriminators trained against fixed generators land on D*; a full GAN
    drives the JSD down; the figure shows all three. Each model is trained once, by its own
    check; the figure reuses them. ``quick``: the 1-D discriminator only."""
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
        return f"trained {name} D against D* = p_data/(p_data + p_G) on a grid", error <= 0.02, rows, None

    def full_gan():
        result = trained("GAN")
        first, last = result.jsd[0], result.jsd[-1]
        rows = [{"step": str(step), "JSD(p_data ‖ p_G)": f"{value:.5f}"}
                for step, value in zip(result.recorded_steps, result.jsd)]
        return (f"JSD by quadrature falls from {first:.4f} to {last:.5f} during training",
                last < first / 10, rows, None)

    def figure():
        import tempfile

        from models.figures_gan import question3_figure

        with tempfile.TemporaryDirectory() as folder:
            png = _png_file(question3_figure(folder, seed=seed, one_d=trained("1-D"), two_d=trained("2-D"),
                                             gan=trained("GAN"), progress=False))
        return "figure 3", True, [], png

    checks = [_model_check(f"GAN discriminator {name}", "3.c", f"the trained {name} discriminator lands on D*",
                     lambda name=name: discriminator(name), GAN_AND_SCORE_PROCESS)
              for name in (("1-D",) if quick else ("1-D", "2-D"))]
    if not quick:
        checks += [_model_check("full GAN", "3.d", "a full GAN drives the JSD to the data down", full_gan,
                                GAN_AND_SCORE_PROCESS),
                   _model_check("figure 3", "3.c", "trained discriminators beside D*; the GAN's JSD falls",
                                figure, GAN_AND_SCORE_PROCESS)]
    return checks


def score_checks(*, quick: bool, seed: int = 0) -> list[Check]:
    """Question 4: the learned score against the exact noised-mixture score; the figures.
    The mixture model is trained by the score-field check; the CS446 model and the samples of
    both by the figure 4.b check. ``quick``: the score field only."""
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

    process = GAN_AND_SCORE_PROCESS
    checks = [_model_check("score field", "4.b", "the learned score matches the exact score", field, process)]
    if not quick:
        checks = [_model_check("Langevin with the exact score", "4.c",
                               "annealed Langevin with the exact score samples p_σ", langevin_exact, process),
                  *checks,
                  _model_check("figure 4.b", "4.b", "quiver of the learned score at σ = 0.1", figures, process),
                  _model_check("figure 4.c", "4.c", "annealed Langevin samples over the data", samples, process)]
    return checks


def checks(*, quick: bool, mnist_dir: str | None) -> list[Check]:
    """Every evidence check of the report, in running order (``quick``: see the module)."""
    numeric = [
        Check("KL by Monte Carlo", "1.d", kl_by_monte_carlo),
        Check("KL by quadrature", "1.h", kl_by_quadrature),
        Check("GAN value by quadrature", "3.d", gan_value_by_quadrature),
        Check("DDPM marginal by simulation", "4", ddpm_marginal_by_simulation),
    ]
    vae = [] if quick else vae_checks(mnist_dir=mnist_dir)
    return numeric + vae + gan_checks(quick=quick) + score_checks(quick=quick)
