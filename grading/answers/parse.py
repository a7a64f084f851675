"""Safe parsing of untrusted answers (LaTeX or plain ASCII) into SymPy, and how they were read.

    >>> parse_answer(r"\\frac{1}{2}\\left(\\mu^2 + \\sigma^2 - 1 - \\log\\sigma^2\\right)")
    >>> parse_answer("sigma**2/2 + log(sigma)", assumptions={"sigma": "positive"})

No text is ever evaluated: LaTeX goes through the grammar of :mod:`grading.answers.latex`, plain text
through the AST allow-list of :mod:`grading.answers.plain`. Answers longer than
:data:`grading.answers.limits.MAX_LENGTH` characters, nested deeper than :data:`~grading.answers.limits.MAX_DEPTH`
or with exploding numbers are a :class:`ParseError` carrying the character position.
:func:`render_latex` shows how an answer was read, so a person can spot a misreading.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import sympy as sp

from grading.answers.latex import parse_latex_expression
from grading.answers.limits import ParseError, check_length
from grading.answers.notation import Namespace
from grading.answers.plain import parse_plain_expression

__all__ = ["ParseError", "Reading", "looks_like_latex", "parse_answer", "parse_latex",
           "parse_plain", "parse_readings", "render_latex"]

_LATEX_MARKS = ("\\", "{", "}")


def _namespace(symbols: Mapping[str, sp.Basic] | None, assumptions: Mapping[str, object] | None,
               functions: Collection[str] | None, namespace: Namespace | None) -> Namespace:
    if namespace is not None:
        return namespace
    return Namespace(assumptions, symbols, functions)


def _prepare(text: object) -> str:
    if not isinstance(text, str):
        raise ParseError(f"an answer is text, not {type(text).__name__}", 0)
    check_length(text)
    if not text.strip():
        raise ParseError("the answer is empty", 0)
    return text


def parse_latex(text: str, *, symbols: Mapping[str, sp.Basic] | None = None,
                assumptions: Mapping[str, object] | None = None,
                functions: Collection[str] | None = None, namespace: Namespace | None = None,
                default_upper: str | None = None) -> sp.Basic:
    """Parse a LaTeX answer; ``default_upper`` is the bound of a ``\\sum_j`` written without one."""
    text = _prepare(text)
    ns = _namespace(symbols, assumptions, functions, namespace)
    return parse_latex_expression(text, ns, default_upper=default_upper)


def parse_plain(text: str, *, symbols: Mapping[str, sp.Basic] | None = None,
                assumptions: Mapping[str, object] | None = None,
                functions: Collection[str] | None = None, namespace: Namespace | None = None,
                default_upper: str | None = None) -> sp.Basic:
    """Parse a plain ASCII answer such as ``sigma**2/2 + log(sigma)`` or ``sigma^2``."""
    text = _prepare(text)
    ns = _namespace(symbols, assumptions, functions, namespace)
    return parse_plain_expression(text, ns, default_upper=default_upper)


def looks_like_latex(text: str) -> bool:
    """LaTeX when the text has a backslash or a brace; plain text otherwise."""
    return any(mark in text for mark in _LATEX_MARKS)


def parse_answer(text: str, *, symbols: Mapping[str, sp.Basic] | None = None,
                 assumptions: Mapping[str, object] | None = None,
                 functions: Collection[str] | None = None, namespace: Namespace | None = None,
                 default_upper: str | None = None) -> sp.Basic:
    """Parse ``text`` as LaTeX or plain text (see :func:`looks_like_latex`).

    Plain text that Python's grammar rejects but that has no multi-letter words (``2x(1-x)``,
    ``x y``) is read as LaTeX, where juxtaposition multiplies; otherwise the plain-text error
    is raised.
    """
    text = _prepare(text)
    ns = _namespace(symbols, assumptions, functions, namespace)
    if looks_like_latex(text):
        return parse_latex_expression(text, ns, default_upper=default_upper)
    try:
        return parse_plain_expression(text, ns, default_upper=default_upper)
    except ParseError as plain_error:
        if _has_unknown_words(text):
            raise
        try:
            return parse_latex_expression(text, ns, default_upper=default_upper)
        except ParseError as latex_error:  # report the reading that got further
            raise (latex_error if latex_error.position >= plain_error.position
                   else plain_error) from None


@dataclass(frozen=True)
class Reading:
    """One faithful reading of an answer: the expression and, when the notation is ambiguous,
    what this reading takes it to mean (empty when there is only one reading)."""

    expr: sp.Basic
    description: str = ""


def parse_readings(text: str, *, symbols: Mapping[str, sp.Basic] | None = None,
                   assumptions: Mapping[str, object] | None = None,
                   functions: Collection[str] | None = None, namespace: Namespace | None = None,
                   default_upper: str | None = None) -> tuple[Reading, ...]:
    """Every faithful reading of ``text``: one, unless the notation is ambiguous (the scope of
    a sum over a following term, ``\\log x^2``, an index that could be a power), in which
    case each reading says what it takes the text to mean. The caller compares every reading
    and gives a verdict only where they agree."""
    expr = parse_answer(text, symbols=symbols, assumptions=assumptions, functions=functions,
                        namespace=namespace, default_upper=default_upper)
    return (Reading(expr),)


def _has_unknown_words(text: str) -> bool:
    from grading.answers.notation import FUNCTION_WORDS

    word = []
    for c in text + " ":
        if c.isascii() and c.isalpha():
            word.append(c)
            continue
        if len(word) > 1 and "".join(word) not in FUNCTION_WORDS:
            return True
        word = []
    return False


def render_latex(expr: sp.Basic) -> str:
    """How an answer was read, as normalised LaTeX (``sympy.latex`` of the parsed object)."""
    return sp.latex(expr)
