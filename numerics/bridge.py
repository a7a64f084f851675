"""Derived closed forms as vectorised NumPy and torch functions.

A derivation exports its result as a ``sympy.Lambda`` whose ``variables`` fix the argument
order (``derivations.kl.KL_STANDARD_NORMAL_LOGVAR`` takes ``(mu, logvar)``). :func:`to_numpy`
and :func:`to_torch` turn it into a function of arrays:

* scalar arguments broadcast against each other (NumPy rules);
* an ``IndexedBase`` argument is an array whose LAST axis is the index of the ``Sum`` or
  ``Product`` over it (a 0-d value stands for the same value at every index); the bound of that sum (``d``) is the length of that axis, and the sum
  (product) becomes a reduction over it: ``KL_DIAGONAL(mu, sigma, m, s)`` maps arrays of shape
  ``(..., d)`` to shape ``(...)``; a scalar argument used inside such a sum gets a trailing
  axis, so it broadcasts against the batch shape ``(...)``;
* constant sub-expressions (``log(2π)/2``) are folded to Python floats, so float32 inputs stay
  float32 and every array operation receives an array;
* ``log(1 + exp(a))`` is evaluated as a softplus (``logaddexp(0, a)``), which does not
  overflow for large ``a``;
* torch functions are built from differentiable torch operations (``torch.log``,
  ``torch.exp``, ``torch.sqrt``, ``torch.special.*``), so gradients flow to the inputs.

SymPy's own ``TorchPrinter`` (SymPy 1.14) prints ``log(2)`` as ``torch.log(2)`` (which fails
on a Python number) and ``Max`` as a reduction, so this module uses a small printer of its own,
a subclass of SymPy's ``PythonCodePrinter`` that prints every function by a neutral name,
bound to NumPy or torch by the namespace handed to ``sympy.lambdify``. Compiled functions
are cached per (closed form, backend).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

__all__ = ["to_numpy", "to_torch", "UnsupportedExpression"]


class UnsupportedExpression(ValueError):
    """The closed form contains something the bridges cannot vectorise."""


# --------------------------------------------------------------------------------------------
# markers for the vectorised form


class _sum_last(sp.Function):  # noqa: N801 - printed by name
    """Σ over the last axis (the image of a ``Sum`` over an index)."""

    nargs = 1


class _prod_last(sp.Function):  # noqa: N801
    """Π over the last axis (the image of a ``Product`` over an index)."""

    nargs = 1


class _softplus(sp.Function):  # noqa: N801
    """log(1 + exp(a)), evaluated without overflow."""

    nargs = 1


# --------------------------------------------------------------------------------------------
# the printer


_FUNCTIONS = {  # SymPy class name -> name in the backend namespace
    "exp": "exp", "log": "log", "Sqrt": "sqrt", "Abs": "abs_", "sign": "sign",
    "sin": "sin", "cos": "cos", "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh",
    "asin": "asin", "acos": "acos", "atan": "atan", "atan2": "atan2", "asinh": "asinh",
    "acosh": "acosh", "atanh": "atanh", "erf": "erf", "erfc": "erfc", "loggamma": "lgamma",
    "gamma": "gamma_", "digamma": "digamma", "log1p": "log1p", "expm1": "expm1",
    "floor": "floor", "ceiling": "ceil", "Heaviside": "heaviside",
    "_sum_last": "sum_last", "_prod_last": "prod_last", "_softplus": "softplus",
}


class _ArrayPrinter(PythonCodePrinter):
    """Python code over a neutral namespace (``log``, ``maximum``, ``where``, ...)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": False, "inline": True,
                          "allow_unknown_functions": False, "strict": True})
        self.known_functions = dict(_FUNCTIONS)

    def _print_Function(self, expr: sp.Function) -> str:
        name = self.known_functions.get(type(expr).__name__)
        if name is None:
            raise UnsupportedExpression(f"no array version of {type(expr).__name__}")
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    _print_exp = _print_log = _print_Abs = _print_sign = _print_erf = _print_erfc = \
        _print_loggamma = _print_gamma = _print_sin = _print_cos = _print_tan = \
        _print_tanh = _print_sinh = _print_cosh = _print_atan = _print_atan2 = \
        _print_asin = _print_acos = _print_asinh = _print_acosh = _print_atanh = \
        _print_log1p = _print_expm1 = _print_floor = _print_ceiling = _print_Function

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        return self._hprint_Pow(expr, rational=rational, sqrt="sqrt")

    def _fold(self, name: str, args: Sequence[sp.Basic]) -> str:
        printed = [self._print(a) for a in args]
        out = printed[0]
        for other in printed[1:]:
            out = f"{name}({out}, {other})"
        return out

    def _print_Max(self, expr: sp.Max) -> str:
        return self._fold("maximum", expr.args)

    def _print_Min(self, expr: sp.Min) -> str:
        return self._fold("minimum", expr.args)

    def _print_And(self, expr: sp.And) -> str:
        return self._fold("logical_and", expr.args)

    def _print_Or(self, expr: sp.Or) -> str:
        return self._fold("logical_or", expr.args)

    def _print_Not(self, expr: sp.Not) -> str:
        return f"logical_not({self._print(expr.args[0])})"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        (value, condition), *rest = expr.args
        if condition is sp.true:
            return self._print(value)
        otherwise = self._print(sp.Piecewise(*rest)) if rest else "nan"
        return f"where({self._print(condition)}, {self._print(value)}, {otherwise})"

    def _print_Relational(self, expr: sp.Basic) -> str:
        op = {"==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal",
              ">": "greater", ">=": "greater_equal"}[expr.rel_op]
        return f"{op}({self._print(expr.lhs)}, {self._print(expr.rhs)})"

    def _print_BooleanTrue(self, expr: sp.Basic) -> str:
        return "True"

    def _print_BooleanFalse(self, expr: sp.Basic) -> str:
        return "False"

    def _print_NumberSymbol(self, expr: sp.Basic) -> str:
        return repr(float(expr))

    _print_Pi = _print_Exp1 = _print_EulerGamma = _print_NumberSymbol

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Infinity(self, expr: sp.Basic) -> str:
        return "float('inf')"

    def _print_NegativeInfinity(self, expr: sp.Basic) -> str:
        return "float('-inf')"


