"""The code checks: references pass with full points, every buggy implementation is caught with
the right feedback, hostile code is contained, and the references behind the checks agree
with independent second routes (typed textbook forms, Monte Carlo, finite differences).

False-failure budget of this file: the checks run with failure_prob = 1e-8 per statistical
property; correct code meets at most ~20 statistical properties here (two reference
submissions × 6, the hostile submission's correct sampler, the buggy twins' correct
properties), so ≤ 2e-7; the Monte Carlo second routes below spend 1e-7 each (4e-7): in all
< 1e-6. Seeds are fixed and stated (CheckSettings.seed = 446 and the ones below).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from grading.code.checks import (CheckSettings, Session, check_function, grade_code_submission,
                                 locate_functions, submission_files)
from grading.code.diffusion_checks import (_dsm_expectations, _mixture_samples, _mixture_score,
                                           _MIXTURE_MEANS, _MIXTURE_STDS, _MIXTURE_WEIGHTS)
from grading.code.vae_checks import _elbo_terms, _vae_fixture
from grading.code.spec import CODE_SPECS, input_strategy, mistakes, references, spec
from grading.code.sandbox import Limits
from numerics.estimates import Estimate
from numerics.tolerance import check_close

SUBMISSIONS = Path(__file__).parent / "submissions"
SETTINGS = CheckSettings(failure_prob=1e-8, examples=20, shrink_seconds=2.0)


@dataclass(frozen=True)
class Bug:
    module: str
    function: str
    failing: tuple[str, ...]  # the properties (check keys) it must lose
    feedback: str  # what the feedback must say
    passing: tuple[str, ...] = field(default=())  # properties it must keep


BUGS = (
    Bug("bug_lnd_logvar_as_variance", "log_normal_diag", ("agreement",),
        "treats logvar as the variance"),
    Bug("bug_lnd_missing_half", "log_normal_diag", ("agreement", "agreement_extreme"),
        "missing the ½ in front of the quadratic term", ("dtype",)),
    Bug("bug_lnd_mean_over_coordinates", "log_normal_diag", ("agreement",),
        "averages over the coordinates"),
    Bug("bug_lnd_sum_over_batch", "log_normal_diag", ("agreement", "dtype"),
        "reduces over the batch too"),
    Bug("bug_lnd_std_is_exp_logvar", "log_normal_diag", ("agreement",),
        "uses exp(logvar) as the standard deviation"),
    Bug("bug_lnd_density_then_log", "log_normal_diag", ("agreement_extreme",),
        "overflow or underflow", ("dtype",)),
    Bug("bug_lnd_float32", "log_normal_diag", ("dtype",), "returns dtype float32 for float64",
        ("agreement", "agreement_extreme")),
    Bug("bug_lb_bce_sign", "log_bernoulli", ("agreement", "agreement_extreme"),
        "binary cross-entropy"),
    Bug("bug_lb_mean_over_pixels", "log_bernoulli", ("agreement",),
        "averages over the pixels", ("dtype",)),
    Bug("bug_lb_missing_complement", "log_bernoulli", ("agreement",),
        "drops the (1 − x) log(1 − y) term"),
    Bug("bug_lb_returns_numpy", "log_bernoulli", ("agreement", "dtype"), "not a torch.Tensor"),
    Bug("bug_sn_variance_scale", "sample_normal", ("normal_law",),
        "scales ε by exp(logvar), the variance", ("reparameterized",)),
    Bug("bug_sn_not_reparameterized", "sample_normal", ("reparameterized",),
        "break the reparameterization trick", ("normal_law",)),
    Bug("bug_sn_ignores_generator", "sample_normal", ("normal_law",),
        "ignores its generator argument", ("reparameterized",)),
    Bug("bug_elbo_detached_sample", "elbo_loss", ("elbo_expectation",),
        "the sample z is detached", ("elbo_scalar",)),
    Bug("bug_elbo_prior_e", "elbo_loss", ("elbo_expectation",),
        "prior of variance 2.718", ("elbo_scalar",)),
    Bug("bug_dsm_score_at_variance", "dsm_loss", ("dsm_expectation",),
        "calls the score at σ² instead of σ", ("dsm_scalar",)),
    Bug("bug_ls_ignores_generator", "langevin_step", ("langevin_law",),
        "ignores its generator argument", ("langevin_shape",)),
    Bug("bug_al_final_denoise", "annealed_langevin", ("annealed_law",),
        "final denoising step", ("annealed_shape",)),
    Bug("bug_sn_shared_noise", "sample_normal", ("normal_law",), "one ε shared",
        ("reparameterized",)),
    Bug("bug_sb_inverted", "sample_bernoulli", ("bernoulli_law",), "compares u > y",
        ("binary",)),
    Bug("bug_sb_probabilities", "sample_bernoulli", ("binary", "bernoulli_law"),
        "returns the probabilities"),
    Bug("bug_elbo_sum_over_batch", "elbo_loss", ("elbo_expectation",),
        "sums over the batch instead of averaging", ("elbo_scalar",)),
    Bug("bug_elbo_returns_elbo", "elbo_loss", ("elbo_expectation",),
        "returns the ELBO itself", ("elbo_scalar",)),
    Bug("bug_elbo_no_kl", "elbo_loss", ("elbo_expectation",),
        "drops log p(z) − log q(z|x)"),
    Bug("bug_elbo_no_sampling", "elbo_loss", ("elbo_expectation",), "no noise is drawn"),
    Bug("bug_dsm_missing_half", "dsm_loss", ("dsm_expectation",), "missing the ½",
        ("dsm_scalar",)),
    Bug("bug_dsm_noise_sign", "dsm_loss", ("dsm_expectation",),
        "wrong sign of the noise term"),
    Bug("bug_dsm_lambda_sigma", "dsm_loss", ("dsm_expectation",),
        "λ(σ) = σ instead of σ²"),
    Bug("bug_dsm_sum_over_batch", "dsm_loss", ("dsm_expectation",),
        "sums over the batch instead of averaging"),
    Bug("bug_ls_sqrt_alpha", "langevin_step", ("langevin_law",), "√α instead of √(2α)",
        ("langevin_shape",)),
    Bug("bug_ls_drift_sign", "langevin_step", ("langevin_law",), "drift has the wrong sign"),
    Bug("bug_ls_no_noise", "langevin_step", ("langevin_law",), "no noise term"),
    Bug("bug_ls_flat_output", "langevin_step", ("langevin_shape", "langevin_law"),
        "returned shape (8000,)"),
    Bug("bug_al_sqrt_alpha", "annealed_langevin", ("annealed_law",), "√α_i instead of √(2α_i)",
        ("annealed_shape",)),
    Bug("bug_al_unscaled_step", "annealed_langevin", ("annealed_law",),
        "step size is η at every level"),
    Bug("bug_al_reversed", "annealed_langevin", ("annealed_law",),
        "from the smallest σ to the largest"),
)


@pytest.fixture(scope="module")
def session():  # noqa: ANN201 - one sandbox holding every submission of the folder
    with Session(submission_files(SUBMISSIONS), SETTINGS) as shared:
        shared.start()
        yield shared


def _by_check(results: list) -> dict[str, object]:
    function = spec(results[0].function)
    return {p.check: r for p, r in zip(function.properties, results)}


def test_the_catalogue_holds_at_least_fifteen_buggy_implementations_all_tested() -> None:
    files = {p.stem for p in SUBMISSIONS.glob("bug_*.py")}
    assert files == {b.module for b in BUGS} and len(files) >= 15
    assert {b.function for b in BUGS} == {s.name for s in CODE_SPECS}  # every function


@pytest.mark.slow
@pytest.mark.parametrize("bug", BUGS, ids=[b.module for b in BUGS])
def test_each_buggy_implementation_is_caught_with_the_right_feedback(session: Session,
                                                                     bug: Bug) -> None:
    results = _by_check(check_function(session, spec(bug.function), [bug.module]))
    for check in bug.failing:
        assert results[check].score == 0, results[check].output
        assert bug.feedback in results[check].output, results[check].output
        assert results[check].output.startswith("✗")
    for check in bug.passing:
        assert results[check].score == results[check].max_score, results[check].output


@pytest.mark.slow
@pytest.mark.parametrize("module", ["reference", "reference_alt"])
def test_the_reference_implementations_get_full_points(session: Session, module: str) -> None:
    for function in CODE_SPECS:
        for result in check_function(session, function, [module]):
            assert result.score == result.max_score, (result.name, result.output)
            assert result.output.startswith("✓")


def test_the_deterministic_feedback_quotes_a_minimal_failing_input(session: Session) -> None:
    (ordinary, *_) = check_function(session, spec("log_bernoulli"), ["bug_lb_bce_sign"])
    assert "minimal failing input (shrunk by Hypothesis)" in ordinary.output
    assert "x = [[0.]]" in ordinary.output and "y = [[0.5]]" in ordinary.output


# --------------------------------------------------------------------------------------------
# a hostile submission, graded like any other


@pytest.mark.slow
def test_a_hostile_submission_is_contained_and_its_correct_function_still_scores(
        tmp_path: Path) -> None:
    key = tmp_path / "source" / "answer_key.toml"
    results_json = tmp_path / "results" / "results.json"
    marker = tmp_path / "host_marker"
    for directory in (key.parent, results_json.parent):
        directory.mkdir(mode=0o700)
    key.write_text('secret = "KEY-MARKER-C0DE"\n')
    results_json.write_text("{}\n")
    source = (SUBMISSIONS / "hostile.py").read_text()
    source = (source.replace("/autograder/source/answer_key.toml", str(key))
              .replace("/autograder/results/results.json", str(results_json))
              .replace("/tmp/genverify_hostile_marker", str(marker)))
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "hostile.py").write_text(source)
    settings = CheckSettings(failure_prob=1e-8, examples=10, shrink_seconds=1.0,
                             limits=Limits(call_seconds=3, memory_bytes=1536 * 2**20))
    results = grade_code_submission(submission, settings=settings)
    # the harness is alive and reports every property of every function
    assert [r.name for r in results] == [f"{f.name}: {p.name}" for f in CODE_SPECS
                                         for p in f.properties]
    outputs = {f.name: "\n".join(r.output for r in results if r.function == f.name)
               for f in CODE_SPECS}
    assert "timed out" in outputs["log_bernoulli"]
    assert "MemoryError" in outputs["sample_normal"]
    assert "segmentation fault" in outputs["sample_bernoulli"]
    assert "exited with status 0" in outputs["elbo_loss"]
    assert "Network is unreachable" in outputs["dsm_loss"]
    assert "langevin_step: one step" in [r.name[:23] for r in results if r.score == 0][-1]
    for result in results:
        if result.function == "annealed_langevin":
            assert result.score == result.max_score, result.output
        elif result.function != "langevin_step":
            assert result.score == 0, result.output
    assert not any("KEY-MARKER" in output for output in outputs.values())
    assert results_json.read_text() == "{}\n" and not marker.exists()
    assert not Path("/tmp/stolen_key").exists()


# --------------------------------------------------------------------------------------------
# what the submission's files are, read without running them


def test_functions_are_located_by_parsing_without_running_anything(tmp_path: Path) -> None:
    (tmp_path / "vae.py").write_text("import os\nos.system('touch /tmp/never')\n"
                                     "def log_bernoulli(x, y):\n    return x\n"
                                     "from helpers import sample_normal\n")
    (tmp_path / "broken.py").write_text("def log_normal_diag(:\n")
    (tmp_path / "not-a-module.py").write_text("def dsm_loss(): pass\n")
    files = submission_files(tmp_path)
    assert [f.name for f in files] == ["broken.py", "vae.py"]
    located, notes = locate_functions(files)
    assert located["log_bernoulli"] == ["vae"] and located["sample_normal"] == ["vae"]
    assert "log_normal_diag" not in located and "dsm_loss" not in located
    assert notes == ["broken.py does not parse (SyntaxError at line 1)"]


def test_a_missing_function_scores_zero_and_names_the_expected_signature(tmp_path: Path) -> None:
    (tmp_path / "answers.py").write_text("def something_else():\n    pass\n")
    results = grade_code_submission(tmp_path, specs=(spec("sample_normal"),), settings=SETTINGS)
    assert [r.score for r in results] == [0.0, 0.0]
    assert "sample_normal(mu, logvar, generator=None) -> Tensor[batch, d]" in results[0].output


# --------------------------------------------------------------------------------------------
# the references behind the checks, by second routes


def test_every_known_mistake_differs_from_the_reference_on_ordinary_inputs() -> None:
    from grading.code.vae_checks import _draw_examples

    r = references()
    for name, arguments in (("log_normal_diag", ("x", "mu", "logvar")),
                            ("log_bernoulli", ("x", "y"))):
        examples = _draw_examples(input_strategy(name), 20)
        for mistake in mistakes(name):
            differs = False
            for example in examples:
                args = [example[a] for a in arguments]
                right = getattr(r, name)(*args)
                with np.errstate(all="ignore"):
                    wrong = mistake.returns(*args)
                scale = 1e-3 * (np.abs(right) + getattr(r, name + "_magnitude")(*args))
                differs |= bool(np.any(~(np.abs(wrong - right) <= scale)))
            assert differs, mistake.feedback  # a mutant equal to the answer would misfire


def test_the_log_density_reference_matches_the_textbook_form_and_needs_its_magnitude() -> None:
    r = references()
    x, mu, logvar = 1000.001, 1000.0, -20.0
    # exact: -(log 2π + logvar)/2 - (x - mu)^2 / (2 exp(logvar)), with exact squares
    quadratic = Fraction(x) - Fraction(mu)
    exact = -(math.log(2 * math.pi) + logvar) / 2 - float(quadratic**2) / (2 * math.exp(logvar))
    args = [np.array([[v]]) for v in (x, mu, logvar)]
    value = float(r.log_normal_diag(*args)[0])
    magnitude = float(r.log_normal_diag_magnitude(*args)[0])
    assert abs(value - exact) <= 1e3 * np.finfo(float).eps * magnitude  # within the bound
    assert abs(value - exact) > 1e-6 * abs(exact)  # a plain relative tolerance would misfire
    ordinary = [np.array([[0.3, -1.2]]), np.array([[1.0, 0.5]]), np.array([[0.2, -0.4]])]
    textbook = np.sum(-0.5 * (np.log(2 * np.pi) + ordinary[2])
                      - (ordinary[0] - ordinary[1]) ** 2 / (2 * np.exp(ordinary[2])), axis=-1)
    np.testing.assert_allclose(r.log_normal_diag(*ordinary), textbook, rtol=1e-12)


def test_the_elbo_expectation_by_quadrature_agrees_with_monte_carlo() -> None:
    fixture = _vae_fixture(20240607)
    reconstruction, kl = _elbo_terms(fixture)
    rng = np.random.default_rng(7)
    mu, logvar = fixture.encoder(fixture.x).values()
    n = 4000
    eps = rng.standard_normal((n, *mu.shape))
    z = mu + np.exp(logvar / 2) * eps
    y = fixture.decoder(z.reshape(-1, 2))["r0"].reshape(n, *fixture.x.shape)
    log_px = np.sum(fixture.x * np.log(y) + (1 - fixture.x) * np.log1p(-y), axis=-1)
    kl_textbook = 0.5 * np.sum(mu**2 + np.exp(logvar) - 1 - logvar, axis=-1)  # second route
    np.testing.assert_allclose(kl, kl_textbook, rtol=1e-12)
    single = log_px - 0.5 * np.sum(z**2, axis=-1) + 0.5 * np.sum(eps**2 + logvar, axis=-1)
    estimate = Estimate.from_samples(single.mean(axis=1))
    check_close(estimate, float(np.mean(reconstruction - kl)), failure_prob=1e-7
                ).raise_if_failed()
    # power: dropping the KL part moves the mean by mean(KL), far beyond the tolerance
    assert not check_close(estimate, float(np.mean(reconstruction)), failure_prob=1e-7).passed


def test_the_dsm_expectation_by_quadrature_agrees_with_monte_carlo() -> None:
    rng = np.random.default_rng(11)
    x = _mixture_samples(rng, 6)
    sigma = np.array([0.1, 0.3, 1.0, 0.1, 0.3, 1.0])
    expected = _dsm_expectations(x, sigma)
    n = 20000
    eps = rng.standard_normal((n, *x.shape))
    noisy = (x + sigma[:, None] * eps).reshape(-1, 2)
    score = _mixture_score(noisy, np.tile(sigma, n))["r0"].reshape(n, *x.shape)
    loss = np.mean(0.5 * sigma**2 * np.sum((score + eps / sigma[:, None]) ** 2, axis=-1), axis=1)
    estimate = Estimate.from_samples(loss)
    check_close(estimate, expected["loss"], failure_prob=1e-7).raise_if_failed()
    assert not check_close(estimate, expected["noise_sign"], failure_prob=1e-7).passed


def test_the_lent_score_is_the_gradient_of_the_noised_mixture_log_density() -> None:
    def log_density(points: np.ndarray, sigma: float) -> np.ndarray:  # typed, a second route
        variance = _MIXTURE_STDS**2 + sigma**2
        squared = np.sum((points[:, None, :] - _MIXTURE_MEANS[None]) ** 2, axis=-1)
        return np.log(np.sum(_MIXTURE_WEIGHTS * np.exp(-squared / (2 * variance))
                             / (2 * np.pi * variance), axis=-1))

    points = np.random.default_rng(3).uniform(-4, 4, (50, 2))
    h = 1e-6
    numeric = np.stack([(log_density(points + h * e, 0.3) - log_density(points - h * e, 0.3))
                        / (2 * h) for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(_mixture_score(points, 0.3)["r0"], numeric, rtol=1e-6, atol=1e-6)


def test_the_batch_helpers_copy_only_module_named_files(tmp_path: Path) -> None:
    shutil.copy(SUBMISSIONS / "reference.py", tmp_path / "reference.py")
    (tmp_path / "notes.txt").write_text("not code")
    assert submission_files(tmp_path) == [tmp_path / "reference.py"]
    assert submission_files(tmp_path / "reference.py") == [tmp_path / "reference.py"]


def test_names_are_found_in_a_fresh_interpreter_when_this_one_cannot_parse(tmp_path, monkeypatch):
    """The fallback for CPython 3.11's broken ast.parse state (gh-106905)."""
    from grading.code import session as code_session

    student = tmp_path / "student.py"
    student.write_text("import torch\ndef log_bernoulli(x, y):\n    return x\nTHRESHOLD = 1\n")

    def broken(path):
        raise SystemError("AST constructor recursion depth mismatch (before=147, after=37)")

    monkeypatch.setattr(code_session, "_parse_python", broken)
    defined, notes = code_session.locate_functions([student])
    assert set(defined) == {"torch", "log_bernoulli", "THRESHOLD"} and not notes


