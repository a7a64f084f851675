"""The tokenizer of LaTeX answers: characters to tokens with their positions.

Letters are single-letter tokens (juxtaposition multiplies in LaTeX) except the words of
:data:`grading.answers.notation.FUNCTION_WORDS` (``log``, ``KL``, ``JSD``, ...). Spacing commands
(``\\,`` ``\\;`` ``\\!`` ``\\quad``), ``$`` and the sizing commands ``\\left``/``\\right``/``\\big``
are dropped; ``\\left|``/``\\right|`` become absolute-value bars; ``\\|`` and ``||`` separate the
arguments of a divergence; Unicode Greek letters and operators (σ, ·, −, ‖) read like their
commands. A number with an exponent (``1e308``, ``2.5E-3``, ``3e+2``) is one number, while
``2e`` stays 2·e; superscript digits (``x²``) are a power. Any other character is a
:class:`~grading.answers.limits.ParseError` at its position.
"""

from __future__ import annotations

from dataclasses import dataclass

from grading.answers.limits import ParseError
from grading.answers.notation import FUNCTION_WORDS, UNICODE_GREEK

__all__ = ["Token", "tokenize"]


@dataclass(frozen=True)
class Token:
    """A token: ``kind`` is num, letter, word, cmd, op or end; ``pos`` its character offset."""

    kind: str
    text: str
    pos: int


_SPACING = frozenset({",", ";", ":", "!", " ", ">", "quad", "qquad", "displaystyle",
                      "textstyle", "limits", "nolimits", "(", ")", "[", "]"})
_SIZING = frozenset({"left", "right", "middle", "big", "Big", "bigg", "Bigg", "bigl", "bigr",
                     "Bigl", "Bigr", "biggl", "biggr", "Biggl", "Biggr", "bigm", "Bigm"})
_OPENING_SIZES = frozenset({"left", "bigl", "Bigl", "biggl", "Biggl"})
_CLOSING_SIZES = frozenset({"right", "bigr", "Bigr", "biggr", "Biggr"})
_DELIMITER_COMMANDS = {"{": "(", "}": ")", "lbrace": "(", "rbrace": ")", "lbrack": "[",
                       "rbrack": "]", "|": "||", "Vert": "||", "lVert": "||", "rVert": "||",
                       "parallel": "||", "mid": "|", "vert": "|", "lvert": "|<",
                       "rvert": "|>"}
# variant letters are the same letter (the course writes both): \varepsilon is \epsilon
_VARIANTS = {"varepsilon": "epsilon", "varphi": "phi", "vartheta": "theta", "varrho": "rho",
             "varsigma": "sigma"}
_UNICODE_OPERATORS = {"−": "-", "–": "-", "·": "cdot", "⋅": "cdot", "×": "times",
                      "∞": "infty", "‖": "||", "∑": "sum", "∏": "prod", "∣": "|", "√": "sqrt"}
_OPERATORS = frozenset("+-*/^_()[]{}|,=!'.;<>:")


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; spacing commands and ``$`` are dropped."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    sized = ""  # the previous command was \left, \big, ...: the next delimiter is sized
    while i < n:
        c = text[i]
        if c == "~" and tokens and i + 1 < n and not text[i + 1].isspace():
            tokens.append(Token("cmd", "sim", i))  # E_{z~q}: "distributed as", not a tie
            i += 1
            continue
        if c.isspace() or c in "$~":
            i += 1
            continue
        if c in _SCRIPTS:  # x² in text not normalised first: the power x^{2}
            j = i
            while j < n and text[j] in _SCRIPTS and _SCRIPTS[text[j]][0] == _SCRIPTS[c][0]:
                j += 1
            tokens.extend(_script_tokens(text[i:j], i, tokens))
            i = j
            continue
        if c.isdecimal() or (c == "." and i + 1 < n and text[i + 1].isdecimal()):
            j = i
            while j < n and text[j].isdecimal():
                j += 1
            if j < n - 1 and text[j] == "." and text[j + 1].isdecimal():
                j += 1
                while j < n and text[j].isdecimal():
                    j += 1
            end = _exponent_end(text, j)
            if end is not None and not _after_script(tokens):
                tokens.extend(_scientific(text, i, j, end))
                i = end
                continue
            tokens.append(Token("num", text[i:j], i))
            i = j
            continue
        if c.isascii() and c.isalpha():
            j = i
            while j < n and text[j].isascii() and text[j].isalpha():
                j += 1
            word = text[i:j]
            if word in FUNCTION_WORDS:
                tokens.append(Token("word", word, i))
            else:
                tokens.extend(Token("letter", letter, i + k) for k, letter in enumerate(word))
            i = j
            continue
        if c == "\\":
            j = i + 1
            while j < n and text[j].isascii() and text[j].isalpha():
                j += 1
            if j == i + 1:  # a one-character command: \, \| \{ ...
                if j >= n:
                    raise ParseError("a lone backslash at the end", i)
                name, j = text[j], j + 1
            else:
                name = text[i + 1:j]
            start, i = i, j
            if name in _SIZING:
                sized = name
                continue
            if name in _SPACING:
                continue
            if name in _DELIMITER_COMMANDS:
                tokens.append(Token("op", _DELIMITER_COMMANDS[name], start))
            else:
                tokens.append(Token("cmd", _VARIANTS.get(name, name), start))
            sized = ""
            continue
        if c == "!" and i + 1 < n and text[i + 1] == "=":
            raise ParseError("'!=' could be a factorial or 'not equal': write 5! = 5 with a "
                             "space, or \\neq", i)
        if c == "#":
            raise ParseError("'#' starts a comment: give the answer alone, without comments", i)
        if c in UNICODE_GREEK:
            tokens.append(Token("cmd", _VARIANTS.get(UNICODE_GREEK[c], UNICODE_GREEK[c]), i))
        elif c in _UNICODE_OPERATORS:
            op = _UNICODE_OPERATORS[c]
            kind = "op" if op in ("-", "||", "|") else "cmd"
            tokens.append(Token(kind, op, i))
        elif c in _OPERATORS:
            if c == "|" and i + 1 < n and text[i + 1] == "|":
                tokens.append(Token("op", "||", i))
                i += 2
                continue
            if c == "|" and sized in _OPENING_SIZES:  # \left| ... \right|
                tokens.append(Token("op", "|<", i))
            elif c == "|" and sized in _CLOSING_SIZES:
                tokens.append(Token("op", "|>", i))
            elif c == "." and sized:
                pass  # \left. and \right.: an invisible delimiter
            else:
                tokens.append(Token("op", c, i))
        else:
            raise ParseError(f"unexpected character {c!r}", i)
        sized = ""
        i += 1
    tokens.append(Token("end", "", n))
    return _double_bars(text, tokens)