# --------------------------------------------------------------------------------------------
# the backends' namespaces


def _numpy_namespace() -> dict[str, Any]:
    import scipy.special as special

    ns: dict[str, Any] = {name: getattr(np, name) for name in (
        "exp", "log", "sqrt", "sign", "sin", "cos", "tan", "sinh", "cosh", "tanh", "log1p",
        "expm1", "floor", "ceil", "heaviside", "maximum", "minimum", "where", "logical_and",
        "logical_or", "logical_not", "equal", "not_equal", "less", "less_equal", "greater",
        "greater_equal")}
    ns.update(
        abs_=np.abs, asin=np.arcsin, acos=np.arccos, atan=np.arctan, atan2=np.arctan2,
        asinh=np.arcsinh, acosh=np.arccosh, atanh=np.arctanh,
        erf=special.erf, erfc=special.erfc, lgamma=special.gammaln, gamma_=special.gamma,
        digamma=special.digamma, softplus=lambda a: np.logaddexp(0.0, a),
        sum_last=lambda a: np.sum(a, axis=-1), prod_last=lambda a: np.prod(a, axis=-1),
        nan=np.nan,
    )
    return ns


def _torch_namespace() -> dict[str, Any]:
    import torch

    def tensor_pair(a: Any, b: Any) -> tuple[Any, Any]:
        if not isinstance(a, torch.Tensor):
            a = torch.as_tensor(a, dtype=b.dtype, device=b.device)
        if not isinstance(b, torch.Tensor):
            b = torch.as_tensor(b, dtype=a.dtype, device=a.device)
        return a, b

    def binary(op: Callable) -> Callable:
        return lambda a, b: op(*tensor_pair(a, b))

    def where(condition: Any, a: Any, b: Any) -> Any:
        if not isinstance(a, torch.Tensor) and not isinstance(b, torch.Tensor):
            a = torch.as_tensor(a, dtype=torch.get_default_dtype())
        a, b = tensor_pair(a, b)
        return torch.where(torch.as_tensor(condition), a, b)

    ns: dict[str, Any] = {name: getattr(torch, name) for name in (
        "exp", "log", "sqrt", "sign", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin",
        "acos", "atan", "asinh", "acosh", "atanh", "erf", "erfc", "lgamma", "digamma", "log1p",
        "expm1", "floor", "ceil")}
    ns.update(
        abs_=torch.abs, atan2=binary(torch.atan2),
        gamma_=lambda a: torch.exp(torch.lgamma(a)) * torch.where(
            (a > 0) | (torch.remainder(torch.floor(a), 2) == 0), 1.0, -1.0),
        heaviside=binary(torch.heaviside), maximum=binary(torch.maximum),
        minimum=binary(torch.minimum), where=where,
        logical_and=binary(torch.logical_and), logical_or=binary(torch.logical_or),
        logical_not=torch.logical_not,
        equal=binary(torch.eq), not_equal=binary(torch.ne), less=binary(torch.lt),
        less_equal=binary(torch.le), greater=binary(torch.gt), greater_equal=binary(torch.ge),
        softplus=torch.nn.functional.softplus,
        sum_last=lambda a: torch.sum(a, dim=-1), prod_last=lambda a: torch.prod(a, dim=-1),
        nan=float("nan"),
    )
    return ns


