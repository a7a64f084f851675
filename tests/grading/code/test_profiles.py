"""Interface profiles: the built-in ones load and are detected from the functions a file
defines; a staff-written TOML profile is validated with clear messages; and the course's own
starter interfaces are graded end to end on corpora written in students' styles — every
correct submission gets full marks, every buggy one loses exactly the points of the function
at fault, with the mistake named.

The corpora (``cs446_vae/``, ``cs446_diffusion/``) are ours, written in the styles students
use; each ``manifest.toml`` states the function at fault and what the feedback must say.

False-failure budget: the checks run with failure_prob = 1e-9 per statistical property; the
corpora hold 68 submissions of at most 4 statistical properties each (≤ 272 properties), so
a correct property fails by chance with probability ≤ 3e-7 in this file. Seeds are fixed
(CheckSettings.seed = 446).
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from grading.code.checks import CheckSettings, Session, check_function, grade_code
from grading.code.profiles import (ProfileError, builtin_profiles, detect_profile,
                                   load_profile, parse_profile, resolve)
from grading.code.session import locate_functions, submission_files
from grading.code.spec import CODE_SPECS

HERE = Path(__file__).parent
SETTINGS = CheckSettings(failure_prob=1e-9, examples=20, shrink_seconds=1.0)
CORPORA = {"cs446-vae": HERE / "cs446_vae", "cs446-diffusion": HERE / "cs446_diffusion"}


def _manifest(profile: str) -> list[dict]:
    return tomllib.loads((CORPORA[profile] / "manifest.toml").read_text())["submission"]


# --------------------------------------------------------------------------------------------
# profiles


def test_the_built_in_profiles_are_the_project_s_own_and_the_two_course_starters() -> None:
    profiles = builtin_profiles()
    assert set(profiles) == {"genverify", "cs446-vae", "cs446-diffusion"}
    assert profiles["genverify"].functions == CODE_SPECS
    vae = {f.name: f for f in profiles["cs446-vae"].functions}
    assert vae["elbo_loss"].sign == "objective" and vae["elbo_loss"].where == "VAE.elbo_loss"
    assert vae["sample_diagonal_gaussian"].scale == "variance"
    assert vae["logpdf_diagonal_gaussian"].input_dtypes == ("float32",)
    diffusion = {f.name: f for f in profiles["cs446-diffusion"].functions}
    assert diffusion["compute_denoising_loss"].form("data") == ("tensor", "numpy")


def test_a_profile_is_loaded_by_name_or_from_a_staff_written_file(tmp_path: Path) -> None:
    text = (HERE.parents[2] / "grading/code/profiles/cs446-vae.toml").read_text()
    copy = tmp_path / "my-course.toml"
    copy.write_text(text.replace('name = "cs446-vae"', 'name = "my-course"')
                    .replace("agreement = 1.5", "agreement = 3.0"))
    mine = load_profile(copy)
    assert mine.name == "my-course" and mine.points == load_profile("cs446-vae").points + 3.0
    with pytest.raises(ProfileError, match="no built-in profile 'cs999'"):
        load_profile("cs999")


_VALID = {"name": "x", "function": [{"name": "f", "role": "log_bernoulli",
                                     "arguments": {"x": "data", "p": "probabilities"}}]}


@pytest.mark.parametrize("change, message", [
    ({"role": "log_bernouli"}, "'role' must be one of"),
    ({"arguments": {"x": "data"}}, "missing: probabilities"),
    ({"arguments": {"x": "data", "p": "variance"}}, "has meaning 'variance'"),
    ({"colour": "red"}, "unknown keys \\['colour'\\]"),
    ({"points": {"agreement": -1}}, "must be a number ≥ 0"),
    ({"points": {"law": 1}}, "no properties \\['law'\\]"),
    ({"where": "a.b.c"}, "'where' must be name or Class.name"),
    ({"input_dtypes": ["int8"]}, "'input_dtypes'"),
    ({"self": {"k": "reference: g"}}, "lends 'g', which is not a function of this profile"),
    ({"forms": {"x": ["pickle"]}}, "'forms'"),
])
def test_a_malformed_profile_is_refused_with_the_entry_and_the_reason(change: dict,
                                                                     message: str) -> None:
    assert parse_profile(_VALID).functions[0].signature == "f(x, p)"  # the twin: valid
    broken = {"name": "x", "function": [{**_VALID["function"][0], **change}]}
    with pytest.raises(ProfileError, match=message):
        parse_profile(broken)


def test_a_function_is_found_by_its_name_not_by_its_file_or_class() -> None:
    vae = {f.name: f for f in load_profile("cs446-vae").functions}
    spec = vae["sample_diagonal_gaussian"]
    assert resolve(spec, {"VAE.sample_diagonal_gaussian": ["hw3_vae"]}) == (
        "VAE.sample_diagonal_gaussian", ["hw3_vae"])
    assert resolve(spec, {"MyVAE.sample_diagonal_gaussian": ["m"]}) == (
        "MyVAE.sample_diagonal_gaussian", ["m"])
    assert resolve(spec, {"sample_diagonal_gaussian": ["m"]}) == ("sample_diagonal_gaussian",
                                                                  ["m"])
    assert resolve(spec, {"VAE.sample_Bernoulli": ["m"]}) is None


@pytest.mark.parametrize("profile", ["cs446-vae", "cs446-diffusion"])
def test_the_profile_is_detected_from_the_functions_a_file_defines(profile: str) -> None:
    for entry in _manifest(profile)[:4]:
        located, notes = locate_functions([CORPORA[profile] / entry["file"]])
        chosen, why = detect_profile(located)
        assert chosen.name == profile and not notes, why
        assert why.startswith(f"profile {profile}")
    located, _ = locate_functions([HERE / "submissions" / "reference.py"])
    assert detect_profile(located)[0].name == "genverify"
    chosen, why = detect_profile({"main": ["m"]})
    assert chosen.name == "genverify" and "none of the functions" in why


# --------------------------------------------------------------------------------------------
# the corpora, graded


def _corpus(name: str):  # noqa: ANN202 - one sandbox holding every file of a corpus
    profile = load_profile(name)
    files = submission_files(CORPORA[name])
    with Session(files, SETTINGS) as session:
        session.start()
        yield profile, session, locate_functions(files)[0]


@pytest.fixture(scope="module")
def cs446_vae():  # noqa: ANN201
    yield from _corpus("cs446-vae")


@pytest.fixture(scope="module")
def cs446_diffusion():  # noqa: ANN201
    yield from _corpus("cs446-diffusion")


def _grade(corpus, module: str) -> dict[str, list]:  # noqa: ANN001
    profile, session, located = corpus
    graded = {}
    for spec in profile.functions:
        name, _ = resolve(spec, {k: [m for m in v if m == module] for k, v in located.items()
                                 if module in v})
        graded[spec.name] = check_function(session, spec, [module], SETTINGS, function=name,
                                           siblings=profile.functions)
    return graded


def test_each_corpus_holds_enough_correct_and_buggy_submissions_in_its_manifest() -> None:
    for profile, folder in CORPORA.items():
        entries = _manifest(profile)
        assert {e["file"] for e in entries} == {p.name for p in folder.glob("*.py")}
        correct = [e for e in entries if not e["fault"]]
        buggy = [e for e in entries if e["fault"]]
        assert len(correct) >= 8 and len(buggy) >= 15, profile
        names = {f.name for f in load_profile(profile).functions}
        assert {e["fault"] for e in buggy} == names  # every graded function has its bugs


@pytest.mark.slow
@pytest.mark.parametrize("profile, entry", [(p, e) for p in sorted(CORPORA)
                                            for e in _manifest(p)],
                         ids=[f"{p}:{e['file'][:-3]}" for p in sorted(CORPORA)
                              for e in _manifest(p)])
def test_a_submission_loses_exactly_the_points_of_the_function_at_fault(
        request: pytest.FixtureRequest, profile: str, entry: dict) -> None:
    corpus = request.getfixturevalue(profile.replace("-", "_"))
    graded = _grade(corpus, entry["file"][:-3])
    for function, results in graded.items():
        lost = [r for r in results if r.score < r.max_score]
        if function != entry["fault"]:
            assert not lost, (function, [r.output for r in lost])
            continue
        assert lost, f"{entry['file']}: the mistake in {function} was not caught"
        assert any(entry["feedback"] in r.output for r in lost), [r.output for r in lost]
        assert all(r.output.startswith("✗") for r in lost)


def test_the_built_in_profile_files_are_installed_with_the_package() -> None:
    import fnmatch

    root = HERE.parents[2]
    declared = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["grading.code"]
    shipped = [p.relative_to(root / "grading" / "code").as_posix()
               for p in (root / "grading" / "code" / "profiles").glob("*.toml")]
    assert shipped and all(any(fnmatch.fnmatch(f, pattern) for pattern in declared)
                           for f in shipped)
    assert not any(fnmatch.fnmatch("profiles/x.py", pattern) for pattern in declared)


def test_the_readme_s_profile_example_is_a_valid_profile() -> None:
    readme = (HERE.parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index('```toml\nname = "my-course"') + len("```toml\n")
    example = parse_profile(tomllib.loads(readme[start:readme.index("```", start)]))
    assert [f.name for f in example.functions] == ["logpdf_bernoulli", "elbo_loss"]
    assert example.functions[1].sign == "objective" and example.points == 2.0 + 2.0
