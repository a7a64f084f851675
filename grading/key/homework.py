"""The built-in answer key: every part of Homework 5 (VAEs, GANs, diffusion), 82 points.

Each reference is taken from :mod:`derivations` — a closed form applied to the course's
symbols, a derivation's result or start, or a count read off a derived density — so the key
is proven, not typed. Parts with figures (2.e.i–iii, 4.b, 4.c: 33 points) are graded by a
person; the other 49 points are checked automatically.

| part | pts | kind | reference |
|---|---|---|---|
| 1.a | 3.5 | expression | ``derivations.bernoulli:BERNOULLI_LIKELIHOOD`` |
| 1.b | 3.5 | number | parameters of q = N(μ, I) in ℝ², from ``derivations.gaussian.normal_pdf`` |
| 1.c | 3.5 | derivation (≥) | ``derivations.elbo:jensen_bound`` (start and result) |
| 1.d | 3.5 | choice (2) | ``derivations.kl:nonnegativity``, ``asymmetry`` back the options |
| 1.e | 3.5 | yes/no | ``derivations.elbo:single_sample_expectation`` |
| 1.f | 3.5 | yes/no | ``derivations.elbo:prior_as_q_gap`` |
| 1.g | 3.5 | expression | ``derivations.kl:self_divergence`` |
| 1.h | 3.5 | derivation or expression | ``derivations.kl:KL_EQUAL_VARIANCE`` |
| 1.i | 3.5 | derivation (steps required) | ``derivations.elbo:OPTIMAL_Q`` |
| 1.j | 3.5 | choice | ``derivations.elbo:optimal_q`` backs option (3) |
| 2.e.i–iii | 3 each | manual (figures) | |
| 3.a | 3.5 | structured | ``derivations.gan.lagrangian``'s two terms over the samples |
| 3.b | 3.5 | structured | ``derivations.gan:value_function`` |
| 3.c | 3.5 | derivation or expression | ``derivations.gan:D_STAR`` |
| 3.d | 3.5 | derivation or expression | ``derivations.gan:homework_convention``, |
|     |     |                          | or ``generator_objective`` (the max-form) |
| 4.b, 4.c | 12 each | manual (figures) | |

Source: ``HOMEWORK.md`` (the course's Homework 5, restated with what a correct answer is).
"""

from __future__ import annotations

import sympy as sp

from grading.key.registry import KnownMistake, Option, Question, Reference, align, register_question
from grading.key.steps import Definition, Model, Table
from grading.key.structured import Problem

__all__ = ["AUTOMATIC_POINTS", "MANUAL_POINTS", "PARTS", "TOTAL_POINTS"]

PARTS = ("1.a", "1.b", "1.c", "1.d", "1.e", "1.f", "1.g", "1.h", "1.i", "1.j",
         "2.e.i", "2.e.ii", "2.e.iii", "3.a", "3.b", "3.c", "3.d", "4.b", "4.c")
TOTAL_POINTS = 82
MANUAL_POINTS = 33  # 2.e.i–iii (3 each) and 4.b, 4.c (12 each)
AUTOMATIC_POINTS = TOTAL_POINTS - MANUAL_POINTS

_SLIPS = {  # partial credit for the slips the engine names (fraction of the part's points)
    "sign_flipped": 0.5,
    "factor_two": 0.5,
    "factor_half": 0.5,
    "sigma_vs_sigma_squared": 0.5,
    "kl_arguments_swapped": 0.5,
    "term_factor": 0.5,  # one term's factor (grading.answers.feedback.term_mistakes): a
    # dropped 2 on the JSD; one term's sign is not a slip in 3.d (the optimum moves)
}


def _slips(*names: str) -> tuple[KnownMistake, ...]:
    return tuple(KnownMistake(name, _SLIPS[name]) for name in names)


# -- models: what densities, integrals and expectations mean in a part ----------------------

_LIKELIHOOD = Table("ell", (r"p_\theta(x|z)", "p(x|z)"))
_PRIOR = Table("pi", ("p(z)", r"p_\theta(z)"), "distribution")
_BAYES = (
    Definition((r"p_\theta(x)", "p(x)"), r"\sum_{z} p_\theta(x|z)\,p(z)"),
    Definition((r"p_\theta(x, z)", "p(x, z)"), r"p_\theta(x|z)\,p(z)"),
    Definition((r"p_\theta(z|x)", "p(z|x)"), r"\frac{p_\theta(x|z)\,p(z)}{p_\theta(x)}"),
)