# --------------------------------------------------------------------------------------------
# from a Lambda to a vectorised expression


@dataclass(frozen=True)
class _Plan:
    """How the arguments of a closed form feed the compiled core."""

    n_args: int
    core_inputs: tuple[tuple[str, int, Any], ...]  # ("arg", i, None), ("expanded", i, None),
    #                                                 ("length", bound, bases), ("index", bound, bases)
    vector_args: tuple[int, ...]  # positions of IndexedBase arguments
    bounds: tuple[tuple[sp.Symbol, tuple[int, ...]], ...]  # bound -> arguments with that axis
    body: sp.Expr
    stand_ins: tuple[sp.Symbol, ...]


def _fold_constants(expr: sp.Basic) -> sp.Basic:
    """Replace every non-rational constant sub-expression by a float."""
    if expr.is_Atom:
        return sp.Float(expr.evalf(20), 20) if isinstance(expr, sp.NumberSymbol) else expr
    if getattr(expr, "is_number", False) and not expr.is_Rational and not expr.free_symbols:
        value = sp.N(expr, 20)
        if value.is_real and value.is_finite:
            return sp.Float(value, 20)
        if value.is_extended_real:
            return value
        raise UnsupportedExpression(f"the constant {expr} is not a finite real number")
    return expr.func(*(_fold_constants(a) for a in expr.args))


def _softplus_form(expr: sp.Basic) -> sp.Basic:
    """log(1 + exp(a)) -> softplus(a)."""

    def is_softplus(e: sp.Basic) -> bool:
        if not isinstance(e, sp.log) or not isinstance(e.args[0], sp.Add):
            return False
        terms = e.args[0].args
        return len(terms) == 2 and sp.S.One in terms and any(isinstance(t, sp.exp) for t in terms)

    def rewrite(e: sp.log) -> sp.Basic:
        (power,) = [t for t in e.args[0].args if isinstance(t, sp.exp)]
        return _softplus(power.args[0])

    return expr.replace(is_softplus, rewrite)


