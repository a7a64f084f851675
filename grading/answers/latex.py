"""A recursive-descent parser from LaTeX answers to SymPy (tokens from :mod:`latex_tokens`).

Nothing here evaluates text: every token is matched against a fixed grammar and SymPy objects
are built directly (numbers and powers through :mod:`grading.answers.limits`, names through a
:class:`grading.answers.notation.Namespace`). Grammar, loosest binding first::

    answer     := expression ("=" expression)*         (the last side is the answer)
    expression := ["+"|"-"] term (("+"|"-") term)*
    term       := factor (("\\cdot"|"\\times"|"*"|"/")? factor)*   (juxtaposition multiplies)
    factor     := ("+"|"-")* power
    power      := primary "!"* ("^" exponent)?
    primary    := number | name [subscript] ["^*"] ["(" arguments ")"] | "(" expression ")"
                | "\\frac" arg arg | "\\sqrt" ["[" n "]"] arg | "\\log"|"\\ln"|"\\exp" argument
                | ("\\sum"|"\\prod") "_" lower ["^" upper] term
                | "\\mathbb{E}" ["_" dist] "[" expression "]"
                | "\\mathrm{KL}"|"KL"|"D_{KL}" "(" p ("\\|"|",") q ")" | "|" expression "|"

Conventions: ``\\log`` and ``\\ln`` are natural logarithms; an unbracketed function argument
is the run of simple factors that follows (``\\log 2\\pi\\sigma^2`` is log(2πσ²),
``x_j\\log y_j`` is x_j·log y_j); a sum or product extends over the term that follows it and
over further ``+``/``-`` terms that use its index (``\\sum_j a_j + b_j`` is one sum,
``\\sum_j a_j + 1`` is not); ``x^23`` is x²·3 as in TeX; ``e`` is Euler's number; ``\\pi`` is π.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import sympy as sp

from grading.answers import limits
from grading.answers.limits import ParseError
from grading.answers.tokens import Token, tokenize
from grading.answers.notation import (FUNCTION_WORDS, GREEK, Expectation, Given, Namespace,
                                      Normal, Sampled)

__all__ = ["Token", "parse_latex_expression", "tokenize"]

_T = TypeVar("_T")

_MODIFIERS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
              "widetilde": "tilde", "dot": "dot", "vec": "vec", "mathcal": "cal",
              "check": "check", "breve": "breve"}
_WRAPPERS = frozenset({"mathrm", "operatorname", "text", "textrm", "mathit", "textit",
                       "mathsf", "rm"})
_TRANSPARENT = frozenset({"mathbf", "boldsymbol", "bm", "mathnormal"})
_FUNCTIONS = {"log": sp.log, "ln": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos,
              "tan": sp.tan, "tanh": sp.tanh, "sinh": sp.sinh, "cosh": sp.cosh,
              "abs": sp.Abs, "csc": sp.csc, "sec": sp.sec, "cot": sp.cot, "arcsin": sp.asin,
              "arccos": sp.acos, "arctan": sp.atan}
_STAR = frozenset({"star", "ast"})
_LETTERS = GREEK | {"ell"}  # commands that name a letter
_TRANSPOSE = frozenset({"top", "intercal", "T", "mathsf", "rm"})
_DIVERGENCE_COMMANDS = {"KL": "KL", "JSD": "JSD", "DKL": "KL"}  # students' own macros
_FACTOR_COMMANDS = frozenset({"frac", "dfrac", "tfrac", "sqrt", "sum", "prod", "infty",
                              "mathbb", "int", "nabla", "partial", "langle", "ell",
                              *_DIVERGENCE_COMMANDS, *_FUNCTIONS, *_MODIFIERS, *_WRAPPERS,
                              *_TRANSPARENT})


class _Parser:
    """Recursive descent over a token list; see the module docstring for the grammar."""

    def __init__(self, tokens: list[Token], namespace: Namespace, *, depth: int = 0,
                 dummies: list[str] | None = None, bound_names: set[str] | None = None,
                 default_upper: str | None = None, choices: frozenset[str] = frozenset(),
                 seen: dict[str, tuple[str, str]] | None = None) -> None:
        self.tokens = tokens
        self.choices = choices  # the ambiguities this parse reads the alternative way
        self.seen = seen if seen is not None else {}  # key -> (this reading, the alternative)
        self.i = 0
        self.ns = namespace
        self.depth = depth
        self.dummies = dummies if dummies is not None else []
        self.bound_names = bound_names if bound_names is not None else set()
        self.default_upper = default_upper
        self.in_arguments = 0
        self.in_abs = 0
        self.in_norm = 0
        self.in_divergence = 0

    # -- token helpers ------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == kind and (text is None or tok.text == text)

    def at_op(self, *texts: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in texts

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def expect_op(self, text: str, what: str = "") -> Token:
        if not self.at_op(text):
            found = "the end" if self.tok.kind == "end" else repr(self.tok.text)
            raise ParseError(f"expected {text!r}{what} but found {found}", self.tok.pos)
        return self.advance()

    def error(self, message: str) -> ParseError:
        return ParseError(message, self.tok.pos)

    def sub_parser(self, tokens: list[Token]) -> _Parser:
        end = tokens[-1].pos + 1 if tokens else self.tok.pos
        sub = _Parser([*tokens, Token("end", "", end)], self.ns, depth=self.depth,
                      dummies=self.dummies, bound_names=self.bound_names,
                      default_upper=self.default_upper, choices=self.choices, seen=self.seen)
        return sub

    def ambiguous(self, kind: str, pos: int, reading: str, alternative: str) -> bool:
        """Record an ambiguity at ``pos``; True when this parse takes the ``alternative``."""
        key = f"{kind}@{pos}"
        self.seen.setdefault(key, (reading, alternative))
        return key in self.choices

    def raw_group(self) -> list[Token]:
        """The tokens of ``{...}`` (braces dropped) or of the single next token."""
        if self.at_op("{"):
            start = self.advance()
            level, body = 1, []
            while True:
                tok = self.advance()
                if tok.kind == "end":
                    raise ParseError("a '{' is never closed", start.pos)
                if tok.kind == "op" and tok.text == "{":
                    level += 1
                elif tok.kind == "op" and tok.text == "}":
                    level -= 1
                    if level == 0:
                        return body
                body.append(tok)
        if self.tok.kind == "end":
            raise self.error("expected a subscript or argument but the answer ends")
        tok = self.advance()
        if tok.kind == "cmd" and (tok.text in _WRAPPERS or tok.text in _MODIFIERS
                                  or tok.text in _TRANSPARENT):
            return [tok, Token("op", "{", tok.pos), *self.raw_group(), Token("op", "}", tok.pos)]
        if tok.kind == "num" and len(tok.text) > 1:  # x_12 is x_1 2 in TeX
            self.split_number(self.i - 1)
            return [self.tokens[self.i - 1]]
        return [tok]

    # -- grammar ------------------------------------------------------------------------

    def parse(self) -> sp.Basic:
        level, last = 0, None  # "KL = ...", "D^*(x) = ...": the left sides name the quantity
        for index, tok in enumerate(self.tokens):
            if tok.kind == "op" and tok.text in ("(", "[", "{", "|<"):
                level += 1
            elif tok.kind == "op" and tok.text in (")", "]", "}", "|>"):
                level -= 1
            elif tok.kind == "op" and tok.text == "=" and level == 0:
                last = index
        if last is not None:
            if self.tokens[last + 1].kind == "end":
                raise ParseError("nothing after the last '='", self.tokens[last].pos)
            self.i = last + 1
        result = self.expression()
        if self.tok.kind == "cmd":
            raise self.error(f"the command \\{self.tok.text} is not supported here")
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}")
        return result

    def expression(self) -> sp.Basic:
        terms = []
        negative = False
        if self.at_op("+", "-"):
            negative = self.advance().text == "-"
        first = self.term()
        terms.append(-first if negative else first)
        while self.at_op("+", "-"):
            sign = self.advance().text
            term = self.term()
            terms.append(-term if sign == "-" else term)
        if self.at("cmd", "pm") or self.at("cmd", "mp"):
            raise self.error("± is ambiguous: write the two answers separately")
        return sp.Add(*terms)

    def starts_factor(self) -> bool:
        tok = self.tok
        if tok.kind in ("num", "letter", "word"):
            return True
        if tok.kind == "cmd":
            return tok.text in _LETTERS or tok.text in _FACTOR_COMMANDS
        if tok.kind == "op":
            if tok.text in ("(", "[", "{", "|<"):
                return True
            if tok.text == "||":
                return not self.in_arguments and not self.in_norm
            return tok.text == "|" and not self.in_arguments and not self.in_abs
        return False

    def term(self) -> sp.Basic:
        factors = [self.factor()]
        while True:
            if self.at_op("*") or self.at("cmd", "cdot") or self.at("cmd", "times") or \
                    self.at("cmd", "odot"):
                self.advance()
                factors.append(self.factor())
            elif self.at_op("/") or self.at("cmd", "div"):
                tok = self.advance()
                factors.append(self.reciprocal(self.factor(), tok.pos))
            elif self.starts_factor():
                factors.append(self.factor())
            else:
                return sp.Mul(*factors)

    @staticmethod
    def reciprocal(value: sp.Basic, pos: int) -> sp.Basic:
        if value == 0:
            raise ParseError("division by zero", pos)
        return limits.power(value, sp.Integer(-1), pos)

    def factor(self) -> sp.Basic:
        negative = False
        while self.at_op("+", "-"):
            if self.advance().text == "-":
                negative = not negative
        value = self.power()
        return -value if negative else value

    def power(self) -> sp.Basic:
        base = self.primary()
        while self.at_op("!"):
            base = limits.factorial(base, self.advance().pos)
        while self.at_op("^") and self.transpose_follows():
            pass  # x^\top y: vectors are read in one coordinate, where a transpose changes nothing
        if self.at_op("^"):
            indexed = self.parenthesized_index(base)
            if indexed is not None:  # x^{(i)}: the i-th data point, not a power
                return indexed
            caret = self.advance()
            exponent = self.exponent()
            if isinstance(exponent, sp.Symbol) and exponent.name in self.dummies and \
                    isinstance(base, (sp.Symbol, sp.Indexed)) and self.ambiguous(
                        "index", caret.pos, f"{base}^{exponent} as a power",
                        f"{base}^{exponent} as the entry {exponent} of {base}"):
                return self.ns.indexed_base(str(base))[exponent]
            if self.at_op("^"):
                raise self.error("double superscript: write a^{b^{c}} with braces")
            base = limits.power(base, exponent, caret.pos)
        return base

    def transpose_follows(self) -> bool:
        """Consume ``^\\top``, ``^T``, ``^{T}``, ``^{\\top}``, ``^\\intercal``, ``^\\mathsf{T}``.

        ``^T`` before another factor (``x^T y``, ``x^T\\Sigma x``) is a transpose; at the end of a
        term (``x^T``) it could be the power T, and both readings are kept.
        """
        j = self.i + 1
        tokens = self.tokens
        braced = tokens[j].kind == "op" and tokens[j].text == "{"
        k = j + 1 if braced else j
        tok = tokens[k]
        if tok.kind == "cmd" and tok.text in ("top", "intercal"):
            end = k + 1
        elif tok.kind == "cmd" and tok.text in ("mathsf", "mathrm", "rm") and \
                tokens[k + 1].kind == "op" and tokens[k + 1].text == "{" and \
                tokens[k + 2].kind == "letter" and tokens[k + 2].text == "T" and \
                tokens[k + 3].kind == "op" and tokens[k + 3].text == "}":
            end = k + 4
        elif tok.kind == "letter" and tok.text == "T":
            end = k + 1
        else:
            return False
        if braced:
            if not (tokens[end].kind == "op" and tokens[end].text == "}"):
                return False
            end += 1
        letter_t = tok.kind == "letter"
        self.i = end
        if letter_t and not self.starts_factor() and self.ambiguous(
                "transpose", tok.pos, "^T as a transpose", "^T as the power T"):
            self.i = j - 1  # back to the caret: read the exponent as a power
            return False
        return True

    def parenthesized_index(self, base: sp.Basic) -> sp.Basic | None:
        """``x^{(i)}`` (a superscript in parentheses) is the i-th item, the same as ``x_i``."""
        tokens, j = self.tokens, self.i + 1
        pattern = [("op", "{"), ("op", "("), None, ("op", ")"), ("op", "}")]
        for offset, expected in enumerate(pattern):
            tok = tokens[min(j + offset, len(tokens) - 1)]
            if expected is None:
                if tok.kind not in ("letter", "num") and not (tok.kind == "cmd"
                                                              and tok.text in _LETTERS):
                    return None
            elif (tok.kind, tok.text) != expected:
                return None
        if not isinstance(base, sp.Symbol):
            return None
        index = tokens[j + 2].text
        self.i = j + 5
        if index in self.dummies:
            return self.ns.indexed_base(base.name)[self.ns.index(index)]
        return self.ns.symbol(f"{base.name}_{index}")

    def exponent(self) -> sp.Basic:
        if self.at_op("{"):
            return self.enter(lambda: self.group("{", "}"))
        if self.at_op("-", "+"):
            sign = self.advance().text
            value = self.exponent()
            return -value if sign == "-" else value
        if self.at("num"):
            return self.single_digit()
        if self.at("letter"):
            tok = self.advance()
            return self.plain_name(tok.text)
        return self.enter(self.primary_inner)

    def single_digit(self) -> sp.Integer:
        tok = self.tok
        if len(tok.text) > 1 and tok.text[0].isdigit():
            self.split_number(self.i)
            tok = self.tokens[self.i]
        self.advance()
        return self.number(tok)

    def split_number(self, where: int) -> None:
        """Re-tokenize ``23`` as ``2`` ``3`` (TeX reads ``x^23`` as x²·3); safe to re-parse."""
        tok = self.tokens[where]
        self.tokens[where:where + 1] = [Token("num", tok.text[0], tok.pos),
                                        Token("num", tok.text[1:], tok.pos + 1)]

    def group(self, opening: str, closing: str) -> sp.Basic:
        start = self.expect_op(opening)

        def inside() -> sp.Basic:
            value = self.expression()
            if not self.at_op(closing):
                found = "the end" if self.tok.kind == "end" else repr(self.tok.text)
                raise ParseError(f"the {opening!r} at {start.pos} is closed by {found}, "
                                 f"expected {closing!r}", self.tok.pos)
            self.advance()
            return value

        return inside()  # the primary around a group counts its nesting

    def enter(self, parse: Callable[[], _T]) -> _T:
        self.depth += 1
        if self.depth > limits.MAX_DEPTH:
            raise self.error(f"the answer is nested more than {limits.MAX_DEPTH} levels deep")
        try:
            return parse()
        finally:
            self.depth -= 1

    def primary(self) -> sp.Basic:
        return self.enter(self.primary_inner)

    def primary_inner(self) -> sp.Basic:
        tok = self.tok
        if tok.kind == "num":
            self.advance()
            return self.number(tok)
        if tok.kind == "letter":
            self.advance()
            return self.name(tok.text, tok.pos)
        if tok.kind == "word":
            self.advance()
            return self.function_word(tok.text, tok.pos)
        if tok.kind == "cmd":
            return self.command()
        if tok.kind == "op":
            if tok.text == "(":
                return self.group("(", ")")
            if tok.text == "[":
                return self.group("[", "]")
            if tok.text == "{":
                return self.group("{", "}")
            if tok.text in ("|", "|<"):
                return self.absolute_value()
            if tok.text == "||":
                return self.norm()
        if tok.kind == "end":
            raise self.error("the answer ends where a term is expected")
        raise self.error(f"unexpected {tok.text!r} where a term is expected")

    def number(self, tok: Token) -> sp.Rational:
        if "." in tok.text:
            return limits.decimal_literal(tok.text, tok.pos)
        return limits.integer_literal(tok.text, tok.pos)

    def bars(self, counter: str, closings: tuple[str, ...], what: str) -> sp.Basic:
        """The expression between an opening bar and its closing one, read with ``counter``
        (``in_abs`` or ``in_norm``) raised so the closing bar does not start a factor."""
        opening = self.advance()
        setattr(self, counter, getattr(self, counter) + 1)
        saved, self.in_arguments = self.in_arguments, 0
        try:
            value = self.expression()
        finally:
            setattr(self, counter, getattr(self, counter) - 1)
            self.in_arguments = saved
        if not self.at_op(*closings):
            raise ParseError(f"{what} is never closed", opening.pos)
        self.advance()
        return value

    def absolute_value(self) -> sp.Basic:
        closing = "|>" if self.tok.text == "|<" else "|"
        return sp.Abs(self.bars("in_abs", (closing, "|>"), "an absolute value |...|"))

    def norm(self) -> sp.Basic:
        """``\\|v\\|``, ``\\|v\\|_2``, ``\\lVert v \\rVert``: vectors are read in one coordinate,
        where every norm is the absolute value."""
        value = self.bars("in_norm", ("||",), "a norm \\| ... \\|")
        if self.at_op("_"):  # \|v\|_2, \|v\|_{2}: which norm does not matter in one coordinate
            self.advance()
            self.raw_group()
        return sp.Abs(value)

    def inner_product(self, pos: int) -> sp.Basic:
        """``\\langle a, b \\rangle`` is a·b (one coordinate)."""
        first = self.expression()
        if not self.at_op(","):
            raise self.error("an inner product \\langle a, b \\rangle needs a comma")
        self.advance()
        second = self.expression()
        if not self.at("cmd", "rangle"):
            raise ParseError("\\langle is never closed by \\rangle", pos)
        self.advance()
        return first * second

    # -- calculus ---------------------------------------------------------------------------

    @staticmethod
    def differential(tokens: list[Token]) -> tuple[str, list[Token]] | None:
        """``\\partial ...``, ``d ...``, ``\\mathrm{d} ...``: the kind and the tokens after it."""
        if not tokens:
            return None
        first = tokens[0]
        if first.kind == "cmd" and first.text == "partial":
            return "partial", tokens[1:]
        if first.kind == "letter" and first.text == "d":
            return "d", tokens[1:]
        if first.kind == "op" and first.text == "{" and len(tokens) >= 4 and \
                tokens[1].kind == "cmd" and tokens[1].text in _WRAPPERS and \
                tokens[2].kind == "letter" and tokens[2].text == "d" and tokens[3].text == "}":
            return "d", tokens[4:]  # {\rm d}x
        if first.kind == "cmd" and first.text in _WRAPPERS:
            if len(tokens) >= 4 and tokens[1].text == "{" and tokens[2].kind == "letter" and \
                    tokens[2].text == "d" and tokens[3].text == "}":
                return "d", tokens[4:]
            if len(tokens) >= 2 and tokens[1].kind == "letter" and tokens[1].text == "d":
                return "d", tokens[2:]
        return None

    def derivative_fraction(self) -> sp.Basic | None:
        """``\\frac{d}{dx} f``, ``\\frac{\\partial L}{\\partial D}``, ``\\frac{\\partial^2 L}{\\partial D^2}``:
        a derivative, never a quotient. None (and nothing consumed) when the fraction is not one.
        """
        start = self.i
        if not self.at_op("{"):
            return None
        numerator = self.raw_group()
        if not self.at_op("{"):
            self.i = start
            return None
        denominator = self.raw_group()
        top, bottom = self.differential(numerator), self.differential(denominator)
        if top is None or bottom is None or top[0] != bottom[0] or not bottom[1]:
            self.i = start
            return None
        order, rest = 1, top[1]
        if rest and rest[0].kind == "op" and rest[0].text == "^":
            if len(rest) < 2 or rest[1].kind != "num":
                self.i = start
                return None
            order, rest = int(rest[1].text), rest[2:]
        try:
            variable = self.sub_parser(bottom[1]).parse_all()
        except ParseError:
            self.i = start
            return None
        if isinstance(variable, sp.Pow) and variable.exp == order and order > 1:
            variable = variable.base
        if not isinstance(variable, (sp.Symbol, sp.Indexed)):
            self.i = start
            return None
        if rest:
            operand = self.sub_parser(rest).parse_all()
        else:
            operand = self.enter(self.term)
        return self.derivative(operand, variable, order)

    def derivative(self, operand: sp.Basic, variable: sp.Basic, order: int = 1) -> sp.Basic:
        """The derivative, unevaluated; a bare name (``L`` in ∂L/∂D) is a function of the variable."""
        if isinstance(operand, sp.Symbol) and operand != variable and \
                operand.name not in self.dummies:
            operand = self.ns.function(operand.name)(variable)
        return sp.Derivative(operand, (variable, order), evaluate=False)

    def gradient(self, pos: int) -> sp.Basic:
        """``\\nabla_x f`` and ``\\partial_x f``; ``\\nabla \\log p_\\sigma(\\tilde x)`` differentiates
        in the argument of the function it is applied to."""
        variable = None
        if self.at_op("_"):
            self.advance()
            variable = self.sub_parser(self.raw_group()).parse_all()
            if not isinstance(variable, (sp.Symbol, sp.Indexed)):
                raise ParseError("the subscript of \\nabla is the variable: \\nabla_x", pos)
        operand = self.enter(self.term)
        if variable is None:
            arguments = {arg for f in operand.atoms(sp.core.function.AppliedUndef)
                         for arg in f.args if isinstance(arg, (sp.Symbol, sp.Indexed))}
            if len(arguments) != 1:
                raise ParseError("write the variable of the gradient: \\nabla_x", pos)
            (variable,) = arguments
        return self.derivative(operand, variable)

    def differential_at(self, j: int) -> tuple[str, int] | None:
        """``dx``, ``d\\tilde x``, ``\\mathrm{d}x``, ``{\\rm d}x`` at token ``j``: the variable's
        name and the index of the token after it, or None."""
        window = self.tokens[j:j + 5]
        mark = self.differential(window)
        if mark is None or mark[0] != "d" or not mark[1]:
            return None
        variable = mark[1][0]
        if not (variable.kind == "letter" or variable.kind == "cmd" and variable.text in _LETTERS):
            return None
        return variable.text, j + len(window) - len(mark[1]) + 1

    def closing_differential(self) -> tuple[int, str, int] | None:
        """The differential that closes the integrand (at bracket level 0, before a closing
        bracket or an ``=``): its index, the variable's name and the index after it."""
        level = 0
        for j in range(self.i, len(self.tokens)):
            tok = self.tokens[j]
            if tok.kind == "end":
                return None
            if level == 0 and j > self.i:
                found = self.differential_at(j)
                if found is not None:
                    return (j, *found)
                if tok.kind == "op" and tok.text == "=":
                    return None
            if tok.kind == "op" and tok.text in ("(", "[", "{", "|<"):
                level += 1
            elif tok.kind == "op" and tok.text in (")", "]", "}", "|>"):
                level -= 1
                if level < 0:
                    return None
        return None

    def integral(self, pos: int) -> sp.Basic:
        """``\\int_a^b f\\,dx``; no bounds, ``\\int_{\\mathbb{R}}`` or ``\\int_x`` is over the line;
        the differential may also come first (``\\int dx\\, f(x)``)."""
        lower = upper = named = None
        if self.at_op("_"):
            self.advance()
            sub = self.raw_group()
            if sub and sub[0].kind == "cmd" and sub[0].text == "mathbb":
                pass  # \int_{\mathbb{R}}, \int_{\mathbb{R}^d}: the whole space
            elif len(sub) == 1 and (sub[0].kind == "letter" or sub[0].text in _LETTERS):
                named = sub[0].text
            else:
                lower = self.sub_parser(sub).parse_all()
        if self.at_op("^"):
            self.advance()
            upper = self.sub_parser(self.raw_group()).parse_all()
        if (lower is None) != (upper is None):
            raise ParseError("an integral needs both bounds or neither", pos)
        leading = self.differential_at(self.i)
        closing = None if leading is not None else self.closing_differential()
        if leading is not None:
            variable_name, self.i = leading
            body = self.enter(self.term) if self.starts_factor() else sp.Integer(1)  # \int_0^1 dx
        elif closing is not None:
            end, variable_name, after = closing
            body = self.sub_parser(self.tokens[self.i:end]).parse_all()
            self.i = after
        elif named is not None:  # \int_x f(x): the variable named below the sign
            variable_name = named
            body = self.enter(self.expression)
        else:
            raise ParseError("write the variable of integration: \\int f(x)\\,dx", pos)
        if lower is None:
            lower, upper = -sp.oo, sp.oo
        return sp.Integral(body, (self.ns.symbol(variable_name), lower, upper))

    # -- commands -----------------------------------------------------------------------

    def command(self) -> sp.Basic:
        tok = self.advance()
        name = tok.text
        if name == "pi" and not self.at_op("_"):
            return sp.pi
        if name == "infty":
            return sp.oo
        if name in _LETTERS:
            return self.name(name, tok.pos)
        if name in ("frac", "dfrac", "tfrac"):
            derivative = self.derivative_fraction()
            if derivative is not None:
                return derivative
            numerator = self.argument()
            denominator_pos = self.tok.pos
            return numerator * self.reciprocal(self.argument(), denominator_pos)
        if name == "sqrt":
            if self.at_op("["):
                index = self.group("[", "]")
                return limits.power(self.argument(), self.reciprocal(index, tok.pos), tok.pos)
            return limits.power(self.argument(), sp.Rational(1, 2), tok.pos)
        if name in _FUNCTIONS:
            return self.function_word(name, tok.pos)
        if name in ("sum", "prod"):
            return self.big_operator(name, tok.pos)
        if name == "int":
            return self.integral(tok.pos)
        if name in ("nabla", "partial"):
            return self.gradient(tok.pos)
        if name == "langle":
            return self.inner_product(tok.pos)
        if name in _DIVERGENCE_COMMANDS:
            return self.function_word(_DIVERGENCE_COMMANDS[name], tok.pos)
        if name == "mathbb":
            letters = self.word_of(self.raw_group(), tok.pos)
            if letters == "D" and self.at_op("_"):  # \mathbb{D}_{KL}
                return self.name("D", tok.pos)
            if letters != "E":
                raise ParseError(f"\\mathbb{{{letters}}} is not supported here "
                                 "(only \\mathbb{E})", tok.pos)
            return self.expectation(tok.pos)
        if name in _WRAPPERS:
            word = self.word_of(self.raw_group(), tok.pos)
            if word in FUNCTION_WORDS:
                return self.function_word(word, tok.pos)
            if word in _FUNCTIONS:
                return self.function_word(word, tok.pos)
            if len(word) > 1 and self.at_op("(") and not self.ns.is_function(word) and \
                    not self.separator_inside():
                raise ParseError(f"unknown function {word!r}: write it with the functions of the "
                                 "course (\\log, \\exp, \\sqrt, \\sin, ...)", tok.pos)
            return self.name(word, tok.pos)
        if name in _TRANSPARENT:
            return self.sub_parser(self.raw_group()).parse_all()
        if name in _MODIFIERS:
            return self.modified_name(_MODIFIERS[name], tok.pos)
        if name in ("cdot", "times", "div"):
            raise ParseError(f"\\{name} needs a term on both sides", tok.pos)
        raise ParseError(f"the command \\{name} is not supported", tok.pos)

    def parse_all(self) -> sp.Basic:
        """Parse this sub-parser's tokens completely, one nesting level deeper."""
        value = self.enter(self.expression)
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}")
        return value

    def argument(self) -> sp.Basic:
        """The argument of \\frac or \\sqrt: a braced group or one token (``\\frac12``)."""
        if self.at_op("{"):
            return self.group("{", "}")
        if self.at("num"):
            return self.single_digit()
        if self.at("letter"):
            return self.plain_name(self.advance().text)
        return self.primary()

    def word_of(self, tokens: list[Token], pos: int) -> str:
        """The letters of a ``\\mathrm{...}`` group as one word."""
        text = "".join(tok.text for tok in tokens if tok.kind in ("letter", "word", "num"))
        if not text or any(tok.kind not in ("letter", "word", "num") for tok in tokens):
            raise ParseError("expected letters inside \\mathrm{...}", pos)
        return text

    def function_word(self, name: str, pos: int) -> sp.Basic:
        if name in ("KL", "JSD"):
            if not self.at_op("(", "["):
                pair = self.ns.divergence_pair
                if pair is not None:  # the question names the pair: 2\,\mathrm{JSD}
                    return self.ns.function(name)(*(self.ns.symbol(p) for p in pair))
                raise self.error(f"{name} needs its arguments in parentheses: {name}(p \\| q)")
            arguments = self.arguments(pos, divergence=True)
            if len(arguments) != 2:
                raise ParseError(f"{name} compares two distributions: {name}(p \\| q)", pos)
            return self.ns.function(name)(*arguments)
        if name == "sqrt":
            return limits.power(self.argument(), sp.Rational(1, 2), pos)
        base = None
        if name == "log" and self.at_op("_"):
            self.advance()
            base = self.sub_parser(self.raw_group()).parse_all()
        if self.at_op("^"):
            raise self.error(f"write (\\{name} x)^n instead of \\{name}^n x")
        argument = self.function_argument(name)
        if base is not None:
            return sp.log(argument, base)
        return _FUNCTIONS[name](argument)

    def function_argument(self, name: str) -> sp.Basic:
        """A bracketed group, or the run of simple factors that follows (see the docstring)."""
        if self.at_op("(", "[", "{"):
            opening = self.tok.text
            return self.group(opening, {"(": ")", "[": "]", "{": "}"}[opening])
        if self.at("cmd", "sum") or self.at("cmd", "prod") or self.at_op("|<") or \
                self.at_op("|") and not self.in_arguments and not self.in_abs or \
                self.at_op("||") and not self.in_arguments and not self.in_norm or \
                self.at("cmd", "int") or self.at("cmd", "mathbb") or self.at("cmd", "langle") or \
                self.at("letter", "E") and self.tokens[self.i + 1].kind == "op" and \
                self.tokens[self.i + 1].text in ("[", "_"):
            return self.power()
        factors = []
        while self.starts_simple_factor():
            factors.append(self.power())
            if isinstance(factors[-1], sp.core.function.AppliedUndef):
                break  # \log D(x) p(x): an application ends the argument
        if not factors:
            raise self.error(f"\\{name} needs an argument")
        return sp.Mul(*factors)

    def starts_simple_factor(self) -> bool:
        tok = self.tok
        if tok.kind in ("num", "letter"):
            return True
        return tok.kind == "cmd" and (tok.text in _LETTERS or tok.text in _MODIFIERS
                                      or tok.text in ("frac", "dfrac", "tfrac", "sqrt", "infty")
                                      or tok.text in _WRAPPERS or tok.text in _TRANSPARENT)

    def arguments(self, pos: int, divergence: bool = False) -> list[sp.Basic]:
        """``(a, b)``, ``(p \\| q)``, ``(x | z)`` → arguments (a conditional is ``Given``).

        The arguments of a divergence (``divergence``) may be in square brackets, and a single
        bar separates them there (``\\mathrm{KL}[q \\,|\\, p]``): a divergence of a conditional
        has no meaning.
        """
        closing = "]" if divergence and self.at_op("[") else ")"
        self.expect_op("[" if closing == "]" else "(")
        separators = (",", "||", ";", "|", "|<", "|>") if divergence else (",", "||", ";")

        def inside() -> list[sp.Basic]:
            self.in_arguments += 1
            self.in_divergence += divergence
            saved_abs, self.in_abs = self.in_abs, 0
            try:
                args = []
                while True:
                    value = self.expression()
                    if self.at_op("|") and not divergence:
                        self.advance()
                        value = Given(value, self.expression())
                    args.append(value)
                    if self.at_op(*separators):
                        self.advance()
                        continue
                    self.expect_op(closing, " to close the arguments")
                    return args
            finally:
                self.in_arguments -= 1
                self.in_divergence -= divergence
                self.in_abs = saved_abs

        return inside()

    # -- names ----------------------------------------------------------------------------

    def plain_name(self, letter: str) -> sp.Basic:
        """A single letter with no subscript (in exponents and \\frac12-style arguments)."""
        if letter in self.dummies:
            return self.ns.index(letter)
        if letter == "e":
            return sp.E
        return self.ns.symbol(letter)

    def modified_name(self, modifier: str, pos: int) -> sp.Basic:
        tokens = self.raw_group()
        if len(tokens) == 1 and tokens[0].kind in ("letter", "cmd") and \
                (tokens[0].kind == "letter" or tokens[0].text in _LETTERS):
            return self.name(tokens[0].text + modifier, pos)
        inner = self.sub_parser(tokens)  # \hat{y_j}: the modifier goes on the base
        if inner.tok.kind in ("letter", "cmd") and (inner.tok.kind == "letter"
                                                    or inner.tok.text in _LETTERS):
            base = inner.advance().text
            value = inner.name(base + modifier, pos)
            if inner.tok.kind == "end":
                return value
        raise ParseError(f"\\{modifier} applies to a single letter", pos)

    def name(self, base: str, pos: int) -> sp.Basic:
        """A name with its subscript, star and primes, possibly applied to arguments."""
        if base == "E" and self.looks_like_expectation():
            return self.expectation(pos)
        name, indices = base, None
        if self.at_op("_"):
            self.advance()
            self.refuse_run_on_subscript(base)
            subscript = self.raw_group()
            if base in ("D", "Dcal") and self.word_of_or_none(subscript) in ("KL", "JS", "JSD"):
                word = "KL" if self.word_of_or_none(subscript) == "KL" else "JSD"
                return self.function_word(word, pos)
            if self.mentions_dummy(subscript):
                indices = self.index_expressions(subscript)
            else:
                name = f"{base}_{self.subscript_name(subscript, pos)}"
        while True:
            if self.at_op("'"):
                self.advance()
                name += "'"
            elif self.at_op("^") and self.prime_follows():
                name += "'"
            elif self.at_op("^") and self.star_follows():
                name += "^*"
                if self.at_op("_") and "_" not in name.split("^")[0]:  # D^*_G: D_G^*
                    self.advance()
                    base_part = name[:-2]
                    name = f"{base_part}_{self.subscript_name(self.raw_group(), pos)}^*"
            else:
                break
        if indices is not None:
            value = self.ns.indexed_base(name)[tuple(indices)]
            return value
        if name in self.dummies:
            return self.ns.index(name)
        if name == "e":
            return sp.E
        if name in ("Ncal", "N") and self.at_op("(") and self.separator_inside():
            return self.normal(pos)
        primes = len(name) - len(name.rstrip("'"))
        if primes and self.at_op("(") and self.ns.is_function(name.rstrip("'")):
            (argument,) = self.arguments(pos)  # f'(x): the derivative of f at x
            point = sp.Dummy("a", real=True)
            derivative = sp.Derivative(self.ns.function(name.rstrip("'"))(point), (point, primes))
            return derivative.subs(point, argument) if argument != point else derivative
        if self.at_op("(") and (self.separator_inside() or self.ns.is_function(name)
                                and not self.complement_follows(name)
                                or self.parameter_of_a_variable(name)):
            return self.ns.function(name)(*self.arguments(pos))
        return self.ns.symbol(name)

    def parameter_of_a_variable(self, name: str) -> bool:
        """``\\mu_\\phi(x)``, ``\\sigma^2(x)``: a Greek-named quantity followed by one variable in
        parentheses is that quantity as a function of the variable (the encoder's outputs), not
        a product; ``\\lambda(1 - \\sum_z q(z))`` stays a product."""
        if name.split("_")[0].rstrip("'") not in GREEK or name in self.ns.symbols:
            return False
        tokens, j = self.tokens, self.i + 1
        inside = []
        while tokens[j].kind != "end" and not (tokens[j].kind == "op" and tokens[j].text == ")"):
            inside.append(tokens[j])
            j += 1
        if not inside or tokens[j].kind == "end" or len(inside) > 6:
            return False
        first = inside[0]
        variable = first.kind == "letter" or first.kind == "cmd" and (
            first.text in _LETTERS or first.text in _MODIFIERS or first.text in _TRANSPARENT)
        simple = all(tok.kind in ("letter", "num") or tok.kind == "cmd" and (
            tok.text in _LETTERS or tok.text in _MODIFIERS or tok.text in _TRANSPARENT)
            or tok.kind == "op" and tok.text in ("_", "{", "}") for tok in inside)
        return variable and simple and first.text not in self.dummies

    def complement_follows(self, name: str) -> bool:
        """``p_{data}(1-D)``: a density's argument is a point, never ``1 - ...``; read a product
        (unless the question declares ``name`` a function)."""
        if name in self.ns.symbols or self.ns.functions is not None:
            return False
        tokens = self.tokens
        return tokens[self.i + 1].kind == "num" and tokens[self.i + 2].kind == "op" and \
            tokens[self.i + 2].text in ("+", "-")

    def separator_inside(self) -> bool:
        """Whether the parentheses that follow hold a top-level ``,``, ``;``, ``|`` or ``\\|``:
        then ``f(a, b)`` applies a function of several arguments (a tuple is not a factor)."""
        level, j = 0, self.i
        while self.tokens[j].kind != "end":
            tok = self.tokens[j]
            if tok.kind == "op" and tok.text in ("(", "[", "{"):
                level += 1
            elif tok.kind == "op" and tok.text in (")", "]", "}"):
                level -= 1
                if level == 0:
                    return False
            elif level == 1 and tok.kind == "op" and tok.text in (",", ";", "|", "||"):
                return True
            j += 1
        return False

    def normal(self, pos: int) -> sp.Basic:
        """``\\mathcal{N}(\\mu, \\sigma^2)`` is the distribution; ``\\mathcal{N}(x; \\mu, \\sigma^2)`` the
        density at x, written out (from :func:`derivations.gaussian.normal_pdf`). One coordinate:
        the identity ``I`` in a covariance ``\\sigma^2 I`` is 1."""
        from derivations.gaussian import normal_pdf

        arguments = self.arguments(pos)
        point = None
        if len(arguments) == 3:
            point, mean, variance = arguments
        elif len(arguments) == 2:
            mean, variance = arguments
        else:
            raise ParseError("\\mathcal{N} takes a mean and a variance: \\mathcal{N}(\\mu, \\sigma^2)",
                             pos)
        identity = {s: sp.Integer(1) for s in variance.free_symbols
                    if isinstance(s, sp.Symbol) and s.name in ("I", "Ibb")}
        variance = variance.xreplace(identity)
        if point is None or self.in_divergence:  # KL(N(z; μ, σ²) ‖ ...): the distribution
            return Normal(mean, variance)
        return normal_pdf(point, mean, sp.sqrt(variance))

    def refuse_run_on_subscript(self, base: str) -> None:
        """``p_data`` in LaTeX is p_d·a·t·a: refuse it rather than read a product of letters."""
        tokens, i = self.tokens, self.i
        run = 0
        while tokens[i + run].kind == "letter" and (
                run == 0 or tokens[i + run].pos == tokens[i + run - 1].pos + 1):
            run += 1
        if run >= 3:
            word = "".join(tok.text for tok in tokens[i:i + run])
            raise ParseError(f"in LaTeX, {base}_{word} is {base}_{word[0]} times "
                             f"{' '.join(word[1:])}: write {base}_{{{word}}}", tokens[i].pos)

    def prime_follows(self) -> bool:
        """Consume ``^\\prime`` or ``^{\\prime}`` (a prime written as a superscript)."""
        j = self.i + 1
        tokens = self.tokens
        if tokens[j].kind == "cmd" and tokens[j].text == "prime":
            self.i = j + 1
            return True
        if tokens[j].kind == "op" and tokens[j].text == "{" and tokens[j + 1].kind == "cmd" and \
                tokens[j + 1].text == "prime" and tokens[j + 2].kind == "op" and \
                tokens[j + 2].text == "}":
            self.i = j + 3
            return True
        return False

    def star_follows(self) -> bool:
        """Consume ``^*``, ``^{*}``, ``^\\star`` or ``^{\\ast}`` after a name, if present."""
        j = self.i + 1
        following = self.tokens[j]
        if following.kind == "op" and following.text == "*" or \
                following.kind == "cmd" and following.text in _STAR:
            self.i = j + 1
            return True
        if following.kind == "op" and following.text == "{":
            inner, close = self.tokens[j + 1], self.tokens[j + 2] if j + 2 < len(self.tokens) \
                else None
            if close is not None and close.kind == "op" and close.text == "}" and (
                    inner.kind == "op" and inner.text == "*" or
                    inner.kind == "cmd" and inner.text in _STAR):
                self.i = j + 3
                return True
        return False

    @staticmethod
    def word_of_or_none(tokens: list[Token]) -> str | None:
        words = [tok.text for tok in tokens if tok.kind in ("letter", "word")]
        others = [tok for tok in tokens if tok.kind not in ("letter", "word", "op", "cmd")
                  or tok.kind == "cmd" and tok.text not in _WRAPPERS
                  or tok.kind == "op" and tok.text not in "{}"]
        return "".join(words) if words and not others else None

    def mentions_dummy(self, tokens: list[Token]) -> bool:
        return any(tok.kind in ("letter", "cmd") and tok.text in self.dummies for tok in tokens)

    def index_expressions(self, tokens: list[Token]) -> list[sp.Basic]:
        parts: list[list[Token]] = [[]]
        for tok in tokens:
            if tok.kind == "op" and tok.text == ",":
                parts.append([])
            else:
                parts[-1].append(tok)
        return [self.sub_parser(part).parse_all() for part in parts]

    def subscript_name(self, tokens: list[Token], pos: int) -> str:
        pieces = []
        for tok in tokens:
            if tok.kind in ("letter", "word", "num"):
                pieces.append(tok.text)
            elif tok.kind == "cmd" and tok.text in _LETTERS:
                pieces.append(tok.text)
            elif tok.kind == "cmd" and tok.text in ("min", "max", "infty", "star", "ast"):
                pieces.append({"infty": "inf", "star": "*", "ast": "*"}.get(tok.text, tok.text))
            elif tok.kind == "cmd" and (tok.text in _WRAPPERS or tok.text in _TRANSPARENT):
                continue
            elif tok.kind == "op" and tok.text in ",+-*'":
                pieces.append(tok.text)
            elif tok.kind == "op" and tok.text in "{}":
                continue
            else:
                raise ParseError(f"cannot read {tok.text!r} in a subscript", tok.pos)
        if not pieces:
            raise ParseError("an empty subscript", pos)
        return "".join(pieces)

    # -- operators with bounds ------------------------------------------------------------

    def big_operator(self, kind: str, pos: int) -> sp.Basic:
        symbol = "\\sum" if kind == "sum" else "\\prod"
        if not self.at_op("_"):
            raise self.error(f"{symbol} needs its index: {symbol}_{{j=1}}^{{G}}")
        self.advance()
        lower_tokens = self.raw_group()
        index_name, rest = self.index_name(lower_tokens, symbol, pos)
        over_a_set = False
        if not rest:
            lower = sp.Integer(1)
        elif rest[0].kind == "op" and rest[0].text == "=":
            lower = self.sub_parser(rest[1:]).parse_all()
        elif rest[0].kind == "cmd" and rest[0].text == "in":  # z \in \mathcal{Z}: a finite set
            lower, over_a_set = sp.Integer(1), True
        else:
            raise ParseError(f"cannot read the index of {symbol}: write {symbol}_{{j=1}}^{{G}}",
                             rest[0].pos)
        if self.at_op("^") and not over_a_set:
            self.advance()
            upper = self.sub_parser(self.raw_group()).parse_all()
        else:  # no bound, or a set: as many terms as the question's (or N)
            upper = self.ns.bound(self.default_upper or "N")
        for bound in (lower, upper):
            self.bound_names.update(s.name for s in bound.free_symbols if isinstance(s, sp.Symbol))
        index = self.ns.index(index_name)
        self.dummies.append(index_name)
        try:
            body = self.enter(self.term)
            body = self.enter(lambda: self.terms_using(index, body))
        finally:
            self.dummies.pop()
        operator = sp.Sum if kind == "sum" else sp.Product
        return operator(body, (index, lower, upper))

    @staticmethod
    def index_name(tokens: list[Token], symbol: str, pos: int) -> tuple[str, list[Token]]:
        """The index of a sum and the tokens after it: ``j``, ``z'``, ``\\tilde z``, ``\\sigma``."""
        if not tokens:
            raise ParseError(f"{symbol} needs its index: {symbol}_{{j=1}}^{{G}}", pos)
        first = tokens[0]
        if first.kind == "letter" or first.kind == "cmd" and first.text in _LETTERS:
            name, rest = first.text, tokens[1:]
        elif first.kind == "cmd" and first.text in _MODIFIERS and len(tokens) >= 2:
            inner = tokens[1:]
            if inner[0].kind == "op" and inner[0].text == "{" and len(inner) >= 3 and \
                    inner[2].kind == "op" and inner[2].text == "}":
                letter, rest = inner[1], inner[3:]
            else:
                letter, rest = inner[0], inner[1:]
            if not (letter.kind == "letter" or letter.kind == "cmd" and letter.text in _LETTERS):
                raise ParseError(f"{symbol} needs a single-letter index", pos)
            name = letter.text + _MODIFIERS[first.text]
        else:
            raise ParseError(f"{symbol} needs a single-letter index", pos)
        while rest and (rest[0].kind == "op" and rest[0].text == "'" or
                        len(rest) > 1 and rest[0].text == "^" and rest[1].text == "prime"):
            name, rest = name + "'", rest[2:] if rest[0].text == "^" else rest[1:]
        return name, rest

    def terms_using(self, index: sp.Symbol, body: sp.Basic) -> sp.Basic:
        """Extend a sum's body over the following ``+``/``-`` terms that use its index.

        ``\\sum_j x_j\\log y_j + (1-x_j)\\log(1-y_j)`` is one sum, as students mean it;
        ``\\sum_j x_j + 1`` stops before the 1.
        """
        terms = [body]
        stretched = False
        while self.at_op("+", "-"):
            start = self.i
            sign = self.advance().text
            try:
                term = self.term()
            except ParseError:
                self.i = start
                break
            if index not in term.free_symbols:
                # \sum_j a_j + b_j + c: the sum was stretched over b_j, so it may take c too
                if stretched:
                    terms.append(-term if sign == "-" else term)
                    continue
                if len(terms) > 1 and self.ambiguous(
                        "scope", self.tokens[start].pos, f"the sum over {index} stops before "
                        "the term without it", f"the sum over {index} runs to the end"):
                    terms.append(-term if sign == "-" else term)
                    stretched = True
                    continue
                self.i = start
                break
            terms.append(-term if sign == "-" else term)
        return sp.Add(*terms)

    def looks_like_expectation(self) -> bool:
        """``E[...]`` or ``E_{...}[...]``: the letter E used as an expectation."""
        j = self.i
        if self.tokens[j].kind == "op" and self.tokens[j].text == "_":
            j += 1
            if self.tokens[j].kind == "op" and self.tokens[j].text == "{":
                level = 0
                while self.tokens[j].kind != "end":
                    if self.tokens[j].kind == "op" and self.tokens[j].text == "{":
                        level += 1
                    elif self.tokens[j].kind == "op" and self.tokens[j].text == "}":
                        level -= 1
                        if level == 0:
                            break
                    j += 1
            j += 1
        j = min(j, len(self.tokens) - 1)
        return self.tokens[j].kind == "op" and self.tokens[j].text == "["

    def expectation(self, pos: int) -> sp.Basic:
        dist = None
        if self.at_op("_"):
            self.advance()
            sub = self.sub_parser(self.raw_group())

            def distribution() -> sp.Basic:
                value = sub.expression()
                if sub.at("cmd", "sim"):
                    sub.advance()
                    value = Sampled(value, sub.expression())
                if sub.tok.kind != "end":
                    raise sub.error(f"unexpected {sub.tok.text!r} in the expectation's subscript")
                return value

            sub.in_divergence += 1  # E_{z ~ N(z; 0, I)}: the distribution, not its density
            dist = sub.enter(distribution)
        if self.at_op("[", "(", "{"):
            opening = self.tok.text
            body = self.group(opening, {"(": ")", "[": "]", "{": "}"}[opening])
        elif self.starts_factor():  # \mathbb{E}_{q} \log p(x|z) - ...: the term that follows
            body = self.enter(self.term)
        else:
            raise self.error("\\mathbb{E} needs what it averages: \\mathbb{E}_q[f(z)]")
        return Expectation(body, dist) if dist is not None else Expectation(body)