#: 1.c: three latent states (as in ``derivations.elbo.jensen_bound``), q a distribution on them
ELBO_MODEL = Model(
    "z",
    tables=(Table("q", (r"q_\phi(z|x)", "q(z|x)", r"q_\phi(z)", "q(z)"), "distribution"),
            _LIKELIHOOD, _PRIOR),
    definitions=_BAYES,
    bare={"q": r"q_\phi(z|x)", "q_phi": r"q_\phi(z|x)", "p": "p(z)"},
    states=3,
)

#: 1.i: three latent states; q is the unknown being optimised, so it is not a table
LAGRANGE_MODEL = Model("z", tables=(_LIKELIHOOD, _PRIOR), definitions=_BAYES, states=3)

#: 3.d: x takes three values; p_data and p_G are distributions on them
GAN_MODEL = Model(
    "x",
    tables=(Table("P_data", (r"p_{data}(x)",), "distribution"),
            Table("P_G", ("p_G(x)", "p_g(x)"), "distribution")),
    bare={"p_data": r"p_{data}(x)", "p_G": "p_G(x)", "p_g": "p_g(x)"},
    states=3,
)


def _gaussian(mean: str):  # noqa: ANN202 - a Definition's meaning
    def density(namespace, at):  # noqa: ANN001, ANN202
        from derivations.gaussian import normal_pdf

        return normal_pdf(at, namespace.symbol(mean), namespace.symbol("sigma"))

    return density


#: 1.h worked out: q = N(μ_φ, σ²) and p = N(μ_p, σ²) on the real line
GAUSSIAN_MODEL = Model(
    "x",
    definitions=(Definition(("q(x)", r"q_\phi(x)"), _gaussian("mu_phi"), ("mu_phi", "sigma")),
                 Definition(("p(x)",), _gaussian("mu_p"), ("mu_p", "sigma"))),
    bare={"q": "q(x)", "q_phi": "q(x)", "p": "p(x)"},
    continuous=True,
)


def _states(namespace):  # noqa: ANN001, ANN202
    """The state z of the 1.i model, where the answer is read (a positive integer)."""
    return sp.Symbol("z", integer=True, positive=True)


def _table(name: str) -> sp.IndexedBase:
    """A model's table (the objects :class:`grading.key.steps.BoundModel` builds)."""
    return sp.IndexedBase(name, positive=True)


def _three_states(expr: sp.Basic, namespace) -> sp.Basic:  # noqa: ANN001
    """``derivations.elbo.OPTIMAL_Q``'s K states as the 1.i model's three, written out."""
    from derivations import elbo

    return expr.xreplace({elbo.K: sp.Integer(3)}).doit()


def _lagrangian_in_model(expr: sp.Basic, namespace) -> sp.Basic:  # noqa: ANN001
    """``derivations.elbo.optimal_q``'s Lagrangian in the 1.i model: three states written
    out, q_j → q(j) (the unknown), ℓ_j and π_j → the model's tables, λ → the question's λ."""
    from derivations import elbo

    expr = expr.xreplace({elbo.K: sp.Integer(3)}).doit()
    q = namespace.function("q")
    tables = {"ell": _table("ell"), "pi": _table("pi")}
    mapping = {}
    for entry in expr.atoms(sp.Indexed):
        label, (index,) = str(entry.base.label), entry.indices
        mapping[entry] = q(index) if label == "q" else tables[label][index]
    mapping[elbo.lam] = namespace.symbol("lambda")
    return expr.xreplace(mapping)