# -- tests that kill mutants (issue 13): the shared helpers, without a sandbox ------------------


def _generator_context(call):
    from types import SimpleNamespace

    spec = SimpleNamespace(arguments=(("x", "data"), ("generator", "generator")))
    return SimpleNamespace(spec=spec, seed=lambda k: 1000 + k, call=call)


def _case(out, ok: bool = True):
    from grading.code.session import CaseResult

    array = None if out is None else np.asarray(out, dtype=np.float64)
    info = {} if array is None else {"shape": list(array.shape)}
    return CaseResult(ok, "" if ok else "RuntimeError: boom", info, array, {})


def _returning(*results):
    return lambda cases, arrays, **options: list(results)


def test_the_generator_twins_decide_only_when_both_calls_return_comparable_outputs() -> None:
    from grading.code.context import respecting_generator, success
    from grading.code.session import StudentCodeFailed

    passed = success("draws from N(0, 1)")

    def crashes(cases, arrays, **options):
        raise StudentCodeFailed("the sandbox died")

    assert respecting_generator(_generator_context(crashes), passed, {}, {}) is passed
    for first, second in [(_case([1.0, 2.0]), _case([1.0, 2.0, 3.0])),  # shapes differ
                          (_case(None, ok=False), _case([1.0, 2.0])),  # one call raised
                          (_case([1.0, 2.0]), _case(None))]:  # no tensor returned
        context = _generator_context(_returning(first, second))
        assert respecting_generator(context, passed, {}, {}) is passed
    alike = _generator_context(_returning(_case([1.0, 2.0]), _case([1.0, 2.0])))
    assert respecting_generator(alike, passed, {}, {}) is passed
    ignored = _generator_context(_returning(_case([1.0, 2.0]), _case([1.0, 2.5])))
    assert respecting_generator(ignored, passed, {}, {}).fraction == 0.0


