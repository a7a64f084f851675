"""The course's notation as SymPy objects: names, assumptions, and the operators SymPy lacks.

Both parsers build every symbol through a :class:`Namespace`, so ``\\sigma`` (LaTeX) and ``sigma``
(plain) are the same ``Symbol("sigma", positive=True)`` when the question says σ > 0.

Naming (what ``sympy.latex`` prints back): ``\\mu_{\\phi}`` → ``mu_phi``, ``p_{data}`` →
``p_data``, ``\\hat{y}_j`` → ``yhat_j``, ``\\bar{\\alpha}_t`` → ``alphabar_t``, ``D^*`` →
``D^*``. Inside ``\\sum_j`` / ``\\prod_j`` a name subscripted by the index is an entry of an
``IndexedBase``: ``x_j`` → ``Indexed(x, j)``.

Assumption kinds (the ``assumptions`` spec, name → kind): ``real`` (the default for symbols),
``positive`` (alias ``density``), ``nonnegative``, ``negative``, ``nonzero``, ``unit_interval``
(alias ``probability``: (0, 1)), ``integer``, ``positive_integer``, ``binary`` ({0, 1}).
Applied functions default by their first letter: ``p``/``q``/``P``/``Q`` densities (positive),
``D`` a discriminator (unit interval), others real.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import sympy as sp
from sympy.core.function import UndefinedFunction

__all__ = [
    "DEFAULT_FUNCTION_BASES",
    "Expectation",
    "FUNCTION_WORDS",
    "GREEK",
    "Given",
    "KINDS",
    "Namespace",
    "Normal",
    "Sampled",
    "UNICODE_GREEK",
    "base_letter",
]

GREEK = frozenset("""alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa
lambda mu nu xi pi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta
Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega""".split())

UNICODE_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta",
    "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi",
    "Ω": "Omega",
}

# words that name a function in both syntaxes (LaTeX also accepts them without a backslash)
FUNCTION_WORDS = frozenset({"log", "ln", "exp", "sqrt", "KL", "JSD", "sin", "cos", "tan",
                            "tanh", "sinh", "cosh", "abs"})
# a name with one of these first letters followed by "(" is a function application: p(x), D^*(x)
DEFAULT_FUNCTION_BASES = frozenset("pqDGfghsFHPQ")
_DEFAULT_FUNCTION_KINDS = {"p": "positive", "q": "positive", "P": "positive", "Q": "positive",
                           "D": "unit_interval", "KL": "nonnegative", "JSD": "nonnegative"}

KINDS: Mapping[str, dict[str, bool]] = {
    "real": {"real": True},
    "positive": {"positive": True},
    "density": {"positive": True},
    "nonnegative": {"nonnegative": True},
    "negative": {"negative": True},
    "nonzero": {"real": True, "nonzero": True},
    "unit_interval": {"positive": True},
    "probability": {"positive": True},
    "integer": {"integer": True},
    "positive_integer": {"integer": True, "positive": True},
    "binary": {"integer": True, "nonnegative": True},
}
_ALIASES = {"density": "positive", "probability": "unit_interval"}


def base_letter(name: str) -> str:
    """The part of a name before its subscript, modifiers or star: ``p_data`` → ``p``."""
    head = name.split("_", 1)[0].split("^", 1)[0].rstrip("'")
    for modifier in ("hat", "bar", "tilde"):
        if head.endswith(modifier) and len(head) > len(modifier):
            head = head[: -len(modifier)]
    return head


class Given(sp.Function):
    """The conditional bar of ``p(x|z)``: ``p(Given(x, z))``; a structure, not a number."""

    nargs = 2

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return f"{printer._print(self.args[0])} \\mid {printer._print(self.args[1])}"


class Sampled(sp.Function):
    """``z \\sim q`` in the subscript of an expectation."""

    nargs = 2

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return f"{printer._print(self.args[0])} \\sim {printer._print(self.args[1])}"


class Normal(sp.Function):
    """The distribution ``\\mathcal{N}(\\mu, \\sigma^2)``: ``Normal(mean, variance)``.

    A structure, not a number: it appears as an argument of ``KL``/``JSD`` and in the subscript
    of an expectation (``\\mathbb{E}_{z\\sim\\mathcal{N}(\\mu,\\sigma^2)}``). Vectors are read
    in one coordinate (``\\sigma^2 I`` is the variance ``\\sigma^2``). The density at a point,
    ``\\mathcal{N}(x; \\mu, \\sigma^2)``, is read as the explicit Gaussian density instead.
    """

    nargs = 2

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        mean, variance = (printer._print(a) for a in self.args)
        return f"\\mathcal{{N}}\\left({mean}, {variance}\\right)"


class Expectation(sp.Function):
    """``\\mathbb{E}_{dist}[body]``: ``Expectation(body)`` or ``Expectation(body, dist)``.

    Linear on construction: sums split and numeric factors move out, so ``E[2a + b]`` and
    ``2 E[a] + E[b]`` are the same object.
    """

    nargs = (1, 2)
    is_real = True

    def __new__(cls, body: sp.Basic, *dist: sp.Basic, **options: object) -> sp.Basic:
        if body.is_number:
            return body
        if isinstance(body, sp.Add):
            return sp.Add(*(cls(term, *dist) for term in body.args))
        if isinstance(body, sp.Mul):
            coefficient, rest = body.as_coeff_Mul()
            if coefficient != 1:
                return coefficient * cls(rest, *dist)
        return super().__new__(cls, body, *dist, **options)

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        sub = f"_{{{printer._print(self.args[1])}}}" if len(self.args) == 2 else ""
        return f"\\mathbb{{E}}{sub}\\left[{printer._print(self.args[0])}\\right]"


class Namespace:
    """Builds every symbol, indexed base and function of one question, with its assumptions.

    ``assumptions`` maps a name to a kind (see the module docstring) or an interval ``(lo, hi)``;
    ``symbols`` maps a name to a ready SymPy object (a ``Symbol``, ``IndexedBase`` or function),
    used as it is. Unknown names are real; indices of sums are integers. ``functions``, when
    given, is the exact set of names applied as functions (``p(1-p)`` is then a product unless
    ``"p"`` is in it); by default a name is a function when its first letter is one of
    :data:`DEFAULT_FUNCTION_BASES` (``p_{data}(x)``, ``D^*(x)``, ``q_\\phi(z|x)``).
    """

    def __init__(self, assumptions: Mapping[str, object] | None = None,
                 symbols: Mapping[str, sp.Basic] | None = None,
                 functions: Collection[str] | None = None) -> None:
        self.assumptions = dict(assumptions or {})
        for name, kind in self.assumptions.items():
            if isinstance(kind, str) and kind not in KINDS:
                raise ValueError(f"unknown assumption {kind!r} for {name!r}; "
                                 f"expected one of {sorted(KINDS)} or an interval (lo, hi)")
        self.symbols = dict(symbols or {})
        self.functions = None if functions is None else frozenset(functions)

    def kind(self, name: str) -> str | tuple[float, float]:
        """The declared kind of a name (aliases resolved), or ``"real"``."""
        kind = self.assumptions.get(name)
        if kind is None and "_" in name:  # y_j outside a sum: the kind of y
            kind = self.assumptions.get(name.rsplit("_", 1)[0])
        if kind is None:
            return "real"
        if isinstance(kind, str):
            return _ALIASES.get(kind, kind)
        lo, hi = kind  # an interval
        return (float(lo), float(hi))

    def function_kind(self, name: str) -> str | tuple[float, float]:
        """The kind of the values of an applied function (densities are positive, ...)."""
        if name in self.assumptions:
            return self.kind(name)
        return _DEFAULT_FUNCTION_KINDS.get(name, _DEFAULT_FUNCTION_KINDS.get(base_letter(name),
                                                                            "real"))

    def _flags(self, kind: str | tuple[float, float]) -> dict[str, bool]:
        if isinstance(kind, tuple):
            lo, hi = kind
            if lo > 0:
                return {"positive": True}
            if lo >= 0:
                return {"nonnegative": True}
            if hi < 0:
                return {"negative": True}
            return {"real": True}
        return KINDS[kind]

    def symbol(self, name: str) -> sp.Basic:
        """The symbol called ``name``."""
        given = self.symbols.get(name)
        if given is not None:
            return given
        return sp.Symbol(name, **self._flags(self.kind(name)))

    def indexed_base(self, name: str) -> sp.IndexedBase:
        """The ``IndexedBase`` whose entries ``name_j`` are indexed by a bound index."""
        given = self.symbols.get(name)
        if isinstance(given, sp.IndexedBase):
            return given
        return sp.IndexedBase(name, **self._flags(self.kind(name)))

    def index(self, name: str) -> sp.Symbol:
        """The dummy index of a sum or product."""
        return sp.Symbol(name, integer=True)

    def bound(self, name: str) -> sp.Symbol:
        """A symbol used as the bound of a sum or product: a positive integer."""
        return sp.Symbol(name, integer=True, positive=True)

    def function(self, name: str) -> UndefinedFunction:
        """The undefined function called ``name`` (``p_data``, ``D^*``, ``KL``, ...)."""
        given = self.symbols.get(name)
        if given is not None and isinstance(given, UndefinedFunction):
            return given
        kind = self.function_kind(name)
        return sp.Function(name, **self._flags(kind))

    def is_function(self, name: str) -> bool:
        """Whether ``name(...)`` is an application rather than a product."""
        if name in self.symbols:
            return isinstance(self.symbols[name], UndefinedFunction)
        if self.functions is not None:
            return name in self.functions or name in ("KL", "JSD")
        return name in ("KL", "JSD") or base_letter(name) in DEFAULT_FUNCTION_BASES