def _jensen_in_tables(expr: sp.Basic, namespace) -> sp.Basic:  # noqa: ANN001
    """``derivations.elbo.jensen_bound``'s three-state symbols as the 1.c model's tables:
    q_k → q[k]/Σq, ℓ_k → ℓ[k], π_k → π[k]/Σπ, w_k = p(x, z_k) → ℓ[k] π[k]/Σπ."""
    from derivations import elbo

    q, ell, pi = (_table(name) for name in ("q", "ell", "pi"))
    q_total, pi_total = q[1] + q[2] + q[3], pi[1] + pi[2] + pi[3]
    mapping = {}
    for state, (qk, wk, lk, pk) in enumerate(zip(elbo._Q, elbo._W, elbo._ELL, elbo._PI), 1):
        mapping[qk] = q[state] / q_total
        mapping[lk] = ell[state]
        mapping[pk] = pi[state] / pi_total
        mapping[wk] = ell[state] * pi[state] / pi_total
    return expr.xreplace(mapping)


# -- Question 1: VAE ---------------------------------------------------------------------------


def _swap_exponents(reference: sp.Basic) -> sp.Basic:
    """y^{1−x}(1−y)^{x}: the pixel's value and its complement exchanged."""
    pixels = [e for e in reference.atoms(sp.Indexed) if str(e.base.label) == "x"]
    return reference.xreplace({pixel: 1 - pixel for pixel in pixels})


@register_question
def q_1_a() -> Question:
    return Question(
        "1.a", 3.5,
        "Explicit form of p_θ(x|z) for a decoder of G independent Bernoulli pixels, using y_j.",
        "expression",
        reference=Reference("derivations.bernoulli:BERNOULLI_LIKELIHOOD", ("x", "y")),
        assumptions={"x": "binary", "y": "probability"},
        aliases={"yhat": "y"},
        default_upper="G",
        mistakes=(
            KnownMistake("missing_product", 0.25,
                         "That is the pmf of one pixel: p_θ(x|z) is the product over the G "
                         "independent pixels."),
            KnownMistake("exponents_swapped", 0.25,
                         "The exponents are swapped: y_j is the probability that x_j = 1, so "
                         "y_j carries the exponent x_j.", _swap_exponents),
        ),
        evidence=("derivations.bernoulli:likelihood",),
    )


def _encoder_output_dimension(namespace) -> sp.Integer:  # noqa: ANN001
    """The parameters q(z|x) = N(μ, I) on ℝ² leaves to the encoder: the free symbols of its
    density other than z (the covariance is fixed to the identity)."""
    from derivations.gaussian import normal_pdf

    latent = sp.symbols("z_1:3", real=True)  # z ∈ ℝ²: the setting of the question
    means = sp.symbols("mu_1:3", real=True)
    density = sp.Mul(*(normal_pdf(z, m, 1) for z, m in zip(latent, means)))  # Σ = I
    return sp.Integer(len(density.free_symbols - set(latent)))


@register_question
def q_1_b() -> Question:
    return Question(
        "1.b", 3.5,
        "Output dimension of the encoder when z ∈ ℝ² and q_φ(z|x) is Gaussian with identity "
        "covariance, and why.",
        "number",
        reference=Reference(builder=_encoder_output_dimension,
                            label="free parameters of N(μ, I) on ℝ²"),
        mistakes=(KnownMistake("mean_and_variance", 0.0,
                               "4 would be a mean and a diagonal variance; with the covariance "
                               "fixed to I only the mean is produced.", lambda r: 2 * r),),
    )


@register_question
def q_1_c() -> Question:
    return Question(
        "1.c", 3.5,
        "Bound log p_θ(x) with Jensen's inequality and split the bound into a KL term and a "
        "reconstruction term (one line per step).",
        "derivation",
        reference=Reference("derivations.elbo:jensen_bound", transform=_jensen_in_tables,
                            label="E_q[log p_θ(x|z)] − KL(q_φ(z|x) ‖ p(z))"),
        start=Reference("derivations.elbo:jensen_bound", pick="start",
                        transform=_jensen_in_tables, label="log p_θ(x)"),
        relation=">=",
        steps_required=True,
        model=ELBO_MODEL,
        evidence=("derivations.elbo:jensen_bound", "derivations.elbo:discrete_identity"),
    )