def test_feedback_summarises_arrays_longer_than_24_entries() -> None:
    from grading.code.context import show

    assert "..." not in show(np.arange(24.0))
    assert "..." in show(np.arange(25.0))


def test_a_crash_while_shrinking_ends_the_search_without_running_the_input_again() -> None:
    from types import SimpleNamespace

    from grading.code.session import StudentCodeFailed
    from grading.code.vae_checks import _shrink

    calls = []

    def crashes(cases, arrays, **options):
        calls.append(cases)
        raise StudentCodeFailed("the sandbox died")

    ctx = SimpleNamespace(spec=spec("log_normal_diag"), call=crashes,
                          settings=CheckSettings(examples=5, shrink_seconds=5.0))
    found = _shrink(ctx, input_strategy("log_normal_diag"), "float64")
    assert found is not None
    example, verdict = found
    assert verdict.kind == "error" and "the sandbox died" in verdict.text
    assert len(calls) == 1  # a crashing student function is not run a second time


def test_the_dsm_mistakes_expectations_are_consistent_with_the_loss_s() -> None:
    """Deterministic: with one noise level σ, each mistake's E_ε[·] is a fixed combination of
    E‖s‖² and E[s·ε] (E‖ε‖² = 2, exact for Gauss–Hermite), both read off the loss and the
    wrong-sign variant: E‖s‖² = (loss + sign)/σ² − 2/σ², E[s·ε] = (loss − sign)/(2σ)."""
    x = _mixture_samples(np.random.default_rng(12), 4)
    for level in (0.1, 0.3, 1.0):
        e = _dsm_expectations(x, np.full(4, level))
        assert e["lambda_sigma"] == pytest.approx(e["loss"] / level, rel=1e-9)
        assert e["lambda_one"] == pytest.approx(e["loss"] / level**2, rel=1e-9)
        s2 = (e["loss"] + e["noise_sign"]) / level**2 - 2 / level**2
        se = (e["loss"] - e["noise_sign"]) / (2 * level)
        assert e["noise_times"] == pytest.approx(
            0.5 * level**2 * (s2 + 2 * level * se + 2 * level**2), rel=1e-7)
        assert e["noise_over_variance"] == pytest.approx(
            0.5 * level**2 * (s2 + 2 * se / level**2 + 2 / level**4), rel=1e-7)


