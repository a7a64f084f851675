"""Derivation answers: a list of LaTeX lines, each checked against the previous one.

The lines become a :class:`derivations.core.Derivation` and are verified by its checker (the
same one that proves the answer key), so the checking logic exists once. A line is

* ``A = B \\geq C`` — a chain: each side follows from the one before by the relation written
  between them (``=``, ``\\geq``/``\\ge``/``≥``, ``\\leq``, ``<``, ``>``); a line that starts
  with a relation continues from the last expression of the previous line, and one that does
  not must equal it. On the first line a bare label (``\\mathcal{L}(q, \\lambda) =``,
  ``V(D) =``) names the start and is not checked.
* ``\\frac{\\partial \\mathcal{L}}{\\partial q(z)} = g = 0`` or ``\\partial_{D(x)}: g = 0`` — the
  stationarity condition: g must be the derivative of the last expression (a Lagrangian or
  an integral of one: sums and integrals over the model's variable are differentiated
  pointwise, Euler–Lagrange without a derivative term).
* ``\\Rightarrow U = E`` — U = E solves the previous equation (core relation ``"solves"``);
  ``\\sum_z q(z) = 1 \\Rightarrow \\lambda = E`` first puts the stationary value of q into the
  constraint; a later line ``U = E`` or ``U^* = E`` about a solved unknown restates its
  value with the later solutions substituted (eliminating a multiplier), then must equal E.
* ``\\frac{\\partial^2 \\mathcal{L}}{\\partial D^2} = E < 0`` — the second variation: E must be
  the second derivative of the Lagrangian and have the stated sign on the domain.

``% comment`` and ``\\text{...}`` are the reason of a line. Integrals, expectations, KL and
JSD and the course's densities get a meaning from the question's :class:`Model`: the
variable (``z``) ranges over finitely many states whose probabilities are random tables
(normalised where they are distributions), so every identity the course uses can be checked
at random points (Jensen's inequality included); or, ``continuous``, densities are given
functions and integrals run over the real line.

The check names the first invalid line. Source of the method: the derivation core
(:mod:`derivations.core`), and the finite-model semantics of probabilistic identities (an
identity of expectations that holds for all distributions holds on every finite one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from grading.key.registry import Answer, Question, Result, Status, register_checker

__all__ = ["Definition", "Line", "Model", "StepCheck", "Table", "build_derivation",
           "check_derivation", "split_lines"]

TIMEOUT = 30.0  # seconds for all the lines of one answer
_UNIT = (0.02, 0.98)
_POSITIVE = (0.05, 3.0)


# ==============================================================================================
# the model: what integrals, expectations and densities mean


@dataclass(frozen=True)
class Table:
    """A function of the model's variable stored as the entries of an ``IndexedBase``.

    ``patterns`` are the ways the course writes it (LaTeX, e.g. ``p_\\theta(x|z)``, ``p(x|z)``),
    with the model's variable where the state goes; ``kind`` is ``"distribution"`` (entries
    normalised over the states), ``"positive"`` or ``"unit_interval"``.
    """

    name: str
    patterns: tuple[str, ...]
    kind: str = "positive"


@dataclass(frozen=True)
class Definition:
    """A quantity defined from the tables: ``p_\\theta(x) := \\sum_z p_\\theta(x|z) p(z)``.

    ``meaning`` is LaTeX in the course's notation, or a callable ``(namespace, at) -> expr``
    of the value of the variable (e.g. a Gaussian density from :mod:`derivations.gaussian`).
    """

    patterns: tuple[str, ...]
    meaning: str | Callable[[Any, sp.Basic], sp.Basic]
    gaussian: tuple[str, str] | None = None  # (mean, standard deviation) of a Gaussian density


@dataclass(frozen=True, eq=False)
class Model:
    """A finite (or, ``continuous``, a real-line) meaning for one question's notation.

    ``variable`` ranges over ``states`` states (an integer, or the name of a positive-integer
    symbol drawn small by the checker). ``bare`` maps a name written without its argument
    (``q`` in ``\\mathbb{E}_q``, ``p_{data}`` in ``KL(p_{data} \\| p_G)``) to its pattern.
    """

    variable: str
    tables: tuple[Table, ...] = ()
    definitions: tuple[Definition, ...] = ()
    bare: Mapping[str, str] = field(default_factory=dict)
    states: int | str = "K"
    continuous: bool = False

    def bind(self, namespace: Any, *, simplex: bool = False) -> BoundModel:
        """The model with the question's names; ``simplex`` (a fixed number of states, for the
        derivation core): a distribution's last entry is one minus the others (``given``)
        instead of every entry being divided by the total."""
        return BoundModel(self, namespace, simplex=simplex)

    def table_assumptions(self) -> dict[str, str]:
        """The kinds of the tables, for the equivalence engine's sampler."""
        return {t.name: "unit_interval" if t.kind == "unit_interval" else "positive"
                for t in self.tables}


