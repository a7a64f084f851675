"""Is a student's answer equivalent to the reference? A verdict, never a silent False.

:func:`check_equivalence` reads both sides with the question's assumptions (σ > 0, densities
> 0, probabilities in (0, 1); unknown symbols are real), then decides in this order:

0. *reading*: each side is read with :func:`~grading.answers.parse.parse_readings` (one
   reading, or several when the notation is ambiguous: every combination is checked, and if the
   verdicts differ the check is undecided and names the two readings); known definitions are
   written out (:func:`~grading.answers.definitions.expand_definitions`) and derivatives carried
   out; two exact rationals are compared exactly;
1. *symbolic*: the two parsed objects are identical once the dummy index of every sum and
   product is renamed canonically, or a cheap canonical form of their difference (``expand``,
   ``expand_log`` under the assumptions, ``cancel``) is exactly 0;
2. *numeric*: :func:`grading.answers.numeric.compare` at 12 random points of the domain, 30 digits;
   sums and products with a symbolic bound are written out for small bounds with random
   entries, so ``\\prod_j y_j^{x_j}(1-y_j)^{1-x_j}`` equals
   ``\\exp(\\sum_j x_j\\log y_j + (1-x_j)\\log(1-y_j))``; a disagreement is a counterexample;
3. when not equivalent, :func:`grading.answers.feedback.diagnose` names a known mistake;
4. *notation slips*: a name the answer uses that neither the reference nor the question knows,
   but that is a near variant of one the reference uses, makes the check undecided with a
   "did you mean" hint instead of a counterexample. Near variants: the same name up to case
   (``p_g``/``p_G``, ``\\mu_\\Phi``/``\\mu_\\phi``; but a one-letter Latin subscript of a
   symbol keeps its case: ``\\bar\\alpha_T`` is the final time, not ``\\bar\\alpha_t``), decorations (hat, bar, tilde, prime, star),
   ``var`` Greek forms, subscript synonyms (``data``/``real``/``r``/``d``; ``g``/``gen``/``model``)
   or a one-letter typo in a word subscript of 3+ letters that is not a Greek letter
   (``p_{dta}``). Adding or dropping a subscript (``\\sigma_1`` for ``\\sigma``), another index
   (``x_1``/``x_2``, ``\\mu_p``/``\\mu_q``) or another Greek letter (``\\phi``/``\\psi``) is not a slip but
   a different quantity: an extra variable stays a counterexample, as a grader would mark it.

The verdict lists the domains assumed for the names of both sides (``sigma > 0``,
``y in (0, 1)``) in :attr:`Verdict.assumptions`.

The verdict is one of :class:`Kind`: equivalent, not equivalent (with the counterexample point
and both values), undecided (with the reason: a timeout, an integral, no point of the domain),
or a parse error (with the position). Every check runs under a wall-clock deadline in a forked
worker (see :mod:`grading.isolation` for why), so it also works off the main thread and inside
pytest-xdist workers.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from grading.answers import parse as _parse
from grading.answers.definitions import expand_definitions
from grading.answers.feedback import Mistake, diagnose
from grading.isolation import DeadlineExceeded, deadline_check, run_isolated
from grading.answers.limits import ParseError
from grading.answers.notation import GREEK, UNICODE_GREEK, Expectation, Namespace, Normal
from grading.answers.numeric import WITNESSES, compare, symbol_kind
from grading.answers.parse import Reading, render_latex

__all__ = ["DEFAULT_TIMEOUT", "Kind", "Verdict", "check_equivalence"]

DEFAULT_TIMEOUT = 4.0  # seconds per check, parsing included
MISTAKE_BUDGET = 1.0  # seconds to name a known mistake (feedback; the verdict does not wait)
POINTS = 12
_MAX_OPS = 400  # larger differences skip the symbolic forms and go straight to numbers
_MAX_EXPANDED_POWER = 12  # (a + b)^n with larger n is never expanded


class Kind(str, Enum):
    """The four verdicts."""

    EQUIVALENT = "equivalent"
    NOT_EQUIVALENT = "not_equivalent"
    UNDECIDED = "undecided"
    PARSE_ERROR = "parse_error"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check. Use :attr:`kind` (a Verdict has no truth value on purpose).

    ``answer_latex`` shows how the answer was read; for ``NOT_EQUIVALENT``, ``counterexample``
    maps each drawn quantity to its value and ``reference_value``/``answer_value`` are the two
    values there; ``mistake`` names a recognised mistake; for ``PARSE_ERROR``, ``position`` is
    the character offset and ``parse_error_in`` says which side.
    """

    kind: Kind
    reason: str
    method: str = ""
    answer_latex: str | None = None
    reference_latex: str | None = None
    counterexample: Mapping[str, str] | None = None
    reference_value: str | None = None
    answer_value: str | None = None
    position: int | None = None
    parse_error_in: str | None = None
    mistake: Mistake | None = None
    assumptions: Mapping[str, str] | None = None
    seconds: float = 0.0

    @property
    def is_equivalent(self) -> bool:
        return self.kind is Kind.EQUIVALENT

    def __bool__(self) -> bool:
        raise TypeError("a Verdict has four outcomes: test verdict.kind or verdict.is_equivalent")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the form the worker sends back and the CLI prints)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["kind"] = self.kind.value
        data["counterexample"] = dict(self.counterexample) if self.counterexample else None
        data["mistake"] = self.mistake.to_dict() if self.mistake else None
        data["assumptions"] = dict(self.assumptions) if self.assumptions else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        fields = dict(data)
        fields["kind"] = Kind(fields["kind"])
        if fields.get("mistake"):
            fields["mistake"] = Mistake(**fields["mistake"])
        return cls(**fields)

    def __str__(self) -> str:
        text = self.reason
        if self.answer_latex is not None:
            text += f"\n  answer read as: {self.answer_latex}"
        if self.mistake is not None:
            text += f"\n  {self.mistake.message}"
        return text


