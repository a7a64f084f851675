"""Structured answers: a min–max problem (outer and inner operator, their variables, objective).

Parts 3.a and 3.b ask for an optimisation problem, not an expression: ``\\max_\\theta \\min_w
-\\sum_x \\log D_w(x) - \\sum_z \\log(1 - D_w(G_\\theta(z)))``. :func:`read_problem` reads the
leading operators itself (``\\max_{v}``, ``\\min_{v}``, ``\\sup``/``\\inf``, ``\\max\\limits_{v}``,
``\\underset{v}{\\max}``, plain ``max_theta``) and hands every variable and the objective to the
safe parser. Two problems are the same when their players — a variable, or the function it
parameterises (θ plays through G_θ, w through D_w) — are optimised in the same order and the
objectives are equivalent, or when every direction is flipped and the objective negated
(``max_θ min_w −V`` is ``min_θ max_w V``). An answer with the objective alone is incorrect.

Averages are compared in one canonical form: a sum over a sample variable, an expectation
``\\mathbb{E}_{x\\sim p}[f]`` and an integral ``\\int p(x) f(x) dx`` all become "the average of f
under the distribution", the distribution named by the question's ``distributions`` map (the
data, the noise, p_G).

Source: Goodfellow et al., "Generative Adversarial Nets" (2014), eq. (1) and §4.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from grading.key.registry import Answer, Question, Result, Status, contained, equivalence, \
    join_text, register_checker

__all__ = ["Problem", "check_structured", "read_problem"]

_OPERATORS = {"max": "max", "min": "min", "sup": "max", "inf": "min"}


@dataclass(frozen=True)
class Problem:
    """``operators`` from the outside in, as (``"max"``/``"min"``, variable), and the objective.

    ``distributions`` maps the name of a sample variable or of a density (``x``, ``p_data``,
    ``z``) to the distribution it stands for, for the canonical form of averages.
    """

    operators: tuple[tuple[str, sp.Basic], ...]
    objective: sp.Basic
    distributions: Mapping[str, str] = field(default_factory=dict)

    def latex(self) -> str:
        ops = " ".join(f"\\{op}_{{{sp.latex(v)}}}" for op, v in self.operators)
        return f"{ops} {sp.latex(self.objective)}".strip()


class ProblemError(ValueError):
    """An answer whose operators cannot be read."""


_SPACE = re.compile(r"(?:\s|\\[,;:! ]|\\q?quad(?![A-Za-z])|~)*")


def _group(text: str, i: int) -> tuple[str, int]:
    """A braced group, a command with its subscript, or one character, from ``text[i]``."""
    i = _SPACE.match(text, i).end()
    if i >= len(text):
        raise ProblemError("an operator needs its variable: \\max_{\\theta}")
    if text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                return text[i + 1:j - 1], j
        raise ProblemError("a '{' is never closed")
    plain = "\\" not in text
    pattern = r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)?" if plain else r"\\[A-Za-z]+|[A-Za-z0-9]"
    match = re.compile(pattern).match(text, i)
    if match is None:
        raise ProblemError(f"cannot read the variable at {text[i:i + 10]!r}")
    return text[i:match.end()], match.end()


def _split_operators(text: str) -> tuple[list[tuple[str, str]], str]:
    """The leading operators (op, variable text) and the rest of the answer."""
    operators: list[tuple[str, str]] = []
    i = 0
    while True:
        i = _SPACE.match(text, i).end()
        underset = re.compile(r"\\underset\s*").match(text, i)
        if underset is not None:
            variable, j = _group(text, underset.end())
            word, j = _group(text, j)
            op = _OPERATORS.get(word.strip().lstrip("\\").replace("operatorname*", ""))
            if op is None:
                raise ProblemError(f"\\underset over {word!r}: expected \\max or \\min")
            operators.append((op, variable))
            i = j
            continue
        match = re.compile(r"(?:\\operatorname\*?\s*\{\s*)?\\?(max|min|sup|inf)(?![A-Za-z])\s*\}?"
                           r"(?:\s*\\(?:no)?limits)?\s*(_)?").match(text, i)
        if match is None or (match.group(0).startswith(("max", "min", "sup", "inf"))
                             and match.group(2) is None):
            return operators, text[i:]
        if match.group(2) is None:
            raise ProblemError(f"\\{match.group(1)} needs its variable: \\{match.group(1)}_{{v}}")
        variable, i = _group(text, match.end())
        operators.append((_OPERATORS[match.group(1)], variable))


def read_problem(q: Question, text: str) -> Problem:
    """Read an answer as a :class:`Problem` (raises ``ProblemError`` or a ``ParseError``)."""
    from grading.key.registry import parse, tidy

    operators, rest = _split_operators(tidy(text))
    if not rest.strip():
        raise ProblemError("the objective is missing after the operators")
    variables = tuple((op, parse(q, variable)) for op, variable in operators)
    objective = parse(q, rest)
    distributions = getattr(q.reference_expr, "distributions", {})
    return Problem(variables, objective, distributions)


# -- canonical forms -----------------------------------------------------------------------


_PARAMETERS = ("theta", "w", "omega", "phi", "psi", "vartheta")  # the course's G_θ, D_w, D_ω


def _player(variable: sp.Basic, objective: sp.Basic) -> str:
    """Who a variable is: θ plays through G_θ, w through D_w; G and D are themselves."""
    name = _name(variable)
    for application in objective.atoms(AppliedUndef):
        function = application.func.__name__
        if function == name:
            base, _, subscript = name.partition("_")
            # the network named with its parameters, min over G_θ: the player is G
            return base if subscript in _PARAMETERS else name
        base, _, subscript = function.partition("_")
        if subscript == name:
            return base
    return name


def _name(expr: sp.Basic) -> str:
    if isinstance(expr, AppliedUndef):
        return expr.func.__name__
    if isinstance(expr, (sp.Symbol, sp.IndexedBase)):
        return str(expr)
    return sp.sstr(expr)


def _sample() -> sp.Symbol:
    return sp.Symbol("s", real=True)


def canonical(problem: Problem, namespace: Any) -> tuple[tuple[tuple[str, str], ...], sp.Basic]:
    """The players in order with their directions, and the objective with the players'
    functions renamed (D_w → D) and every average in one form."""
    players = tuple((op, _player(v, problem.objective)) for op, v in problem.operators)
    renamed = {}
    for _, variable in problem.operators:
        name = _name(variable)
        for application in problem.objective.atoms(AppliedUndef):
            function = application.func.__name__
            base, _, subscript = function.partition("_")
            if subscript == name or (function == name and subscript in _PARAMETERS):
                renamed[application.func] = namespace.function(base)
    objective = problem.objective
    if renamed:
        objective = objective.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func in renamed,
            lambda e: renamed[e.func](*e.args))
    return players, _averages(objective, problem.distributions, namespace)


def _averages(expr: sp.Basic, distributions: Mapping[str, str], namespace: Any) -> sp.Basic:
    from grading.answers.notation import Expectation, Sampled

    def label(name: str) -> sp.Symbol:
        return sp.Symbol(f"E[{distributions.get(name, name)}]")

    def average(body: sp.Basic, variable: sp.Basic, name: str) -> sp.Basic:
        inner = _averages(body, distributions, namespace)
        return Expectation(inner.xreplace({variable: _sample()}), label(name))

    if isinstance(expr, Expectation):
        body, *dist = expr.args
        if dist and isinstance(dist[0], Sampled):
            variable, density = dist[0].args
            return average(body, variable, _name(density) if not isinstance(
                density, AppliedUndef) else density.func.__name__)
        if dist:
            density = dist[0]
            name = density.func.__name__ if isinstance(density, AppliedUndef) else _name(density)
            variables = [s for s in body.free_symbols if isinstance(s, sp.Symbol)]
            variable = next((s for s in variables if s.name in ("x", "z")), None)
            return average(body, variable, name) if variable is not None else expr
        return expr
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        variable = expr.limits[0][0]
        return average(expr.function, variable, variable.name)
    if isinstance(expr, sp.Integral) and len(expr.limits) == 1:
        variable = expr.limits[0][0]
        terms = []
        for term in sp.Add.make_args(sp.expand(expr.function)):
            densities = [f for f in sp.Mul.make_args(term) if isinstance(f, AppliedUndef)
                         and f.args == (variable,) and f.func.__name__ in distributions]
            if len(densities) != 1:
                return expr
            (density,) = densities
            terms.append(average(term / density, variable, density.func.__name__))
        return sp.Add(*terms)
    if expr.args:
        return expr.func(*(_averages(arg, distributions, namespace) for arg in expr.args))
    return expr


# -- the checker --------------------------------------------------------------------------


@register_checker("structured")
def check_structured(q: Question, answer: Answer) -> Result:
    """Same players in the same order with the same directions and an equivalent objective,
    or every direction flipped with the objective negated.

    The answer is read, then checked, in a forked process under a deadline and a memory cap
    (:func:`grading.key.registry.contained`): a hostile answer stops its own part only."""
    return contained(q, answer, _check_problem, read=_read_only, engine_checks=1)


def _read_only(q: Question, answer: Answer) -> None:
    """Read the answer and drop it (the first, time-limited stage of the contained check)."""
    from grading.answers.parse import ParseError

    try:
        read_problem(q, join_text(answer))
    except (ProblemError, ParseError):
        pass  # the check itself reports it


def _check_problem(q: Question, answer: Answer) -> Result:
    """The check itself (see :func:`check_structured`)."""
    from grading.answers.equivalence import Kind
    from grading.answers.parse import ParseError

    text = join_text(answer)
    reference: Problem = q.reference_expr
    try:
        written = read_problem(q, text)
    except (ProblemError, ParseError) as error:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, f"could not read the answer: "
                                                               f"{error}")
    read_as = written.latex()
    ref_players, ref_objective = canonical(reference, q.namespace)
    players, objective = canonical(written, q.namespace)
    wanted = " ".join(f"{op} over {p}" for op, p in ref_players)
    if not players:
        return _mistake(q, "objective_only", read_as,
                        f"only the objective is given: the problem is {wanted} of it")
    if [p for _, p in players] != [p for _, p in ref_players]:
        return _mistake(q, "players", read_as,
                        f"the optimisation runs over {', '.join(p for _, p in players)}; it "
                        f"should be {wanted}")
    same = [op for op, _ in players] == [op for op, _ in ref_players]
    flipped = all(op != ref for (op, _), (ref, _) in zip(players, ref_players))
    if not (same or flipped):
        return _mistake(q, "directions", read_as,
                        f"the directions of min and max do not match: it should be {wanted} "
                        "(or all flipped with the objective negated)")
    target = ref_objective if same else -ref_objective
    verdict = equivalence(q, target, objective)
    if verdict.kind is Kind.EQUIVALENT:
        return Result(q.id, Status.CORRECT, q.points, q.points, "correct", read_as)
    if verdict.kind is Kind.UNDECIDED:
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      "could not decide automatically; a person will look at it", read_as,
                      verdict.reason)
    if verdict.mistake is not None and verdict.mistake.name == "sign_flipped":
        return _mistake(q, "sign_flipped", read_as,
                        "the objective has the wrong sign for these directions of min and max",
                        verdict.reason)
    return _mistake(q, "objective", read_as, "the objective is not the game's value function",
                    verdict.reason)


def _mistake(q: Question, name: str, read_as: str, message: str, detail: str = "") -> Result:
    known = q.credit_for(name)
    credit = known.credit if known is not None else 0.0
    feedback = known.feedback if known is not None and known.feedback else message
    status = Status.PARTIAL if credit else Status.INCORRECT
    return Result(q.id, status, round(q.points * credit, 4), q.points, feedback, read_as,
                  detail, name)