def parse_latex_expression(text: str, namespace: Namespace, *,
                           default_upper: str | None = None,
                           choices: frozenset[str] = frozenset(),
                           seen: dict[str, tuple[str, str]] | None = None) -> sp.Basic:
    """Parse LaTeX ``text`` with the names of ``namespace`` (the caller checks the length).

    Symbols used as bounds of a sum or product become positive integers everywhere in the
    answer, so ``\\frac{1}{G}\\sum_{j=1}^{G} x_j`` has a single ``G``. Ambiguities met are
    recorded in ``seen`` (key → this reading, the alternative); those whose key is in
    ``choices`` are read the alternative way.
    """
    parser = _Parser(tokenize(text), namespace, default_upper=default_upper, choices=choices,
                     seen=seen)
    try:
        value = parser.parse()
    except ParseError:
        raise
    except (TypeError, ValueError, AttributeError, IndexError, RecursionError):
        # SymPy refused to build what the grammar accepted (e.g. a conditional bar used as a
        # number): the answer cannot be read, and the reader says where it stopped
        position = parser.tokens[min(parser.i, len(parser.tokens) - 1)].pos
        raise ParseError("cannot build an expression from what is written here (an operator "
                         "applied to something it cannot take, such as a condition | as a number)",
                         position) from None
    return _integer_bounds(value, parser.bound_names, namespace)


def _integer_bounds(value: sp.Basic, names: set[str], namespace: Namespace) -> sp.Basic:
    if not names:
        return value
    mapping = {s: namespace.bound(s.name) for s in value.free_symbols
               if isinstance(s, sp.Symbol) and s.name in names}
    return value.xreplace(mapping) if mapping else value
