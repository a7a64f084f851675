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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from grading.code.context import (Context, Outcome, expectation_outcome, failure,
                                  hermite_grid, ks_normal, lent_arguments,
                                  output_of, respecting_generator, show, success, z_bound)
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
            "noise_over_variance": 0.5 * level**2 * np.sum((score + t / level**2) ** 2,
                                                           axis=-1),
        }
        for key, values in norms.items():
            totals.setdefault(key, []).append(float(np.dot(w, values)))
    return {key: float(np.mean(values)) for key, values in totals.items()}


def _check_dsm(ctx: Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(10))
    x = _mixture_samples(rng, _DSM_BATCH)
    sigma = np.resize(_DSM_LEVELS, _DSM_BATCH)
    dtype = ctx.spec.dtype
    cases = [{"args": ctx.arguments(score={"callback": "score"},
                                    data={"array": "x", "dtype": dtype},
                                    noise_level={"array": "sigma", "dtype": dtype},
                                    generator={"generator": ctx.seed(11)}),
              "seed": ctx.seed(12), "repeat": _DSM_REPEATS}]
    recorder = _ScoreRecorder()
    try:
        (case,) = ctx.call(cases, {"x": x, "sigma": sigma}, callbacks={"score": recorder})
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
    outcome = expectation_outcome(ctx, values, e["loss"], "E_ε[½ σ² ‖s(x + σε, σ) + ε/σ‖²] "
                                  "averaged over the batch (Gauss–Hermite quadrature, the "
                                  "derived noised-mixture score)", wrong)
    return {"dsm_scalar": success("returns a scalar"),
            "dsm_expectation": respecting_generator(
                ctx, _at_the_levels(outcome, recorder, _DSM_LEVELS), cases[0],
                {"x": x, "sigma": sigma}, callbacks={"score": _mixture_score})}


# --------------------------------------------------------------------------------------------
# langevin_step


_STEP_POINTS = 4000
_STEP_SIGMA = 0.5
_STEP_ALPHA = 0.05


def _shape_and_dtype(ctx: Context, case: Any) -> Outcome:
    """The points come back in x's shape (checked before) and an accepted dtype."""
    return (success("returns x's shape (n, 2) and dtype")
            if ctx.spec.accepts_dtype(case.dtype, ctx.spec.dtype) else
            failure(f"returns dtype {case.dtype} for {ctx.spec.dtype} points"))


