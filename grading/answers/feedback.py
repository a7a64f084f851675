"""Named diagnoses of common mistakes, for an answer already found not equivalent.

Each diagnosis rewrites the *reference* the way the mistake would (negate it, double it, write
σ² for σ, swap the arguments of KL, drop the product, take the log of the sum, ...) and checks
the answer against the rewrite at random points (:func:`grading.answers.numeric.compare`). The first
rewrite the answer matches names the mistake; the answer-key author assigns partial credit per
:attr:`Mistake.name`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from grading.answers.notation import Namespace
from grading.answers.numeric import compare

__all__ = ["MISTAKES", "Mistake", "diagnose", "term_mistakes"]

SIGN_FLIPPED = "sign_flipped"
FACTOR_TWO = "factor_two"
FACTOR_HALF = "factor_half"
SIGMA_SQUARED = "sigma_vs_sigma_squared"
KL_SWAPPED = "kl_arguments_swapped"
MISSING_PRODUCT = "missing_product"
MISSING_SUM = "missing_sum"
LOG_OF_SUM = "log_of_sum"
TERM_SIGN = "term_sign_flipped"
TERM_FACTOR = "term_factor"
WRONG_CONSTANT = "wrong_log_constant"
SWAPPED_NUMERATOR = "swapped_numerator"

MISTAKES = (SIGN_FLIPPED, FACTOR_TWO, FACTOR_HALF, SIGMA_SQUARED, KL_SWAPPED, MISSING_PRODUCT,
            MISSING_SUM, LOG_OF_SUM, TERM_SIGN, TERM_FACTOR, WRONG_CONSTANT, SWAPPED_NUMERATOR)


@dataclass(frozen=True)
class Mistake:
    """A recognised mistake: ``name`` is one of :data:`MISTAKES`; ``message`` is for the student."""

    name: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "message": self.message}


def _entry_symbols(expr: sp.Basic, index: sp.Symbol, letter: str,
                   namespace: Namespace) -> sp.Basic:
    """A summand as an answer writes it without the sum: ``x[j]`` → the symbol ``x_j``."""
    replacements = {}
    for indexed in expr.atoms(sp.Indexed):
        if indexed.indices == (index,):
            replacements[indexed] = namespace.symbol(f"{indexed.base.label}_{letter}")
    replacements[index] = namespace.symbol(letter)
    return expr.xreplace(replacements)


def _index_letters(operator: sp.Basic, answer: sp.Basic) -> list[str]:
    """The index the answer used for the summand: ``j`` in ``x_j``, or the sum's own."""
    labels = {str(i.base.label) for i in operator.function.atoms(sp.Indexed)}
    letters = {s.name.rsplit("_", 1)[1] for s in answer.free_symbols
               if isinstance(s, sp.Symbol) and "_" in s.name and s.name.rsplit("_", 1)[0] in labels}
    return sorted(letters) or [operator.limits[0][0].name]


def _sigma_like(reference: sp.Basic, namespace: Namespace) -> list[sp.Symbol]:
    chosen = []
    squared = {p.base for p in reference.atoms(sp.Pow) if p.exp in (2, -2)}
    for symbol in sorted(reference.free_symbols, key=str):
        if not isinstance(symbol, sp.Symbol) or symbol.is_integer:
            continue
        if symbol.name.lower().startswith("sigma") or (symbol in squared and symbol.is_positive):
            chosen.append(symbol)
    return chosen


def _candidates(reference: sp.Basic, answer: sp.Basic,
                namespace: Namespace) -> Iterator[tuple[str, str, sp.Basic]]:
    yield SIGN_FLIPPED, "The sign is flipped: the answer is the negative of the correct one.", \
        -reference
    yield FACTOR_TWO, "Off by a factor of 2: the answer is twice the correct one.", 2 * reference
    yield FACTOR_HALF, "Off by a factor of 1/2: the answer is half the correct one.", reference / 2
    for symbol in _sigma_like(reference, namespace):
        name = symbol.name
        yield SIGMA_SQUARED, f"{name} and {name}² are confused: the answer has {name}² where " \
                             f"{name} belongs.", reference.xreplace({symbol: symbol**2})
        yield SIGMA_SQUARED, f"{name} and {name}² are confused: the answer has {name} where " \
                             f"{name}² belongs.", reference.xreplace({symbol: sp.sqrt(symbol)})
    for application in sorted(reference.atoms(AppliedUndef), key=str):
        if application.func.__name__ == "KL" and len(application.args) == 2:
            first, second = application.args
            swapped = application.func(second, first)
            yield KL_SWAPPED, "The arguments of the KL divergence are swapped: KL is not " \
                              "symmetric.", reference.xreplace({application: swapped})
    for operator in sorted(reference.atoms(sp.Product, sp.Sum), key=str):
        index = operator.limits[0][0]
        for letter in _index_letters(operator, answer):
            entry = reference.xreplace(
                {operator: _entry_symbols(operator.function, index, letter, namespace)})
            if isinstance(operator, sp.Product):
                yield MISSING_PRODUCT, f"The product over {letter} is missing: the answer is " \
                                       "the factor of a single index.", entry
            else:
                yield MISSING_SUM, f"The sum over {letter} is missing: the answer is the term " \
                                   "of a single index.", entry
    yield from _log_of_sum(reference)
    yield from term_mistakes(reference)


