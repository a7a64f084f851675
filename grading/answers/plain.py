"""Plain ASCII answers (``sigma**2/2 + log(sigma)``, ``sigma^2``) to SymPy via a strict AST walk.

The text is only *parsed* by Python's ``ast`` module (parsing runs nothing); the tree is then
walked with an allow-list — numbers, names, ``+ - * / ** ^``, unary signs, and calls of known
functions by bare name — and every other node (attributes, subscripts, lambdas, strings,
comprehensions, keywords, ``_``-names, ...) is a :class:`ParseError` at its position. SymPy
objects are built directly; nothing is evaluated.

Names follow :mod:`grading.answers.notation`: ``sigma`` is σ, ``mu_phi`` is μ_φ, ``alpha_bar_t`` is ᾱ_t,
``y_hat_j`` is ŷ_j, ``D_star(x)`` is D*(x). ``^`` is a power (right-associative like ``**``).
Sums and products: ``Sum(x_j*log(y_j), (j, 1, G))`` or ``sum(x_j, j, 1, G)``; inside them
``x_j`` is the entry ``x[j]``. A conditional density is ``p(x|z)``; ``KL(q, p)``.
"""

from __future__ import annotations

import ast
import re

import sympy as sp

from grading.answers import limits
from grading.answers.limits import ParseError
from grading.answers.notation import GREEK, UNICODE_GREEK, Expectation, Given, Namespace
from grading.isolation import parse_ast

__all__ = ["parse_plain_expression"]

_FUNCTIONS = {"log": sp.log, "ln": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "abs": sp.Abs,
              "Abs": sp.Abs, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh,
              "sinh": sp.sinh, "cosh": sp.cosh}
_BIG = {"Sum": sp.Sum, "sum": sp.Sum, "Product": sp.Product, "prod": sp.Product,
        "product": sp.Product}
_CONSTANTS = {"pi": sp.pi, "e": sp.E, "E": sp.E, "oo": sp.oo, "inf": sp.oo, "infty": sp.oo}
_MODIFIERS = ("hat", "bar", "tilde")
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _describe(node: ast.AST) -> str:
    names = {ast.Attribute: "attribute access", ast.Subscript: "indexing with [ ]",
             ast.Lambda: "a lambda", ast.Constant: "this constant", ast.Compare: "a comparison",
             ast.BoolOp: "and/or", ast.IfExp: "if/else", ast.Starred: "*arguments",
             ast.JoinedStr: "an f-string", ast.NamedExpr: "an assignment"}
    for kind, text in names.items():
        if isinstance(node, kind):
            return text
    return "this construct"


