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
from grading.answers.notation import FUNCTION_WORDS, GREEK, Expectation, Given, Namespace, Sampled

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
              "abs": sp.Abs}
_STAR = frozenset({"star", "ast"})
_FACTOR_COMMANDS = frozenset({"frac", "dfrac", "tfrac", "sqrt", "sum", "prod", "infty",
                              "mathbb", *_FUNCTIONS, *_MODIFIERS, *_WRAPPERS, *_TRANSPARENT})


class _Parser:
    """Recursive descent over a token list; see the module docstring for the grammar."""

    def __init__(self, tokens: list[Token], namespace: Namespace, *, depth: int = 0,
                 dummies: list[str] | None = None, bound_names: set[str] | None = None,
                 default_upper: str | None = None) -> None:
        self.tokens = tokens
        self.i = 0
        self.ns = namespace
        self.depth = depth
        self.dummies = dummies if dummies is not None else []
        self.bound_names = bound_names if bound_names is not None else set()
        self.default_upper = default_upper
        self.in_arguments = 0
        self.in_abs = 0

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
                      default_upper=self.default_upper)
        return sub

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
        result = self.expression()
        while self.at_op("="):
            self.advance()
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
            return tok.text in GREEK or tok.text in _FACTOR_COMMANDS
        if tok.kind == "op":
            if tok.text in ("(", "[", "{", "|<"):
                return True
            return tok.text == "|" and not self.in_arguments and not self.in_abs
        return False

    def term(self) -> sp.Basic:
        factors = [self.factor()]
        while True:
            if self.at_op("*") or self.at("cmd", "cdot") or self.at("cmd", "times"):
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
        if self.at_op("^"):
            caret = self.advance()
            exponent = self.exponent()
            if self.at_op("^"):
                raise self.error("double superscript: write a^{b^{c}} with braces")
            base = limits.power(base, exponent, caret.pos)
        return base

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
        if tok.kind == "end":
            raise self.error("the answer ends where a term is expected")
        raise self.error(f"unexpected {tok.text!r} where a term is expected")

    def number(self, tok: Token) -> sp.Rational:
        if "." in tok.text:
            return limits.decimal_literal(tok.text, tok.pos)
        return limits.integer_literal(tok.text, tok.pos)

    def absolute_value(self) -> sp.Basic:
        opening = self.advance()
        closing = "|>" if opening.text == "|<" else "|"
        self.in_abs += 1
        saved, self.in_arguments = self.in_arguments, 0
        try:
            value = self.expression()
        finally:
            self.in_abs -= 1
            self.in_arguments = saved
        if not (self.at_op(closing) or self.at_op("|>")):
            raise ParseError("an absolute value |...| is never closed", opening.pos)
        self.advance()
        return sp.Abs(value)

    # -- commands -----------------------------------------------------------------------

    def command(self) -> sp.Basic:
        tok = self.advance()
        name = tok.text
        if name == "pi":
            return sp.pi
        if name == "infty":
            return sp.oo
        if name in GREEK:
            return self.name(name, tok.pos)
        if name in ("frac", "dfrac", "tfrac"):
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
        if name == "mathbb":
            letters = self.word_of(self.raw_group(), tok.pos)
            if letters != "E":
                raise ParseError(f"\\mathbb{{{letters}}} is not supported here "
                                 "(only \\mathbb{E})", tok.pos)
            return self.expectation(tok.pos)
        if name in _WRAPPERS:
            word = self.word_of(self.raw_group(), tok.pos)
            if word in FUNCTION_WORDS:
                return self.function_word(word, tok.pos)
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
            if not self.at_op("("):
                raise self.error(f"{name} needs its arguments in parentheses: {name}(p \\| q)")
            return self.ns.function(name)(*self.arguments(pos))
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
                self.at_op("|") and not self.in_arguments and not self.in_abs:
            return self.power()
        factors = []
        while self.starts_simple_factor():
            factors.append(self.power())
        if not factors:
            raise self.error(f"\\{name} needs an argument")
        return sp.Mul(*factors)

    def starts_simple_factor(self) -> bool:
        tok = self.tok
        if tok.kind in ("num", "letter"):
            return True
        return tok.kind == "cmd" and (tok.text in GREEK or tok.text in _MODIFIERS
                                      or tok.text in ("frac", "dfrac", "tfrac", "sqrt", "infty")
                                      or tok.text in _WRAPPERS or tok.text in _TRANSPARENT)

    def arguments(self, pos: int) -> list[sp.Basic]:
        """``(a, b)``, ``(p \\| q)``, ``(x | z)`` → arguments (a conditional is ``Given``)."""
        self.expect_op("(")

        def inside() -> list[sp.Basic]:
            self.in_arguments += 1
            saved_abs, self.in_abs = self.in_abs, 0
            try:
                args = []
                while True:
                    value = self.expression()
                    if self.at_op("|"):
                        self.advance()
                        value = Given(value, self.expression())
                    args.append(value)
                    if self.at_op(",", "||", ";"):
                        self.advance()
                        continue
                    self.expect_op(")", " to close the arguments")
                    return args
            finally:
                self.in_arguments -= 1
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
                (tokens[0].kind == "letter" or tokens[0].text in GREEK):
            return self.name(tokens[0].text + modifier, pos)
        inner = self.sub_parser(tokens)  # \hat{y_j}: the modifier goes on the base
        if inner.tok.kind in ("letter", "cmd") and (inner.tok.kind == "letter"
                                                    or inner.tok.text in GREEK):
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
            subscript = self.raw_group()
            if base == "D" and self.word_of_or_none(subscript) in ("KL", "JS", "JSD"):
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
            elif self.at_op("^") and self.star_follows():
                name += "^*"
            else:
                break
        if indices is not None:
            value = self.ns.indexed_base(name)[tuple(indices)]
            return value
        if name in self.dummies:
            return self.ns.index(name)
        if name == "e":
            return sp.E
        if self.at_op("(") and self.ns.is_function(name):
            return self.ns.function(name)(*self.arguments(pos))
        return self.ns.symbol(name)

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
            elif tok.kind == "cmd" and tok.text in GREEK:
                pieces.append(tok.text)
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
        if not lower_tokens or lower_tokens[0].kind not in ("letter", "cmd") or \
                lower_tokens[0].kind == "cmd" and lower_tokens[0].text not in GREEK:
            raise ParseError(f"{symbol} needs a single-letter index", pos)
        index_name = lower_tokens[0].text
        if len(lower_tokens) == 1:
            lower = sp.Integer(1)
        elif lower_tokens[1].kind == "op" and lower_tokens[1].text == "=":
            lower = self.sub_parser(lower_tokens[2:]).parse_all()
        else:
            raise ParseError(f"cannot read the index of {symbol}: write {symbol}_{{j=1}}^{{G}}",
                             lower_tokens[1].pos)
        if self.at_op("^"):
            self.advance()
            upper = self.sub_parser(self.raw_group()).parse_all()
        else:
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

    def terms_using(self, index: sp.Symbol, body: sp.Basic) -> sp.Basic:
        """Extend a sum's body over the following ``+``/``-`` terms that use its index.

        ``\\sum_j x_j\\log y_j + (1-x_j)\\log(1-y_j)`` is one sum, as students mean it;
        ``\\sum_j x_j + 1`` stops before the 1.
        """
        terms = [body]
        while self.at_op("+", "-"):
            start = self.i
            sign = self.advance().text
            try:
                term = self.term()
            except ParseError:
                self.i = start
                break
            if index not in term.free_symbols:
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

            dist = sub.enter(distribution)
        if self.at_op("[", "(", "{"):
            opening = self.tok.text
            body = self.group(opening, {"(": ")", "[": "]", "{": "}"}[opening])
        else:
            body = self.function_argument("mathbb{E}")
        return Expectation(body, dist) if dist is not None else Expectation(body)


