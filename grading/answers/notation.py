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

Conventional domains (:data:`CONVENTIONS`): a name the caller does not declare keeps the domain
the field gives it — σ and its variants positive, ᾱ_t in (0, 1), ... — and an explicit kind
always wins, for the name and for every variant of its base (``{"sigma": "real"}`` makes σ_j,
σ̂ and σ' real too). :func:`conventional_kind` maps a full name to its conventional kind.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import UndefinedFunction

__all__ = [
    "CONVENTIONS",
    "Convention",
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
    "conventional_kind",
    "describe_kind",
    "pretty_name",
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
# the values of applied functions, by name or first letter (HOMEWORK.md's notation): densities
# p(z), p_θ(x|z), q_φ(z|x), p_data, p_G are positive; the discriminator's D_w(x), D*(x) lie in
# (0, 1) (3.a-3.d); divergences are nonnegative; the score s_θ and f, g, G are real
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
_KIND_WORDS = {"real": "real", "positive": "> 0", "nonnegative": "≥ 0", "negative": "< 0",
               "nonzero": "≠ 0", "unit_interval": "∈ (0, 1)", "integer": "an integer",
               "positive_integer": "a positive integer", "binary": "∈ {0, 1}"}


def base_letter(name: str) -> str:
    """The part of a name before its subscript, modifiers or star: ``p_data`` → ``p``."""
    head = name.split("_", 1)[0].split("^", 1)[0].rstrip("'")
    for modifier in ("hat", "bar", "tilde"):
        if head.endswith(modifier) and len(head) > len(modifier):
            head = head[: -len(modifier)]
    return head


@dataclass(frozen=True)
class Convention:
    """The domain the field gives a name: ``bare`` for the name alone (``sigma``), ``variants``
    for the name with a subscript, decoration, prime or star (``sigma_j``, ``sigma_min``,
    ``sigmahat``, ``sigma'``, ``sigma^*``, and ``sigma[j]`` inside a sum). ``None``: no
    convention (real). ``source`` says where the convention comes from."""

    name: str
    bare: str | None
    variants: str | None
    source: str


# The conventional domains, written once. Unicode (σ), LaTeX (\sigma) and plain text (sigma)
# give the same name, so one row covers all three spellings. Rows whose kinds are None are
# deliberate decisions to leave a name real; they are listed so nobody "fixes" them by accident.
CONVENTIONS: tuple[Convention, ...] = (
    Convention("sigma", "positive", "positive",
               "a standard deviation: σ in 1.h (q = N(μ_φ, σ²)), the encoder's σ_φ and σ_j, the "
               "noise levels σ_i, σ_t, σ_min, σ_max, σ_L of Question 4 (HOMEWORK.md)"),
    Convention("tau", "positive", "positive", "a scale or temperature (issue 10 §2)"),
    Convention("std", "positive", "positive", "a standard deviation written as a word"),
    Convention("eta", "positive", "positive",
               "the Langevin step-size constant of α_i = η σ_i²/σ_L² (Question 4)"),
    Convention("alphabar", "unit_interval", "unit_interval",
               "DDPM's ᾱ_t = ∏ (1 − β_s): q(x_t|x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) (Question 4)"),
    Convention("alpha", None, "positive",
               "α_i is annealed Langevin's step size η σ_i²/σ_L² > 0 (Question 4); DDPM's "
               "α_t = 1 − β_t lies in (0, 1) ⊂ (0, ∞), so positive is right for both. A bare α "
               "is also 2.e.iii's interpolation weight or a level: no convention"),
    Convention("beta", None, "unit_interval",
               "DDPM's noise schedule β_t ∈ (0, 1); a bare β has no convention"),
    Convention("betabar", "positive", "positive",
               "β̄ is 1 − ᾱ_t in some texts and N β_i (which may exceed 1) in others: only "
               "positive is common to both"),
    Convention("y", None, "unit_interval",
               "the decoder's Bernoulli probability of pixel j, y_j (1.a); a bare y is any "
               "variable"),
    Convention("yhat", "unit_interval", "unit_interval",
               "ŷ_j, the decoder's probability in the offerings that write it with a hat (1.a)"),
    Convention("pi", None, "unit_interval",
               "mixture weights π_k ∈ (0, 1); a bare π is the constant 3.14159..."),
    Convention("p", "unit_interval", "positive",
               "a bare p (a symbol, not applied) is a Bernoulli probability, as in p log p + "
               "(1 − p) log(1 − p); p_data, p_G, p_θ written without an argument are density "
               "values, only positive (a density may exceed 1)"),
    Convention("q", None, "positive",
               "q_φ written without an argument is a density value; a bare q has no convention"),
    Convention("epsilon", None, None,
               "ε ~ N(0, I) is the noise of the reparameterization and of denoising score "
               "matching (Questions 2 and 4): real, never a small positive number here"),
    Convention("varepsilon", None, None, "the same noise ε"),
    Convention("lambda", None, None,
               "a Lagrange multiplier (1.i) is real; λ(σ) = σ² of Question 4 is applied"),
    Convention("s", None, None, "the score s_θ(x, σ) is a real vector; s is not a scale"),
    Convention("mu", None, None, "a mean is real"),
)

_CONVENTIONS = {row.name: row for row in CONVENTIONS}
_MODIFIERS = ("hat", "bar", "tilde")


def _convention(name: str) -> tuple[Convention | None, bool]:
    """The row of a name and whether the name is a variant (subscript, decoration, ', ^*)."""
    head, subscript, _ = name.partition("_")
    stem = head.split("^", 1)[0].rstrip("'")
    variant = bool(subscript) or stem != head
    row = _CONVENTIONS.get(stem)
    if row is None:
        for modifier in _MODIFIERS:
            if stem.endswith(modifier) and len(stem) > len(modifier):
                row = _CONVENTIONS.get(stem[: -len(modifier)])
                variant = True
                break
    return row, variant


def conventional_kind(name: str, *, entry: bool = False) -> str | None:
    """The kind the field gives ``name`` (``"positive"`` for ``sigma_min``, ``"unit_interval"``
    for ``alphabar_t``), or ``None`` when it has none and is real. Names are the parser's:
    ``sigma``, ``sigma_j``, ``sigma_t-1``, ``sigmahat``, ``sigma'``, ``sigma^*``, ``yhat_j``.
    ``entry``: ``name`` is the label of entries ``name[j]`` (a variant, like ``y_j``)."""
    row, variant = _convention(name)
    variant = variant or entry
    if row is None:
        return None
    return row.variants if variant else row.bare


def describe_kind(kind: str | tuple[float, float]) -> str:
    """A kind in words, after the name: ``"> 0"``, ``"∈ (0, 1)"``, ``"real"``."""
    if isinstance(kind, tuple):
        lo, hi = kind
        return f"∈ ({lo:g}, {hi:g})"
    return _KIND_WORDS.get(_ALIASES.get(kind, kind), kind)


_GREEK_OF = {}
for _letter, _name in UNICODE_GREEK.items():
    _GREEK_OF.setdefault(_name, _letter)
_GREEK_OF.update({"varepsilon": "ε", "varphi": "φ", "vartheta": "ϑ", "varrho": "ϱ",
                  "varsigma": "ς"})
_COMBINING = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}


def _pretty_part(part: str) -> str:
    for modifier, mark in _COMBINING.items():
        if part.endswith(modifier) and len(part) > len(modifier):
            base = part[: -len(modifier)]
            if base in _GREEK_OF or len(base) == 1:
                return _GREEK_OF.get(base, base) + mark
    return _GREEK_OF.get(part, part)


def pretty_name(name: str) -> str:
    """A parser name as a reader writes it: ``alphabar_t`` → ``ᾱ_t``, ``sigma_phi`` → ``σ_φ``."""
    head, sep, subscript = name.partition("_")
    tail = ""
    for mark in ("^", "'"):
        if mark in head:
            head, tail = head[: head.index(mark)], head[head.index(mark):] + tail
    pretty = _pretty_part(head) + tail
    if sep:
        pretty += "_" + "".join(_pretty_part(part) if part.isalpha() else part
                                for part in _split_words(subscript))
    return pretty


def _split_words(text: str) -> list[str]:
    parts: list[str] = []
    for char in text:
        if parts and parts[-1][-1].isalpha() == char.isalpha():
            parts[-1] += char
        else:
            parts.append(char)
    return parts


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
    used as it is. Other names have the field's conventional kind (:data:`CONVENTIONS`, off
    with ``conventions=False``) or are real; indices of sums are integers. ``functions``, when
    given, is the exact set of names applied as functions (``p(1-p)`` is then a product unless
    ``"p"`` is in it); by default a name is a function when its first letter is one of
    :data:`DEFAULT_FUNCTION_BASES` (``p_{data}(x)``, ``D^*(x)``, ``q_\\phi(z|x)``).
    """

    def __init__(self, assumptions: Mapping[str, object] | None = None,
                 symbols: Mapping[str, sp.Basic] | None = None,
                 functions: Collection[str] | None = None, *,
                 conventions: bool = True,
                 divergence_pair: tuple[str, str] | None = None) -> None:
        self.assumptions = dict(assumptions or {})
        self.conventions = conventions
        # the pair a bare \mathrm{JSD} or KL compares, when the question names it (3.d)
        self.divergence_pair = divergence_pair
        for name, kind in self.assumptions.items():
            if isinstance(kind, str) and kind not in KINDS:
                raise ValueError(f"unknown assumption {kind!r} for {name!r}; "
                                 f"expected one of {sorted(KINDS)} or an interval (lo, hi)")
        self.symbols = dict(symbols or {})
        self.functions = None if functions is None else frozenset(functions)

    def kind(self, name: str, *, entry: bool = False) -> str | tuple[float, float]:
        """The kind of a name (aliases resolved): the caller's, else the field's convention
        (:data:`CONVENTIONS`), else ``"real"``. ``entry``: ``name`` is the base of entries
        ``name[j]`` of a sum, which follow the subscripted spelling (``y`` of ``y_j``)."""
        kind = self.domain(name, entry=entry)
        return "real" if kind is None else kind

    def domain(self, name: str, *, entry: bool = False) -> str | tuple[float, float] | None:
        """The caller's kind of a name or the field's conventional one, ``None`` for neither.

        The caller's kinds win, for the name itself, for its base (``y`` declares ``y_j``) and
        for the row of the conventions it belongs to (``sigma`` declares ``sigmahat``, ``sigma'``).
        """
        explicit = self.explicit_kind(name)
        if explicit is not None:
            return explicit
        if not self.conventions:
            return None
        row, _ = _convention(name)
        if row is not None and row.name in self.assumptions:
            return self._resolved(self.assumptions[row.name])
        kind = conventional_kind(name, entry=entry)
        return None if kind is None else _ALIASES.get(kind, kind)

    def explicit_kind(self, name: str) -> str | tuple[float, float] | None:
        """The kind the caller declared for ``name`` or, for ``y_j`` outside a sum, for ``y``."""
        kind = self.assumptions.get(name)
        if kind is None and "_" in name:  # y_j outside a sum: the kind of y
            kind = self.assumptions.get(name.rsplit("_", 1)[0])
        return None if kind is None else self._resolved(kind)

    @staticmethod
    def _resolved(kind: object) -> str | tuple[float, float]:
        if isinstance(kind, str):
            return _ALIASES.get(kind, kind)
        lo, hi = kind  # type: ignore[misc]  # an interval
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
        if isinstance(given, UndefinedFunction):  # p_g for the density p_G, used as a number
            return self.symbol(given.__name__)
        if given is not None:
            return given
        return sp.Symbol(name, **self._flags(self.kind(name)))

    def indexed_base(self, name: str) -> sp.IndexedBase:
        """The ``IndexedBase`` whose entries ``name_j`` are indexed by a bound index."""
        given = self.symbols.get(name)
        if isinstance(given, sp.IndexedBase):
            return given
        return sp.IndexedBase(name, **self._flags(self.kind(name, entry=True)))

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