class _Builder:
    """Turns an allowed AST into SymPy; positions are mapped back to the original text."""

    def __init__(self, source: str, namespace: Namespace, offsets: list[int],
                 default_upper: str | None) -> None:
        self.source = source
        self.lines = source.split("\n")
        self.ns = namespace
        self.offsets = offsets
        self.line_starts = [0]
        for line in self.lines[:-1]:
            self.line_starts.append(self.line_starts[-1] + len(line) + 1)
        self.dummies: list[str] = []
        self.bound_names: set[str] = set()
        self.default_upper = default_upper

    def position(self, node: ast.AST) -> int:
        line = min(getattr(node, "lineno", 1), len(self.lines)) - 1
        column = getattr(node, "col_offset", 0)  # in UTF-8 bytes
        column = len(self.lines[line].encode()[:column].decode(errors="ignore"))
        start = self.line_starts[line]
        index = min(start + column, len(self.offsets) - 1)
        return self.offsets[index]

    def fail(self, message: str, node: ast.AST) -> ParseError:
        return ParseError(message, self.position(node))

    def build(self, node: ast.AST, depth: int = 0) -> sp.Basic:
        if depth > limits.MAX_DEPTH:
            raise self.fail(f"the answer is nested more than {limits.MAX_DEPTH} levels deep", node)
        depth += 1
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node.id, node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.build(node.operand, depth)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and isinstance(node.op, (*_BINARY, ast.BitXor)):
            left = self.build(node.left, depth)
            right = self.build(node.right, depth)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if isinstance(node.op, ast.Div):
                if right == 0:
                    raise self.fail("division by zero", node)
                return left * limits.power(right, sp.Integer(-1), self.position(node))
            return limits.power(left, right, self.position(node))  # ** and ^
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise self.fail(f"{_describe(node)} is not allowed in an answer", node)

    def constant(self, node: ast.Constant) -> sp.Basic:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail("only numbers are allowed as constants", node)
        text = (ast.get_source_segment(self.source, node) or "").strip()
        if isinstance(value, int):
            if not text.isdigit():
                raise self.fail("write integers in decimal digits", node)
            return limits.integer_literal(text, self.position(node))
        scientific = re.fullmatch(r"([0-9]*\.?[0-9]*)[eE]([+-]?[0-9]+)", text)
        if scientific and scientific.group(1) not in ("", "."):  # 1e-3, 2.5E8: exact decimals
            mantissa, exponent = scientific.groups()
            if abs(int(exponent)) > limits.MAX_RESULT_DIGITS:
                raise self.fail(f"a power of ten beyond 10^{limits.MAX_RESULT_DIGITS}", node)
            value = limits.decimal_literal(mantissa, self.position(node)) if "." in mantissa \
                else limits.integer_literal(mantissa, self.position(node))
            return value * sp.Integer(10) ** int(exponent)
        if not re.fullmatch(r"[0-9]*\.[0-9]*", text) or text == ".":
            raise self.fail("write numbers as digits with an optional decimal point", node)
        return limits.decimal_literal(text, self.position(node))

    def canonical(self, identifier: str, node: ast.AST) -> str:
        if identifier.startswith("_") or "__" in identifier:
            raise self.fail(f"the name {identifier!r} is not allowed", node)
        if not identifier.isascii():
            identifier = "".join(UNICODE_GREEK.get(c, c) for c in identifier)
            if not identifier.isascii():
                raise self.fail("only ASCII letters and Greek letters are allowed in names", node)
        parts = identifier.split("_")
        merged = [parts[0]]
        for part in parts[1:]:
            if part in _MODIFIERS and len(merged) == 1:
                merged[0] += part
            elif part == "star":
                merged[-1] += "^*"
            else:
                merged.append(part)
        if not all(merged):
            raise self.fail(f"the name {identifier!r} is not allowed", node)
        return "_".join(merged)

    def name(self, identifier: str, node: ast.AST) -> sp.Basic:
        if identifier in _CONSTANTS:
            return _CONSTANTS[identifier]
        name = self.canonical(identifier, node)
        if name in self.dummies:
            return self.ns.index(name)
        if "_" in name:
            base, subscript = name.rsplit("_", 1)
            if subscript in self.dummies:
                return self.ns.indexed_base(base)[self.ns.index(subscript)]
        if two_letter_product(name) and name not in self.ns.symbols:
            return self.name(name[0], node) * self.name(name[1], node)  # xy, Nc: x·y, N·c
        return self.ns.symbol(name)

    def call(self, node: ast.Call, depth: int) -> sp.Basic:
        if not isinstance(node.func, ast.Name):
            raise self.fail(f"{_describe(node.func)} is not allowed in an answer", node.func)
        if node.keywords:
            raise self.fail("keyword arguments are not allowed", node.keywords[0].value)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.fail("*arguments are not allowed", arg)
        function = node.func.id
        if function in _BIG:
            return self.big_operator(_BIG[function], node, depth)
        if function in ("factorial",):
            (argument,) = self.arguments(node, depth, count=1)
            return limits.factorial(argument, self.position(node))
        if function in _FUNCTIONS:
            if function == "log" and len(node.args) == 2:
                value, base = self.arguments(node, depth, count=2)
                return sp.log(value, base)
            (argument,) = self.arguments(node, depth, count=1)
            if function == "sqrt":
                return limits.power(argument, sp.Rational(1, 2), self.position(node))
            return _FUNCTIONS[function](argument)
        if function in ("E", "Expectation"):
            args = self.arguments(node, depth)
            if len(args) not in (1, 2):
                raise self.fail("E(...) takes the quantity and optionally the distribution", node)
            return Expectation(*args)
        name = self.canonical(function, node.func)
        complement = (len(node.args) == 1 and isinstance(node.args[0], ast.BinOp)
                      and isinstance(node.args[0].op, (ast.Add, ast.Sub))
                      and isinstance(node.args[0].left, ast.Constant)
                      and name not in self.ns.symbols and self.ns.functions is None)
        if (self.ns.is_function(name) and not complement) or name in ("KL", "JSD"):
            # p(1 - p) is a product: a density's argument is a point, never 1 - ...
            return self.ns.function(name)(*self.arguments(node, depth))
        if len(name) > 1 and name.split("_")[0] not in GREEK and not name[:1].isupper():
            raise self.fail(f"unknown function {function!r}: write it with the functions of the "
                            "course (log, exp, sqrt, ...)", node.func)
        (argument,) = self.arguments(node, depth, count=1)  # sigma(x): a product
        return self.name(function, node.func) * argument

    def arguments(self, node: ast.Call, depth: int, count: int | None = None) -> list[sp.Basic]:
        if count is not None and len(node.args) != count:
            raise self.fail(f"{node.func.id} takes {count} argument(s), "
                            f"got {len(node.args)}", node)
        values = []
        for arg in node.args:
            if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.BitOr):  # p(x|z)
                values.append(Given(self.build(arg.left, depth), self.build(arg.right, depth)))
            else:
                values.append(self.build(arg, depth))
        return values

    def big_operator(self, operator: type, node: ast.Call, depth: int) -> sp.Basic:
        args = node.args
        if len(args) == 2 and isinstance(args[1], ast.Tuple) and len(args[1].elts) == 3:
            index_node, lower_node, upper_node = args[1].elts
        elif len(args) == 4:
            index_node, lower_node, upper_node = args[1:]
        elif len(args) == 2 and isinstance(args[1], ast.Name):
            index_node, lower_node, upper_node = args[1], None, None
        else:
            raise self.fail(f"write {node.func.id}(body, (j, 1, G)) or "
                            f"{node.func.id}(body, j, 1, G)", node)
        if not isinstance(index_node, ast.Name) or not index_node.id.isalpha():
            raise self.fail("the index of a sum or product is a single name", index_node)
        index_name = index_node.id
        lower = sp.Integer(1) if lower_node is None else self.build(lower_node, depth)
        if upper_node is None:
            upper = self.ns.bound(self.default_upper or "N")
        else:
            upper = self.build(upper_node, depth)
        for bound in (lower, upper):
            self.bound_names.update(s.name for s in bound.free_symbols if isinstance(s, sp.Symbol))
        self.dummies.append(index_name)
        try:
            body = self.build(args[0], depth)
        finally:
            self.dummies.pop()
        return operator(body, (self.ns.index(index_name), lower, upper))