class BoundModel:
    """A :class:`Model` with the question's names: rewrites parsed answers into tables."""

    def __init__(self, model: Model, namespace: Any, *, simplex: bool = False) -> None:
        from grading.answers.parse import parse_answer

        self.model = model
        self.ns = namespace
        self.simplex = simplex and isinstance(model.states, int)
        self.variable_names = {model.variable, model.variable + "'"}
        if model.continuous:
            self.variable_names.add(_ANY_VALUE)
        self.states = sp.Integer(model.states) if isinstance(model.states, int) else \
            sp.Symbol(model.states, integer=True, positive=True)
        self.free = sp.Symbol(model.variable, integer=True, positive=True)  # a state, unsummed
        self.bases = {t.name: sp.IndexedBase(t.name, positive=True) for t in model.tables}
        read = lambda text: parse_answer(text, namespace=namespace)  # noqa: E731
        self.patterns: list[tuple[sp.Basic, Any]] = []
        for table in model.tables:
            for pattern in table.patterns:
                self.patterns.append((read(pattern), table))
        self.gaussians: list[tuple[sp.Basic, tuple[sp.Basic, sp.Basic]]] = []
        for definition in model.definitions:
            meaning = definition.meaning
            parsed = read(meaning) if isinstance(meaning, str) else meaning
            for pattern in definition.patterns:
                self.patterns.append((read(pattern), parsed))
                if definition.gaussian is not None:
                    mean, sd = definition.gaussian
                    self.gaussians.append((read(pattern), (namespace.symbol(mean),
                                                           namespace.symbol(sd))))
        self.bare = {name: read(pattern) for name, pattern in model.bare.items()}

    # -- helpers ----------------------------------------------------------------------------

    def is_variable(self, expr: sp.Basic) -> bool:
        return isinstance(expr, sp.Symbol) and expr.name in self.variable_names

    def at(self, expr: sp.Basic, value: sp.Basic) -> sp.Basic:
        """``expr`` with every symbol of the model's variable set to ``value``."""
        mapping = {s: value for s in expr.free_symbols if self.is_variable(s)}
        return expr.xreplace(mapping) if mapping else expr

    def state(self) -> sp.Symbol:
        return sp.Dummy("k", integer=True, positive=True)

    def over_states(self, body: Callable[[sp.Basic], sp.Basic]) -> sp.Basic:
        """Σ over the states (or ∫ over the real line) of ``body(state)``."""
        if self.model.continuous:
            t = sp.Dummy("t", real=True)
            return sp.Integral(body(t), (t, -sp.oo, sp.oo))
        if isinstance(self.states, sp.Integer):  # a fixed number of states: written out
            return sp.Add(*(body(sp.Integer(i)) for i in range(1, int(self.states) + 1)))
        k = self.state()
        return sp.Sum(body(k), (k, 1, self.states))

    def table_value(self, table: Table, index: sp.Basic) -> sp.Basic:
        base = self.bases[table.name]
        if table.kind != "distribution" or self.simplex:
            return base[index]
        if isinstance(self.states, sp.Integer):
            total = sp.Add(*(base[i] for i in range(1, int(self.states) + 1)))
            return base[index] / total
        k = self.state()
        return base[index] / sp.Sum(base[k], (k, 1, self.states))

    # -- the rewrite ----------------------------------------------------------------------

    def rewrite(self, expr: sp.Basic, here: sp.Basic | None = None) -> sp.Basic:
        """``expr`` with the model's meaning (``here`` is the current value of the variable)."""
        from grading.answers.notation import Expectation, Given, Sampled

        here = self.free if here is None else here
        if isinstance(expr, (sp.Indexed, sp.IndexedBase)):
            return expr  # already a table entry
        if isinstance(expr, sp.Symbol):
            if expr.name in self.bare:
                return self.density_at(self.bare[expr.name], here)
            if self.is_variable(expr) and not self.model.continuous:
                return here if here is self.free else expr
            return expr
        if not expr.args:
            return expr
        if isinstance(expr, Expectation):
            return self.expectation(expr)
        if isinstance(expr, sp.Integral):
            return self.integral(expr, here)
        if isinstance(expr, sp.Sum) and len(expr.limits) == 1 and self.sums_states(expr):
            index = expr.limits[0][0]
            return self.over_states(lambda k: self.rewrite(expr.function.xreplace({index: k}), k))
        if isinstance(expr, AppliedUndef):
            name = expr.func.__name__
            if name == "KL" and len(expr.args) == 2:
                return self.kl(*expr.args)
            if name == "JSD" and len(expr.args) == 2:
                first, second = (self.as_function(arg) for arg in expr.args)
                mixture = lambda k: (first(k) + second(k)) / 2  # noqa: E731
                return self.kl(first, mixture) / 2 + self.kl(second, mixture) / 2
            matched = self.match(expr)
            if matched is not None:
                return matched
        if isinstance(expr, (Given, Sampled)):
            return expr
        return expr.func(*(self.rewrite(arg, here) for arg in expr.args))

    def sums_states(self, operator: sp.Sum) -> bool:
        index = operator.limits[0][0]
        if index.name.rstrip("'") == self.model.variable:
            return True
        return any(self.match(application.xreplace({index: self.free})) is not None
                   and self.binds(application, index)
                   for application in operator.function.atoms(AppliedUndef))

    def binds(self, application: AppliedUndef, index: sp.Symbol) -> bool:
        for pattern, _ in self.patterns:
            binding: dict[str, sp.Basic] = {}
            if _unify(pattern, application, self.variable_names, binding):
                return binding.get("value") == index
        return False

    def match(self, application: AppliedUndef) -> sp.Basic | None:
        """The meaning of ``f(args)`` if it is one of the model's patterns."""
        for pattern, meaning in self.patterns:
            binding: dict[str, sp.Basic] = {}
            if not _unify(pattern, application, self.variable_names, binding):
                continue
            value = binding.get("value", self.free)
            if isinstance(value, sp.Symbol) and self.is_variable(value):
                value = self.free
            if isinstance(meaning, Table):
                return self.table_value(meaning, value)
            if callable(meaning) and not isinstance(meaning, sp.Basic):
                return meaning(self.ns, value)
            return self.rewrite(self.at(meaning, value), value)
        return None

    def density_at(self, density: sp.Basic, value: sp.Basic) -> sp.Basic:
        """A density written as an application (or a bare name) evaluated at ``value``."""
        if isinstance(density, sp.Symbol) and density.name in self.bare:
            density = self.bare[density.name]
        return self.rewrite(self.at(density, value), value)

    def as_function(self, argument: sp.Basic) -> Callable[[sp.Basic], sp.Basic]:
        """A KL/JSD argument (an application, a bare name, or an expression of them) as a
        function of the state."""
        return lambda k: self.density_at(argument, k)

    def kl(self, first: sp.Basic, second: Any) -> sp.Basic:
        p = first if callable(first) and not isinstance(first, sp.Basic) else \
            self.as_function(first)
        q = second if callable(second) and not isinstance(second, sp.Basic) else \
            self.as_function(second)
        if self.model.continuous and isinstance(first, sp.Basic):
            moments = self.gaussian_of(first)
            if moments is not None:
                return self.by_moments(lambda t: sp.log(p(t)) - sp.log(q(t)), *moments)
        return self.over_states(lambda k: p(k) * sp.log(p(k) / q(k)))

    def gaussian_of(self, density: sp.Basic) -> tuple[sp.Basic, sp.Basic] | None:
        """(mean, sd) if ``density`` (an application or a bare name) is a Gaussian of the model."""
        if isinstance(density, sp.Symbol) and density.name in self.bare:
            density = self.bare[density.name]
        if not isinstance(density, AppliedUndef):
            return None
        for pattern, moments in self.gaussians:
            if _unify(pattern, density, self.variable_names, {}):
                return moments
        return None

    def by_moments(self, body: Callable[[sp.Basic], sp.Basic], mean: sp.Basic,
                   sd: sp.Basic) -> sp.Basic:
        """E[body(x)] for x ~ N(mean, sd²): x = mean + sd·t, a polynomial in t, the moments of
        N(0, 1) (``derivations.gaussian.standard_normal_moment``); an integral otherwise."""
        from derivations.gaussian import normal_pdf, standard_normal_moment

        t = sp.Dummy("t", real=True)
        standardised = sp.expand(sp.expand_log(body(mean + sd * t), force=True))
        if standardised.is_polynomial(t):
            polynomial = sp.Poly(standardised, t)
            return sp.Add(*(c * standard_normal_moment(k) for (k,), c in polynomial.terms()))
        return sp.Integral(normal_pdf(t, mean, sd) * body(t), (t, -sp.oo, sp.oo))

    def expectation(self, expr: sp.Basic) -> sp.Basic:
        from grading.answers.notation import Sampled

        body, *dist = expr.args
        if not dist:
            raise ValueError("an expectation needs its distribution: \\mathbb{E}_{q}[...]")
        (dist,) = dist
        variable = None
        if isinstance(dist, Sampled):
            variable, dist = dist.args

        def inside(k: sp.Basic) -> sp.Basic:
            inner = body.xreplace({variable: k}) if variable is not None else body
            return self.rewrite(self.at(inner, k), k)

        if self.model.continuous:
            moments = self.gaussian_of(dist)
            if moments is not None:
                return self.by_moments(inside, *moments)
        return self.over_states(lambda k: self.density_at(dist, k) * inside(k))

    def integral(self, expr: sp.Integral, here: sp.Basic) -> sp.Basic:
        if len(expr.limits) != 1:
            raise ValueError("only single integrals are supported")
        variable = expr.limits[0][0]
        if not self.is_variable(variable):
            raise ValueError(f"an integral over {variable}: the model integrates over "
                             f"{self.model.variable}")
        return self.over_states(
            lambda k: self.rewrite(self.at(expr.function.xreplace({variable: k}), k), k))

    def pinned(self, expr: sp.Basic) -> sp.Basic:
        """The unsummed state z pinned to state 1 (one of the K ≥ 1 states): in a derivation
        z is a fixed state, and the checker then draws only the number of states."""
        return expr.xreplace({self.free: sp.Integer(1)}) if not self.model.continuous else expr

    # -- the sampling domain for the derivation core ---------------------------------------

    def domain(self) -> dict[Any, Any]:
        domain: dict[Any, Any] = {}
        for table in self.model.tables:
            if self.simplex and table.kind == "distribution":
                # the free entries of a point of the simplex: each below 1/(n − 1), so the last
                # entry, one minus their sum, stays positive
                domain[self.bases[table.name]] = (0.02, 0.98 / (int(self.states) - 1))
            else:
                domain[self.bases[table.name]] = _UNIT if table.kind == "unit_interval" \
                    else _POSITIVE
        return domain

    def given(self) -> dict[sp.Basic, sp.Basic]:
        """On the simplex: the last entry of each distribution is one minus the others."""
        if not self.simplex:
            return {}
        n = int(self.states)
        return {self.bases[t.name][n]: 1 - sp.Add(*(self.bases[t.name][i] for i in range(1, n)))
                for t in self.model.tables if t.kind == "distribution"}


