"""The LaTeX grammar: every notation of the course reads as intended, and has a near-miss twin
that the equivalence engine rejects."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from grading.answers.equivalence import Kind, check_equivalence
from grading.answers.limits import ParseError
from grading.answers.notation import Expectation, Given, Namespace
from grading.answers.parse import parse_answer, parse_latex, render_latex

POSITIVE = {"sigma": "positive", "y": "unit_interval"}
real = sp.Symbol  # names below are real unless declared


def r(name: str) -> sp.Symbol:
    """The symbol the readers build for ``name`` (real, or its conventional domain)."""
    return Namespace().symbol(name)


# (notation, LaTeX answer, an equivalent answer written differently, a near-miss wrong answer)
NOTATIONS = [
    ("subscript in braces", r"p_{data} + 1", r"1 + p_{\mathrm{data}}", r"p_{data} - 1"),
    ("greek subscript", r"\mu_\phi - \mu_p", r"\mu_{\phi} - \mu_{p}", r"\mu_\theta - \mu_p"),
    ("squared subscripted symbol", r"\sigma_j^2", r"\sigma_{j}\sigma_{j}", r"\sigma_j^3"),
    ("hat", r"\hat{y}_j (1 - \hat{y}_j)", r"\hat y_j - \hat{y}_j^2", r"\hat{y}_j (1 + \hat{y}_j)"),
    ("bar", r"\sqrt{\bar{\alpha}_t} x_0", r"\bar\alpha_t^{1/2} x_0", r"\bar{\alpha}_t x_0"),
    ("greek letters", r"\alpha\beta\gamma + \Sigma", r"\Sigma + \gamma\beta\alpha",
     r"\alpha\beta\gamma + \sigma"),
    ("fraction", r"\frac{a}{b}", r"a b^{-1}", r"\frac{b}{a}"),
    ("fraction without braces", r"\frac12 x", r"\frac{x}{2}", r"\frac21 x"),
    ("left right parentheses", r"\left(a + b\right)^2", r"(a+b)(a+b)", r"a^2 + b^2"),
    ("left right brackets", r"\left[a - b\right] c", r"a c - b c", r"a - b c"),
    ("log", r"\log x^2", r"2\log|x|", r"\log x"),
    ("ln", r"\ln(e^{2})", r"2", r"\ln(10^2)"),
    ("exp", r"\exp(a + b)", r"e^{a} e^{b}", r"e^{a} + e^{b}"),
    ("sqrt", r"\sqrt{4\sigma^2}", r"2\sigma", r"4\sigma"),
    ("nth root", r"\sqrt[3]{\sigma^6}", r"\sigma^2", r"\sigma^3"),
    ("product with bounds", r"\prod_{j=1}^{G} y_j", r"\exp\left(\sum_{j=1}^{G}\log y_j\right)",
     r"\prod_{j=1}^{G} y_1"),
    ("sum with bounds", r"\sum_{j=1}^{G} x_j", r"\sum_{i=1}^{G} x_i", r"\sum_{j=1}^{G} x"),
    ("function application", r"p_{data}(x)", r"p_{data}\left(x\right)", r"p_{data}(z)"),
    ("function of a subscripted name", r"p_G(x)", r"p_{G}(x)", r"p_G(2x)"),
    ("starred function", r"D^*(x)", r"D^{*}(x)", r"1 - D^*(x)"),
    ("plain function", r"D(x)", r"D\left(x\right)", r"D(y)"),
    ("JSD", r"\mathrm{JSD}(p\|q)", r"\operatorname{JSD}(q \| p)", r"2\mathrm{JSD}(p\|q)"),
    ("KL in mathrm", r"\mathrm{KL}(p\|q)", r"KL(p\|q)", r"\mathrm{KL}(q\|p)"),
    ("KL bare", r"KL(p\|q)", r"KL(p, q)", r"KL(p\|r)"),
    ("D_KL", r"D_{KL}(p \| q)", r"\mathrm{KL}(p\|q)", r"D_{KL}(q \| p)"),
    ("expectation", r"\mathbb{E}_{q}[\log p(x|z)]", r"\mathbb{E}_{q}\left[\log p(x \mid z)\right]",
     r"\mathbb{E}_{q}[-\log p(x|z)]"),
    ("cdot", r"a \cdot b", r"a b", r"a + b"),
    ("times", r"a \times b", r"b a", r"a \times c"),
    ("spacing", r"2\,\sigma\;x\!y", r"2\sigma x y", r"2\sigma x"),
    ("implicit multiplication", r"2\sigma^2", r"2 \cdot \sigma^2", r"(2\sigma)^2"),
    ("implicit multiplication with log", r"x_j \log y_j", r"\log(y_j) x_j", r"\log(x_j y_j)"),
    ("unary minus", r"-x + -(-y)", r"y - x", r"x - y"),
    ("braced exponent", r"x^{a+b}", r"x^a x^b", r"x^a + b"),
    ("decimal", r"0.5 x", r"\frac{x}{2}", r"0.05 x"),
    ("infinity", r"\infty", r"\infty", r"10^{6}"),
    # -- derivatives and gradients: operators, never quotients
    ("d/dx of an expression", r"\frac{d}{dx} x^3", r"3x^2", r"\frac{x^3}{x}"),
    ("partial of an expression", r"\frac{\partial}{\partial x}\left(x^2 y\right)", r"2 x y",
     r"x y"),
    ("mathrm d", r"\frac{\mathrm{d}}{\mathrm{d}t} t^2", r"2t", r"t"),
    ("second derivative", r"\frac{\partial^2}{\partial x^2} x^3", r"6x", r"3x^2"),
    ("partial of a named function", r"\frac{\partial L}{\partial D}",
     r"\frac{\partial}{\partial D} L", r"\frac{L}{D}"),
    ("gradient with a subscript", r"\nabla_x \left(-\frac{(x-\mu)^2}{2\sigma^2}\right)",
     r"-\frac{x-\mu}{\sigma^2}", r"\frac{x-\mu}{\sigma^2}"),
    ("gradient of a log density", r"\nabla_x \log p(x)", r"\frac{\nabla_x p(x)}{p(x)}",
     r"\log p(x)"),
    ("gradient in the argument", r"\nabla\log p_\sigma(\tilde{x})",
     r"\nabla_{\tilde x}\log p_\sigma(\tilde{x})", r"-\nabla\log p_\sigma(\tilde{x})"),
    ("partial with a subscript", r"\partial_x (x^2 + y)", r"2x", r"2x + y"),
    # -- integrals
    ("definite integral", r"\int_0^1 x^2\,dx", r"\frac{1}{3}", r"\frac{1}{2}"),
    ("mathrm d integral", r"\int_{0}^{2} x \, \mathrm{d}x", r"2", r"4"),
    ("integral over the line", r"\int p(x)\log D(x)\,dx",
     r"\int_{\mathbb{R}} \log D(x)\, p(x)\; dx", r"\int p(x)\log(1-D(x))\,dx"),
    ("bracketed integrand", r"\int_0^1\left[x^2 + 1\right]dx", r"\int_0^1 x^2\,dx + \int_0^1 dx",
     r"\int_0^1\left[x^2 - 1\right]dx"),
    ("differential first", r"\int_0^2 dx\, x", r"2", r"\int_0^2 dx\, x^2"),
    ("integral with a subscript variable", r"\int_x p(x) dx", r"\int p(x)\,dx",
     r"\int p(x)^2 dx"),
    ("log of an integral", r"\log \int p(x|z)p(z)\,dz", r"\log\left(\int p(z)p(x|z) dz\right)",
     r"\int \log p(x|z) p(z)\,dz"),
    ("log of an expectation", r"\log \mathbb{E}_{z\sim q}[p(x|z)]",
     r"\log\left(\mathbb{E}_{z\sim q}[p(x|z)]\right)", r"\mathbb{E}_{z\sim q}[\log p(x|z)]"),
    # -- letters and decorations
    ("ell", r"\ell + 1", r"1 + \ell", r"l + 1"),
    ("varepsilon is epsilon", r"\mu + \sigma\varepsilon", r"\mu + \sigma\epsilon",
     r"\mu + \varepsilon"),
    ("varphi is phi", r"\mu_\varphi", r"\mu_{\phi}", r"\mu_\theta"),
    ("text subscript", r"p_{\text{data}}(x)", r"p_{data}(x)", r"p_{\text{model}}(x)"),
    ("textrm and operatorname", r"p_{\textrm{data}}(x) + p_{\operatorname{G}}(x)",
     r"p_{data}(x) + p_G(x)", r"p_{data}(x) - p_{G}(x)"),
    ("prime", r"f'(x) + x'", r"x' + f'(x)", r"f'(x) - x'"),
    ("tilde", r"\tilde{x} - x", r"-x + \tilde x", r"x - \tilde{x}"),
    # -- vectors, read in one coordinate
    ("norm squared", r"\|x-\mu\|^2", r"(x-\mu)^\top(x-\mu)", r"\|x-\mu\|"),
    ("two-norm", r"\|v\|_2^2", r"v^T v", r"2\|v\|"),
    ("sized norm", r"\left\| x + y \right\|^2", r"\lVert x+y \rVert^2", r"\|x\|^2 + \|y\|^2"),
    ("transpose", r"x^\top \mu", r"\mu^{T} x", r"x \mu^2"),
    ("elementwise product", r"\sigma \odot \epsilon", r"\epsilon\sigma", r"\sigma + \epsilon"),
    ("inner product", r"\langle a, b \rangle", r"a^\top b", r"a + b"),
    # -- divergences, every separator
    ("KL with double bar", r"KL(q||p)", r"KL(q\|p)", r"KL(p||q)"),
    ("KL parallel", r"\mathrm{KL}(q \parallel p)", r"KL(q, p)", r"\mathrm{KL}(p \parallel q)"),
    ("KL Vert", r"\mathrm{KL}(q \Vert p)", r"KL(q\|p)", r"\mathrm{KL}(p \Vert q)"),
    ("KL sized bar", r"\mathrm{KL}\left(q \Big\| p\right)", r"KL(q\|p)", r"KL(p \Big\| q)"),
    ("KL big single bar", r"\mathrm{KL}(q \big| p)", r"KL(q\|p)", r"\mathrm{KL}(p \big| q)"),
    ("KL square brackets", r"\mathrm{KL}[q\,\|\,p]", r"KL(q\|p)", r"\mathrm{KL}[p\,\|\,q]"),
    ("calligraphic D_KL", r"\mathcal{D}_{\mathrm{KL}}(q\|p)", r"D_{KL}(q\|p)",
     r"\mathcal{D}_{\mathrm{KL}}(p\|q)"),
    ("KL of conditionals", r"D_{\mathrm{KL}}(q_\phi(z|x)\,\|\,p(z))",
     r"\mathrm{KL}(q_\phi(z \mid x) \| p(z))", r"\mathrm{KL}(p(z)\|q_\phi(z|x))"),
    # -- distributions
    ("normal in an expectation", r"\mathbb{E}_{z\sim\mathcal{N}(0, I)}[f(z)]",
     r"\mathbb{E}_{z\sim\mathcal{N}(0,1)}[f(z)]", r"\mathbb{E}_{z\sim\mathcal{N}(0, 2I)}[f(z)]"),
    ("normal with its variable in an expectation", r"\mathbb{E}_{z\sim\mathcal{N}(z; 0, I)}[z^2]",
     r"\mathbb{E}_{z\sim\mathcal{N}(0,1)}[z^2]", r"\mathbb{E}_{z\sim\mathcal{N}(z; 0, 2I)}[z^2]"),
    ("normal density", r"\mathcal{N}(x; \mu, \sigma^2)",
     r"\frac{1}{\sqrt{2\pi\sigma^2}}e^{-\frac{(x-\mu)^2}{2\sigma^2}}",
     r"\frac{1}{\sqrt{2\pi}\sigma^2}e^{-\frac{(x-\mu)^2}{2\sigma^2}}"),
    # -- sums with decorated or set-valued indices
    ("primed index", r"\sum_{z'} p(z')", r"\sum_{u} p(u)", r"\sum_{z'} p(z')^2"),
    ("tilde index", r"\sum_{\tilde z} q(\tilde z)", r"\sum_{z} q(z)", r"\sum_{\tilde z} 2q(\tilde z)"),
    ("index in a set", r"\sum_{z\in\mathcal{Z}} q(z)", r"\sum_{z} q(z)",
     r"\sum_{z\in\mathcal{Z}} q(z)\log q(z)"),
    ("data points as superscripts", r"\frac{1}{N}\sum_{i=1}^{N} \log p(x^{(i)})",
     r"\frac{1}{N}\sum_{n=1}^{N}\log p(x_n)", r"\frac{1}{N}\sum_{i=1}^{N}\log p(x^{(1)})"),
    ("trailing factor without the index", r"\sum_{j=1}^{G} x_j \cdot c",
     r"c\sum_{j=1}^{G} x_j", r"\sum_{j=1}^{G} x_j + c"),
    # -- functions of several arguments
    ("function of two arguments", r"K(q, p)", r"K(q,p)", r"K(p, q)"),
    ("Lagrangian of three arguments", r"L(x, D, \dot D)", r"L(x,D,\dot{D})", r"L(x, \dot D, D)"),
    ("calligraphic L", r"\mathcal{L}(q, \lambda)", r"\mathcal{L}(q,\lambda)", r"\mathcal{L}(\lambda, q)"),
]


@pytest.mark.parametrize("name, latex, rewrite, near_miss", NOTATIONS,
                         ids=[n[0] for n in NOTATIONS])
def test_every_notation_reads_the_same_as_a_rewrite(name: str, latex: str, rewrite: str,
                                                    near_miss: str) -> None:
    if latex == rewrite:  # \infty: only its reading can be compared
        assert parse_latex(latex) == sp.oo
        return
    verdict = check_equivalence(latex, rewrite, assumptions=POSITIVE)
    assert verdict.kind is Kind.EQUIVALENT, verdict.reason


@pytest.mark.parametrize("name, latex, rewrite, near_miss", NOTATIONS,
                         ids=[n[0] for n in NOTATIONS])
def test_every_notation_has_a_near_miss_twin_that_is_rejected(name: str, latex: str,
                                                              rewrite: str,
                                                              near_miss: str) -> None:
    if latex == r"\infty":
        assert parse_latex(near_miss) != parse_latex(latex)
        return
    verdict = check_equivalence(latex, near_miss, assumptions=POSITIVE)
    assert verdict.kind is Kind.NOT_EQUIVALENT, verdict.reason


def test_log_is_the_natural_logarithm() -> None:
    assert parse_latex(r"\log x") == sp.log(r("x"))
    assert parse_latex(r"\log e") == 1


def test_ln_is_the_natural_logarithm_too() -> None:
    assert parse_latex(r"\ln x") == parse_latex(r"\log x")


def test_a_log_with_a_base_is_not_the_natural_logarithm() -> None:
    assert parse_latex(r"\log_{10} 100") == 2
    assert parse_latex(r"\log_2 x") != parse_latex(r"\log x")


def test_case_matters_capital_t_is_not_t() -> None:
    assert parse_latex("T") != parse_latex("t")
    assert parse_latex(r"\alpha_T") == r("alpha_T")


def test_subscripts_make_one_symbol_named_like_sympy_prints_it() -> None:
    assert parse_latex(r"p_{data}") == r("p_data")
    assert parse_latex(r"\mu_\phi") == parse_latex(r"\mu_{\phi}") == r("mu_phi")
    assert parse_latex(r"x_0") == r("x_0")


def test_hats_and_bars_are_part_of_the_name() -> None:
    assert parse_latex(r"\hat{y}_j") == r("yhat_j")
    assert parse_latex(r"\bar{\alpha}_t") == r("alphabar_t")
    assert render_latex(parse_latex(r"\bar{\alpha}_t")) == r"\bar{\alpha}_{t}"


def test_a_sum_index_is_a_dummy_and_entries_indexed_by_it_are_indexed() -> None:
    value = parse_latex(r"\sum_{j=1}^{G} x_j \log y_j")
    j = sp.Symbol("j", integer=True)
    G = sp.Symbol("G", integer=True, positive=True)
    x, y = Namespace().indexed_base("x"), Namespace().indexed_base("y")
    assert value == sp.Sum(x[j] * sp.log(y[j]), (j, 1, G))
    assert x.name == "x" and y.name == "y"


def test_a_sum_extends_over_following_terms_that_use_its_index_only() -> None:
    both = parse_latex(r"\sum_j a_j + b_j")
    assert isinstance(both, sp.Sum)
    first_only = parse_latex(r"\sum_j a_j + 1")
    assert isinstance(first_only, sp.Add)


def test_the_bound_of_a_sum_is_a_positive_integer_everywhere() -> None:
    value = parse_latex(r"\frac{1}{G}\sum_{j=1}^{G} x_j")
    (G,) = [s for s in value.free_symbols if isinstance(s, sp.Symbol) and s.name == "G"]
    assert G.is_integer and G.is_positive


def test_a_sum_without_bounds_takes_the_default_upper_bound() -> None:
    value = parse_latex(r"\sum_j x_j", default_upper="G")
    assert value.limits[0][2] == sp.Symbol("G", integer=True, positive=True)


def test_a_conditional_density_keeps_its_bar() -> None:
    value = parse_latex(r"q_\phi(z|x)")
    assert value.args == (Given(r("z"), r("x")),)
    assert r"\mid" in render_latex(value)


def test_an_expectation_is_linear_on_reading() -> None:
    value = parse_latex(r"\mathbb{E}_{q}[2a + b]")
    q = r("q")
    assert value == 2 * Expectation(r("a"), q) + Expectation(r("b"), q)


def test_an_expectation_may_name_its_variable_with_sim() -> None:
    value = parse_latex(r"\mathbb{E}_{z \sim q}\left[f(z)\right]")
    assert isinstance(value, Expectation)
    assert r"\sim" in render_latex(value)


def test_an_equation_is_read_as_its_right_hand_side() -> None:
    assert parse_latex(r"D^*(x) = \frac{1}{2}") == sp.Rational(1, 2)


def test_x_to_the_23_is_x_squared_times_3_as_in_tex() -> None:
    assert parse_latex("x^23") == 3 * r("x") ** 2


def test_the_absolute_value_bars_read_as_abs() -> None:
    assert parse_latex(r"|x - 1|") == parse_latex(r"\left| x - 1 \right|") == sp.Abs(r("x") - 1)


def test_unicode_greek_and_operators_read_like_their_commands() -> None:
    assert parse_latex("σ·μ − 1") == parse_latex(r"\sigma \cdot \mu - 1")


def test_declared_symbols_carry_the_question_assumptions() -> None:
    value = parse_latex(r"\sigma", assumptions={"sigma": "positive"})
    assert value.is_positive


def test_an_unsupported_command_is_a_parse_error_at_its_position() -> None:
    with pytest.raises(ParseError) as error:
        parse_latex(r"x + \nabla y")
    assert error.value.position == 4


def test_an_unclosed_bracket_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as error:
        parse_latex(r"\left( x + 1")
    assert "expected ')'" in error.value.message


_ALPHABET = list("xyzab+-*/^_()[]{}|,=!'. 0123456789") + [
    r"\frac", r"\sqrt", r"\log", r"\sum", r"\prod", r"\left(", r"\right)", r"\sigma", r"\mu_",
    r"\hat", r"\mathrm{KL}", r"\|", r"\mathbb{E}", r"\cdot", r"\,", "p(", "D^*"]


@given(st.lists(st.sampled_from(_ALPHABET), max_size=30).map("".join))
def test_any_text_is_either_read_or_refused_with_a_parse_error(text: str) -> None:
    try:
        value = parse_latex(text)
    except ParseError as error:
        assert 0 <= error.position <= len(text)
    else:
        assert isinstance(value, sp.Basic)


_symbols = st.sampled_from([r("x"), sp.Symbol("sigma", positive=True), r("mu_phi"),
                            r("alphabar_t")])
_leaves = st.one_of(_symbols, st.integers(1, 5).map(sp.Integer))
_expressions = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.tuples(children, children).map(lambda ab: ab[0] + ab[1]),
        st.tuples(children, children).map(lambda ab: ab[0] * ab[1]),
        st.tuples(children, st.integers(-2, 3)).map(lambda ab: ab[0] ** ab[1]),
        children.map(lambda a: sp.exp(a)),
        children.map(lambda a: sp.log(a)),
    ),
    max_leaves=6,
)


@given(_expressions)
def test_the_rendered_reading_reads_back_as_the_same_expression(expr: sp.Basic) -> None:
    if expr.has(sp.zoo, sp.nan, sp.oo):
        return
    back = parse_latex(render_latex(expr), assumptions={"sigma": "positive"})
    verdict = check_equivalence(expr, back, assumptions={"sigma": "positive"}, isolation="none")
    assert verdict.kind is Kind.EQUIVALENT, (render_latex(expr), verdict.reason)


@pytest.mark.parametrize("text", [r"p_{data}(1-D)", "p(1 - p)", r"p(1-p)", "D(1 - D)"])
def test_a_density_applied_to_one_minus_something_is_a_product(text: str) -> None:
    value = parse_latex(text) if "\\" in text or "{" in text else parse_answer(text)
    assert isinstance(value, sp.Mul) and not value.atoms(sp.core.function.AppliedUndef)


def test_a_density_applied_to_a_point_stays_an_application() -> None:
    for text in (r"p(x - 1)", r"p(x + \sigma z)", r"p_{data}(x)"):
        assert parse_latex(text).atoms(sp.core.function.AppliedUndef)


def test_a_density_summed_over_its_states_is_read_both_as_a_distribution_and_not() -> None:
    one = check_equivalence(r"\sum_{z'} p(z')", "1")  # 1 if p is a distribution, else not
    assert one.kind is Kind.UNDECIDED and "normalised distribution" in one.reason
    assert check_equivalence(r"\sum_{z} q(z)", "2").kind is Kind.NOT_EQUIVALENT
    lagrangian = check_equivalence(  # inside a Lagrangian q is not yet normalised
        r"\lambda\left(1-\sum_z q(z)\right)+\sum_z q(z)\log q(z)", r"\sum_z q(z)\log q(z)")
    assert lagrangian.kind is not Kind.EQUIVALENT


def test_discrete_bayes_with_the_posterior_named_is_undecided_not_wrong() -> None:
    verdict = check_equivalence(r"\frac{p(x|z)p(z)}{\sum_{z'}p(x|z')p(z')}", r"p(z|x)")
    assert verdict.kind is Kind.UNDECIDED and "normalised" in verdict.reason


@pytest.mark.parametrize("text", [r"\mu_\phi(x)", r"\sigma_\phi(\tilde x)", r"\mu(x_i)"])
def test_a_greek_quantity_of_one_variable_is_a_function_of_it(text: str) -> None:
    assert parse_latex(text).atoms(sp.core.function.AppliedUndef)


@pytest.mark.parametrize("text", [r"\lambda(1-\sum_z q(z))", r"\sigma(x+1)", r"\alpha(x - y)"])
def test_a_greek_quantity_times_an_expression_stays_a_product(text: str) -> None:
    assert not parse_latex(text).atoms(sp.core.function.AppliedUndef) or \
        isinstance(parse_latex(text), sp.Mul)


def test_a_quantity_written_with_its_argument_is_the_quantity_the_reference_names() -> None:
    reference = r"\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}"
    same = check_equivalence(reference, r"\frac{(\mu_\phi(x)-\mu_p)^2}{2\sigma^2}")
    assert same.kind is Kind.EQUIVALENT
    twin = check_equivalence(reference, r"\frac{(\mu_\phi(x)-\mu_p)^2}{\sigma^2}")
    assert twin.kind is Kind.NOT_EQUIVALENT
