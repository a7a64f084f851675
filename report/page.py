"""One self-contained HTML page for ``genverify report``: math as MathML, figures inline.

MathML renders natively in current browsers, so the page needs no script and no network;
figures are PNGs embedded as ``data:`` URLs. Two kinds of math are printed:

* SymPy expressions (derivation steps, reference answers) by SymPy's presentation printer,
  adjusted to the course's notation: ℓ for ``ell``, x̃ for ``x_tilde``, p_data and p_G as a
  letter with an upright subscript (symbols and functions alike), integrals over ℝ (also for
  the placeholder limits ``x_lo``, ``x_hi`` of a density integral), an ordinary d and e,
  fractions inside exponents written inline (``e^{−x²/(2σ²)}``), and long sums broken into
  lines;
* the course's Unicode notation in sentences (prompts, reasons, options, table cells:
  ``p_θ(x|z)``, ``KL(q‖p)``, ``σ²``) by :func:`mathtext`, a small tokenizer that turns the
  math runs of a sentence into MathML and leaves the words as text. It reads only text the
  project writes (the key, the derivations, the evidence), never a student's answer, and
  evaluates nothing.

A derivation step whose expression carries no claim of its own (SymPy settled ``D* > 0`` to
``True`` from the symbols' assumptions when the step was built, ``0 = 0``, a bare constant as
a starting point) shows the claim its reason states instead. The page starts with the
settings it was made with (``meta``: version, date, quick or full, seeds, data), a summary
linking every failed check, and a table of contents.
"""

from __future__ import annotations

import base64
import datetime
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.conventions import split_super_sub
from sympy.printing.mathml import MathMLPresentationPrinter
from sympy.printing.pretty.pretty_symbology import greek_unicode

from derivations.core import Derivation, Step, Verification

__all__ = ["Evidence", "Part", "math", "mathtext", "page_meta", "render", "step_claim"]

RELATION_SIGNS = {"=": "=", "<=": "≤", ">=": "≥", "<": "<", ">": ">", "solves": "⇒",
                  "stationary": "⇒", "holds": "", "def": ""}

Piece = Any  # a SymPy expression, a sentence in the course's notation, or an optimisation problem
Reference = sp.Basic | str | Sequence[Piece | Sequence[Piece]] | None


@dataclass(frozen=True)
class Evidence:
    """A checked claim of the report: a derivation, a numeric cross-check or a model check."""

    part: str
    claim: str
    check: str
    ok: bool
    seconds: float
    derivation: Derivation | None = None
    verification: Verification | None = None
    table: Sequence[Mapping[str, str]] = ()
    figure_png: bytes | None = None


@dataclass(frozen=True)
class Part:
    """A homework part as the report shows it.

    ``reference`` is a SymPy expression, a sentence in the course's Unicode notation, or a
    sequence of lines, each a piece or a sequence of pieces shown side by side (a piece is an
    expression, a sentence, or an object with ``operators`` and ``objective``: a min–max
    problem).
    """

    id: str
    points: float | None
    prompt: str
    reference: Reference
    evidence: list[Evidence] = field(default_factory=list)
    title: str = ""  # the heading, when the part is not one of the key's (supporting results)


# ----------------------------------------------------------------------------------------------
# names in the course's notation

_ACCENTS = {"tilde": "~", "hat": "^", "bar": "¯", "dot": "˙", "vec": "→"}
_AFTER = {"star": "*", "prime": "′", "dagger": "†"}
_LETTERS = {"ell": "ℓ", "lamda": "λ", "lam": "λ", "varepsilon": "ε", "epsilon": "ε",
            "varphi": "φ", "nabla": "∇", "partial": "∂", "infty": "∞"}
# multi-letter names printed upright as one word (functions and acronyms of the course)
MATH_NAMES = frozenset({"log", "ln", "exp", "KL", "JSD", "max", "min", "sup", "inf", "lim",
                        "argmax", "argmin", "tanh", "sigmoid", "det", "tr", "Var", "Cov",
                        "softplus", "sign"})


def _letter(name: str) -> str:
    return _LETTERS.get(name) or greek_unicode.get(name) or name


def _is_word(text: str) -> bool:
    """A subscript that is a word (``data``, ``min``), printed upright."""
    return len(text) > 1 and text.isalpha()


