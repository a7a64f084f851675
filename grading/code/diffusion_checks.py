"""The checks of Question 4's functions (score-based diffusion): the denoising score-matching
loss, one Langevin step, annealed Langevin dynamics.

Every score the student's code calls is the harness's: the derived score of a noised 2-D
Gaussian mixture (``NOISED_MIXTURE_SCORE_2D``), lent through the sandbox's channel.

    probability ≥ 0.999 (and P = 1 − y or a thresholded y always).
  - the DSM loss: R repeated calls with fresh noise give a mean ± standard
    error, z-tested against the exact expectation (Gauss–Hermite quadrature, 30 nodes
    per dimension, error far below the standard error); the feedback states the smallest
    error the test detects with probability ½.
  - ``langevin_step``: with s = the derived noised-mixture score, the residuals
    r = (x′ − LANGEVIN_STEP(x, s, α, 0))/LANGEVIN_STEP(0, 0, α, 1) of n = 4000 points must pass
    the KS test against Φ (8000 values), Σ r·s/‖s‖ must be a plausible N(0, 1) draw (a wrong
    drift) and the coordinates uncorrelated. Power: a noise scale off by a factor outside
    [0.80, 1.25] fails the KS test with probability ≥ 0.999 (√α for √(2α) is 0.71).
  - ``annealed_langevin``: 1000 chains from the student, 1000 from the homework's algorithm
    run here with the derived ``LANGEVIN_STEP``, different starting points drawn from one
    uniform law: a sliced KS two-sample test, a KS test of the squared distances to the
    nearest mode, and a two-sample test of each mode's share (normal approximation of the
    difference of proportions).

Every random property spends ``CheckSettings.failure_prob`` (Bonferroni over its assertions);
the generators are seeded from ``CheckSettings.seed``.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from grading.code.context import (Context, Outcome, expectation_outcome, failure,
                                  hermite_grid, ks_normal, lent_arguments, output_of, success, z_bound)
from grading.code.session import StudentCodeFailed
from grading.code.spec import references

# --------------------------------------------------------------------------------------------
# the mixture behind Question 4


_MIXTURE_WEIGHTS = np.array([0.5, 0.3, 0.2])
_MIXTURE_MEANS = np.array([[-2.5, 0.0], [2.5, 0.5], [0.0, 3.0]])
_MIXTURE_STDS = np.array([0.5, 0.4, 0.6])


def _mixture_score(*args: Any, **arrays: Any) -> dict[str, np.ndarray]:
    """The lent score(x, sigma): the derived score of the noised mixture."""
    if args:  # called directly by the harness
        arrays = {f"a{i}": a for i, a in enumerate(args)}
    x, sigma = lent_arguments(arrays, ("x", "sigma"))
    x = np.asarray(x, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] > 10**6:
        raise ValueError(f"score takes points of shape (n, 2), got {x.shape}")
    if sigma.size == 1:
        sigma = sigma.reshape(())
    elif sigma.size == x.shape[0]:
        sigma = sigma.reshape(-1)
    else:
        raise ValueError(f"sigma must be a number or hold one value per point, got shape "
                         f"{sigma.shape} for {x.shape[0]} points")
    if np.any(~(sigma > 0)):
        raise ValueError("sigma must be positive")
    with np.errstate(all="ignore"):
        value = references().mixture_score(x, _MIXTURE_WEIGHTS, _MIXTURE_MEANS, _MIXTURE_STDS,
                                           sigma)
    return {"r0": value}


def _mixture_samples(rng: np.random.Generator, n: int, sigma: float = 0.0) -> np.ndarray:
    component = rng.choice(len(_MIXTURE_WEIGHTS), size=n, p=_MIXTURE_WEIGHTS)
    spread = np.sqrt(_MIXTURE_STDS[component] ** 2 + sigma**2)[:, None]
    return _MIXTURE_MEANS[component] + spread * rng.standard_normal((n, 2))


# --------------------------------------------------------------------------------------------
# dsm_loss


_DSM_LEVELS = np.array([0.1, 0.3, 1.0])
_DSM_BATCH = 24
_DSM_REPEATS = 200


def _dsm_expectations(x: np.ndarray, sigma: np.ndarray) -> dict[str, float]:
    """E over ε of the homework's loss (and of its known mistakes), by Gauss–Hermite."""
    t, w = hermite_grid(30, 2)
    totals: dict[str, list[float]] = {}
    for point, level in zip(x, sigma):
        noisy = point + level * t
        score = _mixture_score(noisy, np.full(len(t), level))["r0"]
        norms = {  # the definition ½ λ(σ) ‖s(x + σε, σ) + ε/σ‖², λ(σ) = σ², and mutants of it
            "loss": 0.5 * level**2 * np.sum((score + t / level) ** 2, axis=-1),
            "lambda_sigma": 0.5 * level * np.sum((score + t / level) ** 2, axis=-1),
            "lambda_one": 0.5 * np.sum((score + t / level) ** 2, axis=-1),
            "noise_sign": 0.5 * level**2 * np.sum((score - t / level) ** 2, axis=-1),
            "noise_times": 0.5 * level**2 * np.sum((score + t * level) ** 2, axis=-1),
        }
        for key, values in norms.items():
            totals.setdefault(key, []).append(float(np.dot(w, values)))
    return {key: float(np.mean(values)) for key, values in totals.items()}


