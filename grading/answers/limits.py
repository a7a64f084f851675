"""Caps that keep parsing untrusted answers bounded in time and memory, and the ``ParseError``.

Every number, power and factorial a parser builds goes through :func:`integer_literal`,
:func:`power` and :func:`factorial`, which refuse what would explode (``9^{9^{9^9}}``,
``(10^8)!``) with a :class:`ParseError` naming the position, instead of letting SymPy evaluate it.
"""

from __future__ import annotations

import math

import sympy as sp

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_FACTORIAL_ARGUMENT",
    "MAX_LENGTH",
    "MAX_LITERAL_DIGITS",
    "MAX_RESULT_DIGITS",
    "ParseError",
    "check_length",
    "factorial",
    "integer_literal",
    "power",
]

MAX_LENGTH = 10_000  # characters of an answer
MAX_DEPTH = 50  # nesting of brackets, groups, fractions, exponents and operators
MAX_EXPONENT = 10**6  # largest |numerator| or |denominator| of a numeric exponent
MAX_FACTORIAL_ARGUMENT = 1_000  # n! is evaluated exactly, so n stays small
MAX_LITERAL_DIGITS = 200  # digits of a number written in the answer
MAX_RESULT_DIGITS = 10_000  # digits of an exact numeric power SymPy would compute


class ParseError(ValueError):
    """An answer that cannot be read; ``position`` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position})")
        self.message = message
        self.position = position


def check_length(text: str) -> None:
    """Refuse an answer longer than :data:`MAX_LENGTH` characters."""
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"the answer has {len(text)} characters; the limit is {MAX_LENGTH}", MAX_LENGTH
        )


def integer_literal(digits: str, position: int) -> sp.Integer:
    """The integer written as ``digits``, refusing more than :data:`MAX_LITERAL_DIGITS`."""
    if len(digits) > MAX_LITERAL_DIGITS:
        raise ParseError(f"a number with more than {MAX_LITERAL_DIGITS} digits", position)
    return sp.Integer(int(digits))


def decimal_literal(text: str, position: int) -> sp.Rational:
    """``"0.5"`` as the exact rational 1/2 (decimals in answers are exact)."""
    whole, _, fraction = text.partition(".")
    if len(whole) + len(fraction) > MAX_LITERAL_DIGITS:
        raise ParseError(f"a number with more than {MAX_LITERAL_DIGITS} digits", position)
    return sp.Rational(int(whole or "0") * 10 ** len(fraction) + int(fraction or "0"),
                       10 ** len(fraction))


def _digits(value: sp.Rational) -> float:
    """Decimal digits of the larger of numerator and denominator."""
    largest = max(abs(int(value.p)), abs(int(value.q)), 1)
    return math.log10(largest) if largest < 10**300 else float(largest.bit_length()) * 0.30103


def power(base: sp.Basic, exponent: sp.Basic, position: int) -> sp.Basic:
    """``base ** exponent``, refusing numeric exponents or exact results that would explode."""
    if isinstance(exponent, sp.Rational):
        if abs(int(exponent.p)) > MAX_EXPONENT or int(exponent.q) > MAX_EXPONENT:
            raise ParseError(f"the exponent {_short(exponent)} is too large "
                             f"(limit {MAX_EXPONENT})", position)
        if isinstance(base, sp.Rational) and base not in (0, 1, -1):
            if abs(int(exponent.p)) * _digits(base) / int(exponent.q) > MAX_RESULT_DIGITS:
                raise ParseError(f"the power has more than {MAX_RESULT_DIGITS} digits", position)
    elif isinstance(exponent, sp.Float) and abs(exponent) > MAX_EXPONENT:
        raise ParseError(f"the exponent is too large (limit {MAX_EXPONENT})", position)
    if isinstance(base, sp.Float) and isinstance(exponent, sp.Number):
        return sp.Pow(base, exponent, evaluate=False)
    return sp.Pow(base, exponent)


def factorial(argument: sp.Basic, position: int) -> sp.Basic:
    """``argument!``, refusing numeric arguments above :data:`MAX_FACTORIAL_ARGUMENT`."""
    if argument.is_number and (argument.is_comparable or isinstance(argument, sp.Number)):
        if abs(argument) > MAX_FACTORIAL_ARGUMENT:
            raise ParseError(f"the factorial of {_short(argument)} is too large "
                             f"(limit {MAX_FACTORIAL_ARGUMENT}!)", position)
    return sp.factorial(argument)


def _short(value: sp.Basic) -> str:
    text = str(value)
    return text if len(text) <= 30 else f"{text[:12]}...{text[-6:]} ({len(text)} characters)"