def _check_langevin_step(ctx: Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(13))
    x = _mixture_samples(rng, _STEP_POINTS, sigma=1.0)
    cases = [{"args": ctx.arguments(score={"callback": "score"},
                                    points={"array": "x", "dtype": ctx.spec.dtype},
                                    noise_level={"float": _STEP_SIGMA},
                                    step_size={"float": _STEP_ALPHA},
                                    generator={"generator": ctx.seed(14)}),
              "seed": ctx.seed(15)}]
    recorder = _ScoreRecorder()
    try:
        (case,) = ctx.call(cases, {"x": x}, callbacks={"score": recorder})
    except StudentCodeFailed as error:
        return {"langevin_shape": failure(str(error)), "langevin_law": failure(str(error))}
    out, why = output_of(case, x.shape)
    if out is None:
        return {"langevin_shape": failure(why), "langevin_law": failure(why)}
    shape = _shape_and_dtype(ctx, case)
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
        return {"langevin_shape": shape, "langevin_law": respecting_generator(ctx, _at_the_levels(
            success(f"the residuals (x′ − x − α s)/√(2α) of {len(x)} points pass the KS test "
                    f"against N(0, 1), are uncorrelated with the score (z = {drift_z:.2f}) and "
                    f"between the coordinates; false-failure probability {alpha:g}"),
            recorder, np.asarray([_STEP_SIGMA])), cases[0], {"x": x},
            callbacks={"score": _mixture_score})}
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
                       denoise: bool = False, power: int = 2, drift: float = 1.0,
                       levels: np.ndarray = _LEVELS, eta: float = _ETA, steps: int = _STEPS
                       ) -> np.ndarray:
    """The homework's annealed Langevin dynamics with the derived LANGEVIN_STEP (``noise``,
    ``scaled``, ``order``, ``denoise``, ``power`` and ``drift`` make the known mistakes)."""
    r = references()
    last = levels[-1]
    levels = levels[order]
    for level in levels:
        step = eta * (level / last) ** power if scaled else eta
        for _ in range(steps):
            score = drift * _mixture_score(x, np.float64(level))["r0"]
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
    dtype = ctx.spec.dtype
    cases = [{"args": ctx.arguments(score={"callback": "score"},
                                    points={"array": "x", "dtype": dtype},
                                    noise_levels={"array": "sigmas", "dtype": dtype},
                                    step_scale={"float": _ETA}, steps={"int": _STEPS},
                                    generator={"generator": ctx.seed(17)}),
              "seed": ctx.seed(18)}]
    # a run that must leave the points where they are: two levels, one step of size ~1e-12
    cases.append({"args": ctx.arguments(score={"callback": "score"},
                                        points={"array": "x", "dtype": dtype},
                                        noise_levels={"array": "after", "dtype": dtype},
                                        step_scale={"float": 1e-12}, steps={"int": 1},
                                        generator={"generator": ctx.seed(41)}),
                  "seed": ctx.seed(42)})
    small = {**cases[0], "args": ctx.arguments(
        score={"callback": "score"}, points={"array": "x_small", "dtype": dtype},
        noise_levels={"array": "sigmas", "dtype": dtype}, step_scale={"float": _ETA},
        steps={"int": 2}, generator={"generator": ctx.seed(43)})}
    recorder = _ScoreRecorder()
    arrays = {"x": start, "sigmas": _LEVELS, "after": np.asarray(_AFTER_LEVELS),
              "x_small": start[:16]}
    try:
        case, after = ctx.call(cases, arrays, callbacks={"score": recorder})
    except StudentCodeFailed as error:
        return {"annealed_shape": failure(str(error)), "annealed_law": failure(str(error))}
    out, why = output_of(case, start.shape)
    if out is None:
        return {"annealed_shape": failure(why), "annealed_law": failure(why)}
    shape = _shape_and_dtype(ctx, case)
    alpha = ctx.settings.failure_prob
    reference = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(19)))
    passed, detail = _two_sample(out, reference, alpha, ctx.seed(20))
    moved, _ = output_of(after, start.shape)
    if passed and moved is not None and np.median(np.abs(moved - start)) > 1e-3:
        return {"annealed_shape": shape, "annealed_law": failure(
            f"it changes the points after the last Langevin step: with two levels and steps "
            f"of size ~1e-12 the points should stay where they start, and they move by "
            f"{np.median(np.abs(moved - start)):.3g} (median). Likely mistake: it adds a final "
            f"denoising step x + σ_L² s(x, σ_L) (not part of the homework's algorithm).")}
    if passed:
        return {"annealed_shape": shape, "annealed_law": respecting_generator(ctx, _at_the_levels(
            success(f"its {_CHAINS} samples are indistinguishable from a reference run of the "
                    f"algorithm (false-failure probability {alpha:g}): {detail}"),
            recorder, np.concatenate([_LEVELS, _AFTER_LEVELS])), small, arrays,
            callbacks={"score": _mixture_score})}
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



# --------------------------------------------------------------------------------------------
# the course's forms: the loss draws σ itself, the sampler starts on its own


def _forms(ctx: Context, meanings: Sequence[str]) -> list[dict[str, str]]:
    """Every combination of the containers the course may pass these arguments in, the
    profile's preferred first (``{meaning: form}``)."""
    combinations: list[dict[str, str]] = [{}]
    for meaning in meanings:
        combinations = [{**c, meaning: form} for c in combinations
                        for form in ctx.spec.form(meaning)]
    return combinations


def _array(name: str, dtype: str, form: str) -> dict[str, Any]:
    return {"array": name, "dtype": dtype, "form": form}