@register_question
def q_1_d() -> Question:
    return Question(
        "1.d", 3.5,
        "Two properties of the KL divergence. Options: (1) KL(p‖q) ≥ 0, with equality iff "
        "p = q; (2) KL is not symmetric; (3) KL does not satisfy the triangle inequality; "
        "(4) KL(p‖q) is convex in (p, q); (5) KL is symmetric; (6) KL can be negative; "
        "(7) KL is a distance (a metric).",
        "choice",
        select=2,
        options=(
            Option("1", "KL(p‖q) ≥ 0, with equality iff p = q",
                   words=("nonnegative", "non-negative", "≥ 0", ">= 0", r"\geq 0", "gibbs"),
                   correct=True, evidence="derivations.kl:nonnegativity"),
            Option("2", "KL is not symmetric",
                   words=("not symmetric", "asymmetric", "nonsymmetric", "non-symmetric"),
                   correct=True, evidence="derivations.kl:asymmetry"),
            Option("3", "KL does not satisfy the triangle inequality",
                   words=("no triangle inequality", "not satisfy the triangle inequality",
                          "violates the triangle inequality"), correct=True),
            Option("4", "KL(p‖q) is convex in (p, q)", words=("convex",), correct=True),
            Option("5", "KL is symmetric", words=("symmetric",),
                   evidence="derivations.kl:asymmetry"),
            Option("6", "KL can be negative", words=("negative",),
                   evidence="derivations.kl:nonnegativity"),
            Option("7", "KL is a distance (a metric)", words=("metric", "distance")),
        ),
        evidence=("derivations.kl:nonnegativity", "derivations.kl:asymmetry"),
    )


@register_question
def q_1_e() -> Question:
    return Question(
        "1.e", 3.5,
        "“Practically”, is training with Eq. 1 (the analytic KL plus a sampled reconstruction "
        "term) the same as with Eq. 2 (the single-sample estimate of log p(x|z) + log p(z) − "
        "log q(z|x))? If not, why would one use one over the other? Yes or no, then why.",
        "yes/no",
        expected="no",
        explanation="not the same in practice: both estimators have the ELBO as their "
                    "expectation, but Eq. 1 computes the KL in closed form (lower variance, "
                    "when it is tractable) while Eq. 2 samples it (higher variance, but it "
                    "works for any q and p)",
        reasons=(r"varian", r"estimat", r"nois", r"sampl", r"monte[\s-]*carlo",
                 r"closed[\s-]*form", r"analytic", r"exact", r"tractab", r"comput", r"cost",
                 r"cheap", r"expensive", r"efficien", r"stab", r"gradient"),
        hedges=((r"expect|unbiased|on average", 0.5,
                 "the two are the same in expectation, but in practice they are different "
                 "estimators: the analytic KL has lower variance, the sampled one works for "
                 "any q and p"),),
        evidence=("derivations.elbo:single_sample_expectation",
                  "derivations.elbo:prior_and_entropy_terms"),
    )


@register_question
def q_1_f() -> Question:
    return Question(
        "1.f", 3.5,
        "Is q_φ(z|x) := N(0, I) a good choice? Yes or no, then why.",
        "yes/no",
        expected="no",
        explanation="q then ignores x: z carries no information about x and the ELBO's gap "
                    "stays KL(p(z) ‖ p_θ(z|x)) > 0.",
        evidence=("derivations.elbo:prior_as_q_gap",),
    )


@register_question
def q_1_g() -> Question:
    return Question(
        "1.g", 3.5, "KL(q_φ(z|x), q_φ(z|x)).", "expression",
        reference=Reference("derivations.kl:self_divergence"),
    )


@register_question
def q_1_h() -> Question:
    return Question(
        "1.h", 3.5,
        "KL(q, p) for q = N(μ_φ, σ²) and p = N(μ_p, σ²) (the same variance); the final "
        "expression, or the derivation one line per step.",
        "derivation",
        reference=Reference("derivations.kl:KL_EQUAL_VARIANCE", ("mu_phi", "mu_p", "sigma")),
        assumptions={"sigma": "positive"},
        aliases={"mu_q": "mu_phi"},
        model=GAUSSIAN_MODEL,
        mistakes=_slips("sign_flipped", "factor_two", "factor_half", "sigma_vs_sigma_squared"),
        evidence=("derivations.kl:equal_variance",),
    )


