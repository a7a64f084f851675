"""Definitions the equivalence engine knows, applied as rewrite rules to both sides.

:func:`expand_definitions` rewrites an answer so that equivalent answers written in different
vocabularies (a KL as a divergence, an integral or an expectation; a joint or its factors; E_q
or E_{z∼q_φ(z|x)}) meet in ONE canonical form, identical after ``sp.expand(sp.expand_log(.))``
wherever the identity is a matter of definitions. Closed forms are taken from ``derivations``,
never retyped: the Gaussian KL is ``derivations.kl.KL_GAUSSIAN``, the KL integrand
``derivations.gan.kl_integrand`` (p log(p/q)), the JSD integrand ``derivations.gan.JSD_INTEGRAND``
(½ p log(p/m) + ½ q log(q/m), m = (p + q)/2), a Gaussian density ``derivations.gaussian.normal_pdf``.

The canonical form
------------------
*Explicit* (the variable is known): a sum of terms ``c · ∫_ℝ g(v) dv`` — one integral per term
of the expanded integrand, with logs split, every factor free of v moved out, and the variable
renamed to a fixed bound symbol (``⟨v0⟩`` at nesting depth 0, ``⟨v1⟩`` inside it, ...; ``⟨i0⟩``
for an integer index). So

* ``KL(P, Q)`` over v → ``∫ P(v) log P(v) dv − ∫ P(v) log Q(v) dv`` (from ``kl_integrand``);
* ``JSD(P, Q)`` over v → ``∫ JSD_INTEGRAND(P(v), Q(v)) dv``, split the same way — symmetric,
  and equal to ½KL(P‖m) + ½KL(Q‖m) with m = (P + Q)/2 written as a mixture;
* ``E_{v∼P}[f]`` (``E_P``, ``E_{P(v|c)}``, ``E_{v∼P(v|c)}``, ``E_{v∼N(m, s²)}``) →
  ``∫ P(v) f dv``, linear; a term free of v is its own expectation (E[c] = c);
* ``∫ P(v|c) dv = ∫ P(v) dv = 1`` over ℝ (densities are normalised) and
  ``∫ p(a|v) p(v) dv = p(a)`` (marginalisation, same model);
* log of a positive rational in primes: ``log 4 = 2 log 2``.

The numeric engine can evaluate every such integral by instantiating the opaque densities; the
integrands are explicit products of densities and logs of densities.

*Model* (the homework's latent-variable model: x data, z latent; :class:`LatentModel`): the
canonical factorisation is the generative one, p(x, z) = p(x|z) p(z) (also inside logs:
log p(x, z) = log p(x|z) + log p(z)); the posterior is written by Bayes,
p(z|x) = p(x|z) p(z)/p(x); the prior has no parameter, p_θ(z) = p(z). One name (``p``,
``p_theta``) denotes one joint model; ``q`` (the encoder) is never factorised.

*Bare* (nothing says which variable a distribution is over: ``KL(q‖p)``, ``E_q[log q − log p]``):
no variable is chosen. The canonical form is the expectation over the bare symbols, linear and
with logs split: ``KL(q, p)`` → ``E_q[log q] − E_q[log p]``; ``JSD(p, q)`` → the split
expectations of its integrand. An expectation whose variable cannot be told
(``E_q[log p(x|z)]`` with nothing saying q is over z) keeps its subscript, with its body expanded.

*Gaussian KL*: ``KL(N(m1, v1), N(m2, v2))`` (``Normal(mean, variance)``) → ``KL_GAUSSIAN`` at
standard deviations √v1, √v2, with log √v = ½ log v (a variance is positive).

Which distribution a bare name means
------------------------------------
A bare name N (a ``Symbol`` in a distribution position: a KL/JSD argument, an expectation's
subscript, ``z ∼ N``) is resolved to an application ``N(...)`` only when that is certain:

* the expression (or the ``context``: the other side of the comparison) applies N exactly once
  (one distinct application, e.g. ``q(z|x)``) — or, for a one-letter N, exactly one name with
  that base letter (``q_phi(z|x)`` for ``q``);
* the position fixes the variable: ``KL(q, p(z))`` and ``z ∼ q`` give ``q(z)`` when N is not
  applied anywhere (or is applied with that variable exactly once);
* the GAN's marginals (:data:`UNCONDITIONAL`: p_data, p_G, ...) are distributions on the data
  space with nothing to condition on, so ``JSD(p_data, p_G)`` is an integral over that space
  and ``E_{p_data}[log D(x)]`` is over the one variable x of its body — when x is met only as
  the argument f(x) of applied functions (``E_{p_G}[log(1 − D(G(z)))]`` is left alone).

Otherwise the rule does not fire. The ``context`` argument of :func:`expand_definitions`
(the other side of a comparison) is consulted for these resolutions only; without it a bare
``KL(q‖p)`` against ``KL(q(z|x)‖p(z))`` stays in its bare form (the engine can then say it
cannot decide, never a wrong verdict). :func:`prepare` derives the closed forms once (≈ 0.2 s)
outside a timed check; afterwards a typical answer takes a few milliseconds. A body's bare density names (``E_{q(z|x)}[log q − log p]``)
are read at the sampled point only when each is a known distribution (applied or in a
distribution position somewhere); else the expectation stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef, UndefinedFunction

from grading.answers.notation import (Expectation, Given, Namespace, Normal, Sampled,
                                      base_letter)

__all__ = ["HOMEWORK_MODEL", "LatentModel", "UNCONDITIONAL", "bound_symbol", "expand_definitions",
           "prepare"]

_DENSITY_LETTERS = frozenset("pqPQ")
# distributions on the data space that nothing conditions (the GAN's p_data, p_G; 2024's p_r, p_g)
UNCONDITIONAL = frozenset({"p_data", "p_G", "p_g", "p_r", "p_model"})
_ANONYMOUS = sp.Symbol("⟨ω⟩", real=True)  # the point of a space nothing names (renamed later)


@dataclass(frozen=True)
class LatentModel:
    """The latent-variable model whose densities are factorised: data ``x``, latent ``z``,
    the prior's name, and the names of the generative model's densities (one joint)."""

    data: str = "x"
    latent: str = "z"
    prior: str = "p"
    generative: frozenset[str] = frozenset({"p", "p_theta", "p_vartheta"})


HOMEWORK_MODEL = LatentModel()


def bound_symbol(depth: int, variable: sp.Symbol) -> sp.Symbol:
    """The canonical name of a variable bound at nesting ``depth`` (keeps integer/positive)."""
    if variable.is_integer:
        return sp.Symbol(f"⟨i{depth}⟩", integer=True)
    if variable.is_positive:
        return sp.Symbol(f"⟨v{depth}⟩", positive=True)
    return sp.Symbol(f"⟨v{depth}⟩", real=True)


# -- closed forms from derivations (lazy: derived once, on first use) --------------------------

def _kl_integrand(p: sp.Expr, q: sp.Expr) -> sp.Expr:
    from derivations.gan import kl_integrand

    return kl_integrand(p, q)


def _jsd_integrand(p: sp.Expr, q: sp.Expr) -> sp.Expr:
    from derivations.gan import JSD_INTEGRAND

    return JSD_INTEGRAND(p, q)


def _normal_density(point: sp.Expr, mean: sp.Expr, variance: sp.Expr) -> sp.Expr:
    from derivations.gaussian import normal_pdf

    return normal_pdf(point, mean, sp.sqrt(variance))


_S1, _S2 = sp.symbols("s_1 s_2", positive=True)


def _gaussian_kl(first: Normal, second: Normal) -> sp.Expr:
    """KL(N(m1, v1)‖N(m2, v2)) from ``KL_GAUSSIAN(mu_1, sigma_1, mu_2, sigma_2)``: the closed
    form at positive standard deviations s_i, then s_i = √v_i with log s_i = ½ log v_i."""
    from derivations.kl import KL_GAUSSIAN

    (m1, v1), (m2, v2) = first.args, second.args
    closed = sp.expand_log(KL_GAUSSIAN(m1, _S1, m2, _S2))
    closed = closed.xreplace({sp.log(_S1): sp.log(v1) / 2, sp.log(_S2): sp.log(v2) / 2})
    closed = closed.subs({_S1: sp.sqrt(v1), _S2: sp.sqrt(v2)})
    return sp.expand(sp.expand_log(closed))


# -- reading distributions ---------------------------------------------------------------------

def _is_density(e: sp.Basic) -> bool:
    """An applied density p(...), q_phi(...), P(...): named by a density letter, positive."""
    return isinstance(e, AppliedUndef) and base_letter(e.func.__name__) in _DENSITY_LETTERS \
        and e.func.__name__ not in ("KL", "JSD") and bool(e.is_positive)


def _is_density_name(e: sp.Basic) -> bool:
    return isinstance(e, sp.Symbol) and base_letter(e.name) in _DENSITY_LETTERS


def _variable(app: sp.Basic) -> sp.Symbol | None:
    """The variable a density is over: v of p(v) or p(v|c); None for a joint or anything else."""
    if not isinstance(app, AppliedUndef) or len(app.args) != 1:
        return None
    (arg,) = app.args
    if isinstance(arg, sp.Symbol):
        return arg
    if isinstance(arg, Given) and isinstance(arg.args[0], sp.Symbol) \
            and arg.args[0] not in arg.args[1].free_symbols:
        return arg.args[0]
    return None


class _Scope:
    """What the expression (and its context) says about distributions."""

    def __init__(self, exprs: Iterable[sp.Basic], model: LatentModel) -> None:
        self.model = model
        self.applications: dict[str, set[sp.Basic]] = {}
        self.functions: dict[str, UndefinedFunction] = {}
        self.distribution_names: set[str] = set()
        for expr in exprs:
            for app in expr.atoms(AppliedUndef):
                name = app.func.__name__
                self.functions.setdefault(name, app.func)
                if _is_density(app):
                    self.applications.setdefault(name, set()).add(app)
                    self.distribution_names.add(name)
            for node in sp.preorder_traversal(expr):
                if isinstance(node, AppliedUndef) and node.func.__name__ in ("KL", "JSD"):
                    places = node.args
                elif isinstance(node, Expectation) and len(node.args) == 2:
                    places = (node.args[1],)
                elif isinstance(node, Sampled):
                    places = (node.args[1],)
                else:
                    continue
                for place in places:
                    self.distribution_names.update(
                        s.name for s in place.free_symbols
                        if isinstance(s, sp.Symbol) and _is_density_name(s))

    def function(self, name: str) -> UndefinedFunction:
        given = self.functions.get(name)
        return given if given is not None else Namespace().function(name)

    def _candidates(self, name: str) -> set[sp.Basic]:
        exact = self.applications.get(name, set())
        if exact or "_" in name or len(name) != 1:
            return exact
        return {app for n, apps in self.applications.items() if base_letter(n) == name
                for app in apps}

    def resolve(self, name: str) -> sp.Basic | None:
        """The one application a bare name stands for, when there is exactly one."""
        candidates = self._candidates(name)
        if len(candidates) == 1:
            (app,) = candidates
            return app if _variable(app) is not None else None
        return None

    def unconditional(self, name: str) -> bool:
        """A GAN marginal (:data:`UNCONDITIONAL`) applied, if at all, only at single points."""
        return name in UNCONDITIONAL and all(
            len(app.args) == 1 and isinstance(app.args[0], sp.Symbol)
            for app in self.applications.get(name, ()))

    def resolve_at(self, name: str, v: sp.Symbol) -> sp.Basic | None:
        """The density of the bare name N at v: its one application over v, or N(v) when the
        name is applied nowhere (or is a GAN marginal, the same law at every point)."""
        candidates = self._candidates(name)
        if not candidates or self.unconditional(name):
            return self.function(name)(v)
        over_v = {app for app in candidates if _variable(app) == v}
        if len(over_v) == 1:
            return next(iter(over_v))
        return None


_ANY = object()  # a distribution that fits any variable (a Normal, an unconditional GAN density)
_UNKNOWN = object()


def _variable_of(dist: sp.Basic, scope: _Scope) -> object:
    """The variable a distribution argument is over: a Symbol, _ANY, _UNKNOWN or None (conflict)."""
    if isinstance(dist, Normal):
        return _ANY
    if isinstance(dist, AppliedUndef):
        v = _variable(dist) if _is_density(dist) else None
        return v if v is not None else None
    if isinstance(dist, sp.Symbol) and _is_density_name(dist):
        if scope.unconditional(dist.name):
            return _ANY
        app = scope.resolve(dist.name)
        if app is not None:
            return _variable(app)
        return _UNKNOWN
    if isinstance(dist, (sp.Add, sp.Mul)):  # a mixture a p + b q with numeric weights
        parts = [a for a in dist.args if not a.is_number]
        if isinstance(dist, sp.Mul) and len(parts) != 1:
            return None
        return _combine([_variable_of(a, scope) for a in parts])
    return None


def _combine(variables: list[object]) -> object:
    if any(v is None for v in variables):
        return None
    specific = {v for v in variables if v is not _ANY and v is not _UNKNOWN}
    if len(specific) > 1:
        return None
    if specific:
        return next(iter(specific))
    return _UNKNOWN if any(v is _UNKNOWN for v in variables) else _ANY


def _density_at(dist: sp.Basic, v: sp.Symbol, scope: _Scope) -> sp.Expr | None:
    """The density of ``dist`` at the point v, or None when that is not certain."""
    if isinstance(dist, Normal):
        mean, variance = dist.args
        if v in mean.free_symbols | variance.free_symbols:
            return None
        return _normal_density(v, mean, variance)
    if isinstance(dist, AppliedUndef):
        return dist if _is_density(dist) and _variable(dist) == v else None
    if isinstance(dist, sp.Symbol) and _is_density_name(dist):
        return scope.resolve_at(dist.name, v)
    if isinstance(dist, sp.Add):
        parts = [_density_at(a, v, scope) for a in dist.args]
        return None if any(p is None for p in parts) else sp.Add(*parts)
    if isinstance(dist, sp.Mul):
        coefficient, rest = dist.as_coeff_Mul()
        if coefficient.is_positive and not rest.is_number:
            part = _density_at(rest, v, scope)
            return None if part is None else coefficient * part
    return None


# -- logs, linearity, normalisation ------------------------------------------------------------

def _positive_stand_ins(symbols: Iterable[sp.Symbol]) -> dict[sp.Symbol, sp.Symbol]:
    return {s: sp.Symbol(f"⟨{s.name}⟩", positive=True) for s in symbols}


def _expand(expr: sp.Expr, positive: Iterable[sp.Symbol] = ()) -> sp.Expr:
    """Logs split and products expanded; ``positive`` symbols (density values) split as positive."""
    stand_ins = _positive_stand_ins(positive)
    if stand_ins:
        expr = expr.xreplace(stand_ins)
    expr = sp.expand_log(expr).replace(  # log(a/2 + b/2) = log((a + b)/2) → log(a + b) − log 2
        lambda n: isinstance(n, sp.log) and isinstance(n.args[0], sp.Add),
        lambda n: sp.log(sp.factor_terms(n.args[0])))
    expr = sp.expand(sp.expand_log(expr))
    if stand_ins:
        expr = expr.xreplace({b: a for a, b in stand_ins.items()})
    return expr


def _total_mass(dep: sp.Expr, v: sp.Symbol, scope: _Scope) -> sp.Expr | None:
    """∫_ℝ dep dv when it is known: 1 for a density over v, p(a) for p(a|v) p(v)."""
    if _is_density(dep) and _variable(dep) == v:
        return sp.S.One
    factors = sp.Mul.make_args(dep)
    if len(factors) == 2:
        for likelihood, prior in (factors, factors[::-1]):
            if not (_is_density(likelihood) and _is_density(prior) and _variable(prior) == v):
                continue
            (given,) = likelihood.args if len(likelihood.args) == 1 else (None,)
            if isinstance(given, Given) and given.args[1] == v \
                    and v not in given.args[0].free_symbols \
                    and _same_joint(likelihood.func.__name__, prior.func.__name__, scope):
                return likelihood.func(given.args[0])
    return None


def _same_joint(likelihood: str, prior: str, scope: _Scope) -> bool:
    model = scope.model
    return likelihood == prior or (likelihood in model.generative and prior == model.prior)


def _integral(integrand: sp.Expr, limits: tuple, scope: _Scope) -> sp.Expr:
    """∫ integrand over one variable, split into one integral per term, constants out, known
    masses evaluated (over ℝ only)."""
    v, lo, hi = limits
    whole_line = lo == -sp.oo and hi == sp.oo
    total = []
    for term in sp.Add.make_args(_expand(integrand)):
        indep, dep = term.as_independent(v, as_Add=False)
        mass = _total_mass(dep, v, scope) if whole_line else None
        total.append(indep * (mass if mass is not None else sp.Integral(dep, limits)))
    return sp.Add(*total)


def _linear_sum(summand: sp.Expr, limits: tuple, cls: type) -> sp.Expr:
    """Σ split by terms, factors free of the index out (Products are left as they are)."""
    if cls is not sp.Sum:
        return cls(summand, limits)
    j = limits[0]
    total = []
    for term in sp.Add.make_args(sp.expand(summand)):
        indep, dep = term.as_independent(j, as_Add=False)
        total.append(indep * (sp.Sum(dep, limits).doit() if dep == 1 else sp.Sum(dep, limits)))
    return sp.Add(*total)


# -- the rules ---------------------------------------------------------------------------------

def _bare_expectations(integrand: sp.Expr, names: set[sp.Symbol]) -> sp.Expr | None:
    """An integrand in bare density symbols as expectations: p·g → E_p[g], one term at a time."""
    total = []
    for term in sp.Add.make_args(_expand(integrand, names)):
        if term == 0:
            continue
        measures = [f for f in sp.Mul.make_args(term) if f in names]
        if len(measures) != 1:
            return None
        (measure,) = measures
        total.append(Expectation(sp.Mul(*(f for f in sp.Mul.make_args(term) if f != measure)),
                                 measure))
    return sp.Add(*total)


def _divergence(node: AppliedUndef, scope: _Scope) -> sp.Expr | None:
    """KL or JSD written out, or None when its reading is not certain."""
    kind = node.func.__name__
    if len(node.args) != 2:
        return None
    first, second = node.args
    if kind == "KL" and isinstance(first, Normal) and isinstance(second, Normal):
        return _gaussian_kl(first, second)
    integrand = _kl_integrand if kind == "KL" else _jsd_integrand
    v = _combine([_variable_of(first, scope), _variable_of(second, scope)])
    if v is None:
        return None
    if v is _UNKNOWN:  # nothing names the variable: the bare form
        names = first.free_symbols | second.free_symbols
        if not all(_is_density_name(s) for s in names):
            return None
        return _bare_expectations(integrand(first, second), names)
    v = _ANONYMOUS if v is _ANY else v
    densities = (_density_at(first, v, scope), _density_at(second, v, scope))
    if None in densities:
        return None
    return _integral(_factorise(integrand(*densities), scope), (v, -sp.oo, sp.oo), scope)


def _sampled(dist: sp.Basic, body: sp.Expr, scope: _Scope) -> tuple[sp.Symbol, sp.Expr] | None:
    """(variable, density at it) of an expectation's subscript, when certain."""
    if isinstance(dist, Sampled):
        v, law = dist.args
        if not isinstance(v, sp.Symbol):
            return None
        density = _density_at(law, v, scope)
        return None if density is None else (v, density)
    if isinstance(dist, AppliedUndef):
        v = _variable(dist)
        return (v, dist) if v is not None and _is_density(dist) else None
    if isinstance(dist, sp.Symbol) and _is_density_name(dist):
        if not scope.unconditional(dist.name):
            app = scope.resolve(dist.name)
            return None if app is None else (_variable(app), app)
        # a GAN marginal: over the one variable of the body, met only as f(v) (D(x), not
        # D(G(z)): E_{p_G}[log(1 − D(G(z)))] has no certain reading), or over its whole space
        free = {s for s in body.free_symbols if not _is_density_name(s)}
        if not free:
            return _ANONYMOUS, scope.function(dist.name)(_ANONYMOUS)
        if len(free) == 1:
            (v,) = free
            uses = [a for a in body.atoms(AppliedUndef) if v in a.free_symbols]
            if uses and all(a.args == (v,) for a in uses) \
                    and not body.xreplace({a: sp.Dummy() for a in uses}).has(v):
                return v, scope.function(dist.name)(v)
    return None