def _first_working(ctx: Context, probes: Sequence[dict[str, Any]], arrays: Mapping[str, Any],
                   callbacks: Mapping[str, Any]) -> tuple[int | None, str]:
    """The first probe case the student's function runs without an error, or why none does."""
    try:
        results = ctx.call(probes, arrays, callbacks=callbacks)
    except StudentCodeFailed as error:
        return None, str(error)
    for index, case in enumerate(results):
        if case.ok:
            return index, ""
    return None, f"raised an error:\n{results[0].error}"


def _at_the_levels(outcome: Outcome, recorder: "_ScoreRecorder",
                   levels: np.ndarray) -> Outcome:
    """The outcome, failed if the lent score was called at a σ other than the given levels
    (σ² for σ, a common slip, named)."""
    if not recorder.sigmas:
        return outcome
    used = np.concatenate(recorder.sigmas)
    known = np.asarray(levels, dtype=np.float64)
    off = ~np.any(np.abs(used[:, None] - known[None, :]) <= 1e-5 * known[None, :], axis=1)
    if not np.any(off):
        return outcome
    squared = np.all(np.any(np.abs(used[off][:, None] - known[None, :] ** 2)
                            <= 1e-5 * known[None, :] ** 2, axis=1))
    why = ("it calls the score at σ² instead of σ" if squared else
           "it calls the score at noise levels it was not given")
    return failure(f"{why} (e.g. σ = {show(used[off][:3])}; the levels are {show(known)})"
                   f"\n(otherwise: {outcome.message.lstrip('✓✗ ')})")


class _ScoreRecorder:
    """The lent score, recording the σ of each row it is called on (the student's draw)."""

    def __init__(self) -> None:
        self.sigmas: list[np.ndarray] = []
        self.calls = 0

    def __call__(self, *args: Any, **arrays: Any) -> dict[str, np.ndarray]:
        value = _mixture_score(*args, **arrays)
        x, sigma = lent_arguments(arrays, ("x", "sigma")) if not args else args[:2]
        rows = np.asarray(x).shape[0]
        self.sigmas.append(np.broadcast_to(np.asarray(sigma, dtype=np.float64).reshape(-1),
                                           (rows,)).copy())
        self.calls += 1
        return value


_DRAW_BATCH = 32  # one σ for a whole call happens by chance with P ≤ 200·3^(−31)
_DRAW_REPEATS = 200


def _sigma_draw_outcome(ctx: Context, recorded: Sequence[np.ndarray], levels: np.ndarray,
                        calls: int, batch: int) -> Outcome:
    """σ of each example uniform over the levels, drawn independently: every recorded σ is a
    level; each level's count over all draws lies in its exact Binomial(n, 1/L) interval; and
    no call has one σ for the whole batch (P ≤ calls·L^(1−batch) for a correct draw)."""
    from scipy import stats

    sigmas = np.concatenate(recorded) if recorded else np.empty(0)
    n, L = len(sigmas), len(levels)
    if n != calls * batch:
        return failure(f"the score was called on {n} rows over {calls} calls; with one call "
                       f"per example (or per batch) there would be {calls * batch}: the σ draw "
                       f"cannot be attributed to the examples")
    alpha = ctx.settings.failure_prob
    nearest = np.argmin(np.abs(sigmas[:, None] - levels[None, :]), axis=1)
    off = np.abs(sigmas - levels[nearest]) > 1e-5 * levels[nearest]
    if np.any(off):
        return failure(f"draws σ values that are not among the levels {show(levels)} (e.g. "
                       f"{show(sigmas[off][:4])}): σ must be drawn from the list sigmas, not "
                       f"from an interval")
    per_call = nearest.reshape(calls, batch)
    constant = int(np.sum(np.all(per_call == per_call[:, :1], axis=1)))
    chance = calls * float(L) ** (1 - batch)
    if constant > 0 and chance <= alpha / 2:
        return failure(f"uses one σ for the whole batch in {constant} of {calls} calls: draw σ "
                       f"independently for each example (e.g. sigmas[torch.randint(0, L, "
                       f"(N,))]); a correct draw does this with probability ≤ {chance:.1g}")
    counts = np.bincount(nearest, minlength=L)
    tail = alpha / (4 * L)
    lo, hi = stats.binom.ppf(tail, n, 1 / L), stats.binom.isf(tail, n, 1 / L)
    if np.all((counts >= lo) & (counts <= hi)):
        return success(f"draws σ uniformly from the {L} levels, independently for each example "
                       f"(counts {counts.tolist()} over {n} draws within the exact binomial "
                       f"interval [{lo:g}, {hi:g}]; false-failure probability {alpha:g})")
    return failure(f"does not draw σ uniformly from the levels: counts {counts.tolist()} of "
                   f"levels {show(levels)} over {n} draws; a uniform draw gives each a count in "
                   f"[{lo:g}, {hi:g}] except with probability {alpha / 2:.2g}")