def check_equivalence(reference: str | sp.Basic, answer: str | sp.Basic, *,
                      assumptions: Mapping[str, object] | None = None,
                      symbols: Mapping[str, sp.Basic] | None = None,
                      functions: Collection[str] | None = None,
                      timeout: float = DEFAULT_TIMEOUT, seed: int = 0,
                      isolation: str = "worker", feedback: bool = True) -> Verdict:
    """Check ``answer`` against ``reference`` (text or SymPy) within ``timeout`` seconds.

    ``assumptions`` maps names to kinds (``{"sigma": "positive", "y": "unit_interval",
    "mu": "real"}``, see :mod:`grading.answers.notation`); ``symbols`` and ``functions`` are passed to
    the parser's :class:`~grading.answers.notation.Namespace`. ``seed`` fixes the random points.
    ``isolation`` is ``"worker"`` (default), ``"process"``, ``"thread"`` or ``"none"``
    (see :mod:`grading.isolation`).
    """
    start = time.perf_counter()
    frozen_assumptions = dict(assumptions or {})
    Namespace(frozen_assumptions)  # reject an unknown kind here, in the caller

    arguments = (reference, answer, frozen_assumptions, symbols, functions, seed, feedback)
    status, value = run_isolated(_checked, arguments, timeout=timeout, isolation=isolation)
    if status == "ok":
        verdict = Verdict.from_dict(value)
    elif status == "timeout":
        verdict = Verdict(Kind.UNDECIDED, f"could not decide: the check took longer than "
                                          f"{timeout:g} s")
    else:
        verdict = Verdict(Kind.UNDECIDED, "could not decide: the engine could not evaluate "
                                          "this pair; a person will look at it")
    return Verdict(**{**verdict.__dict__, "seconds": time.perf_counter() - start})


# -- the check itself (runs in the worker) ----------------------------------------------------


def _reference_namespace(reference: sp.Basic, assumptions: Mapping[str, object],
                         symbols: Mapping[str, sp.Basic] | None,
                         functions: Collection[str] | None) -> tuple[Namespace, sp.Basic]:
    """Names of a SymPy reference keep their objects unless the question declares them."""
    known: dict[str, sp.Basic] = {}
    for symbol in reference.free_symbols:
        if isinstance(symbol, sp.Symbol) and symbol.name not in assumptions:
            known[symbol.name] = symbol
    for base in reference.atoms(sp.IndexedBase):
        if str(base.label) not in assumptions:
            known[str(base.label)] = base
    for application in reference.atoms(AppliedUndef):
        if application.func.__name__ not in assumptions:
            known[application.func.__name__] = application.func
    known.update(symbols or {})
    namespace = Namespace(assumptions, known, functions)
    redeclared = {s: namespace.symbol(s.name) for s in reference.free_symbols
                  if isinstance(s, sp.Symbol) and s.name in assumptions}
    return namespace, reference.xreplace(redeclared) if redeclared else reference