class _Printer(MathMLPresentationPrinter):
    """SymPy's presentation MathML in the course's notation (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__({"root_notation": True})
        self._inline = 0  # > 0 inside an exponent: fractions are written a/b

    # -- elements -------------------------------------------------------------------------------

    def _el(self, tag: str, *children: Any, text: str | None = None, **attributes: str) -> Any:
        element = self.dom.createElement(tag)
        if text is not None:  # SymPy's text nodes are written raw: escape here
            element.appendChild(self.dom.createTextNode(html.escape(text, quote=False)))
        for child in children:
            element.appendChild(child)
        for name, value in attributes.items():
            element.setAttribute(name, value)
        return element

    def _mi(self, text: str) -> Any:
        return self._el("mi", text=text, **({"mathvariant": "normal"} if len(text) > 1 and
                                             text.isalpha() else {}))

    def _mo(self, text: str, **attributes: str) -> Any:
        return self._el("mo", text=text, **attributes)

    def _script(self, piece: str) -> Any:
        if piece.isdigit():
            return self._el("mn", text=piece)
        if _is_word(piece) and piece not in greek_unicode and piece not in _LETTERS:
            return self._el("mi", text=piece, mathvariant="normal")
        return self._mi(_letter(piece))

    def name(self, name: str) -> Any:
        """A SymPy name (``x_tilde``, ``p_data``, ``ell_k``, ``s_theta``, ``mu_1``) as MathML."""
        base, supers, subs = split_super_sub(name)
        accents = [s for s in subs + supers if s in _ACCENTS]
        after = [_AFTER[s] for s in subs + supers if s in _AFTER]
        subs = [s for s in subs if s not in _ACCENTS and s not in _AFTER]
        supers = [s for s in supers if s not in _ACCENTS and s not in _AFTER] + after
        node = self._mi(_letter(base))
        for accent in accents:
            node = self._el("mover", node, self._mo(_ACCENTS[accent], stretchy="false"),
                            accent="true")
        return self._scripts(node, [self._script(s) for s in subs],
                             [self._mo(s) if s in "*′†" else self._script(s) for s in supers])

    def _scripts(self, node: Any, subs: list[Any], supers: list[Any]) -> Any:
        def join(items: list[Any]) -> Any:
            if len(items) == 1:
                return items[0]
            row = self._el("mrow")
            for i, item in enumerate(items):
                if i:
                    row.appendChild(self._mo(",", separator="true"))
                row.appendChild(item)
            return row

        if subs and supers:
            return self._el("msubsup", node, join(subs), join(supers))
        if subs:
            return self._el("msub", node, join(subs))
        if supers:
            return self._el("msup", node, join(supers))
        return node

    # -- SymPy objects --------------------------------------------------------------------------

    def _print_Symbol(self, sym: sp.Symbol, style: str = "plain") -> Any:
        return self.name(sym.name)

    _print_Dummy = _print_Symbol

    def _print_IndexedBase(self, e: sp.IndexedBase) -> Any:
        return self.name(str(e.label))

    def _print_Indexed(self, e: sp.Indexed) -> Any:
        # m_1[k] is m_{1k}: the index joins the base's own subscript
        base, supers, subs = split_super_sub(str(e.base.label))
        indices = [self._print(i) for i in e.indices]
        if supers or any(s in _ACCENTS or s in _AFTER for s in subs):
            return self._el("msub", self.name(str(e.base.label)), *indices[:1]) \
                if len(indices) == 1 else self._el("msub", self.name(str(e.base.label)),
                                                   self._print(e.indices))
        node = self._mi(_letter(base))
        return self._scripts(node, [self._el("mrow", *[self._script(s) for s in subs], *indices)]
                             if subs else indices, [])

    def _print_Idx(self, e: sp.Idx) -> Any:
        return self._print(e.label)

    def _print_Function(self, e: sp.Function) -> Any:
        if isinstance(e, AppliedUndef):
            return self._el("mrow", self.name(e.func.__name__), self._paren_comma_separated(*e.args))
        return super()._print_Function(e)

    def _print_Exp1(self, e: Any) -> Any:
        return self._el("mi", text="e", mathvariant="normal")

    def _print_exp(self, e: sp.exp) -> Any:
        self._inline += 1
        try:
            return self._el("msup", self._print_Exp1(None), self._print(e.args[0]))
        finally:
            self._inline -= 1

    def _print_Pow(self, e: sp.Pow) -> Any:
        if self._inline and e.exp.is_negative and not (e.exp.is_Rational and e.exp.q != 1):
            return self._inline_fraction(sp.Integer(1), e.base ** -e.exp)
        if e.base is sp.E:
            return self._print_exp(sp.exp(e.exp, evaluate=False))
        if e.exp.is_Number:  # a number in an exponent: no nested inline mode needed
            return super()._print_Pow(e)
        self._inline += 1
        try:
            base = self.parenthesize(e.base, sp.printing.precedence.PRECEDENCE["Pow"])
            return self._el("msup", base, self._print(e.exp))
        finally:
            self._inline -= 1

    def _print_Rational(self, e: sp.Rational) -> Any:
        if self._inline and e.q != 1:
            row = self._el("mrow")
            if e.p < 0:
                row.appendChild(self._mo("−"))
            row.appendChild(self._el("mn", text=str(abs(e.p))))
            row.appendChild(self._mo("/"))
            row.appendChild(self._el("mn", text=str(e.q)))
            return row
        return super()._print_Rational(e)

    def _print_Mul(self, e: sp.Mul) -> Any:
        if self._inline:
            numerator, denominator = sp.fraction(e)
            if denominator is not sp.S.One:
                if numerator.could_extract_minus_sign():
                    return self._el("mrow", self._mo("−"),
                                    self._inline_fraction(-numerator, denominator))
                return self._inline_fraction(numerator, denominator)
        return super()._print_Mul(e)

    def _inline_fraction(self, numerator: sp.Basic, denominator: sp.Basic) -> Any:
        def grouped(x: sp.Basic, strict: bool) -> Any:
            printed = self._print(x)
            if isinstance(x, sp.Add) or (strict and isinstance(x, sp.Mul)):
                return self._el("mrow", self._mo("(", stretchy="false"), printed,
                                self._mo(")", stretchy="false"))
            return printed

        return self._el("mrow", grouped(numerator, False), self._mo("/"), grouped(denominator, True))

    def _print_Integral(self, e: sp.Integral) -> Any:
        row = self._el("mrow")
        for limit in reversed(e.limits):
            sign = self._mo("∫")
            if len(limit) == 3 and _over_the_line(limit):
                row.appendChild(self._el("msub", sign, self._el("mi", text="ℝ")))
            elif len(limit) == 3:
                row.appendChild(self._el("msubsup", sign, self._print(limit[1]),
                                         self._print(limit[2])))
            else:
                row.appendChild(sign)
        row.appendChild(self.parenthesize(e.function, sp.printing.precedence.PRECEDENCE["Mul"],
                                          strict=True))
        for limit in e.limits:
            row.appendChild(self._mspace(0.17))
            row.appendChild(self._el("mi", text="d", mathvariant="normal"))
            row.appendChild(self._print(limit[0]))
        return row

    def _mspace(self, em: float) -> Any:
        return self._el("mspace", width=f"{em}em")

    def _print_Derivative(self, e: sp.Derivative) -> Any:
        partial = len(e.expr.free_symbols) > 1 or len(e.variable_count) > 1
        d = "∂" if partial else "d"

        def letter() -> Any:
            return self._el("mi", text=d, mathvariant="normal")

        total = sum(int(count) for _, count in e.variable_count)
        top = letter() if total == 1 else self._el("msup", letter(), self._el("mn", text=str(total)))
        bottom = self._el("mrow")
        for variable, count in e.variable_count:
            bottom.appendChild(letter())
            printed = self._print(variable)
            bottom.appendChild(printed if count == 1 else
                               self._el("msup", printed, self._el("mn", text=str(count))))
        return self._el("mrow", self._el("mfrac", top, bottom),
                        self.parenthesize(e.expr, sp.printing.precedence.PRECEDENCE["Mul"],
                                          strict=True))

    def _print_Product(self, e: sp.Product) -> Any:
        mrow = self._print_Sum(e)
        mrow.firstChild.firstChild.firstChild.data = "∏"
        return mrow

    def _print_Piecewise(self, e: sp.Piecewise) -> Any:
        table = self._el("mtable", columnalign="left")
        for value, condition in e.args:
            table.appendChild(self._el("mtr", self._el("mtd", self._print(value)),
                                       self._el("mtd", self._mi("if"), self._mspace(0.3),
                                                self._print(condition))))
        return self._el("mrow", self._mo("{"), table)

    def _print_BooleanTrue(self, e: Any) -> Any:
        return self._el("mi", text="true", mathvariant="normal")

    def _print_BooleanFalse(self, e: Any) -> Any:
        return self._el("mi", text="false", mathvariant="normal")

    def problem(self, problem: Any) -> Any:
        """``max_θ min_w objective``: an optimisation problem (``operators`` from the outside in)."""
        row = self._el("mrow")
        for operator, variable in problem.operators:
            row.appendChild(self._el("munder", self._el("mo", text=operator, movablelimits="false"),
                                     self._print(variable)))
            row.appendChild(self._mspace(0.2))
        row.appendChild(self._print(problem.objective))
        return row


def _over_the_line(limit: tuple) -> bool:
    """Limits of an integral over the whole line: (−∞, ∞), or the placeholder symbols
    ``x_lo``, ``x_hi`` a density integral is written with."""
    _, low, high = limit
    if low == -sp.oo and high == sp.oo:
        return True
    return all(isinstance(b, sp.Symbol) and b.name.rsplit("_", 1)[-1] in ("lo", "hi")
               for b in (low, high))


def _serialise(node: Any) -> str:
    text = node.toxml()
    return text.replace("<mo>-</mo>", "<mo>−</mo>")


LINE_CHARS = 110  # a sum longer than this (in SymPy's text form) is broken into lines


def _lines(printer: _Printer, expr: sp.Add) -> Any:
    """A long sum as a left-aligned table of lines, each after the first opening with ± ."""
    terms = printer._as_ordered_terms(expr)
    lines, current, width = [], [], 0
    for term in terms:
        size = len(str(term))
        if current and width + size > LINE_CHARS:
            lines.append(current)
            current, width = [], 0
        current.append(term)
        width += size
    lines.append(current)
    table = printer._el("mtable", columnalign="left", rowspacing="0.4em")
    for number, line in enumerate(lines):
        row = printer._el("mrow")
        for position, term in enumerate(line):
            negative = term.could_extract_minus_sign()
            if number or position or negative:
                row.appendChild(printer._mo("−" if negative else "+"))
            row.appendChild(printer._print(-term if negative else term))
        table.appendChild(printer._el("mtr", printer._el("mtd", row)))
    return table


def math(expr: Any, *, relation: str = "") -> str:
    """``expr`` (a SymPy object or a min–max problem) as inline MathML, after ``relation``.

    A ``Lambda`` shows its body; a sum longer than :data:`LINE_CHARS` is broken into lines.
    """
    printer = _Printer()
    if isinstance(expr, sp.Lambda):
        expr = expr.expr
    if hasattr(expr, "operators") and hasattr(expr, "objective"):
        node = printer.problem(expr)
    elif isinstance(expr, sp.Add) and len(str(expr)) > LINE_CHARS:
        node = _lines(printer, expr)
    else:
        node = printer._print(sp.sympify(expr) if isinstance(expr, (int, float)) else expr)
    if relation:
        node = printer._el("mrow", printer._mo(relation), node)
    return f'<math display="inline">{_serialise(node)}</math>'


# ----------------------------------------------------------------------------------------------
# the course's Unicode notation in sentences

_GREEK = "\u0370-\u03ff\u1f00-\u1fff"
_LETTER = f"A-Za-z{_GREEK}ℓℝℕℤℰ𝒩∂∇∏∑∫"
_BIG = frozenset("∏∑∫Σ")  # big operators, written with a subscript: Σ_z, ∏_j
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ"
_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"
_GROUP = r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}"
_SUFFIX = (rf"(?:[*′″‴]|'(?![A-Za-z])|[{_SUPERSCRIPTS}]+|[{_SUBSCRIPTS}]+|"
           rf"_(?:{_GROUP}|[A-Za-z0-9{_GREEK}ℓ]+)|\^(?:{_GROUP}|\([^()]*\)|[A-Za-z0-9*]+|\*))")
_TOKEN = re.compile(
    rf"(?P<ws>\s+)"
    rf"|(?P<part>\b[1-4]\.[a-j](?:\.[iv]+)?\b)"
    rf"|(?P<text>[A-Za-z]+['’]s\b|\b(?:i\.e|e\.g|cf|vs)\.)"
    rf"|(?P<sup>[{_SUPERSCRIPTS}]+)"
    rf"|(?P<number>(?:\d+(?:,\d{{3}})*(?:\.\d+)?(?:e[-+]?\d+)?|[½¼¾⅓])(?![A-Za-z]{{2}}))"
    rf"|(?P<word>[{_LETTER}][{_LETTER}0-9\u0300-\u036f]*{_SUFFIX}*)"
    rf"|(?P<op>:=|=:|≔|[-+−=<>≤≥≠≈∝×·/|‖∈∉⊂→⇒↦∼~∑Σ∏∫√…*])"
    rf"|(?P<open>[(\[{{])|(?P<close>[)\]}}])"
    rf"|(?P<punct>[,.;:!?])"
    rf"|(?P<other>.)", re.S)
_ARTICLES = frozenset({"a", "A", "I"})  # words, unless an operator follows ("a ≠ 0")
_UNITS = frozenset({"s", "ms"})  # after a number: seconds
_DIFFERENTIALS = frozenset({"dx", "dy", "dz", "dt", "du", "dW"})


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


# a name from code, not from the course ("KL_EQUAL_VARIANCE", "euler_equations"): left as text
_CODE = re.compile(r"^(?:\w+(?:_\w+){2,}|[A-Z][A-Z0-9]*_[A-Z][A-Z0-9]*|[a-z]{2,}_[a-z]{2,}\w*)$")


def _tokens(text: str) -> list[_Token]:
    tokens = [_Token("text" if m.lastgroup == "word" and _CODE.match(m.group()) else
                     m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(text)]
    joined: list[_Token] = []
    i = 0
    while i < len(tokens):  # a hyphen between two words makes one word: "2-D", "z-test"
        if tokens[i].text == "-" and joined and i + 1 < len(tokens) and \
                joined[-1].kind in ("word", "number", "text") and \
                tokens[i + 1].kind in ("word", "number", "text"):
            joined[-1] = _Token("text", joined[-1].text + "-" + tokens[i + 1].text)
            i += 2
            continue
        joined.append(tokens[i])
        i += 1
    return joined


def _core(word: str) -> str:
    return re.match(rf"[{_LETTER}][{_LETTER}0-9\u0300-\u036f]*", word).group()


def _next_solid(tokens: list[_Token], i: int) -> _Token | None:
    return next((t for t in tokens[i:] if t.kind != "ws"), None)


def _previous_solid(tokens: list[_Token], i: int) -> _Token | None:
    return next((t for t in reversed(tokens[:i]) if t.kind != "ws"), None)


def _is_math_word(tokens: list[_Token], i: int) -> bool:
    word = tokens[i].text
    core = _core(word)
    if word != core or not core.isascii():  # scripts, primes, Greek letters: math
        return True
    if core in MATH_NAMES or core in _DIFFERENTIALS:
        return True
    if len(core) > 1:
        return False
    previous = _previous_solid(tokens, i)
    if core in _UNITS and previous is not None and previous.kind == "number":
        return False
    if core in _ARTICLES:
        following = _next_solid(tokens, i + 1)
        return following is not None and following.kind == "op"
    return True


def _closing(tokens: list[_Token], i: int) -> int | None:
    depth = 0
    for j in range(i, len(tokens)):
        depth += {"open": 1, "close": -1}.get(tokens[j].kind, 0)
        if depth == 0:
            return j
    return None


def _math_only(tokens: list[_Token], start: int, stop: int) -> bool:
    return not any(t.kind == "word" and not _is_math_word(tokens, start + k)
                   for k, t in enumerate(tokens[start:stop])) and \
        not any(t.kind in ("other", "part") for t in tokens[start:stop])


def _run_end(tokens: list[_Token], i: int) -> int:
    """The end of the math run that starts at ``i`` (trailing blanks left out)."""
    j, end = i, i
    while j < len(tokens):
        token = tokens[j]
        if token.kind == "ws":
            j += 1
            continue
        if token.kind in ("number", "op", "sup") or \
                (token.kind == "word" and _is_math_word(tokens, j)):
            j += 1
            end = j
            continue
        if token.kind == "open":
            close = _closing(tokens, j)
            attached = j > 0 and tokens[j - 1].kind in ("word", "close", "number")
            if close is not None and (attached or _math_only(tokens, j + 1, close)):
                j = end = close + 1
                continue
        break
    return end


def _starts_run(tokens: list[_Token], i: int) -> bool:
    token = tokens[i]
    if token.kind == "word":
        return _is_math_word(tokens, i)
    if token.kind == "op":
        return True
    if token.kind == "open":
        close = _closing(tokens, i)
        return close is not None and close > i + 1 and _math_only(tokens, i + 1, close) and \
            any(t.kind == "word" for t in tokens[i + 1:close])
    if token.kind == "number":  # "1 − D*", "2 log 2": a number that leads into math
        following = _next_solid(tokens, i + 1)
        return following is not None and (
            following.kind == "op" and following.text not in ("/", "*", "…")
            or following.kind == "word" and _is_math_word(tokens, tokens.index(following, i + 1)))
    return False


_RELATIONS = frozenset({"=", "≥", "≤", "<", ">", "⇒", "≈", "≠", ":=", "=:", "≔"})
WRAP_CHARS = 40  # a math run longer than this is split before its relations, to wrap there


def _wrappable(tokens: list[_Token]) -> list[list[_Token]]:
    """A long math run cut before each relation outside brackets, so a line can break there."""
    if sum(len(t.text) for t in tokens) <= WRAP_CHARS:
        return [tokens]
    pieces: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        depth += {"open": 1, "close": -1}.get(token.kind, 0)
        if depth == 0 and token.kind == "op" and token.text in _RELATIONS and pieces[-1]:
            pieces.append([])
        pieces[-1].append(token)
    return [[t for t in piece] for piece in pieces if any(t.kind != "ws" for t in piece)]


class _TextPrinter:
    """Math runs of a sentence as MathML elements (through :class:`_Printer`'s names)."""

    def __init__(self) -> None:
        self.p = _Printer()

    def word(self, word: str) -> Any:
        core = _core(word)
        rest = word[len(core):]
        node = self.p._mo(core, largeop="false") if core in _BIG else self.p._mi(core)
        subs, supers, primes = [], [], ""
        for match in re.finditer(_SUFFIX, rest):
            piece = match.group()
            if piece in ("′", "″", "‴", "'"):
                primes += "′" if piece == "'" else piece
            elif piece == "*":
                supers.append(self.p._mo("*"))
            elif piece[0] in _SUPERSCRIPTS:
                supers.append(self.run(piece.translate(_FROM_SUPERSCRIPT)))
            elif piece[0] in _SUBSCRIPTS:
                subs.append(self.run(piece.translate(_FROM_SUBSCRIPT)))
            else:
                body = piece[1:]
                body = body[1:-1] if body.startswith(("{", "(")) else body
                target = subs if piece[0] == "_" else supers
                if body == "*":
                    target.append(self.p._mo("*"))
                elif _is_word(body) and body.isascii() and body not in MATH_NAMES:
                    target.append(self.p._el("mi", text=body, mathvariant="normal"))
                else:
                    target.append(self.run(body))
        if primes:
            supers.insert(0, self.p._mo(primes.replace("′′", "″")))
        return self.p._scripts(node, subs, supers)

    def run(self, text: str) -> Any:
        return self.tokens(_tokens(text))

    def tokens(self, tokens: list[_Token]) -> Any:
        row = self.p._el("mrow")
        atoms = ("word", "number", "close", "part", "other")
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token.kind == "ws":
                before = _previous_solid(tokens, i)
                after = _next_solid(tokens, i + 1)
                if before is not None and after is not None and before.kind in atoms and \
                        (after.kind in ("word", "number", "open", "part", "other")
                         or after.text == "√"):
                    row.appendChild(self.p._mspace(0.25))
            elif token.text == "√" and i + 1 < len(tokens) and tokens[i + 1].kind == "open" \
                    and _closing(tokens, i + 1) is not None:
                close = _closing(tokens, i + 1)
                row.appendChild(self.p._el("msqrt", self.tokens(tokens[i + 2:close])))
                i = close
            elif token.text == "√" and i + 1 < len(tokens) and tokens[i + 1].kind == "word":
                row.appendChild(self.p._el("msqrt", self.word(tokens[i + 1].text)))
                i += 1
            elif token.kind == "word":
                row.appendChild(self.word(token.text))
            elif token.kind == "sup" and row.lastChild is not None:  # (1 − y)⁰
                last = row.lastChild
                if last.tagName == "mo" and last.firstChild.data == ")":
                    opening = _opening_node(row)
                    group = self.p._el("mrow")
                    for node in list(row.childNodes)[opening:]:
                        group.appendChild(node)
                    row.appendChild(group)
                    last = group
                else:
                    row.removeChild(last)
                row.appendChild(self.p._el("msup", last,
                                           self.run(token.text.translate(_FROM_SUPERSCRIPT))))
            elif token.kind == "number":
                row.appendChild(self.p._el("mn", text=token.text))
            elif token.kind in ("open", "close"):
                row.appendChild(self.p._mo(token.text, stretchy="false"))
            elif token.kind == "op":
                row.appendChild(self.p._mo({"-": "−", "*": "·"}.get(token.text, token.text)))
            else:
                row.appendChild(self.p._mo(token.text) if token.kind == "punct"
                                else self.p._el("mtext", text=token.text))
            i += 1
        return row


def _opening_node(row: Any) -> int:
    """The position in ``row`` of the "(" that its last ")" closes."""
    depth = 0
    nodes = list(row.childNodes)
    for position in range(len(nodes) - 1, -1, -1):
        node = nodes[position]
        if node.tagName == "mo" and node.firstChild is not None:
            depth += {")": 1, "(": -1}.get(node.firstChild.data, 0)
            if depth == 0:
                return position
    return 0


_FROM_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻ⁿ", "0123456789+−n")
_FROM_SUBSCRIPT = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def mathtext(text: str) -> str:
    """A sentence in the course's Unicode notation as HTML: math runs as inline MathML, the
    words as escaped text (see the module docstring)."""
    tokens = _tokens(text)
    out, i = [], 0
    printer = _TextPrinter()
    while i < len(tokens):
        if _starts_run(tokens, i):
            end = _run_end(tokens, i)
            if end > i:
                out.append(" ".join(f'<math display="inline">{_serialise(printer.tokens(piece))}'
                                    "</math>" for piece in _wrappable(tokens[i:end])))
                i = end
                continue
        out.append(html.escape(tokens[i].text))
        i += 1
    return "".join(out)


# Python names in prose, as a reader of the page knows them
_PROSE = ((re.compile(r"\(sympy\.calculus\.euler\.euler_equations\)"), "(SymPy's Euler–Lagrange "
                                                                          "equations)"),
          (re.compile(r"\(sympy\.solve\)"), "(SymPy's solve)"),
          (re.compile(r"\bderivations\.(kl|gaussian|elbo|gan|bernoulli|diffusion)\b"),
           lambda m: {"kl": "the KL derivations", "gaussian": "the Gaussian derivations",
                      "elbo": "the ELBO derivations", "gan": "the GAN derivations",
                      "bernoulli": "the Bernoulli derivations",
                      "diffusion": "the diffusion derivations"}[m.group(1)]))


def prose(text: str) -> str:
    """A sentence of the key or of a derivation as HTML: code names in words, math as MathML."""
    for pattern, replacement in _PROSE:
        text = pattern.sub(replacement, text)
    return mathtext(text)


# ----------------------------------------------------------------------------------------------
# derivation steps


def _contentless(step: Step) -> bool:
    """A step whose expression states nothing by itself: ``True``, ``0 = 0`` (both sides the
    same), or a bare constant where a chain starts or a relation should be."""
    expr = step.expr
    if isinstance(expr, sp.logic.boolalg.BooleanAtom):
        return True
    if isinstance(expr, sp.Equality) and expr.lhs == expr.rhs:
        return True
    return step.rel in ("def", "holds") and isinstance(expr, sp.Basic) and expr.is_number is True


def step_claim(step: Step) -> tuple[str, str]:
    """The step cell and the reason cell of a step, as HTML.

    A step with a claim shows its expression after its relation; a contentless step (see
    :func:`_contentless`) shows the claim its reason states, and its value when it has one.
    """
    if not _contentless(step):
        return math(step.expr, relation=RELATION_SIGNS[step.rel]), prose(step.reason)
    claim = f'<span class="claim">{prose(step.reason)}</span>'
    if isinstance(step.expr, sp.Expr) and step.expr.is_number:
        return claim, f"value {math(step.expr)}"
    return claim, "stated in the derivation; SymPy settled it from the symbols' assumptions"


def _steps(derivation: Derivation, verification: Verification) -> str:
    rows = []
    for step, report in zip(derivation.steps, verification.steps):
        mark = "✓" if report.ok else "✗"
        shown, reason = step_claim(step)
        detail = f" — {prose(report.detail)}" if report.detail else ""
        rows.append(f'<tr class="{"ok" if report.ok else "fail"}"><td class="step">'
                    f'<div class="formula">{shown}</div></td><td>{reason}</td>'
                    f"<td>{mark} {html.escape(report.method)}{detail}</td></tr>")
    return ('<table class="steps"><colgroup><col class="c-step"><col class="c-reason">'
            '<col class="c-check"></colgroup><tr><th>step</th><th>reason</th><th>check</th></tr>'
            + "".join(rows) + "</table>")


# ----------------------------------------------------------------------------------------------
# the page


def _piece(piece: Piece) -> str:
    if isinstance(piece, str):
        return prose(piece)
    return math(piece)


def reference_html(reference: Reference) -> str:
    """A part's reference answer: one line per item, pieces of a line side by side."""
    if reference is None or reference == "" or (isinstance(reference, Sequence) and
                                                not isinstance(reference, str) and
                                                not reference):
        return ""
    lines = [reference] if isinstance(reference, (str, sp.Basic)) or \
        hasattr(reference, "objective") else list(reference)
    shown = []
    for line in lines:
        pieces = [line] if isinstance(line, (str, sp.Basic)) or hasattr(line, "objective") \
            else list(line)
        shown.append('<div class="formula">' + " ".join(_piece(p) for p in pieces) + "</div>")
    return '<div class="reference"><span class="label">Reference answer</span>' + \
        "".join(shown) + "</div>"


def _table(rows: Sequence[Mapping[str, str]]) -> str:
    headers = list(rows[0])
    return ('<div class="scroll"><table class="data"><tr>'
            + "".join(f"<th>{mathtext(str(h))}</th>" for h in headers) + "</tr>"
            + "".join("<tr>" + "".join(f"<td>{mathtext(str(row[h]))}</td>" for h in headers)
                      + "</tr>" for row in rows) + "</table></div>")


def _evidence(item: Evidence, anchor: str) -> str:
    status = "ok" if item.ok else "fail"
    body = [f'<div class="evidence {status}" id="{anchor}"><h4>{"✓" if item.ok else "✗"} '
            f"{prose(item.claim)} <small>({item.seconds:.2f} s)</small></h4>",
            f"<p>{prose(item.check)}</p>"]
    if item.derivation is not None and item.verification is not None:
        body.append(_steps(item.derivation, item.verification))
    if item.table:
        body.append(_table(item.table))
    if item.figure_png is not None:
        encoded = base64.b64encode(item.figure_png).decode("ascii")
        body.append(f'<img alt="{html.escape(item.claim)}" src="data:image/png;base64,{encoded}">')
    body.append("</div>")
    return "".join(body)


def _heading(part: Part) -> str:
    if part.title:
        return html.escape(part.title)
    if part.id == "?":
        return "Checks that could not run"
    return f"Part {html.escape(part.id)}"


def page_meta(*, quick: bool, mnist_dir: str | None, seeds: str = "0",
              when: datetime.datetime | None = None) -> dict[str, str]:
    """What a report was made with: genverify's version, the date, the settings, the data."""
    from importlib import metadata

    try:
        version = metadata.version("genverify")
    except metadata.PackageNotFoundError:
        version = "not installed (run from a source tree)"
    when = when or datetime.datetime.now().astimezone()
    data = (f"MNIST IDX files from {mnist_dir}" if mnist_dir else
            "embedded digits (scikit-learn's 8×8 digits, binarized)")
    return {"genverify": version, "date": when.strftime("%Y-%m-%d %H:%M %Z").strip(),
            "settings": "quick (--quick: derivations, numeric checks, smallest models)"
            if quick else "full", "seeds": seeds, "data": data}


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 74rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.45; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .5rem 0; }
td, th { border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left;
         vertical-align: middle; }