@register_question
def q_1_i() -> Question:
    return Question(
        "1.i", 3.5,
        "Maximise Σ_z q(z) log p_θ(x|z) − KL(q, p(z)) subject to Σ_z q(z) = 1: the "
        "Lagrangian, the stationary point, the multiplier eliminated; one line per step.",
        "derivation",
        reference=Reference("derivations.elbo:OPTIMAL_Q", (
            lambda ns: _table("ell")[_states(ns)], lambda ns: _table("pi")[_states(ns)],
            lambda ns: _table("ell"), lambda ns: _table("pi")), transform=_three_states,
            label="p_θ(x|z) p(z) / Σ_z' p_θ(x|z') p(z')"),
        model=LAGRANGE_MODEL,
        assumptions={"lambda": "real"},
        # what the question gives: its objective and its constraint (the multiplier's sign is
        # a convention: λ(1 − Σ q) and λ(Σ q − 1) are both accepted)
        start=Reference("derivations.elbo:optimal_q", pick="start",
                        transform=_lagrangian_in_model,
                        label="the Lagrangian of the question's objective and constraint"),
        steps_required=True,
        default_upper="K",
        evidence=("derivations.elbo:optimal_q",),
    )


@register_question
def q_1_j() -> Question:
    return Question(
        "1.j", 3.5,
        "Which distribution should q_φ(z|x) equal: (1) p(z), (2) p_θ(x|z), (3) p_θ(z|x), "
        "(4) p_θ(x, z)?",
        "choice",
        options=(
            Option("1", "p(z)", "p(z)"),
            Option("2", "p_θ(x|z)", r"p_\theta(x|z)"),
            Option("3", "p_θ(z|x)", r"p_\theta(z|x)", correct=True,
                   evidence="derivations.elbo:optimal_q"),
            Option("4", "p_θ(x, z)", r"p_\theta(x, z)"),
        ),
        evidence=("derivations.elbo:optimal_q",),
    )


# -- Question 2: VAE coding (figures) ---------------------------------------------------------


def _figure(part: str, prompt: str, rubric: str) -> Question:
    return Question(part, 3, prompt, "manual", rubric=rubric)


@register_question
def q_2_e_i() -> Question:
    return _figure("2.e.i", "At least 4 (course: 10) prior samples: the decoder's probabilities "
                            "beside a Bernoulli sample of each.",
                   "wrong if fewer than 4, not digit-like, or one of the two images missing")


@register_question
def q_2_e_ii() -> Question:
    return _figure("2.e.ii", "Encoder means of the training images in the 2-D latent plane, "
                             "coloured by digit label.", "wrong if missing or wrong")


@register_question
def q_2_e_iii() -> Question:
    return _figure("2.e.iii", "3 pairs of images of different classes; z_α = α μ_a + (1 − α) μ_b "
                              "for α = 0, 0.1, …, 1, decoded.",
                   "wrong if only some α (e.g. 0.5 alone)")


# -- Question 3: GAN ---------------------------------------------------------------------------

# the 2024 offering wrote the GAN densities as p_r and p_g (HOMEWORK.md, "Offerings and notation")
_GAN_ALIASES = {"p_g": "p_G", "p_r": "p_data"}
_GAN_ASSUMPTIONS = {"D": "unit_interval", "D_w": "unit_interval", "D_omega": "unit_interval",
                    "p_data": "positive", "p_G": "positive", "p_g": "positive"}


def _classical_cost(namespace) -> Problem:  # noqa: ANN001
    """max_θ min_w −Σ_x log D_w(x) − Σ_z log(1 − D_w(G_θ(z))): the value function's two terms
    (``derivations.gan.lagrangian`` with the data term, then the generated term), summed over
    the samples, negated; the discriminator minimises, the generator maximises."""
    from derivations.gan import lagrangian

    x, z = sp.Symbol("x", integer=True), sp.Symbol("z", integer=True)
    n = namespace.bound("N")
    discriminator, generator = namespace.function("D_w"), namespace.function("G_theta")
    data_term = lagrangian(1, 0, discriminator(x))
    generated_term = lagrangian(0, 1, discriminator(generator(z)))
    objective = -sp.Sum(data_term, (x, 1, n)) - sp.Sum(generated_term, (z, 1, n))
    return Problem((("max", namespace.symbol("theta")), ("min", namespace.symbol("w"))),
                   objective, {"x": "data", "p_data": "data", "z": "noise", "p_z": "noise",
                               "p": "noise"})