def _default_upper(reference: sp.Basic) -> str | None:
    uppers = {limits[2] for operator in reference.atoms(sp.Sum, sp.Product)
              for limits in operator.limits if len(limits) == 3}
    names = {upper.name for upper in uppers if isinstance(upper, sp.Symbol)}
    return names.pop() if len(names) == 1 else None


def _align(answer: sp.Basic, reference: sp.Basic) -> sp.Basic:
    """A name the reference uses means the reference's symbol (``G`` is its integer bound)."""
    by_name = {s.name: s for s in reference.free_symbols if isinstance(s, sp.Symbol)}
    mapping = {s: by_name[s.name] for s in answer.free_symbols
               if isinstance(s, sp.Symbol) and s.name in by_name and s != by_name[s.name]}
    return answer.xreplace(mapping) if mapping else answer


def _canonical(expr: sp.Basic, depth: int = 0) -> sp.Basic:
    """Rename dummy indices by nesting depth and expand the integrands of expectations."""
    if not expr.args or not expr.has(sp.Sum, sp.Product, Expectation):
        return expr
    if isinstance(expr, (sp.Sum, sp.Product)) and len(expr.limits) == 1:
        variable, *bounds = expr.limits[0]
        index = sp.Symbol(f"_i{depth}", integer=True)
        body = _canonical(expr.function.xreplace({variable: index}), depth + 1)
        return expr.func(body, (index, *(_canonical(b, depth) for b in bounds)))
    if isinstance(expr, Expectation):
        body = sp.expand(sp.expand_log(_canonical(expr.args[0], depth)))
        return Expectation(body, *expr.args[1:])
    return expr.func(*(_canonical(arg, depth) for arg in expr.args))


def _expandable(expr: sp.Basic) -> bool:
    if sp.count_ops(expr) > _MAX_OPS:
        return False
    return not any(isinstance(p.exp, sp.Integer) and abs(p.exp) > _MAX_EXPANDED_POWER
                   and isinstance(p.base, sp.Add) for p in expr.atoms(sp.Pow))


_FORMS = (
    sp.expand,
    lambda e: sp.expand(sp.expand_log(e)),
    lambda e: sp.cancel(sp.together(sp.expand(sp.expand_log(sp.powsimp(e))))),
)


def _symbolically_equal(reference: sp.Basic, answer: sp.Basic) -> bool:
    if reference == answer:
        return True
    difference = reference - answer
    if difference == 0:
        return True
    if difference.has(sp.Sum, sp.Product) or not _expandable(difference):
        return False
    for form in _FORMS:
        deadline_check()
        try:
            if form(difference) == 0:
                return True
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
    return False


def _read(text: str | sp.Basic, namespace: Namespace,
          default_upper: str | None) -> tuple[Reading, ...]:
    if isinstance(text, sp.Lambda):
        return (Reading(text.expr),)
    if isinstance(text, sp.Basic):
        return (Reading(text),)
    return tuple(_parse.parse_readings(text, namespace=namespace, default_upper=default_upper))


def _expanded(expr: sp.Basic, other: sp.Basic | None = None) -> sp.Basic:
    """Known definitions written out; derivatives carried out (an unknown function's stays).
    ``other`` (the other side) may resolve a bare distribution name (``E_q`` next to
    ``q_\\phi(z|x)``), as a grader reads one answer in the question's notation."""
    deadline_check()
    try:
        expr = expand_definitions(expr, context=() if other is None else (other,))
    except DeadlineExceeded:
        raise
    except Exception:  # noqa: BLE001 - a rewrite only adds knowledge: without it, still sound
        pass
    deadline_check()
    if expr.has(sp.Derivative):
        expr = expr.replace(lambda e: isinstance(e, sp.Derivative),
                            lambda e: e.doit(deep=False))
    return expr


# -- what the verdict says about domains and names ---------------------------------------------