def _expectation(node: Expectation, scope: _Scope) -> sp.Expr:
    body = node.args[0]
    if len(node.args) == 1:
        return Expectation(_expand(body))
    dist = node.args[1]
    reading = _sampled(dist, body, scope)
    if reading is not None:
        v, density = reading
        bare = {s for s in body.free_symbols if _is_density_name(s)}
        subs = {}
        for s in bare:
            if s.name not in scope.distribution_names and s.name not in UNCONDITIONAL:
                subs = None  # a bare p that nothing says is a distribution: not certain
                break
            at_v = density if (isinstance(dist, sp.Symbol) and s == dist) \
                or (isinstance(dist, Sampled) and s == dist.args[1]) \
                or (isinstance(density, AppliedUndef) and s.name == density.func.__name__) \
                else scope.resolve_at(s.name, v)
            if at_v is None:
                subs = None
                break
            subs[s] = at_v
        if subs is not None:
            total = []
            for term in sp.Add.make_args(_expand(_factorise(body.xreplace(subs), scope))):
                indep, dep = term.as_independent(v, as_Add=False)
                total.append(indep if dep == 1 else
                             indep * _integral(_factorise(density * dep, scope),
                                               (v, -sp.oo, sp.oo), scope))
            return sp.Add(*total)
    # not readable as an integral: the bare form (logs of density values split, linear)
    names = {s for s in body.free_symbols | dist.free_symbols if _is_density_name(s)}
    return Expectation(_expand(_factorise(body, scope), names), dist)