table.steps { width: 100%; table-layout: fixed; }
col.c-step { width: 52%; } col.c-reason { width: 33%; } col.c-check { width: 15%; }
.formula, .scroll { max-width: 100%; overflow-x: auto; overflow-y: hidden; padding: .15rem 0; }
.fail { background: #fdd; } .evidence { margin: 1rem 0; }
.evidence.fail { border-left: 4px solid #c00; padding-left: .5rem; }
.reference { background: #f4f7fb; border-left: 4px solid #36c; padding: .4rem .8rem; margin: .6rem 0; }
.reference .label { font-weight: 600; display: block; }
mtd { text-align: left; }
.claim { font-style: italic; }
img { max-width: 100%; border: 1px solid #ccc; }
math { font-size: 1.1rem; }
table.meta td:first-child { font-weight: 600; }
nav ol { columns: 3; }
.summary.bad { color: #a00; font-weight: 600; }
"""


def render(parts: Iterable[Part], *, title: str = "genverify report",
           meta: Mapping[str, str] | None = None) -> str:
    """The whole page: settings, summary, contents, then every part with its evidence.

    ``meta`` rows (see :func:`page_meta`) are shown as given, in order.
    """
    parts = list(parts)
    anchors: dict[int, str] = {}
    failures = []
    number = 0
    for part in parts:
        for item in part.evidence:
            number += 1
            anchors[id(item)] = f"check-{number}"
            if not item.ok:
                failures.append((part, item))
    checks = [e for p in parts for e in p.evidence]
    passed = sum(e.ok for e in checks)
    summary = f'<p class="summary{" bad" if failures else ""}">{passed} of {len(checks)} ' \
              f"checks passed.</p>"
    if failures:
        summary += "<p>Failed:</p><ul>" + "".join(
            f'<li><a href="#{anchors[id(item)]}">{_heading(part)}: {prose(item.claim)}</a></li>'
            for part, item in failures) + "</ul>"
    settings = ""
    if meta:
        settings = '<table class="meta">' + "".join(
            f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>"
            for k, v in meta.items()) + "</table>"
    contents, sections = [], []
    for part in parts:
        anchor = f"part-{html.escape(part.id)}"
        marks = "".join("✓" if e.ok else "✗" for e in part.evidence)
        contents.append(f'<li><a href="#{anchor}">{_heading(part)}</a> {marks}</li>')
        points = "" if part.points is None else f" <small>({part.points:g} points)</small>"
        prompt = f'<p class="prompt">{prose(part.prompt)}</p>' if part.prompt else ""
        sections.append(
            f'<section id="{anchor}"><h2>{_heading(part)}{points}</h2>{prompt}'
            f"{reference_html(part.reference)}"
            + "".join(_evidence(e, anchors[id(e)]) for e in part.evidence) + "</section>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head><body>
<header><h1>{html.escape(title)}</h1>
{settings}
{summary}
<nav><h2>Contents</h2><ol>{"".join(contents)}</ol></nav></header>
{"".join(sections)}
</body></html>
"""