_KNOWN_PAIRS = frozenset({"oo", "pi", "mu", "nu", "xi", "KL", "ln", "dx", "dz", "dt", "dy"})


def two_letter_product(name: str) -> bool:
    """``xy`` or ``Nc`` in plain text is the product of two letters, as a student writes it
    (a two-letter word that names nothing: Greek ``mu``, ``pi`` and the like stay names)."""
    return len(name) == 2 and name.isalpha() and name.isascii() and name not in _KNOWN_PAIRS \
        and name not in GREEK


def _max_bracket_depth(text: str) -> tuple[int, int]:
    depth = deepest = 0
    where = 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, i
        elif c in ")]}":
            depth -= 1
    return deepest, where


def parse_plain_expression(text: str, namespace: Namespace, *,
                           default_upper: str | None = None) -> sp.Basic:
    """Parse plain ``text`` with the names of ``namespace`` (the caller checks the length)."""
    deepest, where = _max_bracket_depth(text)
    if deepest > limits.MAX_DEPTH:
        raise ParseError(f"the answer is nested more than {limits.MAX_DEPTH} levels deep", where)
    long_number = re.search(r"[0-9_]{%d,}" % (limits.MAX_LITERAL_DIGITS + 1), text)
    if long_number:
        raise ParseError(f"a number with more than {limits.MAX_LITERAL_DIGITS} digits",
                         long_number.start())
    # ``^`` means a power; offsets[i] is the original position of character i of ``source``
    source, offsets = [], []
    for i, c in enumerate(text):
        if c == "^":
            source.append("**")
            offsets.extend((i, i))
        else:
            source.append(c)
            offsets.append(i)
    offsets.append(len(text))
    source_text = "".join(source).strip()
    leading = len("".join(source)) - len("".join(source).lstrip())
    offsets = offsets[leading:]
    if not source_text:
        raise ParseError("the answer is empty", 0)
    _refuse_deep_nesting(text)
    try:
        tree = parse_ast(source_text, mode="eval")
    except SyntaxError as error:
        column = max((error.offset or 1) - 1, 0)
        lines = source_text.split("\n")[: (error.lineno or 1) - 1]
        line_start = sum(len(line) + 1 for line in lines)
        index = min(line_start + column, len(offsets) - 1)
        raise ParseError(_syntax_message(source_text, line_start + column),
                         offsets[index]) from None
    except (RecursionError, MemoryError, ValueError):
        raise ParseError("the answer is too deeply nested to read", 0) from None
    builder = _Builder(source_text, namespace, offsets, default_upper)
    try:
        value = builder.build(tree.body)
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("the answer is too deeply nested to read", 0) from None
    except (TypeError, ValueError, AttributeError, IndexError):
        raise ParseError("cannot build an expression from what is written here",
                         0) from None
    if builder.bound_names:
        value = value.xreplace({s: namespace.bound(s.name) for s in value.free_symbols
                                if isinstance(s, sp.Symbol) and s.name in builder.bound_names})
    return value


