"""The NumPy and torch bridges agree with SymPy's own evaluation of the derived closed forms.

Independent route: SymPy substitutes the numbers into the ``Lambda`` (unrolling a ``Sum`` for
the concrete length) and evaluates it in 30-digit arithmetic; the bridged function must agree
to a relative 1e-12 (float64) or 1e-5 (float32). The twin of the agreement check feeds a
mutated closed form (sign flipped, factor 2 lost) and asserts the check rejects it.

No test here is random in outcome: the inputs come from Hypothesis (derandomized profile) or
are fixed, and every comparison is deterministic — the false-failure budget of this file is 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from derivations import gaussian, kl
from numerics.bridge import UnsupportedExpression, to_numpy, to_torch
from tests.strategies import dimensions, means, scales

SCALAR_CONSTANTS = [
    (gaussian, "GAUSSIAN_LOG_DENSITY"),
    (gaussian, "GAUSSIAN_LOG_DENSITY_LOGVAR"),
    (kl, "KL_GAUSSIAN"),
    (kl, "KL_STANDARD_NORMAL"),
    (kl, "KL_STANDARD_NORMAL_LOGVAR"),
    (kl, "KL_EQUAL_VARIANCE"),
]
INDEXED_CONSTANTS = [(kl, "KL_DIAGONAL"), (gaussian, "DIAGONAL_GAUSSIAN_LOG_DENSITY")]


def _is_positive(arg: sp.Basic) -> bool:
    symbol = arg.label if isinstance(arg, sp.IndexedBase) else arg
    return bool(symbol.is_positive) or str(symbol) in ("sigma", "s")


def _draw_value(data: st.DataObject, arg: sp.Basic, length: int | None) -> float | list[float]:
    strategy = scales(-1.5, 1.5) if _is_positive(arg) else means(3.0)
    if length is None:
        return data.draw(strategy)
    return data.draw(st.lists(strategy, min_size=length, max_size=length))


def sympy_value(closed_form: sp.Lambda, values: list) -> float:
    """The closed form at a point, by SymPy: unroll sums for the length, substitute, evalf."""
    length = max((len(v) for v in values if isinstance(v, list)), default=0)
    substitutions: dict[sp.Basic, sp.Basic] = {}
    for arg, value in zip(closed_form.variables, values):
        if isinstance(arg, sp.IndexedBase):
            substitutions.update({arg[k]: sp.Float(v, 30) for k, v in enumerate(value, start=1)})
        else:
            substitutions[arg] = sp.Float(value, 30)

    def unroll(op: sp.Basic) -> sp.Basic:
        (index, lo, hi), = op.limits
        terms = [op.function.xreplace({index: sp.Integer(k)}) for k in range(1, length + 1)]
        return (sp.Add if isinstance(op, sp.Sum) else sp.Mul)(*terms)

    body = closed_form.expr.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), unroll)
    return float(body.xreplace(substitutions).evalf(30))


def agrees(function, closed_form: sp.Lambda, values: list, rel: float = 1e-12) -> bool:
    got = float(function(*[np.asarray(v, dtype=np.float64) for v in values]))
    want = sympy_value(closed_form, values)
    return math.isclose(got, want, rel_tol=rel, abs_tol=rel)


@pytest.mark.parametrize("module, name", SCALAR_CONSTANTS)
@given(data=st.data())
def test_numpy_function_of_each_scalar_constant_agrees_with_sympy(module, name, data):
    closed_form = getattr(module, name)
    values = [_draw_value(data, arg, None) for arg in closed_form.variables]
    assert agrees(to_numpy(closed_form), closed_form, values)


@pytest.mark.parametrize("module, name", INDEXED_CONSTANTS)
@given(data=st.data(), d=dimensions(1, 4))
def test_numpy_function_of_each_indexed_constant_sums_over_the_last_axis(module, name, data, d):
    closed_form = getattr(module, name)
    values = [_draw_value(data, arg, d) for arg in closed_form.variables]
    assert agrees(to_numpy(closed_form), closed_form, values)


@pytest.mark.parametrize("factor", [-1, 2, sp.Rational(1, 2)])
def test_agreement_check_rejects_a_mutated_closed_form(factor):
    closed_form = kl.KL_GAUSSIAN
    mutant = sp.Lambda(closed_form.variables, factor * closed_form.expr)
    values = [0.3, 0.7, -0.4, 1.3]  # KL = 0.5315 here, far from 0, so every factor shows
    assert agrees(to_numpy(closed_form), closed_form, values)
    assert not agrees(to_numpy(mutant), closed_form, values)


def test_agreement_check_rejects_swapped_arguments():
    closed_form = kl.KL_GAUSSIAN
    mu_1, sigma_1, mu_2, sigma_2 = closed_form.variables
    swapped = sp.Lambda(closed_form.variables,
                        closed_form.expr.xreplace({mu_1: mu_2, mu_2: mu_1, sigma_1: sigma_2, sigma_2: sigma_1}))
    values = [0.3, 0.7, -0.4, 1.3]  # unequal σ: KL(q‖p) ≠ KL(p‖q)
    assert not agrees(to_numpy(swapped), closed_form, values)


@pytest.mark.parametrize("module, name", SCALAR_CONSTANTS + INDEXED_CONSTANTS)
def test_torch_float64_agrees_with_numpy_and_float32_keeps_its_dtype(module, name):
    closed_form = getattr(module, name)
    rng = np.random.default_rng(20240601)
    shape = (5, 3)  # for an indexed argument: a batch of 5, d = 3
    values = [np.exp(rng.uniform(-1, 1, shape)) if _is_positive(a) else rng.uniform(-2, 2, shape)
              for a in closed_form.variables]
    expected = to_numpy(closed_form)(*values)
    as_64 = to_torch(closed_form)(*[torch.tensor(v) for v in values])
    as_32 = to_torch(closed_form)(*[torch.tensor(v, dtype=torch.float32) for v in values])
    assert as_64.dtype == torch.float64 and as_32.dtype == torch.float32
    np.testing.assert_allclose(as_64.numpy(), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(as_32.numpy(), expected, rtol=1e-4, atol=1e-4)
    indexed = any(isinstance(a, sp.IndexedBase) for a in closed_form.variables)
    assert expected.shape == ((5,) if indexed else shape)


def test_numpy_float32_input_stays_float32_and_python_numbers_follow_it():
    f = to_numpy(kl.KL_STANDARD_NORMAL_LOGVAR)
    assert f(np.float32([1.0, 2.0]), 0.0).dtype == np.float32
    assert f(np.array([1.0, 2.0]), 0).dtype == np.float64
    assert f(1, 0) == pytest.approx(0.5)


def test_scalar_arguments_broadcast_like_numpy():
    f = to_numpy(kl.KL_GAUSSIAN)
    out = f(np.zeros((3, 1)), np.ones(4), 0.0, 2.0)
    assert out.shape == (3, 4)
    g = to_torch(kl.KL_GAUSSIAN)
    assert tuple(g(torch.zeros(3, 1), torch.ones(4), 0.0, 2.0).shape) == (3, 4)


def test_indexed_arguments_broadcast_over_the_batch_axes_and_a_0d_value_fills_the_index():
    f = to_numpy(kl.KL_DIAGONAL)
    rng = np.random.default_rng(7)
    mu, sigma = rng.normal(size=(6, 3)), np.exp(rng.normal(size=(6, 3)))
    to_prior = f(mu, sigma, 0.0, 1.0)  # KL(q‖N(0, I)): 0-d m and s stand for every coordinate
    assert to_prior.shape == (6,)
    by_coordinate = to_numpy(kl.KL_STANDARD_NORMAL)(mu, sigma).sum(axis=-1)
    np.testing.assert_allclose(to_prior, by_coordinate, rtol=1e-12)
    with pytest.raises(ValueError, match="disagree"):
        f(mu, sigma, np.zeros(4), np.ones(4))


def test_torch_gradients_equal_the_textbook_derivatives():
    mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    sigma = torch.tensor([0.7, 1.0, 3.0], dtype=torch.float64, requires_grad=True)
    to_torch(kl.KL_STANDARD_NORMAL)(mu, sigma).sum().backward()
    # d/dμ ½(μ² + σ² − 1 − log σ²) = μ;  d/dσ = σ − 1/σ
    torch.testing.assert_close(mu.grad, mu.detach())
    torch.testing.assert_close(sigma.grad, sigma.detach() - 1 / sigma.detach())


def test_torch_gradient_of_the_diagonal_log_density_is_the_score():
    x = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3),
                    requires_grad=True)
    mu, logvar = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64), torch.tensor([0.0, 1.0, -1.0],
                                                                                   dtype=torch.float64)
    to_torch(gaussian.DIAGONAL_GAUSSIAN_LOG_DENSITY)(x, mu, logvar).sum().backward()
    torch.testing.assert_close(x.grad, -(x.detach() - mu) / logvar.exp())


@pytest.mark.parametrize("module, name", [(kl, "KL_GAUSSIAN"), (kl, "KL_DIAGONAL"),
                                          (gaussian, "GAUSSIAN_LOG_DENSITY_LOGVAR")])
def test_torch_gradcheck_passes_for_derived_constants(module, name):
    closed_form = getattr(module, name)
    g = torch.Generator().manual_seed(11)
    inputs = tuple((torch.rand(2, 3, dtype=torch.float64, generator=g) + 0.5).requires_grad_()
                   for _ in closed_form.variables)
    assert torch.autograd.gradcheck(to_torch(closed_form), inputs)


def test_compiled_functions_are_cached():
    assert to_numpy(kl.KL_GAUSSIAN) is to_numpy(kl.KL_GAUSSIAN)
    assert to_torch(kl.KL_GAUSSIAN) is to_torch(kl.KL_GAUSSIAN)
    assert to_numpy(kl.KL_GAUSSIAN) is not to_torch(kl.KL_GAUSSIAN)


a, b = sp.symbols("a b", real=True)
n = sp.Symbol("n", integer=True, positive=True)
k = sp.Idx("k")
xs = sp.IndexedBase("x")


def test_log_one_plus_exp_is_evaluated_without_overflow():
    softplus = sp.Lambda((a,), sp.log(1 + sp.exp(a)))
    values = np.array([-800.0, 0.0, 800.0])
    np.testing.assert_allclose(to_numpy(softplus)(values), [0.0, math.log(2), 800.0], atol=1e-300)
    torch.testing.assert_close(to_torch(softplus)(torch.tensor(values)),
                               torch.tensor([0.0, math.log(2), 800.0], dtype=torch.float64))


def test_max_and_piecewise_act_elementwise():
    closed_form = sp.Lambda((a, b), sp.Max(a, 0) + sp.Piecewise((a, a > b), (b, True)))
    values = np.array([-1.0, 0.5, 2.0])
    expected = np.maximum(values, 0) + np.where(values > 0.25, values, 0.25)
    np.testing.assert_allclose(to_numpy(closed_form)(values, 0.25), expected)
    np.testing.assert_allclose(to_torch(closed_form)(torch.tensor(values), 0.25).numpy(), expected)


def test_products_and_the_summation_index_itself_are_vectorised():
    product = sp.Lambda((xs,), sp.Product(xs[k], (k, 1, n)))
    weighted = sp.Lambda((xs, a), sp.Sum(k * xs[k] * a, (k, 1, n)) + n)
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 4.0]])
    np.testing.assert_allclose(to_numpy(product)(x), [6.0, 1.0])
    np.testing.assert_allclose(to_numpy(weighted)(x, np.array([1.0, 2.0])),
                               [1 + 4 + 9 + 3, 2 * (0.5 + 1 + 12) + 3])
    torch.testing.assert_close(to_torch(weighted)(torch.tensor(x), torch.tensor([1.0, 2.0],
                                                                                 dtype=torch.float64)),
                               torch.tensor([17.0, 30.0], dtype=torch.float64))


def test_unsupported_closed_forms_are_refused_with_a_reason():
    with pytest.raises(UnsupportedExpression, match="not an argument"):
        to_numpy(sp.Lambda((a,), a + b))
    with pytest.raises(UnsupportedExpression, match="integral"):
        to_numpy(sp.Lambda((a,), sp.Integral(sp.exp(-a * b**2), (b, 0, 1))))
    with pytest.raises(TypeError):
        to_numpy(a + 1)


def test_wrong_number_of_arguments_is_a_type_error():
    with pytest.raises(TypeError, match="takes 4 arguments"):
        to_numpy(kl.KL_GAUSSIAN)(0.0, 1.0)


def test_a_tuple_of_closed_forms_gives_its_coordinates_on_a_last_axis():
    gradient = (sp.Lambda((a, b), 2 * a * b), sp.Lambda((a, b), a**2))  # ∇(a² b)
    values = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(to_numpy(gradient)(values, 2.0),
                               np.stack([4 * values, values**2], axis=-1))
    tensor = torch.tensor(values, requires_grad=True)
    out = to_torch(gradient)(tensor, 2.0)
    assert tuple(out.shape) == (3, 2)
    out.sum().backward()
    torch.testing.assert_close(tensor.grad, 4.0 + 2 * tensor.detach())
    with pytest.raises(UnsupportedExpression, match="different arguments"):
        to_numpy((sp.Lambda((a, b), a + 2 * b), sp.Lambda((b, a), a + 2 * b)))
