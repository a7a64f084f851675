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

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import sympy as sp

from grading.answers.latex import parse_latex_expression
from grading.answers.limits import ParseError, check_length
from grading.answers.notation import FUNCTION_WORDS, GREEK, Namespace
from grading.answers.plain import parse_plain_expression, two_letter_product
from grading.answers.surface import Surface, extract_math, normalise

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
    """Parse ``text`` as LaTeX or plain text (see :func:`looks_like_latex`); the first reading
    when the notation is ambiguous (:func:`parse_readings` gives them all).

    The text is first made plain (:func:`grading.answers.surface.normalise`: Unicode look-alikes
    of ASCII, ``x²``) and the math is taken out of a sentence around it
    (:func:`~grading.answers.surface.extract_math`). Plain text that Python's grammar rejects is
    read as LaTeX, where juxtaposition multiplies (``2x(1-x)``, ``2 sigma x``), with its words
    written as commands (``sigma`` → ``\\sigma``); a word no reader knows is refused.
    """
    text = _prepare(text)
    ns = _namespace(symbols, assumptions, functions, namespace)
    return _readings(text, ns, default_upper, first_only=True)[0].expr


@dataclass(frozen=True)
class Reading:
    """One faithful reading of an answer: the expression; when the notation is ambiguous, what
    this reading takes it to mean (``description``, empty when there is one reading); and how
    the answer was taken out of a sentence (``note``, empty when it was math alone)."""

    expr: sp.Basic
    description: str = ""
    note: str = ""


MAX_READINGS = 8  # at most three independent ambiguities are read every way


def parse_readings(text: str, *, symbols: Mapping[str, sp.Basic] | None = None,
                   assumptions: Mapping[str, object] | None = None,
                   functions: Collection[str] | None = None, namespace: Namespace | None = None,
                   default_upper: str | None = None) -> tuple[Reading, ...]:
    """Every faithful reading of ``text``: one, unless the notation is ambiguous (``x^T`` at the
    end of a term: a transpose or the power T; ``x^i`` inside ``\\sum_i``: a power or the entry
    x_i; the scope of a sum extended over a following term that uses its index, over a further
    term that does not), in which case each reading says what it takes the text to mean. The
    caller compares every reading and gives a verdict only where they agree."""
    text = _prepare(text)
    ns = _namespace(symbols, assumptions, functions, namespace)
    return _readings(text, ns, default_upper, first_only=False)


def _readings(text: str, ns: Namespace, default_upper: str | None, *,
              first_only: bool) -> tuple[Reading, ...]:
    surface = normalise(text)
    try:
        math, offset, note = extract_math(surface.text)
    except ParseError as error:
        raise ParseError(error.message, surface.origin(error.position)) from None
    try:
        return _read_math(math, ns, default_upper, note, first_only)
    except ParseError as error:
        raise ParseError(error.message, surface.origin(offset + error.position)) from None


def _read_math(math: str, ns: Namespace, default_upper: str | None, note: str,
               first_only: bool) -> tuple[Reading, ...]:
    if not math.strip():
        raise ParseError("the answer is empty", 0)

    def as_latex(text: str) -> tuple[Reading, ...]:
        return _latex_readings(text, ns, default_upper, note, first_only)

    def words_as_latex(words: Surface | None = None) -> tuple[Reading, ...]:
        """Plain words written as LaTeX; positions point back into ``math``."""
        words = words or plain_words_as_latex(math)
        try:
            return as_latex(words.text)
        except ParseError as error:
            raise ParseError(error.message, words.origin(error.position)) from None

    backslash = "\\" in math
    if looks_like_latex(math):
        if not backslash and _names_a_word(math):
            return words_as_latex()  # sigma_{q}: the letters of a word are one name
        try:
            return as_latex(math)
        except ParseError as latex_error:
            if backslash:
                raise
            try:  # braces but plain words: sum_{j=1}^G x_j log y_j
                return words_as_latex()
            except ParseError:
                raise latex_error from None
    _refuse_in_plain_text(math)
    if re.search(r"\^\s*T\b", math):  # x^T: a transpose or a power, read by the LaTeX reader
        return words_as_latex()
    try:
        return (Reading(parse_plain_expression(math, ns, default_upper=default_upper),
                        note=note),)
    except ParseError as plain_error:
        if plain_error.message.startswith(("a power of ten", "a number with")):
            raise
        words = plain_words_as_latex(math)  # an unknown word is refused as such
        try:
            return words_as_latex(words)
        except ParseError as latex_error:  # report the reading that got further
            if latex_error.position >= plain_error.position:
                raise
            raise plain_error from None