_ANY_VALUE = "*"  # in the variable names of a continuous model: any real value is a state


def _is_state(expr: sp.Basic, variables: set[str]) -> bool:
    """A value the model's variable can take: the variable itself, a sum's integer index, a
    number; in a continuous model, any expression free of densities."""
    if _ANY_VALUE in variables:
        return not expr.atoms(AppliedUndef) and not isinstance(expr, AppliedUndef)
    if isinstance(expr, sp.Symbol):
        return expr.name in variables or bool(expr.is_integer)
    if isinstance(expr, sp.Number):
        return True
    return not isinstance(expr, AppliedUndef) and bool(expr.free_symbols) and all(
        _is_state(s, variables) for s in expr.free_symbols) and not expr.atoms(AppliedUndef)


def _unify(pattern: sp.Basic, expr: sp.Basic, variables: set[str],
           binding: dict[str, sp.Basic]) -> bool:
    """Does ``expr`` have the shape of ``pattern``, the variable matching any one value?"""
    if isinstance(pattern, sp.Symbol):
        if pattern.name in variables:
            if not _is_state(expr, variables):
                return False  # p(z) is the prior and p(x) the evidence: x is not a state
            if "value" in binding:
                return binding["value"] == expr
            binding["value"] = expr
            return True
        return isinstance(expr, sp.Symbol) and expr.name == pattern.name
    if isinstance(pattern, AppliedUndef):
        return isinstance(expr, AppliedUndef) and \
            expr.func.__name__ == pattern.func.__name__ and len(expr.args) == len(pattern.args) \
            and all(_unify(p, e, variables, binding) for p, e in zip(pattern.args, expr.args))
    if pattern.args:
        return type(pattern) is type(expr) and len(pattern.args) == len(expr.args) and \
            all(_unify(p, e, variables, binding) for p, e in zip(pattern.args, expr.args))
    return pattern == expr


# ==============================================================================================
# lines


_RELATIONS = {"=": "=", r"\geq": ">=", r"\ge": ">=", r"\geqslant": ">=", ">=": ">=", "≥": ">=",
              r"\leq": "<=", r"\le": "<=", r"\leqslant": "<=", "<=": "<=", "≤": "<=",
              "<": "<", ">": ">", r"\lt": "<", r"\gt": ">"}
_IMPLIES = (r"\Longrightarrow", r"\Rightarrow", r"\implies", r"\therefore", "=>", "⇒")
_COMMANDS = sorted((r for r in [*_RELATIONS, *_IMPLIES] if r.startswith("\\")), key=len,
                   reverse=True)
_LABEL = re.compile(r"^\s*(\\mathcal\s*\{?\s*[A-Za-z]\s*\}?|\\mathrm\s*\{\s*ELBO\s*\}|ELBO|"
                    r"[LVJF])\s*(_\s*(\{[^{}]*\}|\\?[A-Za-z0-9]+))?\s*(\^\s*\{?\s*\*\s*\}?)?\s*"
                    r"(\([^()]*\))?\s*$")