def _factorise(expr: sp.Expr, scope: _Scope) -> sp.Expr:
    """Densities of the generative model in the canonical factorisation (see the docstring)."""
    model = scope.model

    def rewrite(app: AppliedUndef) -> sp.Expr:
        if not _is_density(app) or app.func.__name__ not in model.generative:
            return app
        f = app.func
        prior = scope.function(model.prior)
        args = app.args

        def role(a: sp.Basic) -> str | None:  # a summation index over the latent's states is z
            if not isinstance(a, sp.Symbol):
                return None
            return model.latent if a.is_integer and a.name != model.data else a.name

        names = [role(a) for a in args]
        if len(args) == 2 and sorted(map(str, names)) == sorted((model.data, model.latent)):
            x, z = (args if names[0] == model.data else args[::-1])
            return f(Given(x, z)) * prior(z)
        if len(args) == 1 and isinstance(args[0], Given):
            a, b = args[0].args
            if isinstance(a, sp.Symbol) and isinstance(b, sp.Symbol) \
                    and (role(a), role(b)) == (model.latent, model.data):
                return f(Given(b, a)) * prior(a) / f(b)
        if len(args) == 1 and isinstance(args[0], sp.Symbol) \
                and role(args[0]) == model.latent and f.__name__ != model.prior:
            return prior(args[0])
        return app

    def walk(e: sp.Basic) -> sp.Basic:
        if isinstance(e, AppliedUndef):
            if e.func.__name__ in ("KL", "JSD"):
                return e
            return rewrite(e)
        if isinstance(e, Expectation) and len(e.args) == 2:
            return Expectation(walk(e.args[0]), e.args[1])
        if isinstance(e, (type, Sampled, Normal, Given)) or not e.args:
            return e
        return _rebuilt(e, [walk(a) for a in e.args])

    return walk(expr)