def _plan(closed_form: sp.Lambda) -> _Plan:
    if not isinstance(closed_form, sp.Lambda):
        raise TypeError(f"expected a sympy.Lambda, got {type(closed_form).__name__}")
    params = tuple(closed_form.variables)
    body = closed_form.expr
    if body.has(sp.Integral, sp.Derivative):
        raise UnsupportedExpression("unevaluated integrals or derivatives cannot be vectorised")
    for p in params:
        if not isinstance(p, (sp.Symbol, sp.IndexedBase)):
            raise UnsupportedExpression(f"argument {p} is neither a Symbol nor an IndexedBase")

    position = {p: i for i, p in enumerate(params)}
    bases = {p: i for i, p in enumerate(params) if isinstance(p, sp.IndexedBase)}
    base_by_label = {p.label: p for p in bases}
    inputs: list[tuple[str, int, Any]] = []
    stand_ins: list[sp.Symbol] = []
    cache: dict[tuple, sp.Symbol] = {}

    def stand_in(kind: str, key: Any, name: str, extra: Any = None) -> sp.Symbol:
        if (kind, key) not in cache:
            symbol = sp.Dummy(name, real=True)
            cache[(kind, key)] = symbol
            stand_ins.append(symbol)
            inputs.append((kind, key, extra))
        return cache[(kind, key)]

    bound_bases: dict[sp.Symbol, set[int]] = {}

    def vectorise(op: sp.Basic) -> sp.Basic:
        if len(op.limits) != 1 or len(op.limits[0]) != 3:
            raise UnsupportedExpression(f"{type(op).__name__} must run over one index: {op}")
        index, lo, hi = op.limits[0]
        if lo != 1 or not isinstance(hi, sp.Symbol) or hi in position:
            raise UnsupportedExpression(
                f"{type(op).__name__} must run from 1 to a symbolic length that is not an "
                f"argument: {op.limits[0]}")
        summand = op.function
        if summand.has(sp.Sum, sp.Product):
            raise UnsupportedExpression("nested sums/products are not supported")
        indexed = summand.atoms(sp.Indexed)
        replacements: dict[sp.Basic, sp.Basic] = {}
        used: set[int] = set()
        for entry in indexed:
            base = base_by_label.get(entry.base.label, entry.base)
            if base not in bases:
                raise UnsupportedExpression(f"{entry.base} is indexed but is not an argument")
            if entry.indices != (index,):
                raise UnsupportedExpression(f"{entry} is not indexed by the summation index {index}")
            replacements[entry] = stand_in("arg", bases[base], str(base.label))
            used.add(bases[base])
        summand = summand.xreplace(replacements)
        scalars = {s: stand_in("expanded", position[s], f"{s}_")
                   for s in summand.free_symbols if s in position}
        summand = summand.xreplace(scalars)
        if not used:
            raise UnsupportedExpression(f"{op} does not involve an indexed argument")
        bound_bases.setdefault(hi, set()).update(used)
        body = summand
        if body.has(index):
            body = body.xreplace({index: stand_in("index", hi, "index")})
        return (_sum_last if isinstance(op, sp.Sum) else _prod_last)(body)

    vector_body = body.replace(lambda e: isinstance(e, (sp.Sum, sp.Product)), vectorise)
    if vector_body.atoms(sp.Indexed):
        raise UnsupportedExpression(f"indexed entries outside a sum: {vector_body.atoms(sp.Indexed)}")
    free = vector_body.free_symbols - set(stand_ins)
    for symbol in free:
        if symbol in bound_bases:
            vector_body = vector_body.xreplace({symbol: stand_in("length", symbol, str(symbol))})
        elif symbol not in position:
            raise UnsupportedExpression(f"free symbol {symbol} is not an argument")
        else:
            vector_body = vector_body.xreplace({symbol: stand_in("arg", position[symbol], str(symbol))})
    body_final = _softplus_form(_fold_constants(vector_body))
    bounds = tuple((b, tuple(sorted(v))) for b, v in bound_bases.items())
    return _Plan(len(params), tuple(inputs), tuple(sorted(bases.values())), bounds,
                 body_final, tuple(stand_ins))


# --------------------------------------------------------------------------------------------
# the compiled functions


@functools.lru_cache(maxsize=None)
def _namespace(backend: str) -> dict[str, Any]:
    return _numpy_namespace() if backend == "numpy" else _torch_namespace()