def _latex_readings(text: str, ns: Namespace, default_upper: str | None, note: str,
                    first_only: bool) -> tuple[Reading, ...]:
    seen: dict[str, tuple[str, str]] = {}
    first = parse_latex_expression(text, ns, default_upper=default_upper, seen=seen)
    if first_only or not seen:
        return (Reading(first, note=note),)
    keys = sorted(seen)[:3]
    readings = []
    for mask in range(min(2 ** len(keys), MAX_READINGS)):
        chosen = frozenset(key for bit, key in enumerate(keys) if mask >> bit & 1)
        expr = first if not chosen else parse_latex_expression(
            text, ns, default_upper=default_upper, choices=chosen, seen={})
        description = "; ".join(seen[key][1] if key in chosen else seen[key][0] for key in keys)
        readings.append(Reading(expr, description, note))
    return tuple(readings)


def _names_a_word(text: str) -> bool:
    """Whether plain words of the readers (Greek names, functions, ``sum``) appear in ``text``."""
    known = GREEK | FUNCTION_WORDS | _PLAIN_OPERATORS.keys()
    return any(w in known for w in re.findall(r"[A-Za-z]{2,}", text))


def _refuse_in_plain_text(text: str) -> None:
    """What plain text cannot say faithfully: comments, ``!=``."""
    if "#" in text:
        raise ParseError("'#' starts a comment: give the answer alone, without comments",
                         text.index("#"))
    if "!=" in text:
        raise ParseError("'!=' could be a factorial or 'not equal': write 5! = 5 with a "
                         "space", text.index("!="))


_WORD = re.compile(r"(?P<derivative>\bd/d[A-Za-z]\b)|\\[A-Za-z]+|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
# plain words for the operators of the LaTeX reader
_PLAIN_OPERATORS = {"sum": "\\sum", "prod": "\\prod", "int": "\\int", "grad": "\\nabla",
                    "nabla": "\\nabla", "partial": "\\partial", "dx": "dx", "dz": "dz",
                    "dt": "dt", "dy": "dy", "frac": "\\frac"}


def plain_words_as_latex(text: str) -> Surface:
    """Plain text as LaTeX for the juxtaposition reader: ``2 sigma x`` → ``2 \\sigma x``,
    ``mu_phi`` → ``\\mu_{\\phi}``, ``p_data`` → ``p_{data}``, ``log`` → ``\\log``. A word that is
    neither a function, a Greek letter, nor a single letter is refused: it cannot be read as a
    product of letters faithfully (``cosec(3x)`` is not cosec·3x)."""

    out: list[str] = []
    positions: list[int] = []
    last = 0

    def emit(piece: str, position: int) -> None:
        out.append(piece)
        positions.extend([position] * len(piece))

    def word(w: str) -> str:
        if len(w) == 1 or w.isdigit():
            return w
        if w in GREEK or w in FUNCTION_WORDS or w in ("ell", "infty"):
            return "\\" + w + " "
        if w in _PLAIN_OPERATORS:
            return _PLAIN_OPERATORS[w]
        for modifier in ("hat", "bar", "tilde"):
            stem = w[: -len(modifier)]
            if w.endswith(modifier) and (stem in GREEK or len(stem) == 1):
                return f"\\{modifier}{{{word(stem)}}}"
        if two_letter_product(w):
            return w  # 2xy: the letters multiply
        return ""

    for m in _WORD.finditer(text):
        for k in range(last, m.start()):
            emit(text[k], k)
        last = m.end()
        if m.group(0).startswith("\\") or text[:m.start()].endswith(("_{", "_")):
            emit(m.group(0), m.start())  # a command, or the word of a subscript: p_{data}
            continue
        if m.group("derivative"):  # d/dx
            emit(f"\\frac{{d}}{{d{m.group(0)[-1]}}}", m.start())
            continue
        head, *subscripts = m.group(0).split("_")
        latex = word(head)
        if not latex:
            following = text[m.end():].lstrip()
            what = "function" if following.startswith("(") else "name"
            raise ParseError(f"unknown {what} {head!r}: write it with the functions and letters "
                             "of the course (log, exp, sqrt, Greek letters, single letters)",
                             m.start())
        if subscripts:
            inner = "_".join(subscripts)
            sub = word(inner) if inner in GREEK else inner
            latex = f"{latex}_{{{sub or inner}}}"
        emit(latex, m.start())
    for k in range(last, len(text)):
        emit(text[k], k)
    return Surface("".join(out), tuple(positions) + (len(text),))


def render_latex(expr: sp.Basic) -> str:
    """How an answer was read, as normalised LaTeX (``sympy.latex`` of the parsed object)."""
    return sp.latex(expr)