def term_mistakes(reference: sp.Basic) -> Iterator[tuple[str, str, sp.Basic]]:
    """Mistakes inside one term of a sum: its sign, its numeric factor, a log constant
    (log 2 for log 4), a fraction with the other term of its denominator on top."""
    terms = sp.Add.make_args(reference)
    constant = sp.Add(*(term for term in terms if not term.free_symbols))
    rest = reference - constant
    if constant != 0 and rest != 0 and len(terms) > 2:  # a constant and an expanded part
        shown = sp.sstr(constant)
        yield TERM_SIGN, f"The constant term {shown} has the wrong sign (the rest is right).", \
            rest - constant
        yield TERM_SIGN, f"The part that depends on the variables has the wrong sign (the " \
                         f"constant {shown} is right).", constant - rest
        yield TERM_FACTOR, f"The part that depends on the variables is halved (a factor 2 " \
                           f"dropped; the constant {shown} is right).", constant + rest / 2
        yield TERM_FACTOR, f"The part that depends on the variables is doubled (the constant " \
                           f"{shown} is right).", constant + 2 * rest
    if len(terms) > 1:
        for term in terms:
            shown = sp.sstr(term)
            yield TERM_SIGN, f"One term has the wrong sign: {shown} should be {sp.sstr(-term)} " \
                             f"(the other terms are right).", reference - 2 * term
            coefficient, rest = term.as_coeff_Mul()
            if coefficient.is_Rational and abs(coefficient) != 1:
                yield TERM_FACTOR, f"One term has the wrong factor: the factor " \
                                   f"{sp.sstr(abs(coefficient))} of {sp.sstr(rest)} is dropped.", \
                    reference - term + rest * sp.sign(coefficient)
                yield TERM_FACTOR, f"One term has the wrong factor: {sp.sstr(rest)} is " \
                                   f"multiplied by {sp.sstr(2 * abs(coefficient))} instead of " \
                                   f"{sp.sstr(abs(coefficient))}.", reference + term
    for log in sorted(reference.atoms(sp.log), key=str):
        (n,) = log.args
        if n.is_Integer and n > 2:
            for k in sorted({sp.Integer(2), n / 2, sp.sqrt(n), 2 * n}, key=float):
                if k != n and k.is_Rational and k > 1:
                    yield WRONG_CONSTANT, f"A constant is wrong: log {k} where log {n} " \
                                          f"belongs.", reference.xreplace({log: sp.log(k)})
    for fraction in sorted(reference.atoms(sp.Mul), key=str):
        numerator, denominator = sp.fraction(fraction)
        if isinstance(denominator, sp.Add) and numerator in denominator.args:
            other = denominator - numerator
            yield SWAPPED_NUMERATOR, f"The numerator is swapped: {sp.sstr(other)} over " \
                                     f"{sp.sstr(denominator)} where {sp.sstr(numerator)} " \
                                     f"belongs on top.", \
                reference.xreplace({fraction: other / denominator})


def _log_of_sum(reference: sp.Basic) -> Iterator[tuple[str, str, sp.Basic]]:
    message = "The log of a sum is not the sum of the logs: log(a + b) ≠ log a + log b."
    for operator in sorted(reference.atoms(sp.Sum), key=str):
        if isinstance(operator.function, sp.log):
            inner = sp.Sum(operator.function.args[0], *operator.limits)
            yield LOG_OF_SUM, message, reference.xreplace({operator: sp.log(inner)})
    for add in sorted(reference.atoms(sp.Add), key=str):
        logs = [term for term in add.args if isinstance(term, sp.log)]
        if len(logs) >= 2:
            others = [term for term in add.args if term not in logs]
            merged = sp.Add(*others, sp.log(sp.Add(*(log.args[0] for log in logs))))
            yield LOG_OF_SUM, message, reference.xreplace({add: merged})


def diagnose(reference: sp.Basic, answer: sp.Basic, namespace: Namespace, *, seed: int = 0,
             deadline_check: Callable[[], None] | None = None) -> Mistake | None:
    """The first known mistake that turns ``reference`` into ``answer``, or None."""
    for name, message, rewritten in _candidates(reference, answer, namespace):
        if rewritten == reference:
            continue
        result = compare(rewritten, answer, namespace, seed=seed + 1, points=6, attempts=30,
                         deadline_check=deadline_check)
        if result.agree:
            return Mistake(name, message)
    return None
