"""What every check shares: the context of a graded function, outcomes, formatting, and the
calibrated statistical tests (each with a stated false-failure probability).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from grading.code.session import CaseResult, CheckSettings, Session, StudentCodeFailed
from grading.code.spec import FunctionSpec


@dataclass
class Context:
    """One graded function of a loaded submission: where to call it and how hard to look."""

    session: Session
    modules: list[str]
    spec: FunctionSpec
    settings: CheckSettings
    function: str = ""  # the name to call (``Class.method``); the spec's location by default
    siblings: tuple[FunctionSpec, ...] = ()  # the other functions of the same profile

    def seed(self, k: int) -> int:
        return (self.settings.seed * 1000 + k) % 2**63

    def call(self, cases: Sequence[Mapping[str, Any]], arrays: Mapping[str, Any],
             **options: Any) -> list[CaseResult]:
        """Run the student's function on ``cases`` (see :meth:`Session.call`)."""
        return self.session.call(self.modules, self.function or self.spec.location, cases,
                                 arrays, **options)

    def points(self, check: str) -> float:
        """The points of the property decided by ``check``."""
        return sum(p.points for p in self.spec.properties if p.check == check)

    def arguments(self, **values: Any) -> list[Any]:
        """The argument specs in the student's order, from values given by meaning (the
        spread as ``scale``); an optional meaning the course's signature lacks is dropped."""
        from grading.code.spec import role_meaning

        ordered = []
        for name, meaning in self.spec.arguments:
            key = role_meaning(meaning)
            if key not in values:
                raise KeyError(f"the check has no value for {name!r} ({meaning})")
            ordered.append(values[key])
        return ordered

    def position(self, meaning: str) -> int:
        """The position of the argument with this meaning in the student's signature."""
        from grading.code.spec import role_meaning

        for index, (_, has) in enumerate(self.spec.arguments):
            if role_meaning(has) == meaning:
                return index
        raise KeyError(meaning)


def show(value: Any) -> str:
    array = np.asarray(value, dtype=np.float64)
    return np.array2string(array, precision=6, threshold=24, edgeitems=3,
                           max_line_width=100)


def show_inputs(inputs: Mapping[str, np.ndarray]) -> str:
    return "\n".join(f"  {name} = {show(value)}" for name, value in inputs.items())


@dataclass
class Outcome:
    """The fraction of a property's points earned and the feedback."""

    fraction: float
    message: str


def success(message: str) -> Outcome:
    return Outcome(1.0, "✓ " + message)


def failure(message: str) -> Outcome:
    return Outcome(0.0, "✗ " + message)


# --------------------------------------------------------------------------------------------
# statistical helpers


def ks_normal(values: np.ndarray, failure_prob: float, n_assertions: int = 1) -> Any:
    from scipy import stats

    from numerics.tolerance import check_distribution

    return check_distribution(values, stats.norm.cdf, failure_prob=failure_prob,
                              n_assertions=n_assertions)


def binomial_interval(n: int, p: float, tail: float) -> tuple[float, float]:
    """[lo, hi] with P(C < lo) ≤ tail and P(C > hi) ≤ tail for C ~ Binomial(n, p)."""
    from scipy import stats

    if p <= 0.0:
        return 0.0, 0.0
    if p >= 1.0:
        return float(n), float(n)
    return float(stats.binom.ppf(tail, n, p)), float(stats.binom.isf(tail, n, p))


def z_bound(failure_prob: float, n_assertions: int = 1) -> float:
    from numerics.tolerance import z_quantile

    return z_quantile(failure_prob, n_assertions)


def output_of(case: CaseResult,
            shape: tuple[int, ...] | None = None) -> tuple[np.ndarray | None, str]:
    """The case's output, or why there is none; checks the shape when given."""
    if not case.ok:
        return None, f"raised an error:\n{case.error}"
    if case.out is None:
        return None, f"returned {case.info.get('type')}, not a torch.Tensor"
    if shape is not None and case.shape != shape:
        return None, f"returned shape {case.shape}; expected {shape}"
    if not np.all(np.isfinite(case.out)):
        return None, "returned NaN or infinite values"
    return np.asarray(case.out, dtype=np.float64), ""