def _syntax_message(text: str, where: int) -> str:
    """What to write instead, in words of the answer (never the Python parser's message)."""
    at = text[where:where + 1]
    before = text[max(where - 1, 0):where + 1]
    if text.count("(") != text.count(")"):
        return "the brackets ( ) do not match"
    if re.match(r"[0-9]", before[:1]) and at.isalpha():
        return f"a number followed by a letter: write {before}*... for a product"
    if at == "=":
        return "'=' in plain text: write the answer alone (or one equation a = b)"
    if at:
        return f"cannot read {at!r} here: check the operators and brackets around it"
    return "the answer ends too early: something is missing after the last operator"


def _refuse_deep_nesting(text: str) -> None:
    """Refuse nesting deeper than the cap BEFORE ``ast.parse`` sees it.

    Brackets, chains of unary signs and towers of powers make CPython's parser recurse; a
    RecursionError inside ``ast.parse`` leaves CPython 3.11's AST recursion counter wrong, and
    every later ``ast.parse`` in the process fails with SystemError. So the depth is measured
    here, on the text.
    """
    depth = deepest = signs = 0
    for position, c in enumerate(text):
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
        signs = signs + 1 if c in "+-~" else (signs if c.isspace() else 0)
        if deepest > limits.MAX_DEPTH or signs > limits.MAX_DEPTH:
            raise ParseError(f"the answer is nested more than {limits.MAX_DEPTH} deep", position)
    powers = text.count("^") + text.count("**")
    if powers > limits.MAX_DEPTH:
        raise ParseError(f"more than {limits.MAX_DEPTH} powers in one answer", 0)
