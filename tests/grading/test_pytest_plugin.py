"""The pytest plugin: answers*.toml collected as one item per part, failures quoting the file
(grading/pytest_plugin.py), run with pytest's own ``pytester``."""

from __future__ import annotations

from pathlib import Path

import pytest

# imported here, before pytester's in-process runs snapshot sys.modules: the key, its
# derivations and the graded results then stay cached across the runs
import grading.key.homework  # noqa: F401
import grading.pytest_plugin  # noqa: F401
import grading.submission  # noqa: F401

pytest_plugins = ("pytester",)

DATA = Path(__file__).parent / "data"
PLUGIN = ("-p", "grading.pytest_plugin", "-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def _only_the_plugins_named(monkeypatch):
    """Inner runs load no installed entry point, so ``-p grading.pytest_plugin`` is the only
    way the plugin gets in (also once the lead registers it as the ``genverify`` entry point)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _copy(pytester: pytest.Pytester, name: str) -> None:
    pytester.makefile(".toml", **{name.removesuffix(".toml"): (DATA / name).read_text(
        encoding="utf-8")})


def test_a_correct_answers_file_passes_every_automatic_part(pytester):
    _copy(pytester, "answers_correct.toml")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=14, skipped=5)


def test_each_wrong_part_fails_with_the_line_of_the_file_quoted(pytester):
    _copy(pytester, "answers_partial.toml")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=4, failed=11, skipped=5)  # 10 wrong parts and 5.a
    result.stdout.fnmatch_lines([
        "*answers_partial.toml:15: part 1.h is partial (1.75/3.5 points)",
        "*15 | \"1.h\" = '\\frac{(\\mu_\\phi - \\mu_p)^2}{\\sigma^2}'*",
        "*feedback: Off by a factor of 2*",
    ])
    result.stdout.fnmatch_lines(["*line 3 of the answer is the first that does not follow*"])
    result.stdout.fnmatch_lines(["*'5.a' is not a part of the answer key*"])


def test_figures_are_skipped_as_pending(pytester):
    _copy(pytester, "answers_correct.toml")
    result = pytester.runpytest(*PLUGIN, "-rs")
    result.stdout.fnmatch_lines(["*4.b: graded by a person, 12 points pending*"])


def test_other_toml_files_are_not_collected(pytester):
    pytester.makefile(".toml", pyproject="[tool.x]\na = 1\n", notes='"1.g" = "0"\n')
    result = pytester.runpytest(*PLUGIN)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_malformed_answers_file_is_a_collection_error_with_one_message(pytester):
    pytester.makefile(".toml", answers='"1.g" = \n')
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*answers.toml: not valid TOML*"])


def test_without_the_plugin_answers_files_are_ignored(pytester):
    _copy(pytester, "answers_correct.toml")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_results_go_to_junit_xml(pytester):
    pytester.makefile(".toml", answers='"1.g" = "0"\n"1.h" = "1"\n')
    result = pytester.runpytest(*PLUGIN, "--junitxml=report.xml")
    result.assert_outcomes(passed=1, failed=13, skipped=5)  # 1.h wrong, 12 parts missing
    xml = (pytester.path / "report.xml").read_text(encoding="utf-8")
    assert 'name="1.g"' in xml and 'name="points"' in xml


def test_students_running_the_plugin_never_see_the_key(pytester):
    pytester.makefile(".toml", answers='"1.j" = "(1)"\n"1.f" = "yes"\n')
    result = pytester.runpytest(*PLUGIN, "-k", "1.j or 1.f")
    result.assert_outcomes(failed=2, deselected=17)
    result.stdout.fnmatch_lines(["*feedback: that is not the right option*"])
    result.stdout.fnmatch_lines(["*feedback: yes is not the expected answer*"])
    assert "(3) p_θ(z|x)" not in result.stdout.str() and "key:" not in result.stdout.str()
    assert "ignores x" not in result.stdout.str()


def test_staff_see_the_key_with_the_audience_option(pytester):
    pytester.makefile(".toml", answers='"1.j" = "(1)"\n')
    result = pytester.runpytest(*PLUGIN, "-k", "1.j", "--genverify-audience", "staff")
    result.assert_outcomes(failed=1, deselected=18)
    result.stdout.fnmatch_lines(["*feedback: the answer is (3) p_θ(z|x)*",
                                 "*key: (3) p_θ(z|x)*"])