def _check_dsm_drawing_sigma(ctx: Context) -> dict[str, Outcome]:
    dtype = ctx.spec.dtype
    rng = np.random.default_rng(ctx.seed(30))
    x = np.asarray(_mixture_samples(rng, _DRAW_BATCH), dtype=dtype).astype(np.float64)
    levels = np.asarray(_DSM_LEVELS[::-1], dtype=dtype).astype(np.float64)  # decreasing
    arrays = {"x": x, "sigmas": levels}
    combinations = _forms(ctx, ("data", "noise_levels"))

    def case(forms: Mapping[str, str], repeat: int) -> dict[str, Any]:
        return {"args": ctx.arguments(score={"callback": "score"},
                                      data=_array("x", dtype, forms["data"]),
                                      noise_levels=_array("sigmas", dtype,
                                                          forms["noise_levels"])),
                "seed": ctx.seed(31), "repeat": repeat}

    keys = ("dsm_scalar", "dsm_sigma_draw", "dsm_expectation")
    chosen, why = _first_working(ctx, [case(f, 1) for f in combinations], arrays,
                                 {"score": _mixture_score})
    if chosen is None:
        return {key: failure(why) for key in keys}
    recorder = _ScoreRecorder()
    try:
        (result,) = ctx.call([case(combinations[chosen], _DRAW_REPEATS)], arrays,
                             callbacks={"score": recorder})
    except StudentCodeFailed as error:
        return {key: failure(str(error)) for key in keys}
    values, why = output_of(result)
    if values is None:
        return {key: failure(why) for key in keys}
    if result.shape != ():
        failed = failure(f"returns shape {result.shape}; the loss is a scalar"
                         + (" (one value per example: average over the examples)"
                            if result.shape == (_DRAW_BATCH,) else ""))
        return {key: failed for key in keys}
    per_level = [_dsm_expectations(x, np.full(_DRAW_BATCH, level)) for level in levels]
    e = {key: float(np.mean([p[key] for p in per_level])) for key in per_level[0]}
    wrong = (
        ("is missing the ½ in ½ λ(σ) ‖s + (x̃ − x)/σ²‖²", 2 * e["loss"]),
        ("has the wrong sign of the noise term: ‖s(x̃, σ) − (x̃ − x)/σ²‖² (the target is "
         "∇ log N(x̃; x, σ²) = −(x̃ − x)/σ²)", e["noise_sign"]),
        ("weights by λ(σ) = σ instead of σ²", e["lambda_sigma"]),
        ("has no weighting λ(σ) = σ²", e["lambda_one"]),
        ("divides the noise by σ² where σ belongs (z/σ², with x̃ − x = σz: the target is "
         "−(x̃ − x)/σ² = −z/σ)", e["noise_over_variance"]),
        ("uses σ z where z/σ belongs", e["noise_times"]),
        ("sums over the examples instead of averaging", _DRAW_BATCH * e["loss"]),
        ("averages over the two coordinates as well (the squared norm sums them)",
         e["loss"] / 2),
    )
    forms = combinations[chosen]
    note = "" if chosen == 0 else (f" (called with training_data as {forms['data']} and sigmas "
                                   f"as {forms['noise_levels']}: the other forms raised)")
    return {"dsm_scalar": success("returns a scalar" + note),
            "dsm_sigma_draw": _sigma_draw_outcome(ctx, recorder.sigmas, levels, _DRAW_REPEATS,
                                                  _DRAW_BATCH),
            "dsm_expectation": expectation_outcome(
                ctx, values, e["loss"], "E[½ σ² ‖s(x̃, σ) + (x̃ − x)/σ²‖²] over σ uniform on "
                                        "the levels and x̃ = x + σz, averaged over the "
                                        "examples (Gauss–Hermite quadrature, the derived "
                                        "noised-mixture score)", wrong)}