def _capacity_problem(namespace) -> Problem:  # noqa: ANN001
    """max_{p_G} min_D −∫ [p_data log D + p_G log(1 − D)] dx: the value function of
    ``derivations.gan.value_function`` (its start), negated."""
    from derivations import gan

    value = align(gan.value_function().steps[0].expr, namespace)
    return Problem((("max", namespace.symbol("p_G")), ("min", namespace.symbol("D"))), -value,
                   {"p_data": "p_data", "p_G": "p_G", "p_g": "p_G"})


_STRUCTURED_MISTAKES = (
    KnownMistake("objective_only", 0.0, "Only the objective is given: the answer is the whole "
                                        "min–max problem, the generator's operator outside the "
                                        "discriminator's."),
)


@register_question
def q_3_a() -> Question:
    return Question(
        "3.a", 3.5, "The classical GAN cost with D_w and G_θ, as a min–max problem.",
        "structured",
        reference=Reference(builder=_classical_cost, label="max_θ min_w −Σ log D_w − Σ log(1 − "
                                                           "D_w(G_θ))"),
        assumptions=_GAN_ASSUMPTIONS, aliases=_GAN_ALIASES, mistakes=_STRUCTURED_MISTAKES,
        evidence=("derivations.gan:value_function",),
    )


@register_question
def q_3_b() -> Question:
    return Question(
        "3.b", 3.5, "With arbitrary capacity, the equivalent problem in terms of p_G.",
        "structured",
        reference=Reference(builder=_capacity_problem, label="max_{p_G} min_D −∫ [p_data log D "
                                                             "+ p_G log(1 − D)] dx"),
        assumptions=_GAN_ASSUMPTIONS, aliases=_GAN_ALIASES, mistakes=_STRUCTURED_MISTAKES,
        evidence=("derivations.gan:value_function",),
    )


@register_question
def q_3_c() -> Question:
    return Question(
        "3.c", 3.5,
        "The optimal D*(x) for a fixed G, through the Euler–Lagrange equation: the final "
        "expression, or the derivation one line per step.",
        "derivation",
        reference=Reference("derivations.gan:D_STAR", (r"p_{data}(x)", "p_G(x)")),
        accept=(Reference("derivations.gan:D_STAR", ("p_data", "p_G")),),
        assumptions=_GAN_ASSUMPTIONS,
        aliases=_GAN_ALIASES,
        mistakes=_slips("factor_two", "factor_half"),
        evidence=("derivations.gan:optimal_discriminator",),
    )


@register_question
def q_3_d() -> Question:
    return Question(
        "3.d", 3.5,
        "The generator's objective at D* and its optimum: the final expression, or the "
        "derivation one line per step.",
        "derivation",
        reference=Reference("derivations.gan:homework_convention",
                            label="log 4 − 2 JSD(p_data ‖ p_G)"),
        accept=(Reference("derivations.gan:generator_objective",
                          label="−log 4 + 2 JSD(p_data ‖ p_G) (the max-form)"),),
        assumptions=_GAN_ASSUMPTIONS,
        model=GAN_MODEL,
        aliases=_GAN_ALIASES,
        divergence_pair=("p_data", "p_G"),  # the question names the pair: "2 JSD" is about it
        mistakes=_slips("factor_two", "factor_half", "term_factor"),
        evidence=("derivations.gan:generator_objective", "derivations.gan:jsd_nonnegative",
                  "derivations.gan:optimal_generator"),
    )


# -- Question 4: score-based diffusion (figures) ----------------------------------------------


@register_question
def q_4_b() -> Question:
    return Question("4.b", 12, "The learned score as a vector field (quiver) at a small σ.",
                    "manual", rubric="wrong if the field does not point toward the data")


@register_question
def q_4_c() -> Question:
    return Question("4.c", 12, "Samples from annealed Langevin dynamics over the data.",
                    "manual", rubric="wrong if the samples do not match the data, collapse onto "
                                     "a subset or are too thinly spread")