_DIGITS = frozenset("0123456789")
# superscript and subscript characters: (the mark, what they stand for)
_SCRIPTS = {**{c: ("^", d) for c, d in zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-")},
            **{c: ("_", d) for c, d in zip("₀₁₂₃₄₅₆₇₈₉", "0123456789")}}


def _script_tokens(run: str, position: int, before: list[Token]) -> list[Token]:
    """A run of superscript (subscript) characters as the tokens of ``^{...}`` (``_{...}``);
    after a written mark (``x^²``, ``x^{²}``) the mark is not repeated."""
    mark = _SCRIPTS[run[0]][0]
    marks = [(t.kind, t.text) for t in before[-2:]]
    opened = marks[-1:] == [("op", mark)]
    inside = marks == [("op", mark), ("op", "{")]
    tokens = [] if inside else [Token("op", "{", position)] if opened else \
        [Token("op", mark, position), Token("op", "{", position)]
    for k, character in enumerate(run):
        value = _SCRIPTS[character][1]
        if value in "+-":
            tokens.append(Token("op", value, position + k))
        elif tokens and tokens[-1].kind == "num":
            tokens[-1] = Token("num", tokens[-1].text + value, tokens[-1].pos)
        else:
            tokens.append(Token("num", value, position + k))
    return tokens if inside else [*tokens, Token("op", "}", position + len(run) - 1)]


def _exponent_end(text: str, j: int) -> int | None:
    """Where the exponent of a number in scientific notation ends (``1e308``, ``2.5E-3``,
    ``3e+2``: an ``e`` or ``E`` right after the digits, an optional sign, then digits), or
    None: ``2e`` and ``2 e`` are 2·e, Euler's number."""
    if j >= len(text) or text[j] not in "eE":
        return None
    k = j + 1
    if k < len(text) and text[k] in "+-":
        k += 1
    start = k
    while k < len(text) and text[k] in _DIGITS:
        k += 1
    return k if k > start else None


def _after_script(tokens: list[Token]) -> bool:
    """Whether a number follows ``^`` or ``_`` without braces: TeX's script is one character
    (``x^1e3`` is x¹·e·3), so scientific notation is not read there."""
    return bool(tokens) and tokens[-1].kind == "op" and tokens[-1].text in ("^", "_")


def _scientific(text: str, start: int, e: int, end: int) -> list[Token]:
    """``1e308`` as the tokens of ``(1*10^{308})``: one number, read exactly (``2.5e-3`` is
    1/400), whose power of ten the parser bounds like any other power."""
    sign = text[e + 1] if text[e + 1] in "+-" else ""
    digits = text[e + 1 + len(sign):end]
    exponent = [Token("op", "-", e + 1)] if sign == "-" else []
    return [Token("op", "(", start), Token("num", text[start:e], start), Token("op", "*", e),
            Token("num", "10", e), Token("op", "^", e), Token("op", "{", e), *exponent,
            Token("num", digits, end - len(digits)), Token("op", "}", end),
            Token("op", ")", end)]


def _double_bars(text: str, tokens: list[Token]) -> list[Token]:
    """``\\big|\\big|`` (two sized bars) is one ``||``, as ``\\|`` is."""
    merged: list[Token] = []
    for tok in tokens:
        if merged and tok.kind == "op" and tok.text == "|" and merged[-1].kind == "op" and \
                merged[-1].text == "|" and text[merged[-1].pos + 1:tok.pos].strip() in _SIZED_GAPS:
            merged[-1] = Token("op", "||", merged[-1].pos)
            continue
        merged.append(tok)
    return merged


_SIZED_GAPS = frozenset({"\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigm", "\\Bigm"})