@functools.lru_cache(maxsize=1024)
def _compile(closed_form: sp.Lambda, backend: str) -> Callable[..., Any]:
    plan = _plan(closed_form)
    core = sp.lambdify(plan.stand_ins, plan.body, modules=[_namespace(backend)],
                       printer=_ArrayPrinter(), cse=True, docstring_limit=0)
    convert = _as_numpy if backend == "numpy" else _as_torch
    broadcast_shape = _numpy_broadcast_shape if backend == "numpy" else _torch_broadcast_shape
    broadcast_to = _numpy_broadcast_to if backend == "numpy" else _torch_broadcast_to
    index_range = _numpy_index if backend == "numpy" else _torch_index
    vector_args = set(plan.vector_args)
    scalar_fast_path = backend == "numpy" and not vector_args and \
        all(kind == "arg" for kind, _, _ in plan.core_inputs)
    name = getattr(closed_form, "name", None) or "closed_form"

    def function(*args: Any) -> Any:
        if len(args) != plan.n_args:
            raise TypeError(f"{name} takes {plan.n_args} arguments "
                            f"{tuple(str(v) for v in closed_form.variables)}, got {len(args)}")
        if scalar_fast_path and all(type(a) in _PLAIN_NUMBERS for a in args):
            # plain Python numbers (quadrature calls point by point): no array bookkeeping
            return np.float64(core(*[float(args[key]) for _, key, _ in plan.core_inputs]))
        values = convert(args)
        for i in vector_args:
            if values[i].ndim == 0:  # one value for every index: broadcasts along the axis
                values[i] = values[i][None]
        lengths: dict[sp.Symbol, int] = {}
        for bound, positions in plan.bounds:
            sizes = {values[i].shape[-1] for i in positions} - {1}
            if len(sizes) > 1:
                raise ValueError(f"the indexed arguments disagree on the length of {bound}: {sizes}")
            lengths[bound] = sizes.pop() if sizes else 1
        feed = []
        for kind, key, _ in plan.core_inputs:
            if kind == "arg":
                feed.append(values[key])
            elif kind == "expanded":
                feed.append(values[key][..., None])
            elif kind == "length":
                feed.append(lengths[key])
            else:  # the summation index itself, 1..d
                feed.append(index_range(lengths[key], values))
        result = core(*feed)
        batch = broadcast_shape([v.shape[:-1] if i in vector_args else v.shape
                                 for i, v in enumerate(values)])
        return broadcast_to(result, batch, values)

    function.__name__ = f"{name}_{backend}"
    function.__doc__ = (f"{closed_form} on {backend} arrays; arguments "
                        f"{tuple(str(v) for v in closed_form.variables)}.")
    return function


_PLAIN_NUMBERS = (float, int, np.float64)


def _as_numpy(args: Sequence[Any]) -> list[np.ndarray]:
    arrays = [a for a in args if isinstance(a, np.ndarray | np.generic) and a.dtype.kind == "f"]
    dtype = arrays[0].dtype if arrays else np.float64  # Python numbers follow the arrays
    out = []
    for a in args:
        if isinstance(a, np.ndarray | np.generic):
            out.append(np.asarray(a) if a.dtype.kind in "fc" else np.asarray(a, dtype=np.float64))
        else:
            value = np.asarray(a)
            out.append(value.astype(dtype if value.dtype.kind in "biuf" else value.dtype))
    return out


def _as_torch(args: Sequence[Any]) -> list[Any]:
    import torch

    tensors = [a for a in args if isinstance(a, torch.Tensor) and a.is_floating_point()]
    dtype = tensors[0].dtype if tensors else torch.get_default_dtype()
    device = tensors[0].device if tensors else None
    out = []
    for a in args:
        if isinstance(a, torch.Tensor):
            out.append(a if a.is_floating_point() or a.is_complex() else a.to(dtype))
        else:
            out.append(torch.as_tensor(np.asarray(a), dtype=dtype, device=device))
    return out