def hermite_grid(nodes: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes and weights for E over N(0, I_dims) (probabilists' form)."""
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([t] * dims), indexing="ij")
    weights = np.prod(np.meshgrid(*([w] * dims), indexing="ij"), axis=0)
    return np.stack([g.ravel() for g in grids], axis=-1), weights.ravel()



def z_test(values: np.ndarray, target: float, failure_prob: float) -> Any:
    from numerics.estimates import Estimate
    from numerics.tolerance import check_close

    return check_close(Estimate.from_samples(values), target, failure_prob=failure_prob)


def detectable(values: np.ndarray, failure_prob: float) -> float:
    from numerics.tolerance import detectable_error

    return float(detectable_error(np.std(values, ddof=1) / math.sqrt(len(values)), failure_prob))


def expectation_outcome(ctx: Context, values: np.ndarray, target: float, what: str,
                         wrong: Sequence[tuple[str, float]]) -> Outcome:
    alpha = ctx.settings.failure_prob
    if np.std(values) <= 1e-12 * (1 + abs(float(np.mean(values)))):
        return failure(f"returns the same value {values[0]:.6g} on every call: no noise is "
                       f"drawn (z or ε not sampled?); E[loss] = {target:.6g}")
    result = z_test(values, target, alpha)
    power = detectable(values, alpha)
    if result.passed:
        return success(f"its mean over {len(values)} calls, {np.mean(values):.5g}, matches "
                       f"{what} = {target:.5g} ({result.detail}; errors ≥ {power:.3g} are "
                       f"detected with probability ≥ ½)")
    # the known mistake whose expectation the mean fits, the closest if several do
    error = float(np.std(values, ddof=1)) / math.sqrt(len(values))
    fitting = [(abs(float(np.mean(values)) - value) / max(error, 1e-300), feedback)
               for feedback, value in wrong if z_test(values, value, alpha).passed]
    hint = f" Likely mistake: it {min(fitting)[1]}." if fitting else ""
    return failure(f"its mean over {len(values)} calls does not match {what}.{hint}\n"
                   f"{result.detail}")


def lent_arguments(arrays: Mapping[str, Any], names: Sequence[str]) -> list[Any]:
    """The arguments of a lent function, positional (a0, a1, ...) or by keyword (k_name)."""
    values = []
    for i, name in enumerate(names):
        value = arrays.get(f"a{i}", arrays.get(f"k_{name}"))
        if value is None:
            raise TypeError(f"missing argument {name!r}")
        values.append(value)
    if len(arrays) != len(names):
        raise TypeError(f"takes {len(names)} arguments ({', '.join(names)}), got {len(arrays)}")
    return values


def respecting_generator(ctx: Context, outcome: Outcome, case: Mapping[str, Any],
                         arrays: Mapping[str, Any], **options: Any) -> Outcome:
    """The outcome, failed if the function ignores its generator: when the course's signature
    takes one and the outcome passed, two calls with the same generator seed and different
    global seeds must return the same values (``case`` is the request's case to repeat)."""
    if outcome.fraction == 0 or not any(m == "generator" for _, m in ctx.spec.arguments):
        return outcome
    twins = [{**{k: v for k, v in case.items() if k not in ("repeat", "grad")},
              "seed": ctx.seed(90 + k)} for k in (0, 1)]
    try:
        first, second = ctx.call(twins, arrays, **options)
    except StudentCodeFailed:
        return outcome  # the twins' crash is not this property's business
    if not (first.ok and second.ok) or first.out is None or second.out is None or \
            np.shape(first.out) != np.shape(second.out):
        return outcome
    if np.array_equal(np.asarray(first.out), np.asarray(second.out), equal_nan=True):
        return outcome
    return failure("ignores its generator argument: two calls with generators seeded alike "
                   "(and different global seeds) returned different values; draw with it, "
                   "e.g. torch.randn(shape, generator=generator, dtype=...)\n(otherwise: "
                   + outcome.message.lstrip("✓ ") + ")")