def _check_dsm(ctx: Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(10))
    x = _mixture_samples(rng, _DSM_BATCH)
    sigma = np.resize(_DSM_LEVELS, _DSM_BATCH)
    cases = [{"args": [{"callback": "score"}, {"array": "x"}, {"array": "sigma"},
                       {"generator": ctx.seed(11)}], "seed": ctx.seed(12),
              "repeat": _DSM_REPEATS}]
    try:
        (case,) = ctx.session.call(ctx.modules, "dsm_loss", cases, {"x": x, "sigma": sigma},
                                   callbacks={"score": _mixture_score})
    except StudentCodeFailed as error:
        return {"dsm_scalar": failure(str(error)), "dsm_expectation": failure(str(error))}
    values, why = output_of(case)
    if values is None:
        return {"dsm_scalar": failure(why), "dsm_expectation": failure(why)}
    if case.shape != ():
        failed = failure(f"returns shape {case.shape}; the loss is a scalar"
                         + (" (one value per example: average over the batch)"
                            if case.shape == (_DSM_BATCH,) else ""))
        return {"dsm_scalar": failed, "dsm_expectation": failed}
    e = _dsm_expectations(x, sigma)
    wrong = (
        ("is missing the ½ in ½ λ(σ) ‖s + ε/σ‖²", 2 * e["loss"]),
        ("has the wrong sign of the noise term: ‖s(x̃, σ) − ε/σ‖² (the target is "
         "∇ log N(x̃; x, σ²) = −ε/σ, so the loss has + ε/σ)", e["noise_sign"]),
        ("weights by λ(σ) = σ instead of σ²", e["lambda_sigma"]),
        ("has no weighting λ(σ) = σ²", e["lambda_one"]),
        ("uses σ ε where ε/σ belongs", e["noise_times"]),
        ("sums over the batch instead of averaging", _DSM_BATCH * e["loss"]),
        ("averages over the two coordinates as well (sum them)", e["loss"] / 2),
    )
    return {"dsm_scalar": success("returns a scalar"),
            "dsm_expectation": expectation_outcome(
                ctx, values, e["loss"], "E_ε[½ σ² ‖s(x + σε, σ) + ε/σ‖²] averaged over the "
                                        "batch (Gauss–Hermite quadrature, the derived "
                                        "noised-mixture score)", wrong)}


# --------------------------------------------------------------------------------------------
# langevin_step


_STEP_POINTS = 4000
_STEP_SIGMA = 0.5
_STEP_ALPHA = 0.05