def _group(text: str, i: int) -> tuple[str, int] | None:
    """The balanced ``{...}`` group starting at ``text[i]`` (spaces skipped): (inside, end)."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text) or text[i] != "{":
        return None
    depth, j = 0, i
    while j < len(text):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
        if depth == 0:
            return text[i + 1:j - 1], j
    return None


_PARTIAL = re.compile(r"^\\partial\s*(?:\^\s*\{?\s*(\d)\s*\}?)?")
_SQUARED = re.compile(r"\^\s*\{?\s*2\s*\}?\s*$")


def _derivative_prefix(body: str) -> tuple[str, str, int, bool] | None:
    """``\\frac{\\partial L}{\\partial V}`` or ``\\partial_{V}`` at the start of a line:
    (tag, variable text, end of the operator, whether a colon follows)."""
    text = body.lstrip()
    offset = len(body) - len(text)
    if text.startswith("\\frac"):
        numerator = _group(text, 5)
        if numerator is None:
            return None
        denominator = _group(text, numerator[1])
        if denominator is None:
            return None
        top = _PARTIAL.match(numerator[0].strip())
        bottom = denominator[0].strip()
        if top is None or not bottom.startswith("\\partial"):
            return None
        tag = "second" if top.group(1) == "2" else "derivative"
        variable = bottom[len("\\partial"):].strip()
        if tag == "second":
            variable = _SQUARED.sub("", variable).strip()
        end = offset + denominator[1]
    elif text.startswith("\\partial"):
        rest = text[len("\\partial"):].lstrip()
        if not rest.startswith("_"):
            return None
        start = len(text) - len(rest) + 1
        group = _group(text, start)
        if group is not None:
            variable, end = group[0], offset + group[1]
        else:
            match = re.match(r"\s*(\\?[A-Za-z]+)", text[start:])
            if match is None:
                return None
            variable, end = match.group(1), offset + start + match.end()
        tag = "derivative"
    else:
        return None
    rest = body[end:].lstrip()
    colon = rest.startswith(":")
    if colon:
        end = len(body) - len(rest) + 1
    return tag, variable.strip(), end, colon


@dataclass(frozen=True)
class Line:
    """One line of a derivation answer, split at its top-level relations."""

    number: int  # 1-based, as the student numbered them
    text: str
    sides: tuple[str, ...]  # the expressions (text)
    relations: tuple[str, ...]  # between consecutive sides; "" before the first if none
    tag: str = ""  # "", "implies", "derivative", "second"
    wrt: str = ""  # the variable of a derivative line (text)
    operand: bool = False  # a derivative line restates what it differentiates before "="
    constraint: str = ""  # "\\sum_z q(z) = 1" before an implication
    reason: str = ""


# the left side of a one-line answer that names the asked quantity: D^*(x), D^*_G, C(G),
# V(D^*, G), \mathrm{KL}(q\|p), q^*(z), \mathcal{L}(q, \lambda) — a name, its decorations and
# one bracket of arguments, nothing else
_NAMED_QUANTITY = re.compile(
    r"^\s*(\\(?:mathrm|operatorname|text|mathcal)\s*\{\s*[A-Za-z]+\s*\}|\\?[A-Za-z]+)"
    r"(\s*[_^]\s*(\{[^{}]*\}|\\?[A-Za-z0-9*]+|\*))*\s*"
    r"(\\left\s*)?(\([^()]*\)|\[[^\[\]]*\])?(\s*\\right)?\s*$")


def _is_a_name(text: str, start: int, end: int) -> bool:
    """``\\text{...}`` in a subscript or superscript, or applied to arguments, is part of a name."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    return before.endswith(("_", "_{", "^", "^{")) or after.startswith(("(", "_", "\\left("))


def _strip_reason(text: str) -> tuple[str, str]:
    reasons = []
    if "%" in text:
        text, _, comment = text.partition("%")
        reasons.append(comment.strip())
    out, i = [], 0
    while i < len(text):
        match = re.match(r"\\(?:text|textrm|mbox|quad\s*\\text)\s*\{", text[i:])
        if match:
            depth, j = 1, i + match.end()
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            if _is_a_name(text, i, j):  # p_{\text{data}}, \text{KL}(q\|p): math, not a reason
                out.append(text[i:j])
                i = j
                continue
            reasons.append(text[i + match.end():j - 1].strip())
            i = j
            continue
        out.append(text[i])
        i += 1
    cleaned = "".join(out).replace("&", " ").replace("\\\\", " ")
    cleaned = re.sub(r"\\(?:quad|qquad)\b", " ", cleaned)
    if reasons:  # the parentheses a reason was written in: (\text{Jensen}) → ()
        cleaned = re.sub(r"(?:\\left)?\(\s*(?:\\right)?\)\s*$", "", cleaned.rstrip())
    return cleaned.strip().rstrip(",.;").strip(), "; ".join(r for r in reasons if r)


def _split_top_level(text: str) -> tuple[list[str], list[str]]:
    """Sides and the relations between them, at bracket depth 0; "⇒" splits too."""
    sides, relations, depth, start, i = [], [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        if depth == 0:
            found = None
            if c == "\\":
                for command in _COMMANDS:
                    if text.startswith(command, i) and not text[i + len(command):i + len(
                            command) + 1].isalpha():
                        found = command
                        break
            else:
                for symbol in ("=>", ">=", "<=", "≥", "≤", "⇒", "=", "<", ">"):
                    if text.startswith(symbol, i):
                        found = symbol
                        break
            if found is not None:
                sides.append(text[start:i].strip())
                relations.append("implies" if found in _IMPLIES else _RELATIONS[found])
                i += len(found)
                start = i
                continue
        i += 1
    sides.append(text[start:].strip())
    return sides, relations


MAX_LINES = 200

# a whole side that is a starred name, applied to variables only: ``D*(x)``, ``q*(z|x)``, ``p*``
_STARRED = re.compile(r"^\s*((?:\\[A-Za-z]+|[A-Za-z])(?:_\{?\\?[A-Za-z0-9]+\}?)?)\s*\*\s*"
                      r"(\(\s*[A-Za-z](?:\s*[|,]\s*[A-Za-z])*\s*\))?\s*$")


def _starred(side: str) -> str:
    """``D*(x)`` (plain text for the optimum D^*(x)) as ``D^{*}(x)``; any other side as written.
    Only a whole side of this shape: ``sigma*(x - mu)`` stays a product."""
    match = _STARRED.match(side)
    if match is None:
        return side
    return f"{match.group(1)}^{{*}}{match.group(2) or ''}"


def split_lines(answer: Answer) -> list[Line]:
    """The lines of an answer (a list, or one string with newlines), parsed into sides.

    Raises :class:`grading.answers.limits.ParseError` for more than :data:`MAX_LINES` lines or a line
    longer than :data:`grading.answers.limits.MAX_LENGTH`.
    """
    from grading.key.registry import tidy
    from grading.answers.limits import ParseError

    raw = answer.splitlines() if isinstance(answer, str) else list(answer)
    if len(raw) > MAX_LINES:
        raise ParseError(f"the answer has {len(raw)} lines; the limit is {MAX_LINES}", 0)
    lines = []
    for number, text in enumerate(raw, 1):
        body, reason = _strip_reason(tidy(text).replace("\n", " "))
        if not body:
            continue
        tag, wrt, constraint, operand = "", "", "", False
        derivative = _derivative_prefix(body)
        if derivative is not None:
            tag, wrt, end, colon = derivative
            body = body[end:]
            operand = not colon
        sides, relations = _split_top_level(body)
        sides = [_starred(side) for side in sides]
        if "implies" in relations:
            cut = relations.index("implies")
            before = sides[:cut + 1]
            if cut == 0 and not before[0]:
                before = []
            constraint = " = ".join(before) if before else ""
            sides, relations = sides[cut + 1:], relations[cut + 1:]
            tag = tag or "implies"
        if sides and not sides[0] and relations:  # "= B": continues the previous line
            lines.append(Line(number, text, tuple(sides[1:]), tuple(relations), tag, wrt,
                              operand, constraint, reason))
        else:
            lines.append(Line(number, text, tuple(sides), ("", *relations), tag, wrt,
                              operand, constraint, reason))
    return lines


# ==============================================================================================
# lines → a Derivation of the core


@dataclass(frozen=True)
class StepCheck:
    """One core step, and the student's line it checks (0 for the key's own steps)."""

    line: int
    ok: bool
    reason: str
    detail: str


class _Builder:
    """Turns parsed lines into core Steps, remembering which line each step checks."""

    def __init__(self, q: Question, model: BoundModel | None) -> None:
        self.q = q
        self.model = model
        self.steps: list[Any] = []
        self.origin: list[int] = []
        self.chain: sp.Basic | None = None
        self.lagrangian: sp.Basic | None = None
        self.solved: dict[sp.Basic, sp.Basic] = {}
        self.stationary_in: sp.Basic | None = None  # the variable of the last stationary line
        self.first: sp.Basic | None = None
        self.relations: list[str] = []
        self.read: str | None = None  # how the last expression was read (before the model)

    def parse(self, text: str, number: int) -> sp.Basic:
        from grading.answers.parse import parse_answer

        if not text:
            raise _LineError(number, "an empty side of a relation")
        try:
            value = parse_answer(text, namespace=self.q.namespace,
                                 default_upper=self.q.default_upper)
        except Exception as error:  # ParseError: the line cannot be read
            raise _LineError(number, f"could not read {text!r}: {error}") from None
        return value

    def meaning(self, expr: sp.Basic, number: int) -> sp.Basic:
        self.read = sp.latex(expr)
        if self.model is None:
            return expr
        try:
            return self.model.rewrite(expr)
        except ValueError as error:
            raise _LineError(number, str(error)) from None

    def add(self, step: Any, line: int) -> None:
        self.steps.append(step)
        self.origin.append(line)

    def step(self, expr: sp.Basic, reason: str, rel: str, line: int, **extra: Any) -> None:
        from derivations.core import Step

        self.add(Step(expr, reason or f"line {line}", rel, **extra), line)
        if rel == "solves":
            self.chain = expr.rhs
        elif rel not in ("holds",):
            self.chain = expr

    def restate(self, expr: sp.Basic, reason: str) -> None:
        """A mechanical restatement by the checker (a 'def' step of line 0)."""
        from derivations.core import Step

        self.add(Step(expr, reason, "def"), 0)
        self.chain = expr

    # -- per line ---------------------------------------------------------------------------

    def line(self, line: Line) -> None:
        if line.tag in ("derivative", "second"):
            self.derivative(line)
            return
        if line.tag == "implies":
            self.implication(line)
            return
        sides = list(line.sides)
        relations = list(line.relations)
        if self.chain is None:  # the first line: a label, then the start
            if len(sides) > 1 and _LABEL.match(sides[0]):
                sides, relations = sides[1:], ["", *relations[2:]]
            start = self.meaning(self.parse(sides[0], line.number), line.number)
            self.first = start
            self.step(start, "the starting point", "def", line.number)
            self.lagrangian = start
            sides, relations = sides[1:], relations[1:]
        elif relations[0] == "" and len(sides) > 1:
            unknown = self.unknown_named(sides[0], line.number)
            if unknown is not None:
                value = self.solved[unknown]
                later = {u: v for u, v in self.solved.items() if u is not unknown}
                self.restate(value, f"the value of {unknown} found above")
                if later:
                    self.step(value.subs(later), "substitute the values found above", "=",
                              line.number, subs=later)
                sides, relations = sides[1:], relations[1:]
        if isinstance(self.chain, sp.Equality) and len(sides) == 2 and \
                relations[1:] == ["="] and self.stationary_in is not None:
            self.rearranged(line, sides)
            return
        for side, relation in zip(sides, relations):
            expr = self.meaning(self.parse(side, line.number), line.number)
            rel = relation or "="
            self.relations.append(rel)
            self.step(expr, line.reason, rel, line.number)
            self.lagrangian = self.chain

    def rearranged(self, line: Line, sides: list[str]) -> None:
        """``a = b`` after an equation: ``D = value`` solves it; any other equation must have the
        same solutions for the variable of the stationary condition (checked by solving both)."""
        left, right = (self.meaning(self.parse(s, line.number), line.number) for s in sides)
        variable = self.stationary_in
        unknown = _unstarred(left, self.q.namespace)
        if unknown == variable or unknown in self.solved:
            self.step(sp.Eq(unknown, right), line.reason or "solve", "solves", line.number)
            self.remember(unknown, right)
            return
        symbol = sp.Dummy("u", positive=True)
        before = self.chain.lhs - self.chain.rhs
        now = left - right
        try:
            solutions = [set(sp.solve(e.xreplace({variable: symbol}), symbol))
                         for e in (before, now)]
        except (NotImplementedError, TypeError, ValueError):
            solutions = []
        if not solutions or not solutions[0] or solutions[0] != solutions[1]:
            raise _LineError(line.number, "this equation does not have the same solution as "
                                          "the one before it")
        self.restate(sp.Eq(now, 0), f"line {line.number}: the same equation rearranged "
                                    f"(the same solution for {variable})")

    def unknown_named(self, text: str, number: int) -> sp.Basic | None:
        try:
            written = _unstarred(self.meaning(self.parse(text, number), number), self.q.namespace)
        except _LineError:
            return None
        return next((unknown for unknown in self.solved if written == unknown), None)

    def derivative(self, line: Line) -> None:
        if self.lagrangian is None:
            raise _LineError(line.number, "a derivative needs an expression before it")
        variable = self.meaning(self.parse(line.wrt, line.number), line.number)
        variable = _applied(variable, self.lagrangian)
        pointwise = self.pointwise(self.lagrangian, variable)
        sides = list(line.sides)
        if line.operand and line.relations and line.relations[0] == "":
            sides = sides[1:]  # "\frac{\partial}{\partial D} [L] = g": the first side is L
        if line.tag == "second":
            self.second_variation(line, sides, variable, pointwise)
            return
        exprs = [self.meaning(self.parse(s, line.number), line.number) for s in sides]
        if len(exprs) > 1 and exprs[-1] == 0:
            exprs = exprs[:-1]
        if not exprs:
            raise _LineError(line.number, "write the derivative after the '='")
        self.stationary_in = variable
        for expr in exprs:
            self.restate(pointwise, "the Lagrangian, pointwise (Euler–Lagrange: no derivative "
                                    "term)")
            self.step(sp.Eq(expr, 0), line.reason or "stationary point", "stationary",
                      line.number, wrt=variable)

    def second_variation(self, line: Line, sides: list[str], variable: sp.Basic,
                         pointwise: sp.Basic) -> None:
        relations = list(line.relations[len(line.relations) - len(sides):])
        if len(sides) < 2 or relations[-1] not in ("<", ">", "<=", ">="):
            raise _LineError(line.number, "write the second derivative and its sign: "
                                          "... = E < 0")
        resume = self.chain
        expr = self.meaning(self.parse(sides[-2], line.number), line.number)
        bound = self.meaning(self.parse(sides[-1], line.number), line.number)
        self.restate(sp.diff(pointwise, variable, 2), "the second derivative of the Lagrangian")
        self.step(expr, line.reason or "second derivative", "=", line.number)
        self.step(sp.Rel(expr, bound, relations[-1]), "its sign on the domain", "holds",
                  line.number)
        self.restate(resume, "back to the chain")

    def pointwise(self, expr: sp.Basic, variable: sp.Basic) -> sp.Basic:
        """Sums and integrals of terms holding ``variable``'s function, read at one point."""
        target = variable.args[0] if isinstance(variable, AppliedUndef) and variable.args \
            else None
        index = variable.indices[0] if isinstance(variable, sp.Indexed) else target

        def strip(e: sp.Basic) -> sp.Basic:
            if isinstance(e, (sp.Sum, sp.Integral)) and len(e.limits) == 1:
                bound = e.limits[0][0]
                if index is not None:
                    inner = e.function.xreplace({bound: index})
                    if inner.has(variable):
                        return strip(inner)
                return e
            if e.args:
                return e.func(*(strip(a) for a in e.args))
            return e

        return strip(expr)

    def implication(self, line: Line) -> None:
        if len(line.sides) == 2 and line.relations[-1] in _ORDER and not line.constraint:
            self.summary(line)
            return
        if len(line.sides) != 2:
            raise _LineError(line.number, "after ⇒ write one equation: U = E")
        unknown = self.meaning(self.parse(line.sides[0], line.number), line.number)
        unknown = _unstarred(unknown, self.q.namespace)
        value = self.meaning(self.parse(line.sides[1], line.number), line.number)
        if line.constraint:
            self.constrained(line, unknown, value)
            return
        if self.chain is None:
            raise _LineError(line.number, "⇒ needs an equation before it")
        self.step(sp.Eq(unknown, value), line.reason or "solve", "solves", line.number)
        self.remember(unknown, value)

    def constrained(self, line: Line, unknown: sp.Basic, value: sp.Basic) -> None:
        sides, relations = _split_top_level(line.constraint)
        if len(sides) != 2 or relations != ["="]:
            raise _LineError(line.number, "a constraint before ⇒ is one equation")
        left, right = (self.meaning(self.parse(s, line.number), line.number) for s in sides)
        constraint = left - right
        for solved, solution in self.solved.items():
            constraint = _substitute_function(constraint, solved, solution)
        self.restate(sp.Eq(constraint, 0), "the constraint at the stationary values")
        self.step(sp.Eq(unknown, value), line.reason or "solve the constraint", "solves",
                  line.number)
        self.remember(unknown, value)

    def summary(self, line: Line) -> None:
        """``⇒ A ≥ B`` after a chain: what the chain proved, restated — A must be the chain's
        start, B its end, and the relation one the chain's relations imply."""
        if self.chain is None or self.first is None or not self.relations:
            raise _LineError(line.number, "⇒ needs a chain of steps before it")
        stated = line.relations[-1]
        proved = _composed(self.relations)
        if proved is None or stated not in _IMPLIED[proved]:
            shown = {"=": "=", ">=": "≥", "<=": "≤", ">": ">", "<": "<"}.get(proved or "", "")
            raise _LineError(line.number, f"the steps before it do not show this relation "
                                          f"({'they show ' + shown if shown else 'they mix ≥ and ≤'})")
        left, right = (self.meaning(self.parse(side, line.number), line.number)
                       for side in line.sides)
        end = self.chain
        self.restate(self.first, "the start of the chain")
        self.step(left, line.reason or "the left side is the start of the chain", "=",
                  line.number)
        self.restate(end, "the end of the chain")
        self.step(right, line.reason or "the right side is the end of the chain", "=",
                  line.number)

    def remember(self, unknown: sp.Basic, value: sp.Basic) -> None:
        self.solved[unknown] = value


_ORDER = (">=", "<=", ">", "<")
_IMPLIED = {"=": {"=", ">=", "<="}, ">=": {">="}, "<=": {"<="}, ">": {">", ">="},
            "<": {"<", "<="}}


def _composed(relations: Sequence[str]) -> str | None:
    """The relation between a chain's start and end (None: it mixes ≥ and ≤)."""
    kinds = set(relations) - {"=", "def", "holds"}
    if not kinds:
        return "="
    if kinds <= {">=", ">"}:
        return ">" if ">" in kinds else ">="
    if kinds <= {"<=", "<"}:
        return "<" if "<" in kinds else "<="
    return None


class _LineError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _applied(variable: sp.Basic, expr: sp.Basic) -> sp.Basic:
    """``D`` written for ``D(x)``: the one application of that name in ``expr``, if any."""
    if isinstance(variable, sp.Symbol) and not expr.has(variable):
        applications = {a for a in expr.atoms(AppliedUndef) if a.func.__name__ == variable.name}
        if len(applications) == 1:
            return applications.pop()
    return variable


def _unstarred(expr: sp.Basic, namespace: Any) -> sp.Basic:
    """``q^*(z)`` → ``q(z)``, ``D^*`` → ``D``: the optimum is named after the unknown."""
    if isinstance(expr, AppliedUndef) and expr.func.__name__.endswith("^*"):
        return namespace.function(expr.func.__name__[:-2])(*expr.args)
    if isinstance(expr, sp.Symbol) and expr.name.endswith("^*"):
        return namespace.symbol(expr.name[:-2])
    return expr


def _substitute_function(expr: sp.Basic, unknown: sp.Basic, value: sp.Basic) -> sp.Basic:
    """Replace ``q(a)`` by ``value`` at ``a`` wherever q is applied (in sums too)."""
    if isinstance(unknown, AppliedUndef) and len(unknown.args) == 1:
        (variable,) = unknown.args
        name = unknown.func.__name__
        return expr.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func.__name__ == name
            and len(e.args) == 1,
            lambda e: value.xreplace({variable: e.args[0]}))
    if isinstance(unknown, sp.Indexed):
        base = unknown.base
        (variable,) = unknown.indices
        return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base,
                            lambda e: value.xreplace({variable: e.indices[0]}))
    return expr.xreplace({unknown: value})


def _domain(q: Question, model: BoundModel | None, exprs: Sequence[sp.Basic]) -> dict:
    """Sampling ranges: the model's tables, unit-interval symbols and functions, binary ones."""
    from grading.answers.notation import Namespace

    ns: Namespace = q.namespace
    domain: dict[Any, Any] = model.domain() if model is not None else {}
    for expr in exprs:
        for symbol in expr.free_symbols:
            if isinstance(symbol, sp.Symbol):
                kind = ns.kind(symbol.name) if symbol.name in q.assumptions else None
                if kind == "unit_interval":
                    domain[symbol] = _UNIT
                elif kind == "binary":
                    domain[symbol] = lambda rng: rng.choice((0, 1))
                elif isinstance(kind, tuple):
                    domain[symbol] = kind
        for application in expr.atoms(AppliedUndef):
            if ns.function_kind(application.func.__name__) == "unit_interval":
                domain[application.func] = _UNIT
    return domain


def _pinned_step(step: Any, model: BoundModel) -> Any:
    from dataclasses import replace

    pin = model.pinned
    return replace(step, expr=pin(step.expr), wrt=pin(step.wrt) if step.wrt is not None else None,
                   subs={pin(k): pin(v) for k, v in step.subs.items()} if step.subs else None)


def build_derivation(q: Question, lines: Sequence[Line]) -> tuple[Any, list[int], _Builder]:
    """The core Derivation of the lines, and the student's line number of each step."""
    from derivations.core import Derivation

    model = q.model.bind(q.namespace, simplex=True) if q.model is not None else None
    builder = _Builder(q, model)
    for line in lines:
        builder.line(line)
    steps = tuple(builder.steps)
    if model is not None:
        steps = tuple(_pinned_step(step, model) for step in steps)
    domain = _domain(q, model, [s.expr for s in steps])
    derivation = Derivation(f"answer to {q.id}", q.id, steps, domain=domain,
                            **_constraints(model))
    return derivation, builder.origin, builder


def _constraints(model: BoundModel | None) -> dict[str, Any]:
    if model is None or not model.simplex:
        return {}
    return {"given": model.given()}


def _agree(q: Question, model: BoundModel | None, answer: sp.Basic, reference: sp.Basic,
           what: str) -> tuple[bool, str]:
    """Whether two expressions are equal on the model (a two-step derivation of the core)."""
    from derivations.core import Derivation, Step

    if isinstance(answer, sp.Equality) or isinstance(reference, sp.Equality):
        return False, f"{what}: an equation where an expression is expected"
    steps = (Step(answer, "the answer", "def"), Step(reference, f"the key's {what}"))
    check = Derivation(f"{q.id} {what}", q.id, steps,
                       domain=_domain(q, model, [answer, reference]),
                       **_constraints(model)).verify()
    return check.ok, check.steps[-1].detail


_PREPARED: dict[int, tuple[Question, tuple[Any, ...]]] = {}


def _prepared(q: Question) -> tuple[BoundModel | None, list[sp.Basic], sp.Basic | None]:
    """The key's side, once per question and in the parent process (so every forked check
    starts warm): the bound model, the accepted forms and the start in the model's meaning."""
    if id(q) not in _PREPARED:
        model = q.model.bind(q.namespace, simplex=True) if q.model is not None else None

        def meaning(expr: sp.Basic) -> sp.Basic:
            return model.pinned(model.rewrite(expr)) if model is not None else expr

        references = [meaning(form) for _, form in q.accepted()]
        start = meaning(q.start.build(q.namespace)) if q.start is not None else None
        _PREPARED[id(q)] = (q, (model, references, start))
    return _PREPARED[id(q)][1]


_BOUNDS = (">=", "<=", ">", "<")


def _final_candidates(derivation: Any, chain: sp.Basic) -> list[sp.Basic]:
    """The answer a derivation ends in: its last expression, and — when the chain ends in a
    run of inequalities (``= \\log 4 - 2\\,\\mathrm{JSD} \\geq -\\log 4``, a bound stated
    after the answer) — the expression before that run, which the bound is a remark on."""
    candidates = [chain]
    steps = list(derivation.steps)
    index = len(steps)
    while index > 0 and steps[index - 1].rel in _BOUNDS:
        index -= 1
    if 0 < index < len(steps):
        before = steps[index - 1].expr
        if isinstance(before, sp.Equality) and steps[index - 1].rel == "solves":
            before = before.rhs
        if not isinstance(before, sp.Equality):
            candidates.append(before)
    return candidates


def _run(q: Question, answer: Answer) -> dict[str, Any]:
    """The whole check (in the isolated worker): JSON-able data."""
    lines = split_lines(answer)
    if not lines:
        return {"error": "no lines", "line": None}
    try:
        derivation, origin, builder = build_derivation(q, lines)
    except _LineError as error:
        return {"error": error.message, "line": error.line}
    verification = derivation.verify()
    reports = [{"line": origin[r.index], "ok": r.ok, "reason": r.reason, "detail": r.detail}
               for r in verification.steps]
    model, references, start = _prepared(q)
    final_ok, final_detail = False, ""
    for attempt, chain in enumerate(_final_candidates(derivation, builder.chain)):
        final = model.pinned(chain) if model is not None else chain
        for index, reference in enumerate(references):
            ok, detail = _agree(q, model, final, reference, "answer")
            final_detail = detail if index == 0 and attempt == 0 else final_detail
            if ok:
                final_ok = True
                break
        if final_ok:
            break
    start_ok, start_detail = True, ""
    if start is not None and builder.first is not None:
        first = model.pinned(builder.first) if model is not None else builder.first
        start_ok, start_detail = _agree(q, model, first, start, "starting point")
        multipliers = [s for s in start.free_symbols if str(s) in ("lambda", "λ")]
        if not start_ok and multipliers:  # a multiplier's sign is a convention
            flipped = start.xreplace({m: -m for m in multipliers})
            start_ok = _agree(q, model, first, flipped, "starting point")[0]
    return {"error": None, "reports": reports, "final_ok": final_ok,
            "final_detail": final_detail, "start_ok": start_ok, "start_detail": start_detail,
            "relations": builder.relations, "lines": len(lines),
            "chain_steps": sum(1 for s in derivation.steps if s.rel != "def"),
            "read": builder.read}


def _bare_answer(q: Question, text: str) -> Result:
    """A final answer without steps: checked as an expression (with the engine's named
    mistakes); where steps are required it earns ``q.bare_answer_credit`` at most."""
    from grading.key.registry import check_expression

    result = check_expression(q, text)
    if not q.steps_required or result.status is not Status.CORRECT:
        return result
    return Result(q.id, Status.PARTIAL, round(q.points * q.bare_answer_credit, 4), q.points,
                  "the final answer is right, but the steps are missing", result.read_as)


@register_checker("derivation")
def check_derivation(q: Question, answer: Answer) -> Result:
    """Verify every line, then the start and the final answer against the key.

    Full points: every line follows, the chain starts where the question does, establishes
    the asked relation (``≥`` for a bound) and ends at the reference. A correct final answer
    with an invalid line, with no steps, or reached in a single step from the start (a claim)
    where steps are required, earns ``q.bare_answer_credit``; a wrong final answer earns
    what its last line earns as a final answer alone (showing work never costs points).
    """
    from grading.isolation import run_isolated
    from grading.answers.limits import ParseError

    try:
        lines = split_lines(answer)
    except ParseError as error:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, f"could not read the answer: "
                                                               f"{error}")
    if len(lines) == 1 and lines[0].tag == "" and len(lines[0].sides) == 1:
        return _bare_answer(q, lines[0].sides[0])
    if len(lines) == 1 and lines[0].tag == "" and len(lines[0].sides) == 2 and \
            tuple(lines[0].relations[1:]) == ("=",) and _NAMED_QUANTITY.match(lines[0].sides[0]):
        return _bare_answer(q, lines[0].sides[1])  # D^*(x) = ...: the answer, named
    _prepared(q)
    status, data = run_isolated(_run, (q, answer), timeout=TIMEOUT, isolation="process")
    if status == "timeout":
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      f"the check took longer than {TIMEOUT:g} s; a person will look at it")
    if status != "ok":  # the checker itself failed: say so, without its internals
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      "could not check the derivation (the step checker stopped on it); "
                      "a person will look at it")
    if data["error"] is not None:
        line = data["line"]
        where = f"line {line}: " if line else ""
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, f"{where}{data['error']}",
                      line=line)
    failure = next((r for r in data["reports"] if not r["ok"]), None)
    relations = data["relations"]
    notes = []
    if failure is not None:
        where = f"line {failure['line']}" if failure["line"] else "a step the checker added"
        notes.append(f"{where} does not follow from the previous one: {failure['detail']}")
    if not data["start_ok"]:
        notes.append(f"line 1 does not start from the question's expression "
                     f"({data['start_detail']})")
    if q.relation in (">=", "<=") and data["chain_steps"] > 0 and q.relation not in relations:
        notes.append(f"the chain never uses {q.relation}: a bound needs an inequality step")
    bare = data["chain_steps"] == 0
    line = failure["line"] if failure is not None else None
    if not data["final_ok"]:
        notes.insert(0, f"the last line is not the answer ({data['final_detail']})")
        alone = _bare_answer(q, lines[-1].sides[-1]) if lines[-1].sides else None
        if alone is not None and alone.points > 0:  # showing work never costs points
            return Result(q.id, Status.PARTIAL, alone.points, q.points,
                          "; ".join(notes) + f"; the last line as a final answer alone: "
                          f"{alone.feedback}", data["read"], line=line)
        return Result(q.id, Status.INCORRECT, 0.0, q.points, "; ".join(notes), data["read"],
                      line=line)
    if bare and q.steps_required:
        notes.append("the final answer is right, but the steps are missing")
    elif q.steps_required and data["chain_steps"] == 1:
        notes.append("the result is stated in one step from the question's expression: a "
                     "claim, not a derivation (show the intermediate lines)")
    if notes:
        credit = round(q.points * q.bare_answer_credit, 4)
        return Result(q.id, Status.PARTIAL, credit, q.points, "; ".join(notes), data["read"],
                      line=line)
    return Result(q.id, Status.CORRECT, q.points, q.points,
                  f"correct: {data['lines']} line{'s' if data['lines'] > 1 else ''}, every step "
                  "verified", data["read"])