_DOMAIN_WORDS = {
    "positive": "{} > 0", "nonnegative": "{} >= 0", "negative": "{} < 0", "nonzero": "{} != 0",
    "unit_interval": "{} in (0, 1)", "integer": "{} is an integer",
    "positive_integer": "{} is a positive integer", "binary": "{} in {{0, 1}}",
}


def _words(name: str, kind: str | tuple[float, float]) -> str | None:
    if isinstance(kind, tuple):
        return f"{name} in ({kind[0]:g}, {kind[1]:g})"
    template = _DOMAIN_WORDS.get(kind)
    return template.format(name) if template else None


def _assumptions_used(namespace: Namespace, *exprs: sp.Basic) -> dict[str, str] | None:
    """Every name of the two sides with a domain other than the real line, in words."""
    used: dict[str, str] = {}
    for expr in exprs:
        for symbol in expr.free_symbols:
            if isinstance(symbol, sp.Symbol):
                words = _words(symbol.name, symbol_kind(namespace, symbol.name, symbol))
                if words:
                    used[symbol.name] = words
        for indexed in expr.atoms(sp.Indexed):
            label = str(indexed.base.label)
            words = _words(f"{label}_i", symbol_kind(namespace, label, indexed))
            if words:
                used[label] = words
        for application in expr.atoms(AppliedUndef):
            name = application.func.__name__
            if name in ("KL", "JSD"):
                continue
            words = _words(f"{name}(...)", namespace.function_kind(name))
            if words:
                used[name] = words
    return dict(sorted(used.items())) or None


_SYNONYMS = {"real": "data", "r": "data", "d": "data", "data": "data", "gen": "g",
             "model": "g", "g": "g", "varphi": "phi", "varepsilon": "epsilon",
             "vartheta": "theta", "varrho": "rho", "varsigma": "sigma"}
_GREEK_WORDS = frozenset(name.lower() for name in UNICODE_GREEK.values()) | \
    {"varphi", "varepsilon", "vartheta", "varrho", "varsigma"}
_PRETTY = {name: letter for letter, name in UNICODE_GREEK.items() if letter != "ϕ"}


def _names(expr: sp.Basic) -> dict[str, sp.Basic]:
    names: dict[str, sp.Basic] = {}
    for symbol in expr.free_symbols:
        if isinstance(symbol, sp.Symbol):
            names[symbol.name] = symbol
    for base in expr.atoms(sp.IndexedBase):
        names[str(base.label)] = base
    for application in expr.atoms(AppliedUndef):
        names[application.func.__name__] = application.func
    return names


def _plain(part: str) -> str:
    part = part.replace("{", "").replace("}", "").replace("^*", "").rstrip("'*").lower()
    for decoration in ("hat", "bar", "tilde", "star"):
        if part.endswith(decoration) and len(part) > len(decoration):
            part = part[: -len(decoration)]
    return _SYNONYMS.get(part, part)


_PARAMETERS = frozenset({"phi", "theta", "psi", "eta", "omega", "lambda"})  # of a model's density


def _split(name: str) -> tuple[str, str]:
    head, _, subscript = name.partition("_")
    return _plain(head), _plain(subscript)