@pytest.mark.slow
def test_the_langevin_law_spends_a_third_of_its_budget_on_each_of_its_three_tests(
        session: Session) -> None:
    from grading.code.context import z_bound

    results = _by_check(check_function(session, spec("langevin_step"), ["bug_ls_drift_sign"]))
    output = results["langevin_law"].output
    third = SETTINGS.failure_prob / 3
    assert f"false-failure probability {third:.3g}" in output  # the KS test
    assert f"(bound {z_bound(third):.2f})" in output  # residuals against the score
    assert f"(bound {z_bound(third) / math.sqrt(4000):.3f})" in output  # the correlation


@pytest.mark.slow
def test_a_langevin_step_with_a_wrong_drift_is_not_also_blamed_for_its_noise(
        session: Session) -> None:
    results = _by_check(check_function(session, spec("langevin_step"), ["bug_ls_drift_sign"]))
    output = results["langevin_law"].output
    assert "Likely mistake: the drift has the wrong sign (x − α s)." in output
    assert "noise" not in output.split("Likely mistake:")[1].split("\n")[0]


@pytest.mark.slow
def test_an_elbo_of_a_sample_declared_a_loss_is_graded_as_minus_the_elbo(tmp_path: Path) -> None:
    """The built-in cs446-vae profile declares its elbo_loss an objective; a staff-written
    profile may declare it a loss (−ELBO): then the negated ELBO earns the points and the
    ELBO itself is named as the sign mistake."""
    from grading.code.profiles import load_profile, resolve

    here = Path(__file__).parent
    text = (here.parents[2] / "grading/code/profiles/cs446-vae.toml").read_text()
    assert text.count('sign = "objective"') == 1
    written = tmp_path / "as-a-loss.toml"
    written.write_text(text.replace('name = "cs446-vae"', 'name = "as-a-loss"')
                       .replace('sign = "objective"', 'sign = "loss"'))
    profile = load_profile(written)
    elbo = next(f for f in profile.functions if f.name == "elbo_loss")
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("correct_float32.py", "bug_elbo_negated.py"):
        shutil.copy(here / "cs446_vae" / name, folder / name)
    files = submission_files(folder)
    located = locate_functions(files)[0]
    with Session(files, SETTINGS) as session:
        session.start()
        graded = {}
        for module in ("correct_float32", "bug_elbo_negated"):
            name, _ = resolve(elbo, {k: [m for m in v if m == module]
                                     for k, v in located.items() if module in v})
            results = check_function(session, elbo, [module], SETTINGS, function=name,
                                     siblings=profile.functions)
            graded[module] = {p.check: r for p, r in zip(elbo.properties, results)}
    negated, plain = graded["bug_elbo_negated"], graded["correct_float32"]
    assert all(r.score == r.max_score for r in negated.values()), negated
    assert plain["elbo_value"].score == 0
    assert "returns the ELBO itself; the loss to minimise is −ELBO" in plain["elbo_value"].output
