"""Shared Hypothesis strategies for the parameters of the derived closed forms.

Scales are drawn in log space (``exp(U(-2, 2))``-style: a strategy over the logarithm mapped
through ``exp``), so small and large scales are equally likely and never zero; means are
bounded; probabilities stay away from 0 and 1; seeds are 32-bit integers for
``numpy.random.default_rng`` / ``torch.Generator().manual_seed``. Other engineers may add a
strategy here by appending at the end of the file.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

__all__ = [
    "seeds",
    "log_scales",
    "scales",
    "means",
    "log_variances",
    "probabilities",
    "batch_sizes",
    "dimensions",
    "shapes",
    "gaussian_parameters",
    "gaussian_pairs",
    "diagonal_gaussian_pairs",
]


def seeds() -> st.SearchStrategy[int]:
    """A seed for ``numpy.random.default_rng(seed)`` or ``torch.Generator().manual_seed(seed)``."""
    return st.integers(min_value=0, max_value=2**32 - 1)


def log_scales(low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[float]:
    """log σ, uniform-ish on [low, high]."""
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def scales(low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[float]:
    """A positive scale σ = exp(u), u in [low, high] (default σ in [0.135, 7.39])."""
    return log_scales(low, high).map(math.exp)


def means(bound: float = 3.0) -> st.SearchStrategy[float]:
    """A location in [-bound, bound]."""
    return st.floats(min_value=-bound, max_value=bound, allow_nan=False, allow_infinity=False)


def log_variances(low: float = -4.0, high: float = 4.0) -> st.SearchStrategy[float]:
    """log σ² in [low, high] (as an encoder outputs it)."""
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def probabilities(margin: float = 0.01) -> st.SearchStrategy[float]:
    """A probability in [margin, 1 - margin]."""
    return st.floats(min_value=margin, max_value=1.0 - margin, allow_nan=False)


def batch_sizes(low: int = 1, high: int = 64) -> st.SearchStrategy[int]:
    return st.integers(min_value=low, max_value=high)


def dimensions(low: int = 1, high: int = 8) -> st.SearchStrategy[int]:
    return st.integers(min_value=low, max_value=high)


def shapes(max_dims: int = 3, max_side: int = 5) -> st.SearchStrategy[tuple[int, ...]]:
    """An array shape with up to ``max_dims`` axes of length 1..max_side (possibly ``()``)."""
    return st.lists(st.integers(1, max_side), min_size=0, max_size=max_dims).map(tuple)


def gaussian_parameters(mean_bound: float = 3.0, low: float = -2.0,
                        high: float = 2.0) -> st.SearchStrategy[tuple[float, float]]:
    """(μ, σ) of a univariate Gaussian."""
    return st.tuples(means(mean_bound), scales(low, high))


def gaussian_pairs(mean_bound: float = 3.0, low: float = -2.0,
                   high: float = 2.0) -> st.SearchStrategy[tuple[float, float, float, float]]:
    """(μ1, σ1, μ2, σ2) of two univariate Gaussians, in the order of ``KL_GAUSSIAN``."""
    return st.tuples(means(mean_bound), scales(low, high), means(mean_bound), scales(low, high))


def diagonal_gaussian_pairs(max_dim: int = 4, mean_bound: float = 3.0, low: float = -1.0,
                            high: float = 1.0) -> st.SearchStrategy[tuple[list[float], ...]]:
    """(μ, σ, m, s): the parameters of two diagonal Gaussians of one dimension d ≤ max_dim."""

    def of_dimension(d: int) -> st.SearchStrategy[tuple[list[float], ...]]:
        vector = lambda s: st.lists(s, min_size=d, max_size=d)  # noqa: E731
        return st.tuples(vector(means(mean_bound)), vector(scales(low, high)),
                         vector(means(mean_bound)), vector(scales(low, high)))

    return dimensions(1, max_dim).flatmap(of_dimension)


def gaussian_mixtures(max_components: int = 3, mean_bound: float = 2.0, low: float = -1.2,
                      high: float = 0.7) -> st.SearchStrategy[tuple[list[float], ...]]:
    """(w, m, s) of a 1-D Gaussian mixture of 1..max_components components: positive weights in
    [0.05, 1] (unnormalised: scores do not depend on the scale), means in [-mean_bound,
    mean_bound], stds exp(U(low, high)) (default about [0.3, 2])."""

    def of_size(size: int) -> st.SearchStrategy[tuple[list[float], ...]]:
        vector = lambda s: st.lists(s, min_size=size, max_size=size)  # noqa: E731
        return st.tuples(vector(st.floats(0.05, 1.0)), vector(means(mean_bound)),
                         vector(scales(low, high)))

    return st.integers(1, max_components).flatmap(of_size)


__all__ += ["gaussian_mixtures"]