def _numpy_broadcast_shape(shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
    return np.broadcast_shapes(*shapes) if shapes else ()


def _torch_broadcast_shape(shapes: list[Any]) -> tuple[int, ...]:
    import torch

    return tuple(torch.broadcast_shapes(*shapes)) if shapes else ()


def _numpy_broadcast_to(result: Any, shape: tuple[int, ...], values: list) -> Any:
    result = np.asarray(result, dtype=np.result_type(*values, np.float32) if values else float)
    if result.shape != shape:
        result = result + np.zeros(shape, dtype=result.dtype)
    return result[()] if result.ndim == 0 else result


def _torch_broadcast_to(result: Any, shape: tuple[int, ...], values: list) -> Any:
    import torch

    if not isinstance(result, torch.Tensor):
        floating = [v for v in values if v.is_floating_point()]
        result = torch.as_tensor(result, dtype=floating[0].dtype if floating else None)
    if tuple(result.shape) != shape:
        result = result.expand(shape) if result.dim() <= len(shape) else result
    return result


def _numpy_index(length: int, values: list) -> np.ndarray:
    return np.arange(1, length + 1, dtype=np.float64)


def _torch_index(length: int, values: list) -> Any:
    import torch

    return torch.arange(1, length + 1, dtype=values[0].dtype if values else None)


# --------------------------------------------------------------------------------------------
# public


ClosedForm = sp.Lambda | tuple[sp.Lambda, ...]


def _components(closed_form: ClosedForm, backend: str) -> Callable[..., Any]:
    """A tuple of closed forms over the same arguments (the coordinates of a vector result):
    one function whose output stacks the coordinates along a new last axis."""
    parts = tuple(closed_form)
    if not parts or any(not isinstance(p, sp.Lambda) for p in parts):
        raise TypeError("expected a sympy.Lambda or a tuple of them")
    if any(p.variables != parts[0].variables for p in parts):
        raise UnsupportedExpression("the components take different arguments")
    return _stacked(parts, backend)


@functools.lru_cache(maxsize=256)
def _stacked(parts: tuple[sp.Lambda, ...], backend: str) -> Callable[..., Any]:
    functions = [_compile(p, backend) for p in parts]
    if backend == "numpy":
        stack = lambda values: np.stack(np.broadcast_arrays(*values), axis=-1)  # noqa: E731
    else:
        import torch

        stack = lambda values: torch.stack(torch.broadcast_tensors(*values), dim=-1)  # noqa: E731

    def function(*args: Any) -> Any:
        return stack([f(*args) for f in functions])

    function.__doc__ = f"{len(parts)} coordinates, stacked on the last axis; arguments " \
                       f"{tuple(str(v) for v in parts[0].variables)}."
    return function


def to_numpy(closed_form: ClosedForm) -> Callable[..., np.ndarray]:
    """A vectorised NumPy function of ``closed_form`` (arguments in ``closed_form.variables``).

    Scalar arguments broadcast; an ``IndexedBase`` argument is an array whose last axis is the
    summation index, reduced by the ``Sum``/``Product`` over it. Integer inputs are promoted to
    float64; float32 inputs stay float32 (Python numbers and lists take the dtype of the first
    floating array argument). A tuple of closed forms over the same arguments (a vector
    result, e.g. ``NOISED_MIXTURE_SCORE_2D``) gives its coordinates stacked on a new last
    axis. Cached per closed form.
    """
    if isinstance(closed_form, (tuple, list)):
        return _components(closed_form, "numpy")
    return _compile(closed_form, "numpy")


def to_torch(closed_form: ClosedForm) -> Callable[..., Any]:
    """A vectorised, differentiable torch function of ``closed_form``; see :func:`to_numpy`.

    Tensors keep their dtype and device and their autograd graph; non-tensor arguments become
    tensors of the dtype of the first floating tensor argument (else the default dtype).
    """
    if isinstance(closed_form, (tuple, list)):
        return _components(closed_form, "torch")
    return _compile(closed_form, "torch")