_START_CHAINS = 2000
# two levels, one step each of size ~1e-12: the output is the start (x₀ ~ N(0, I)). With
# σ_L = 0.01 a final denoising step x + σ_L² s(x, σ_L) moves x by ~1e-3 (invisible: the start
# is judged); with σ_L = 0.4 by ~1 (the extra step is judged). σ_1 = 0.5 in both, so a start
# that depends on σ_1 is the same in both
_START_LEVELS = (0.5, 0.01)
_AFTER_LEVELS = (0.5, 0.4)
_SAMPLER_CHAINS = 2000  # its own start costs power (no shared start law): more chains
_SAMPLER_BUDGET_SECONDS = 8.0  # the main run of a slow (one chain at a time) sampler
_SAMPLER_PROBES = (4, 16)  # chains of the two timing probes: time ≈ a + b·n


def _sampler_case(ctx: Context, forms: Mapping[str, str], n: int, sigmas: str, steps: int,
                  eps: float, trajectory: bool, seed: int) -> dict[str, Any]:
    return {"args": ctx.arguments(score={"callback": "score"}, sample_count={"int": n},
                                  noise_levels=_array(sigmas, ctx.spec.dtype,
                                                      forms["noise_levels"]),
                                  steps={"int": steps}, step_scale={"float": eps},
                                  trajectory={"bool": trajectory}),
            "seed": seed}


def _start_outcome(ctx: Context, case: Any) -> Outcome:
    """x₀ ~ N(0, I): two steps of size ~1e-12 leave the start (moves < 1e-4); the KS test of
    each coordinate against N(0, 1) and their correlation."""
    out, why = output_of(case, (_START_CHAINS, 2))
    if out is None:
        return failure(f"with two levels, one step each and eps = 1e-12 it {why}")
    alpha = ctx.settings.failure_prob
    columns = [ks_normal(out[:, j], alpha / 2, n_assertions=2) for j in range(2)]
    with np.errstate(all="ignore"):
        correlation = float(np.nan_to_num(np.corrcoef(out.T)[0, 1]))
    bound = z_bound(alpha / 2) / math.sqrt(_START_CHAINS)
    if all(columns) and abs(correlation) <= bound:
        return success(f"its start is N(0, I): after two steps of size ~1e-12 the {_START_CHAINS} "
                       f"points pass the KS test against N(0, 1) in each coordinate and are "
                       f"uncorrelated (false-failure probability {alpha:g})")
    hints = []
    if np.ptp(out) < 1e-3:
        hints.append("it starts every chain at the same point (zeros?)")
    elif np.all(out > -1e-3) and np.all(out < 1 + 1e-3):
        hints.append("it starts from the uniform law on [0, 1) (torch.rand): x₀ ~ N(0, I) "
                     "is torch.randn")
    else:
        sd = np.std(out, axis=0, ddof=1)
        hints.append(f"the start has standard deviations {show(sd)} and means "
                     f"{show(out.mean(axis=0))}; x₀ ~ N(0, I) has 1 and 0")
    return failure(f"it does not start from x₀ ~ N(0, I): {hints[0]}. {columns[0].message()}")


def _chains_within_budget(timings: Sequence[Any]) -> int:
    """The chains of the main run: all of them if the sampler is fast, else as many as the
    budget allows by a linear fit of the two timing probes (a slow but correct sampler that
    loops over chains gets fewer, and the two-sample test its calibrated threshold)."""
    seconds = [float(c.info.get("seconds", 0.0) or 0.0) if c.ok else 0.0 for c in timings]
    (n1, n2), (t1, t2) = _SAMPLER_PROBES, seconds
    per_chain = max((t2 - t1) / (n2 - n1), 0.0)
    fixed = max(t1 - per_chain * n1, 0.0)
    if fixed + per_chain * _SAMPLER_CHAINS <= _SAMPLER_BUDGET_SECONDS:
        return _SAMPLER_CHAINS
    return int(min(_SAMPLER_CHAINS, max(100, (_SAMPLER_BUDGET_SECONDS - fixed) / per_chain)))