def _one_edit(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def near_variant(name: str, known: str, *, function: bool = False) -> bool:
    """Whether ``name`` is a notation slip for ``known`` (see the module docstring)."""
    if name == known:
        return False
    (head, sub), (known_head, known_sub) = _split(name), _split(known)
    if head != known_head or bool(sub) != bool(known_sub):
        return False
    if sub == known_sub:
        raw, known_raw = name.partition("_")[2], known.partition("_")[2]
        if not function and len(raw) == 1 and raw.isascii() and raw != known_raw and \
                raw.lower() == known_raw.lower():
            return False  # t/T, p/P on a symbol: another index or quantity (alpha_T, mu_P)
        return True
    words = sub.isalpha() and known_sub.isalpha() and min(len(sub), len(known_sub)) >= 3
    greek = sub in _GREEK_WORDS or known_sub in _GREEK_WORDS
    return words and not greek and _one_edit(sub, known_sub)


def _parameters_dropped(name: str, known: str) -> bool:
    """``q(z|x)`` for ``q_φ(z|x)``, ``p_θ(x|z)`` for ``p(x|z)``: the same density applied to
    the same arguments, its parameters dropped or added."""
    (head, sub), (known_head, known_sub) = _split(name), _split(known)
    return head == known_head and head in ("p", "q") and \
        (sub in _PARAMETERS and not known_sub or known_sub in _PARAMETERS and not sub)


def pretty(name: str) -> str:
    """``mu_phi`` → ``μ_φ`` (for messages)."""
    parts = name.split("_")
    return "_".join(_PRETTY.get(part, part) for part in parts)


def _near_variants(reference: sp.Basic, answer: sp.Basic,
                   namespace: Namespace) -> dict[str, list[str]]:
    known = _names(reference)
    declared = set(namespace.assumptions) | set(namespace.symbols)
    variants = {}
    for name, obj in sorted(_names(answer).items()):
        if name in known or name in declared:
            continue
        function = not isinstance(obj, (sp.Symbol, sp.IndexedBase))
        candidates = sorted(other for other in known
                            if near_variant(name, other, function=function))
        if candidates:
            variants[name] = candidates
    # p(x|z) where the reference has p_θ(x|z) (and also a p(z)): the same application under
    # a near-variant name is a slip too, though the name itself is known
    theirs = {(a.func.__name__, a.args) for a in reference.atoms(AppliedUndef)}
    for application in answer.atoms(AppliedUndef):
        name = application.func.__name__
        if (name, application.args) in theirs or name in declared or name in variants:
            continue
        candidates = sorted({other for other, args in theirs if args == application.args
                             and (near_variant(name, other, function=True)
                                  or _parameters_dropped(name, other))})
        if candidates:
            variants[name] = candidates
    return variants


def _renamed(answer: sp.Basic, reference: sp.Basic, mapping: Mapping[str, str]) -> sp.Basic:
    """The answer with each near-variant name replaced by the reference's name."""
    ours, theirs = _names(answer), _names(reference)
    simple = {ours[a]: theirs[b] for a, b in mapping.items()
              if isinstance(ours[a], (sp.Symbol, sp.IndexedBase))}
    renamed = answer.xreplace(simple) if simple else answer
    functions = {a: theirs[b] for a, b in mapping.items()
                 if not isinstance(ours[a], (sp.Symbol, sp.IndexedBase))}
    if functions:
        renamed = renamed.replace(
            lambda e: isinstance(e, AppliedUndef) and e.func.__name__ in functions,
            lambda e: functions[e.func.__name__](*e.args))
    return renamed


def _slip_verdict(ref: sp.Basic, ans: sp.Basic, namespace: Namespace, seed: int,
                  variants: Mapping[str, list[str]], shown: Mapping[str, Any]) -> Verdict:
    hints = "; ".join(f"{pretty(name)} — did you mean "
                      f"{' or '.join(pretty(c) for c in candidates)}?"
                      for name, candidates in variants.items())
    reason = f"could not decide: the answer uses a name the reference does not: {hints}"
    if all(len(candidates) == 1 for candidates in variants.values()):
        mapping = {name: candidates[0] for name, candidates in variants.items()}
        result = compare(_canonical(ref), _canonical(_renamed(ans, ref, mapping)), namespace,
                         seed=seed, points=POINTS, deadline_check=deadline_check)
        names = ", ".join(pretty(c) for c in mapping.values())
        if result.agree:
            reason += f" (read with {names}, the answer is equivalent)"
        elif result.agree is False:
            reason += f" (even read with {names}, the answer is not equivalent)"
    return Verdict(Kind.UNDECIDED, reason, method="notation", **shown)


def _named_mistake(ref: sp.Basic, ans: sp.Basic, namespace: Namespace,
                   seed: int) -> Mistake | None:
    """The known mistake the answer makes, if one is recognised; a rewrite SymPy refuses
    (σ → σ² inside ∂/∂σ) names no mistake rather than failing the verdict."""
    if any(side.has(sp.Integral, Normal) for side in (ref, ans)):
        return None  # each rewrite would need quadrature at every point: too slow for feedback
    token = WITNESSES.set(False)  # naming a mistake needs no concrete densities
    stop = time.process_time() + MISTAKE_BUDGET  # CPU time: the same work under any load

    def within_budget() -> None:
        deadline_check()
        if time.process_time() > stop:
            raise _OverBudget

    try:
        return diagnose(ref, ans, namespace, seed=seed, deadline_check=within_budget)
    except DeadlineExceeded:
        raise
    except (_OverBudget, ValueError, TypeError, NotImplementedError, AttributeError):
        return None  # feedback only: the verdict stands without a named mistake
    finally:
        WITNESSES.reset(token)


class _OverBudget(Exception):
    """Naming the mistake took longer than its budget."""


def _dependence_shown(expr: sp.Basic, other: sp.Basic) -> sp.Basic:
    """``\\mu_\\phi(x)`` where the other side writes ``\\mu_\\phi``: the argument only shows what
    the quantity depends on, so the application is read as the quantity itself (only for
    Greek-named quantities such as the encoder's outputs; a density p(x) is never its name,
    and a name used both ways on one side is left alone)."""
    symbols = {s.name: s for s in other.free_symbols if isinstance(s, sp.Symbol)}
    applied_there = {a.func.__name__ for a in other.atoms(AppliedUndef)}
    own_symbols = {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    mapping = {a: symbols[a.func.__name__] for a in expr.atoms(AppliedUndef)
               if a.func.__name__.split("_")[0] in GREEK  # μ_φ(x), σ_φ(x); never a density
               and a.func.__name__ in symbols and a.func.__name__ not in applied_there
               and a.func.__name__ not in own_symbols and len(a.args) == 1
               and not a.args[0].has(AppliedUndef)}
    return expr.xreplace(mapping) if mapping else expr


def _checked(*arguments: Any) -> dict[str, Any]:
    return _check(*arguments).to_dict()


def _check(reference: str | sp.Basic, answer: str | sp.Basic, assumptions: Mapping[str, object],
           symbols: Mapping[str, sp.Basic] | None, functions: Collection[str] | None, seed: int,
           feedback: bool) -> Verdict:
    if isinstance(reference, sp.Basic):
        (first,) = _read(reference, Namespace(), None)
        namespace, ref = _reference_namespace(first.expr, assumptions, symbols, functions)
        references: tuple[Reading, ...] = (Reading(ref),)
    else:
        namespace = Namespace(assumptions, symbols, functions)
        try:
            references = _read(reference, namespace, None)
        except ParseError as error:
            return Verdict(Kind.PARSE_ERROR, f"could not read the reference: {error}",
                           position=error.position, parse_error_in="reference")
    reference_latex = render_latex(references[0].expr)
    if namespace.divergence_pair is None:  # "2 JSD" compares the pair the reference names
        pairs = {tuple(a.name for a in d.args) for d in references[0].expr.atoms(AppliedUndef)
                 if d.func.__name__ in ("JSD", "KL") and len(d.args) == 2
                 and all(isinstance(a, sp.Symbol) for a in d.args)}
        if len(pairs) == 1:
            namespace.divergence_pair = pairs.pop()
    try:
        answers = _read(answer, namespace, _default_upper(references[0].expr))
    except ParseError as error:
        return Verdict(Kind.PARSE_ERROR, f"could not read the answer: {error}",
                       reference_latex=reference_latex, position=error.position,
                       parse_error_in="answer")
    outcomes = []
    for ref_reading in references:
        for ans_reading in answers:
            deadline_check()
            verdict = _check_pair(ref_reading.expr, ans_reading.expr, namespace, seed, feedback)
            outcomes.append((ref_reading, ans_reading, verdict))
    verdict = outcomes[0][2] if len(outcomes) == 1 else \
        _combined(outcomes, len(references) > 1, len(answers) > 1)
    notes = [r.note for r in (references[0], answers[0]) if r.note]
    if notes:  # the math was taken out of a sentence: say what was read
        verdict = Verdict(**{**verdict.__dict__,
                             "reason": f"{verdict.reason} ({'; '.join(notes)})"})
    return verdict


def _combined(outcomes: list[tuple[Reading, Reading, Verdict]], ambiguous_reference: bool,
              ambiguous_answer: bool) -> Verdict:
    """One verdict from every combination of readings: theirs if they agree, else undecided."""
    first = outcomes[0][2]
    if all(verdict.kind is first.kind for _, _, verdict in outcomes):
        note = " (every reading of the ambiguous notation gives this verdict)"
        return Verdict(**{**first.__dict__, "reason": first.reason + note})
    other = next(item for item in outcomes if item[2].kind is not first.kind)

    def described(ref: Reading, ans: Reading, verdict: Verdict) -> str:
        parts = []
        if ambiguous_reference:
            parts.append(f"the reference {ref.description or 'as written'} "
                         f"(read as {verdict.reference_latex})")
        if ambiguous_answer:
            parts.append(f"the answer {ans.description or 'as written'} "
                         f"(read as {verdict.answer_latex})")
        return " and ".join(parts) + f" gives {verdict.kind.value.replace('_', ' ')}"

    reason = ("could not decide: the notation can be read in more than one way and the readings "
              f"disagree: {described(*outcomes[0])}; {described(*other)}")
    return Verdict(Kind.UNDECIDED, reason, method="readings",
                   answer_latex=first.answer_latex, reference_latex=first.reference_latex,
                   assumptions=first.assumptions)


def _check_pair(ref: sp.Basic, ans: sp.Basic, namespace: Namespace, seed: int,
                feedback: bool) -> Verdict:
    reference_latex = render_latex(ref)
    if not isinstance(ans, sp.Expr):
        return Verdict(Kind.UNDECIDED, "could not decide: the answer is not an expression",
                       reference_latex=reference_latex)
    ans = _align(ans, ref)
    ref, ans = _dependence_shown(ref, ans), _dependence_shown(ans, ref)
    shown = {"answer_latex": render_latex(ans), "reference_latex": reference_latex,
             "assumptions": _assumptions_used(namespace, ref, ans)}
    written_ref, written_ans = ref, ans  # mistakes are named on the written forms
    ref, ans = _expanded(ref, ans), _expanded(ans, ref)
    canonical_ref, canonical_ans = _canonical(ref), _canonical(ans)
    deadline_check()
    variants = _near_variants(ref, ans, namespace)
    if isinstance(ref, sp.Rational) and isinstance(ans, sp.Rational) and ref != ans:
        if variants:
            return _slip_verdict(ref, ans, namespace, seed, variants, shown)
        mistake = _named_mistake(written_ref, written_ans, namespace, seed) if feedback else None
        return Verdict(Kind.NOT_EQUIVALENT, f"not equivalent: the exact numbers {ref} and {ans} "
                                            f"differ by {ref - ans}", method="exact",
                       reference_value=str(ref), answer_value=str(ans), counterexample={},
                       mistake=mistake, **shown)
    if _symbolically_equal(canonical_ref, canonical_ans):
        return Verdict(Kind.EQUIVALENT, "equivalent: the difference simplifies to 0",
                       method="symbolic", **shown)
    result = compare(canonical_ref, canonical_ans, namespace, seed=seed, points=POINTS,
                     deadline_check=deadline_check)
    method = f"numeric ({result.points} random points, {result.precision})"
    note = f"{result.note}; " if result.note else ""
    if result.agree is True:
        where = f" at {result.points} random points of the domain" \
            if canonical_ref.free_symbols | canonical_ans.free_symbols else ""
        return Verdict(Kind.EQUIVALENT, f"equivalent: {note}equal to {result.precision}{where}"
                       if result.note else f"equivalent: equal at {result.points} random points "
                                           f"of the domain ({result.precision})",
                       method=method, **shown)
    if variants:
        return _slip_verdict(ref, ans, namespace, seed, variants, shown)
    if result.agree is None:
        return Verdict(Kind.UNDECIDED, f"could not decide: {result.reason}", method=method,
                       **shown)
    point = ", ".join(f"{name} = {value}" for name, value in result.counterexample.items())
    mistake = _named_mistake(written_ref, written_ans, namespace, seed) if feedback else None
    where = f"at {point} " if point else ""
    reason = f"not equivalent: {note}{where}the reference is " \
             f"{result.reference_value} but the answer is {result.answer_value}"
    if result.note:
        reason += f" (they differ beyond {result.precision})"
    return Verdict(Kind.NOT_EQUIVALENT, reason, method=method,
                   counterexample=result.counterexample,
                   reference_value=result.reference_value, answer_value=result.answer_value,
                   mistake=mistake, **shown)
