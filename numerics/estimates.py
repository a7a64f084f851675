"""Monte Carlo estimates as records: the mean, its standard error and the sample size.

For i.i.d. samples x_1..x_n the sample mean x̄ estimates E[x] with standard error
s/√n, where s² is the unbiased sample variance; by the central limit theorem
(x̄ − E[x])/(s/√n) is approximately N(0, 1) for large n. Differences and sums of
independent estimates add variances; a scaled estimate scales its standard error.
Source: any statistics text, e.g. Wasserman, *All of Statistics*, §6.3 and §9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Estimate"]


def _as_numpy(samples: Any) -> np.ndarray:
    if hasattr(samples, "detach"):  # a torch tensor: to float64 on the trusted side
        samples = samples.detach().cpu().double().numpy()
    return np.asarray(samples, dtype=np.float64)


@dataclass(frozen=True)
class Estimate:
    """An estimate of an expectation: ``mean`` ± ``standard_error`` from ``n`` samples.

    ``mean`` and ``standard_error`` are floats or arrays of one shape (one estimate per entry,
    e.g. per parameter setting); ``n`` is the number of samples behind each entry.
    """

    mean: Any
    standard_error: Any
    n: int

    @classmethod
    def from_samples(cls, samples: Any, axis: int = 0) -> Estimate:
        """The sample mean along ``axis`` and its standard error s/√n (s with ddof = 1)."""
        x = _as_numpy(samples)
        n = x.shape[axis]
        if n < 2:
            raise ValueError("a standard error needs at least two samples")
        mean = x.mean(axis=axis)
        se = x.std(axis=axis, ddof=1) / math.sqrt(n)
        return cls(_scalar(mean), _scalar(se), int(n))

    @classmethod
    def exact(cls, value: Any) -> Estimate:
        """A known value, as an estimate with zero standard error (n = 0 marks it exact)."""
        return cls(_scalar(np.asarray(value, dtype=np.float64)), _scalar(np.zeros_like(
            np.asarray(value, dtype=np.float64))), 0)

    # -- arithmetic of independent estimates ---------------------------------------------

    def __sub__(self, other: Estimate | float) -> Estimate:
        """The difference of two INDEPENDENT estimates (variances add), or minus a constant."""
        if isinstance(other, Estimate):
            return Estimate(_scalar(np.subtract(self.mean, other.mean)),
                            _scalar(np.hypot(self.standard_error, other.standard_error)),
                            min(_positive(self.n, other.n)))
        return Estimate(_scalar(np.subtract(self.mean, other)), self.standard_error, self.n)

    def __add__(self, other: Estimate | float) -> Estimate:
        """The sum of two INDEPENDENT estimates (variances add), or plus a constant."""
        if isinstance(other, Estimate):
            return Estimate(_scalar(np.add(self.mean, other.mean)),
                            _scalar(np.hypot(self.standard_error, other.standard_error)),
                            min(_positive(self.n, other.n)))
        return Estimate(_scalar(np.add(self.mean, other)), self.standard_error, self.n)

    def __mul__(self, factor: float) -> Estimate:
        """The estimate scaled by a constant."""
        return Estimate(_scalar(np.multiply(self.mean, factor)),
                        _scalar(np.abs(np.multiply(self.standard_error, factor))), self.n)

    __rmul__ = __mul__

    def __neg__(self) -> Estimate:
        return self * -1.0

    def __rsub__(self, other: float) -> Estimate:
        return (-self) + other

    __radd__ = __add__

    def sum(self) -> Estimate:
        """The sum of the entries of an array estimate, the entries being independent."""
        return Estimate(float(np.sum(self.mean)),
                        float(np.sqrt(np.sum(np.square(self.standard_error)))), self.n)

    def z_score(self, value: Any) -> Any:
        """(mean − value)/standard_error: N(0, 1) under the hypothesis E = value (CLT)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = np.subtract(self.mean, value)
            return _scalar(np.where(np.asarray(self.standard_error) > 0,
                                    diff / np.asarray(self.standard_error, dtype=np.float64),
                                    np.where(diff == 0, 0.0, np.inf * np.sign(diff))))

    def __str__(self) -> str:
        return f"{_show(self.mean)} ± {_show(self.standard_error)} (n = {self.n})"


def paired_difference(a: Any, b: Any, axis: int = 0) -> Estimate:
    """E[a − b] from PAIRED samples (the same draws fed to both): se of the differences.

    Pairing (common random numbers) removes the shared noise, so the standard error is
    usually much smaller than that of two independent estimates.
    """
    return Estimate.from_samples(_as_numpy(a) - _as_numpy(b), axis=axis)


__all__ += ["paired_difference"]


def _positive(*ns: int) -> tuple[int, ...]:
    positive = tuple(n for n in ns if n > 0)
    return positive or (0,)


def _scalar(value: Any) -> Any:
    value = np.asarray(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


def _show(value: Any) -> str:
    if np.ndim(value) == 0:
        return f"{float(value):.6g}"
    return np.array2string(np.asarray(value), precision=6, threshold=8)