def _check_langevin_sampler(ctx: Context) -> dict[str, Outcome]:
    keys = ("sampler_shape", "sampler_start", "annealed_law")
    combinations = _forms(ctx, ("noise_levels",))
    arrays = {"small": np.asarray([1.0, 0.5]), "levels": _LEVELS,
              "single": np.asarray(_START_LEVELS), "after": np.asarray(_AFTER_LEVELS)}
    score = {"score": _mixture_score}
    probes = [_sampler_case(ctx, f, 4, "small", 2, 0.01, False, ctx.seed(32))
              for f in combinations]
    chosen, why = _first_working(ctx, probes, arrays, score)
    if chosen is None:
        return {key: failure(why) for key in keys}
    forms = combinations[chosen]
    cases = [_sampler_case(ctx, forms, 3, "small", 2, 0.01, True, ctx.seed(33)),
             _sampler_case(ctx, forms, _START_CHAINS, "single", 1, 1e-12, False, ctx.seed(34)),
             _sampler_case(ctx, forms, _START_CHAINS, "after", 1, 1e-12, False, ctx.seed(40)),
             *(_sampler_case(ctx, forms, n, "levels", _STEPS, _ETA, False, ctx.seed(35))
               for n in _SAMPLER_PROBES)]
    recorder = _ScoreRecorder()
    try:
        trajectory, start, after, *timings = ctx.call(cases, arrays,
                                                      callbacks={"score": recorder},
                                                      timeout=60.0)
    except StudentCodeFailed as error:
        return {key: failure(str(error)) for key in keys}
    problems = []
    if not trajectory.ok:
        problems.append(f"with return_traj=True it raised an error:\n{trajectory.error}")
    elif trajectory.shape != (3, 4, 2):
        layout = " (the steps are stacked on axis 0: each chain's states go along axis 1)" \
            if trajectory.shape == (4, 3, 2) else ""
        problems.append(f"with return_traj=True, 3 samples, 2 levels and 2 iterations it "
                        f"returns shape {trajectory.shape}; the trajectory is "
                        f"n_samples × (L·T) × 2 = (3, 4, 2){layout}")
    n = _chains_within_budget(timings)
    steps = len(_LEVELS) * _STEPS
    try:
        (main,) = ctx.call([_sampler_case(ctx, forms, n, "levels", _STEPS, _ETA, False,
                                          ctx.seed(36))], arrays, callbacks={"score": recorder},
                           timeout=3 * _SAMPLER_BUDGET_SECONDS + 30.0)
    except StudentCodeFailed as error:
        law = failure(f"{error}\n(too slow? {n} chains of {steps} steps, sized from two timing "
                      f"runs to take about {_SAMPLER_BUDGET_SECONDS:g} s)")
    else:
        if not main.ok:
            law = failure(f"with {n} samples it raised an error:\n{main.error}")
        elif main.shape != (n, 2):
            problems.append(f"with {n} samples it returns shape {main.shape}; expected "
                            f"({n}, 2)")
            law = failure(f"returned shape {main.shape}; expected ({n}, 2)")
        else:
            if not ctx.spec.accepts_dtype(main.dtype, ctx.spec.dtype):
                problems.append(f"returns dtype {main.dtype}")
            out, why = output_of(main)
            if out is None and main.out is not None:
                why += (": the chains diverge (a drift of the wrong sign, x − α s, or a step "
                        "size too large?)")
            law = failure(why) if out is None else _sampler_law(ctx, out, start, after)
    shape = failure("; ".join(problems)) if problems else success(
        "returns n_samples × 2, and with return_traj the trajectory n_samples × (L·T) × 2")
    levels = np.concatenate([array for array in arrays.values()])
    return {"sampler_shape": shape, "sampler_start": _start_outcome(ctx, start),
            "annealed_law": _at_the_levels(law, recorder, levels)}


