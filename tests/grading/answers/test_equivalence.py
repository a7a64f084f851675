"""The equivalence engine: the labelled set of course answers, and the verdict contract."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import sympy as sp

from grading.answers.equivalence import Kind, Verdict, check_equivalence

LABELLED = tomllib.loads(Path(__file__).with_name("labelled_pairs.toml").read_text("utf-8"))
PAIRS: list[dict[str, Any]] = LABELLED["pair"]


def test_the_labelled_set_has_at_least_60_pairs_of_both_kinds() -> None:
    kinds = [pair["expected"] for pair in PAIRS]
    assert len(PAIRS) >= 60
    assert kinds.count("equivalent") >= 25 and kinds.count("not_equivalent") >= 25


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{i}" for i in range(len(PAIRS))])
def test_every_labelled_pair_gets_the_right_verdict_and_mistake(pair: dict[str, Any]) -> None:
    verdict = check_equivalence(pair["reference"], pair["answer"],
                                assumptions=LABELLED["profiles"][pair["profile"]])
    assert verdict.kind.value == pair["expected"], verdict.reason
    assert (verdict.mistake.name if verdict.mistake else None) == pair.get("mistake")


def test_a_counterexample_comes_with_the_point_and_both_values() -> None:
    verdict = check_equivalence(r"\frac{1}{2\sigma^2}", r"\frac{1}{2\sigma}",
                                assumptions={"sigma": "positive"})
    assert verdict.kind is Kind.NOT_EQUIVALENT
    assert set(verdict.counterexample) == {"sigma"}
    sigma = float(verdict.counterexample["sigma"])
    assert float(verdict.reference_value) == pytest.approx(1 / (2 * sigma**2))
    assert float(verdict.answer_value) == pytest.approx(1 / (2 * sigma))
    assert verdict.mistake is not None and verdict.mistake.name == "sigma_vs_sigma_squared"


def test_renaming_the_dummy_index_is_equivalent_but_untying_an_entry_is_not() -> None:
    renamed = check_equivalence(r"\sum_{j=1}^{G} x_j y_j", r"\sum_{k=1}^{G} x_k y_k")
    untied = check_equivalence(r"\sum_{j=1}^{G} x_j y_j", r"\sum_{k=1}^{G} x_j y_k")
    assert renamed.kind is Kind.EQUIVALENT
    assert untied.kind is Kind.NOT_EQUIVALENT


def test_a_sum_without_bounds_takes_the_bound_of_the_reference() -> None:
    verdict = check_equivalence(r"\sum_{j=1}^{G} x_j", r"\sum_j x_j")
    assert verdict.kind is Kind.EQUIVALENT


def test_a_parse_error_is_its_own_verdict_with_the_position() -> None:
    verdict = check_equivalence("x", r"x + \frac{1}{")
    assert verdict.kind is Kind.PARSE_ERROR
    assert verdict.parse_error_in == "answer"
    assert verdict.position == 13


def test_an_unreadable_reference_is_reported_as_such() -> None:
    verdict = check_equivalence(r"\frac{", "x")
    assert verdict.kind is Kind.PARSE_ERROR
    assert verdict.parse_error_in == "reference"


def test_a_sympy_reference_keeps_its_symbols_and_assumptions() -> None:
    sigma = sp.Symbol("sigma", positive=True)
    verdict = check_equivalence(sp.log(sigma**2), r"2\log\sigma")
    assert verdict.kind is Kind.EQUIVALENT


def test_a_sympy_lambda_reference_is_compared_by_its_body() -> None:
    x = sp.Symbol("x", real=True)
    verdict = check_equivalence(sp.Lambda(x, x**2), "x*x")
    assert verdict.kind is Kind.EQUIVALENT


def test_what_cannot_be_evaluated_is_undecided_with_the_reason() -> None:
    t = sp.Symbol("t", real=True)
    verdict = check_equivalence(sp.Integral(sp.exp(-t**2), (t, 0, sp.Symbol("a"))), "a")
    assert verdict.kind is Kind.UNDECIDED
    assert "Integral" in verdict.reason


def test_the_verdict_shows_how_the_answer_was_read() -> None:
    verdict = check_equivalence(r"\bar{\alpha}_t", r"\bar\alpha_t")
    assert verdict.answer_latex == r"\bar{\alpha}_{t}"


def test_a_verdict_has_no_truth_value_so_it_cannot_be_a_silent_false() -> None:
    verdict = check_equivalence("x", "y")
    with pytest.raises(TypeError, match="four outcomes"):
        bool(verdict)
    assert verdict.is_equivalent is False


def test_a_verdict_round_trips_through_json() -> None:
    verdict = check_equivalence(r"-\frac{x-\mu}{\sigma^2}", r"\frac{x-\mu}{\sigma^2}",
                                assumptions={"sigma": "positive"})
    again = Verdict.from_dict(json.loads(json.dumps(verdict.to_dict())))
    assert again == verdict
    assert "sign is flipped" in str(again)


def test_the_same_seed_gives_the_same_counterexample() -> None:
    first = check_equivalence("x^2", "x^3", seed=5)
    second = check_equivalence("x^2", "x^3", seed=5)
    assert first.counterexample == second.counterexample


def test_an_unknown_assumption_kind_is_refused_before_any_work() -> None:
    with pytest.raises(ValueError, match="unknown assumption"):
        check_equivalence("x", "x", assumptions={"x": "huge"})