def _check_langevin_step(ctx: Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(13))
    x = _mixture_samples(rng, _STEP_POINTS, sigma=1.0)
    cases = [{"args": [{"callback": "score"}, {"array": "x"}, {"float": _STEP_SIGMA},
                       {"float": _STEP_ALPHA}, {"generator": ctx.seed(14)}],
              "seed": ctx.seed(15)}]
    try:
        (case,) = ctx.session.call(ctx.modules, "langevin_step", cases, {"x": x},
                                   callbacks={"score": _mixture_score})
    except StudentCodeFailed as error:
        return {"langevin_shape": failure(str(error)), "langevin_law": failure(str(error))}
    out, why = output_of(case, x.shape)
    if out is None:
        return {"langevin_shape": failure(why), "langevin_law": failure(why)}
    shape = (success("returns x's shape (n, 2) and dtype") if case.dtype == "float64" else
             failure(f"returns dtype {case.dtype} for float64 points"))
    r = references()
    score = _mixture_score(x, np.float64(_STEP_SIGMA))["r0"]
    mean = r.langevin_step(x, score, _STEP_ALPHA, 0.0)  # the update with ε = 0
    noise_scale = float(r.langevin_step(0.0, 0.0, _STEP_ALPHA, 1.0))  # ∂ update/∂ε = √(2α)
    residual = (out - mean) / noise_scale
    alpha = ctx.settings.failure_prob
    ks = ks_normal(residual.ravel(), alpha / 3)
    with np.errstate(all="ignore"):
        correlation = float(np.corrcoef(residual[:, 0], residual[:, 1])[0, 1])
    correlation = correlation if math.isfinite(correlation) else 0.0
    bound = z_bound(alpha / 3) / math.sqrt(len(x))
    # given x the residuals are i.i.d. N(0, 1), so Σ r·s/‖s‖ ~ N(0, 1): a wrong drift shows
    drift_z = float(np.sum(residual * score) / math.sqrt(np.sum(score * score)))
    drift_bound = z_bound(alpha / 3)
    if ks.passed and abs(correlation) <= bound and abs(drift_z) <= drift_bound:
        return {"langevin_shape": shape, "langevin_law": success(
            f"the residuals (x′ − x − α s)/√(2α) of {len(x)} points pass the KS test against "
            f"N(0, 1), are uncorrelated with the score (z = {drift_z:.2f}) and between the "
            f"coordinates; false-failure probability {alpha:g}")}
    step = out - x
    drift = float(np.sum(step * score) / np.sum(score * score))  # regression on the score
    spread = float(np.std(step - drift * score))
    hints = []
    for value, feedback in ((-_STEP_ALPHA, "the drift has the wrong sign (x − α s)"),
                            (_STEP_ALPHA / 2, "the drift is α/2 · s (another step-size "
                                              "convention; the homework's is x + α s + √(2α) ε)"),
                            (0.0, "there is no drift term α s(x, σ)"),
                            (2 * _STEP_ALPHA, "the drift is 2α · s")):
        if abs(drift - value) < 0.15 * _STEP_ALPHA:
            hints.append(feedback)
    for value, feedback in ((math.sqrt(_STEP_ALPHA), "the noise is scaled by √α instead of "
                                                     "√(2α)"),
                            (_STEP_ALPHA, "the noise is scaled by α (missing square root of 2α)"),
                            (2 * _STEP_ALPHA, "the noise is scaled by 2α (missing square root)"),
                            (0.0, "there is no noise term √(2α) ε"),
                            (1.0, "the noise ε is not scaled by √(2α)"),
                            (math.sqrt(2 * _STEP_ALPHA) * _STEP_SIGMA, "the noise is "
                                                                      "scaled by σ√(2α)")):
        if abs(spread - value) < 0.08 * max(value, 0.02):
            hints.append(feedback)
    if ks.passed and abs(correlation) > bound:
        hints.append("the coordinates share one ε (shape (n, 1)); each needs its own")
    hint = f" Likely mistake: {'; '.join(hints)}." if hints else ""
    return {"langevin_shape": shape, "langevin_law": failure(
        f"one step does not have the law N(x + α s(x, σ), 2α I).{hint}\nfitted drift "
        f"{drift:.4g}·s (expected α = {_STEP_ALPHA}), noise standard deviation {spread:.4g} "
        f"(expected √(2α) = {noise_scale:.4g}); {ks.message()}; residuals against the score "
        f"z = {drift_z:.2f} (bound {drift_bound:.2f}); correlation of the coordinates "
        f"{correlation:.3f} (bound {bound:.3f})")}


# --------------------------------------------------------------------------------------------
# annealed_langevin


_CHAINS = 1000
_LEVELS = np.geomspace(4.0, 0.1, 8)
_ETA = 0.1 * 0.1**2  # α_L = η: α_i/σ_i² = η/σ_L² = 0.1 at every level
_STEPS = 40
_START_BOX = 8.0


def _reference_sampler(x: np.ndarray, rng: np.random.Generator, *, noise: float = 1.0,
                       scaled: bool = True, order: slice = slice(None),
                       denoise: bool = False) -> np.ndarray:
    """The homework's annealed Langevin dynamics with the derived LANGEVIN_STEP (``noise``,
    ``scaled``, ``order`` and ``denoise`` make the known mistakes)."""
    r = references()
    levels = _LEVELS[order]
    for level in levels:
        step = _ETA * level**2 / _LEVELS[-1] ** 2 if scaled else _ETA
        for _ in range(_STEPS):
            score = _mixture_score(x, np.float64(level))["r0"]
            x = r.langevin_step(x, score, step, noise * rng.standard_normal(x.shape))
    if denoise:
        x = x + levels[-1] ** 2 * _mixture_score(x, np.float64(levels[-1]))["r0"]
    return x