def _sampler_law(ctx: Context, out: np.ndarray, start: Any, after: Any) -> Outcome:
    """A two-sample test against the algorithm run here from x₀ ~ N(0, I), and nothing done
    after the last step: with steps of size ~1e-12 the output with σ_L = 0.4 has the law of the
    output with σ_L = 0.01 (both the start, whatever the start is: that is another property)."""
    alpha = ctx.settings.failure_prob
    rng = np.random.default_rng(ctx.seed(37))
    reference_start = rng.standard_normal((_SAMPLER_CHAINS, 2))
    run: dict[str, Any] = {}
    reference = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(38)), **run)
    passed, detail = _two_sample(out, reference, alpha / 2, ctx.seed(39))
    unchanged, _ = output_of(after, (_START_CHAINS, 2))
    first, _ = output_of(start, (_START_CHAINS, 2))
    if unchanged is not None and first is not None and passed:
        from scipy import stats

        threshold = _ks_threshold(_START_CHAINS, _START_CHAINS, alpha / 4)
        # on a 1e-3 grid: the steps of size ~1e-12 move x by < 1e-4, a denoising step by ~1
        distance = max(stats.ks_2samp(np.round(unchanged[:, j], 3),
                                      np.round(first[:, j], 3)).statistic for j in range(2))
        if distance > threshold:
            return failure(f"it changes the points after the last Langevin step: with two "
                           f"levels and steps of size ~1e-12 its output with σ_L = "
                           f"{_AFTER_LEVELS[-1]} differs from its output with σ_L = "
                           f"{_START_LEVELS[-1]} (two-sample KS {distance:.3g}, "
                           f"threshold {threshold:.3g}). Likely mistake: it adds a final "
                           f"denoising step x + σ_L² s(x, σ_L) (not part of the homework's "
                           f"algorithm).")
    if passed:
        return success(f"its {len(out)} samples are indistinguishable from {_SAMPLER_CHAINS} of "
                       f"a reference run of the algorithm (false-failure probability {alpha:g}): "
                       f"{detail}")
    hint = ""
    for feedback, options in (
            ("the noise is scaled by √α_i instead of √(2α_i)", {"noise": math.sqrt(0.5)}),
            ("α_i = eps·σ_i/σ_L; it is eps·σ_i²/σ_L²", {"power": 1}),
            ("the step size is eps at every level; it is α_i = eps·σ_i²/σ_L²",
             {"scaled": False}),
            ("it runs the levels from the smallest σ to the largest",
             {"order": slice(None, None, -1)}),
            ("it adds a final denoising step x + σ_L² s(x, σ_L) (not part of the homework's "
             "algorithm)", {"denoise": True}),
            ("there is no noise term √(2α_i) z: the samples collapse onto the modes",
             {"noise": 0.0})):
        mutant = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(38)),
                                    **run, **options)
        if np.all(np.isfinite(mutant)) and _two_sample(out, mutant, alpha / 2,
                                                        ctx.seed(39))[0]:
            hint = f" Likely mistake: {feedback}."
            break
    if not hint:
        spread = np.median(np.min(np.sum((out[:, None] - _MIXTURE_MEANS[None]) ** 2, -1), 1))
        expected = np.median(np.min(np.sum((reference[:, None] - _MIXTURE_MEANS[None]) ** 2,
                                           -1), 1))
        if spread < 0.05 * expected:
            hint = (" Likely mistake: the samples collapse onto the modes (median squared "
                    f"distance {spread:.2g} vs {expected:.2g}): no noise term √(2α_i) z?")
    return failure(f"its samples differ from a reference run of annealed Langevin dynamics."
                   f"{hint}\n{detail}")


CHECKERS = {
    "dsm_loss": _check_dsm,
    "dsm_loss_drawing_sigma": _check_dsm_drawing_sigma,
    "langevin_step": _check_langevin_step,
    "annealed_langevin": _check_annealed,
    "langevin_sampler": _check_langevin_sampler,
}
