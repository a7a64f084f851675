"""Two-sample tests for 1-D and 2-D samples, with thresholds calibrated for a stated
false-failure probability α. Each returns a :class:`numerics.tolerance.CheckResult`
(statistic, threshold, passed, failure_prob) and never raises on a rejection; call
``.raise_if_failed()`` to assert.

Energy distance (Székely & Rizzo 2004): E(P, Q) = 2E|X − Y| − E|X − X'| − E|Y − Y'| ≥ 0, zero
iff P = Q. The statistic is its unbiased U-estimate Ê. Energy distance is 2·MMD² for the
distance-induced kernel k(x, y) = ½(|x − z₀| + |y − z₀| − |x − y|) (Sejdinovic et al. 2013),
so under P = Q (Gretton et al. 2012, Thm 12) nm/(n + m) · Ê/2 → Σ_l λ_l (Z_l² − 1), Z_l
i.i.d. N(0, 1), λ_l the eigenvalues of the centred kernel. Two calibrations:

* ``method="spectral"`` (default; works at any α, e.g. 1e-7): the λ_l are estimated by the
  eigenvalues of −½ H D H / N on the pooled sample (D: pairwise distances, H: centring) and the
  threshold is Laurent & Massart's (2000, Lemma 1) bound for weighted χ²:
  P(Σ λ_l (Z_l² − 1) ≥ 2‖λ‖₂√x + 2‖λ‖_∞ x) ≤ e^{−x}, x = log(1/α). It is conservative for the
  limit law; the plug-in λ and finite n make it an approximation, whose calibration the tests
  check at moderate α.
* ``method="permutation"``: the exact permutation p-value (1 + #{T_b ≥ T})/(1 + B) with B
  permutations from an explicit generator; it needs α ≥ 1/(B + 1).

Sliced Kolmogorov–Smirnov: the samples are projected on L directions (uniform on the sphere,
drawn from an explicit generator; for 1-D data the single direction 1) and each projection is
compared by the two-sample KS statistic D = sup|F_n − G_m|, at level α/L per slice
(Bonferroni). The per-slice threshold is exact for n = m (Gnedenko & Korolyuk 1951:
P(D ≥ h/n) = 2 Σ_{k≥1} (−1)^{k+1} C(2n, n − kh)/C(2n, n)), and for n ≠ m the Kolmogorov
limit ``scipy.stats.kstwobign`` scaled by √((n + m)/(nm)) (compared with SciPy's exact
two-sample distribution for (n, m) = (100, 150), (400, 600), (1000, 700) at α = 1e-2 … 1e-7 it
was conservative: exact tail 0.65α … 0.95α).

Mode weights: each sample is assigned to its nearest mode; the count of mode k is
Binomial(n, w_k) when w_k is the probability of mode k's nearest-mode cell (for well-separated
mixture components, the component weight); each count is tested against the exact binomial
acceptance interval at level α/K (Bonferroni over the K modes, α/2K per tail).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats
from scipy.optimize import minimize_scalar
from scipy.sparse.linalg import eigsh
from scipy.spatial.distance import cdist

from numerics.tolerance import CheckResult

__all__ = [
    "energy_distance",
    "energy_test",
    "ks_two_sample_threshold",
    "sliced_ks_test",
    "nearest_mode_counts",
    "mode_weight_test",
]


def _as_points(samples: Any) -> np.ndarray:
    if hasattr(samples, "detach"):
        samples = samples.detach().cpu().double().numpy()
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"samples must be of shape (n,) or (n, d), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinity")
    return x


def _check_alpha(failure_prob: float) -> None:
    if not 0 < failure_prob < 1:
        raise ValueError(f"failure_prob must be in (0, 1), got {failure_prob}")


# --------------------------------------------------------------------------------------------
# energy distance


def _energy_from_distances(distances: np.ndarray, in_x: np.ndarray) -> float:
    """The U-statistic Ê from the pooled distance matrix and the membership mask of x."""
    in_y = ~in_x
    n, m = int(in_x.sum()), int(in_y.sum())
    a, b = in_x.astype(np.float64), in_y.astype(np.float64)
    da, db = distances @ a, distances @ b
    xx, yy, xy = a @ da, b @ db, a @ db  # the diagonal of D is 0
    return float(2 * xy / (n * m) - xx / (n * (n - 1)) - yy / (m * (m - 1)))


def _permutation_energies(distances: np.ndarray, in_x: np.ndarray, rng: np.random.Generator,
                          permutations: int, chunk: int = 64) -> np.ndarray:
    """Ê for ``permutations`` random relabellings of the pooled sample (one matmul per chunk)."""
    n, m = int(in_x.sum()), int((~in_x).sum())
    rows = distances.sum(axis=1)
    total = float(rows.sum())
    out = []
    for start in range(0, permutations, chunk):
        labels = np.stack([rng.permutation(in_x) for _ in range(min(chunk, permutations - start))],
                          axis=1).astype(np.float64)  # (N, B)
        xx = np.einsum("ib,ib->b", labels, distances @ labels)  # aᵀ D a
        ar = labels.T @ rows  # aᵀ D 1
        xy, yy = ar - xx, total - 2 * ar + xx
        out.append(2 * xy / (n * m) - xx / (n * (n - 1)) - yy / (m * (m - 1)))
    return np.concatenate(out)


def energy_distance(x: Any, y: Any) -> float:
    """The unbiased estimate Ê of E(P, Q) = 2E|X − Y| − E|X − X'| − E|Y − Y'| (Euclidean)."""
    x, y = _as_points(x), _as_points(y)
    xy, xx, yy = cdist(x, y), cdist(x, x), cdist(y, y)
    n, m = len(x), len(y)
    return float(2 * xy.mean() - xx.sum() / (n * (n - 1)) - yy.sum() / (m * (m - 1)))


TOP_EIGENVALUES = 8  # eigenvalues of the centred kernel computed one by one; the rest bounded


def _centred_kernel_spectrum(distances: np.ndarray) -> tuple[np.ndarray, float]:
    """The largest eigenvalues of −½ H D H / N and the sum of squares of all the others."""
    n = len(distances)
    row = distances.mean(axis=0)
    centred = -0.5 * (distances - row[None, :] - row[:, None] + row.mean()) / n
    total_sq = float(np.sum(centred**2))  # Σ λ² = ‖·‖_F²
    if n <= 4 * TOP_EIGENVALUES:
        top = np.linalg.eigvalsh(centred)[::-1][:TOP_EIGENVALUES]
    else:
        top = np.sort(eigsh(centred, k=TOP_EIGENVALUES, which="LA", return_eigenvectors=False,
                            v0=np.ones(n), tol=1e-10))[::-1]
    top = np.clip(top, 0.0, None)
    return top, max(total_sq - float(np.sum(top**2)), 0.0)


def _weighted_chi2_threshold(top: np.ndarray, rest_sq: float, failure_prob: float) -> float:
    """A t with P(Σ λ_l (Z_l² − 1) ≥ t) ≤ α, by the Chernoff bound.

    For every s in (0, 1/(2λ_max)), P(Q ≥ t) ≤ exp(−st + K(s)) with K(s) = log E e^{sQ}
    bounded by: the computed eigenvalues exactly (−½ log(1 − 2sλ) − sλ each), the others —
    all ≤ the smallest computed one, f — through −½ log(1 − 2u) − u ≤ u²/(1 − 2u):
    K(s) ≤ Σ_top(...) + s² R/(1 − 2sf), R = Σ_rest λ². Hence t(s) = (K(s) + log(1/α))/s is a
    valid threshold for every s; its minimum over s, bracketed on a grid and found by
    Brent's method, is returned.
    """
    x = math.log(1 / failure_prob)
    largest = float(top[0]) if top.size else 0.0
    if largest <= 0.0:
        return 0.0
    floor = float(top[-1])
    s_max = 1 / (2 * largest)
    fractions = np.concatenate([np.linspace(1e-3, 0.999, 1000), 1 - np.logspace(-3, -12, 400)])
    s = s_max * fractions

    def t(s: np.ndarray) -> np.ndarray:
        u = s[:, None] * top[None, :]
        k = np.sum(-0.5 * np.log1p(-2 * u) - u, axis=1) + s * s * rest_sq / (1 - 2 * s * floor)
        return (k + x) / s

    # t is unimodal (t' = (sK'(s) - K(s) - x)/s^2 and sK' - K increases), so the grid's best
    # point and its neighbours bracket the minimum, which Brent's method then finds
    values = t(s)
    best = int(np.argmin(values))
    lo, hi = s[max(best - 1, 0)], s[min(best + 1, len(s) - 1)]
    refined = minimize_scalar(lambda v: float(t(np.array([v]))[0]), bounds=(lo, hi),
                              method="bounded", options={"xatol": 1e-14 * s_max})
    return float(min(values[best], refined.fun))


def energy_test(x: Any, y: Any, *, failure_prob: float, method: str = "spectral",
                rng: np.random.Generator | None = None, permutations: int = 200) -> CheckResult:
    """Are ``x`` and ``y`` (shape (n,) or (n, d)) samples of one distribution? Energy test.

    Passes when Ê ≤ threshold; a sample of one distribution fails with probability
    ≈ ≤ ``failure_prob``. See the module docstring for the two calibrations;
    ``method="permutation"`` needs ``rng`` and ``failure_prob ≥ 1/(permutations + 1)``.
    """
    _check_alpha(failure_prob)
    x, y = _as_points(x), _as_points(y)
    n, m = len(x), len(y)
    if n < 2 or m < 2:
        raise ValueError("each sample needs at least two points")
    pooled = np.concatenate([x, y])
    distances = cdist(pooled, pooled)
    in_x = np.zeros(n + m, dtype=bool)
    in_x[:n] = True
    statistic = _energy_from_distances(distances, in_x)
    if method == "spectral":
        top, rest_sq = _centred_kernel_spectrum(distances)
        bound = _weighted_chi2_threshold(top, rest_sq, failure_prob)  # for nm/(n+m) · Ê/2
        threshold = 2 * bound * (n + m) / (n * m)
        detail = (f"Ê = {statistic:.4g} for n = {n}, m = {m}; spectral threshold "
                  f"{threshold:.4g} (λ_max = {top[0]:.3g}, ‖λ‖₂ = "
                  f"{math.sqrt(np.sum(top**2) + rest_sq):.3g})")
        return CheckResult("energy test (spectral)", statistic <= threshold, statistic,
                           threshold, failure_prob, detail)
    if method == "permutation":
        if rng is None:
            raise ValueError("the permutation method needs an explicit numpy Generator rng")
        if failure_prob < 1 / (permutations + 1):
            raise ValueError(f"{permutations} permutations cannot resolve α = {failure_prob}: "
                             f"the smallest p-value is 1/{permutations + 1}")
        null = _permutation_energies(distances, in_x, rng, permutations)
        p_value = float((1 + np.sum(null >= statistic)) / (1 + permutations))
        # the threshold: the smallest permutation statistic that would still be rejected
        k = int(math.floor(failure_prob * (1 + permutations)))  # reject iff #{T_b ≥ T} < k
        ordered = np.sort(null)[::-1]
        threshold = float(ordered[k - 1]) if k >= 1 else math.inf
        detail = (f"Ê = {statistic:.4g} for n = {n}, m = {m}; permutation p-value "
                  f"{p_value:.4g} from {permutations} permutations")
        return CheckResult("energy test (permutation)", p_value > failure_prob, statistic,
                           threshold, failure_prob, detail, p_value)
    raise ValueError(f"unknown method {method!r}")


# --------------------------------------------------------------------------------------------
# sliced Kolmogorov–Smirnov


def _equal_size_ks_tail(n: int, h: int) -> float:
    """P(D_{n,n} ≥ h/n) exactly (Gnedenko–Korolyuk), summed from the smallest term."""
    total = 0.0
    for k in range(n // h, 0, -1):
        # C(2n, n − kh)/C(2n, n) = Π_{j<kh} (n − j)/(n + j + 1)
        log_term = float(np.sum(np.log(n - np.arange(k * h)) - np.log(n + np.arange(k * h) + 1)))
        term = math.exp(log_term)
        total = term - total
    return 2 * total


def ks_two_sample_threshold(n: int, m: int, failure_prob: float) -> float:
    """A threshold t with P(sup|F_n − G_m| > t) ≤ α under equal distributions (continuous).

    Exact for n = m (Gnedenko–Korolyuk); the Kolmogorov limit for n ≠ m.
    """
    _check_alpha(failure_prob)
    if n == m:
        lo, hi = 1, n  # the smallest h with P(D ≥ h/n) ≤ α, by bisection (the tail decreases)
        if _equal_size_ks_tail(n, n) > failure_prob:
            return math.inf  # no rejection region at this α: n is too small
        while lo < hi:
            mid = (lo + hi) // 2
            if _equal_size_ks_tail(n, mid) <= failure_prob:
                hi = mid
            else:
                lo = mid + 1
        return (lo - 0.5) / n  # D takes values h/n: pass iff D ≤ (h − 1)/n
    return float(stats.kstwobign.isf(failure_prob) * math.sqrt((n + m) / (n * m)))


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def sliced_ks_test(x: Any, y: Any, *, failure_prob: float,
                   rng: np.random.Generator | None = None, slices: int = 16,
                   directions: Any = None) -> CheckResult:
    """Do ``x`` and ``y`` (shape (n,) or (n, d)) have the same law? KS on projections.

    The directions are ``directions`` (rows, normalised here) or ``slices`` directions uniform
    on the sphere drawn from ``rng``; 1-D data has the single direction 1. Each slice is tested
    at level failure_prob/L (Bonferroni over the L slices).
    """
    _check_alpha(failure_prob)
    x, y = _as_points(x), _as_points(y)
    if x.shape[1] != y.shape[1]:
        raise ValueError("the samples differ in dimension")
    d = x.shape[1]
    if directions is not None:
        directions = np.asarray(directions, dtype=np.float64).reshape(-1, d)
    elif d == 1:
        directions = np.ones((1, 1))
    else:
        if rng is None:
            raise ValueError("random slices need an explicit numpy Generator rng (or directions=)")
        directions = rng.standard_normal((slices, d))
    directions = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    per_slice = failure_prob / len(directions)
    threshold = ks_two_sample_threshold(len(x), len(y), per_slice)
    statistics = np.array([_ks_statistic(x @ u, y @ u) for u in directions])
    worst = int(np.argmax(statistics))
    detail = (f"max over {len(directions)} slice(s) of sup|F_n − G_m| = {statistics[worst]:.4g} "
              f"(direction {np.round(directions[worst], 3)}), n = {len(x)}, m = {len(y)}; "
              f"threshold {threshold:.4g} at α/L = {per_slice:.3g} per slice")
    return CheckResult("sliced KS test", bool(statistics[worst] <= threshold),
                       float(statistics[worst]), threshold, failure_prob, detail)


# --------------------------------------------------------------------------------------------
# mode weights


def nearest_mode_counts(samples: Any, modes: Any) -> np.ndarray:
    """How many samples lie nearest (Euclidean) to each mode."""
    x, centres = _as_points(samples), _as_points(modes)
    nearest = np.argmin(cdist(x, centres), axis=1)
    return np.bincount(nearest, minlength=len(centres))


def mode_weight_test(samples: Any, modes: Any, weights: Any, *,
                     failure_prob: float) -> CheckResult:
    """Do the samples put the stated weight on each mode? Exact binomial test per mode.

    ``weights`` are the probabilities of the nearest-mode cells (they must sum to 1); for
    well-separated components they are the mixture weights. The statistic is the worst
    |count − n w_k| relative to the half-width of its acceptance interval (pass: ≤ 1).
    """
    _check_alpha(failure_prob)
    w = np.asarray(weights, dtype=np.float64)
    if not math.isclose(float(w.sum()), 1.0, rel_tol=1e-9) or np.any(w < 0):
        raise ValueError("weights must be non-negative and sum to 1")
    counts = nearest_mode_counts(samples, modes)
    if len(counts) != len(w):
        raise ValueError("one weight per mode")
    n, k = int(counts.sum()), len(w)
    tail = failure_prob / (2 * k)
    lower = stats.binom.ppf(tail, n, w)  # P(C < lower) ≤ tail
    upper = stats.binom.isf(tail, n, w)  # P(C > upper) ≤ tail
    expected = n * w
    inside = (counts >= lower) & (counts <= upper)
    half = np.where(counts >= expected, upper - expected, expected - lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(half > 0, np.abs(counts - expected) / half,
                         np.where(inside, 0.0, np.inf))
    worst = int(np.argmax(ratio))
    detail = (f"counts {counts.tolist()} of n = {n} vs expected {np.round(expected, 1).tolist()}; "
              f"acceptance intervals {[(int(a), int(b)) for a, b in zip(lower, upper)]} at "
              f"α/(2K) = {tail:.3g} per tail; worst mode {worst}")
    return CheckResult("mode weight test", bool(np.all(inside)), float(ratio[worst]), 1.0,
                       failure_prob, detail)