def _rebuilt(e: sp.Basic, args: list[sp.Basic]) -> sp.Basic:
    """``e`` with new arguments; ``e`` itself when none changed (keeps IndexedBase's flags)."""
    if all(a is b or a == b for a, b in zip(args, e.args)):
        return e
    return e.func(*args)


# -- passes ------------------------------------------------------------------------------------

def _definitions(e: sp.Basic, scope: _Scope) -> sp.Basic:
    """Bottom-up: KL, JSD and expectations written out where certain; integrals and sums
    canonical (linear, constants out, masses evaluated)."""
    if isinstance(e, type) or not e.args or isinstance(e, (Given, Sampled)):
        return e
    if isinstance(e, AppliedUndef) and e.func.__name__ in ("KL", "JSD"):
        args = tuple(_definitions(a, scope) for a in e.args)
        node = e.func(*args)
        written = _divergence(node, scope)
        if written is not None:
            return written
        if e.func.__name__ == "JSD" and len(args) == 2:  # symmetric
            return e.func(*sorted(args, key=sp.default_sort_key))
        return node
    if isinstance(e, Expectation):
        return _expectation(Expectation(*(_definitions(a, scope) for a in e.args)), scope)
    if isinstance(e, (sp.Integral, sp.Sum, sp.Product)) and all(len(lim) == 3 for lim in e.limits):
        inner = _definitions(e.function, scope)
        for limits in e.limits:  # innermost first
            if isinstance(e, sp.Integral):
                inner = _integral(_factorise(inner, scope), tuple(limits), scope)
            else:
                inner = _linear_sum(inner, tuple(limits), type(e))
        return inner
    return _rebuilt(e, [_definitions(a, scope) for a in e.args])