@functools.lru_cache(maxsize=64)
def _ks_threshold(n: int, m: int, failure_prob: float) -> float:
    from numerics.twosample import ks_two_sample_threshold

    return ks_two_sample_threshold(n, m, failure_prob)


def _two_sample(a: np.ndarray, b: np.ndarray, failure_prob: float, seed: int) -> tuple[bool, str]:
    """Three calibrated comparisons, failure_prob split over them (Bonferroni)."""
    from scipy import stats

    from numerics.twosample import nearest_mode_counts, sliced_ks_test

    third = failure_prob / 3
    sliced = sliced_ks_test(a, b, failure_prob=third, rng=np.random.default_rng(seed))
    nearest = lambda p: np.min(  # noqa: E731 - squared distance to the nearest mode
        np.sum((p[:, None, :] - _MIXTURE_MEANS[None]) ** 2, axis=-1), axis=1)
    radial = stats.ks_2samp(nearest(a), nearest(b))
    radial_threshold = _ks_threshold(len(a), len(b), third)
    counts_a = nearest_mode_counts(a, _MIXTURE_MEANS) / len(a)
    counts_b = nearest_mode_counts(b, _MIXTURE_MEANS) / len(b)
    pooled = (counts_a * len(a) + counts_b * len(b)) / (len(a) + len(b))
    se = np.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b))) + 1e-12
    share_bound = z_bound(third, len(_MIXTURE_WEIGHTS))
    share_z = np.abs(counts_a - counts_b) / se
    passed = sliced.passed and radial.statistic <= radial_threshold and \
        bool(np.all(share_z <= share_bound))
    detail = (f"{sliced.message()}; squared distance to the nearest mode: KS {radial.statistic:.3g}"
              f" (threshold {radial_threshold:.3g}); mode shares {np.round(counts_a, 3)} vs "
              f"reference {np.round(counts_b, 3)} (largest |z| {share_z.max():.2f}, bound "
              f"{share_bound:.2f})")
    return passed, detail


def _check_annealed(ctx: Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(16))
    start = rng.uniform(-_START_BOX, _START_BOX, (_CHAINS, 2))
    reference_start = rng.uniform(-_START_BOX, _START_BOX, (_CHAINS, 2))
    cases = [{"args": [{"callback": "score"}, {"array": "x"}, {"array": "sigmas"},
                       {"float": _ETA}, {"int": _STEPS}, {"generator": ctx.seed(17)}],
              "seed": ctx.seed(18)}]
    try:
        (case,) = ctx.session.call(ctx.modules, "annealed_langevin", cases,
                                   {"x": start, "sigmas": _LEVELS},
                                   callbacks={"score": _mixture_score})
    except StudentCodeFailed as error:
        return {"annealed_shape": failure(str(error)), "annealed_law": failure(str(error))}
    out, why = output_of(case, start.shape)
    if out is None:
        return {"annealed_shape": failure(why), "annealed_law": failure(why)}
    shape = (success("returns x's shape (n, 2) and dtype") if case.dtype == "float64" else
             failure(f"returns dtype {case.dtype} for float64 points"))
    alpha = ctx.settings.failure_prob
    reference = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(19)))
    passed, detail = _two_sample(out, reference, alpha, ctx.seed(20))
    if passed:
        return {"annealed_shape": shape, "annealed_law": success(
            f"its {_CHAINS} samples are indistinguishable from a reference run of the "
            f"algorithm (false-failure probability {alpha:g}): {detail}")}
    hint = ""
    for feedback, options in (
            ("the noise is scaled by √α_i instead of √(2α_i)", {"noise": math.sqrt(0.5)}),
            ("the step size is η at every level; it is α_i = η σ_i²/σ_L²", {"scaled": False}),
            ("it runs the levels from the smallest σ to the largest", {"order": slice(None, None,
                                                                                      -1)}),
            ("it adds a final denoising step x + σ_L² s(x, σ_L) (not part of the homework's "
             "algorithm)", {"denoise": True})):
        mutant = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(19)),
                                    **options)
        if np.all(np.isfinite(mutant)) and _two_sample(out, mutant, alpha, ctx.seed(20))[0]:
            hint = f" Likely mistake: {feedback}."
            break
    return {"annealed_shape": shape, "annealed_law": failure(
        f"its samples differ from a reference run of annealed Langevin dynamics.{hint}\n"
        f"{detail}")}


CHECKERS = {
    "dsm_loss": _check_dsm,
    "langevin_step": _check_langevin_step,
    "annealed_langevin": _check_annealed,
}