def parse_latex_expression(text: str, namespace: Namespace, *,
                           default_upper: str | None = None) -> sp.Basic:
    """Parse LaTeX ``text`` with the names of ``namespace`` (the caller checks the length).

    Symbols used as bounds of a sum or product become positive integers everywhere in the
    answer, so ``\\frac{1}{G}\\sum_{j=1}^{G} x_j`` has a single ``G``.
    """
    parser = _Parser(tokenize(text), namespace, default_upper=default_upper)
    try:
        value = parser.parse()
    except ParseError:
        raise
    except (TypeError, ValueError, AttributeError, IndexError, RecursionError) as error:
        # SymPy refused to build what the grammar accepted (e.g. a conditional bar used as a
        # number): the answer cannot be read, and the reader says where it stopped
        position = parser.tokens[min(parser.i, len(parser.tokens) - 1)].pos
        raise ParseError(f"cannot build this expression ({type(error).__name__}: {error})",
                         position) from None
    return _integer_bounds(value, parser.bound_names, namespace)


def _integer_bounds(value: sp.Basic, names: set[str], namespace: Namespace) -> sp.Basic:
    if not names:
        return value
    mapping = {s: namespace.bound(s.name) for s in value.free_symbols
               if isinstance(s, sp.Symbol) and s.name in names}
    return value.xreplace(mapping) if mapping else value