def _rename_bound(e: sp.Basic, depth: int = 0) -> sp.Basic:
    """Every bound variable renamed to :func:`bound_symbol` of its nesting depth."""
    if isinstance(e, type) or not e.args:
        return e
    if isinstance(e, (sp.Integral, sp.Sum, sp.Product)) and all(len(lim) == 3 for lim in e.limits):
        limits = []
        renames = {}
        for k, (v, lo, hi) in enumerate(e.limits):
            new = bound_symbol(depth + k, v)
            limits.append((new, _rename_bound(lo, depth).xreplace(renames),
                           _rename_bound(hi, depth).xreplace(renames)))
            renames[v] = new
        body = _rename_bound(e.function, depth + len(limits)).xreplace(renames)
        return type(e)(body, *limits)
    return _rebuilt(e, [_rename_bound(a, depth) for a in e.args])


def _primes_in_logs(e: sp.Basic) -> sp.Basic:
    """log of a positive rational as a combination of logs of primes: log 4 = 2 log 2."""
    def split(node: sp.log) -> sp.Expr:
        r = node.args[0]
        total = sp.S.Zero
        for n, sign in ((r.p, 1), (r.q, -1)):
            for prime, power in sp.factorint(n).items():
                total += sign * power * sp.log(prime)
        return total

    return e.replace(lambda n: isinstance(n, sp.log) and n.args[0].is_Rational
                     and n.args[0].is_positive and n.args[0] != 1
                     and not (n.args[0].is_Integer and sp.isprime(n.args[0])), split)


def prepare() -> None:
    """Derive the closed forms used here now (≈ 0.2 s once), not inside a timed check."""
    from derivations.gan import JSD_INTEGRAND  # noqa: F401
    from derivations.kl import KL_GAUSSIAN  # noqa: F401


def expand_definitions(expr: sp.Basic, *, context: Iterable[sp.Basic] = (),
                       model: LatentModel = HOMEWORK_MODEL) -> sp.Basic:
    """``expr`` with every known definition written out in the canonical form (module docstring).

    ``context``: other expressions of the same comparison (the other side), consulted only to
    resolve a bare distribution name (``E_q`` next to ``q_φ(z|x)``); nothing of them is added.
    """
    if not isinstance(expr, sp.Basic):
        return expr
    context = tuple(c for c in context if isinstance(c, sp.Basic))
    scope = _Scope((expr, *context), model)
    out = _definitions(expr, scope)
    out = _factorise(out, scope)  # densities outside integrals (inside, already done)
    out = _rename_bound(out)
    return _primes_in_logs(out)
