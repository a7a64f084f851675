"""The tokenizer of LaTeX answers: characters to tokens with their positions.

Letters are single-letter tokens (juxtaposition multiplies in LaTeX) except the words of
:data:`grading.answers.notation.FUNCTION_WORDS` (``log``, ``KL``, ``JSD``, ...). Spacing commands
(``\\,`` ``\\;`` ``\\!`` ``\\quad``), ``$`` and the sizing commands ``\\left``/``\\right``/``\\big``
are dropped; ``\\left|``/``\\right|`` become absolute-value bars; ``\\|`` and ``||`` separate the
arguments of a divergence; Unicode Greek letters and operators (σ, ·, −, ‖) read like their
commands. Any other character is a :class:`~grading.answers.limits.ParseError` at its position.
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
        if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j < n - 1 and text[j] == "." and text[j + 1].isdigit():
                j += 1
                while j < n and text[j].isdigit():
                    j += 1
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
