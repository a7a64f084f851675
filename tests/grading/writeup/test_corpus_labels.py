"""Checks the labels of the write-up corpus (issue 14) against the answer key, independently of
any reader.

``corpus/`` holds students' write-ups of Homework 5 (LaTeX, Markdown converted from a PDF,
plain text), all written for this corpus; ``corpus/manifest.toml`` says, for every part, what
a careful human grader extracts (``answer``), where (``lines``) and the verdict it deserves
(``status``). A reader that finds parts inside a write-up is tested against these labels; this
module proves the labels themselves:

* the manifest is well formed: every file exists, every automatically graded part is listed,
  the line ranges lie inside the file and hold the start of the answer;
* every typed answer gets its label from the key (``grading.key.registry.grade``), except the
  answers listed in :data:`KEY_DISAGREES`, where a human grader and the key disagree (each is
  a defect of the key, reported to the lead; a test checks that each still disagrees, so a
  fixed key moves it back into the checked labels);
* an undecided part's candidates get different grades (choosing one silently would change
  the grade), and figure parts are left to a person;
* the corpus meets its coverage target (issue 14).

Source: HOMEWORK.md (the parts and what a right answer is), DESIGN.md (Grading).
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from grading.key.registry import grade, question

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = CORPUS / "manifest.toml"

AUTOMATIC = ("1.a", "1.b", "1.c", "1.d", "1.e", "1.f", "1.g", "1.h", "1.i", "1.j",
             "3.a", "3.b", "3.c", "3.d")
MANUAL = ("2.e.i", "2.e.ii", "2.e.iii", "4.b", "4.c")
GRADED = ("correct", "partial", "incorrect")
STATUSES = GRADED + ("missing", "undecided", "manual")
PART_FIELDS = {"status", "answer", "lines", "start", "candidates", "defer_ok", "note"}
SUFFIXES = (".tex", ".md", ".txt")

# Coverage target of issue 14.
MIN_WRITEUPS = 14
MIN_LABELS = 180
MIN_PER_STATUS = {"correct": 3, "partial": 2, "incorrect": 2}

#: (file, part, what the key says, why a human grader disagrees). The label in the manifest is
#: the human's; these answers are left out of the label check and reported as defects of the
#: key. The first group are confident verdicts a human grader would not give; the second are
#: answers the key cannot read or decide although a person grades them at a glance.
KEY_DISAGREES = [
    # -- the key gives a confident verdict a human grader would not give
    ("w09_restated_questions.tex", "3.c", "partial",
     "'The optimal discriminator is $D^*(x) = ...$.': the right D* in a sentence; the key "
     "reads D^*(x) as a quantity the equation must hold for"),
    # -- the key cannot read or decide an answer a person grades at once
    ("w15_one_sentence.txt", "3.a", "undecided",
     "the classical cost with sums over a sample index i (\\sum_i \\log D_w(x_i)) is not decided"),
]
_DISAGREES = {(file, part): (status, reason) for file, part, status, reason in KEY_DISAGREES}

_LAYOUT = re.compile(r"\s+|\$|&|\\[,;!]|\\left|\\right|\*\*|~")


# -- reading the manifest --------------------------------------------------------------------


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    """The manifest as TOML tables."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


def entries(manifest: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(file, part, entry) for every labelled part."""
    for writeup in manifest.get("writeup", []):
        for part, entry in writeup.get("parts", {}).items():
            yield writeup.get("file", ""), part, entry


def normalise(text: str) -> str:
    """Text without the layout a grader drops when retyping: whitespace, $, &, thin spaces,
    \\left / \\right, Markdown bold and LaTeX ties."""
    return _LAYOUT.sub("", text)


def answer_start(entry: Mapping[str, Any]) -> str:
    """What the labelled lines must hold: ``start`` if given (verbatim from the file), else
    the beginning of the retyped answer (its first line for a derivation)."""
    if "start" in entry:
        return normalise(entry["start"])
    answer = entry.get("answer") or entry.get("candidates") or [""]
    first = answer if isinstance(answer, str) else answer[0]
    return normalise(first)[:12]


def _is_answer(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, str) and v.strip()
                                                        for v in value))


def manifest_problems(manifest: Mapping[str, Any], corpus: Path = CORPUS) -> list[str]:
    """Every way the manifest is malformed (an empty list when it is well formed)."""
    problems: list[str] = []
    seen: set[str] = set()
    for writeup in manifest.get("writeup", []):
        name = writeup.get("file", "")
        path = corpus / name
        if not name or not path.is_file():
            problems.append(f"{name or '(no file)'}: the file does not exist")
            continue
        if name in seen:
            problems.append(f"{name}: listed twice")
        seen.add(name)
        if path.suffix not in SUFFIXES:
            problems.append(f"{name}: not a .tex, .md or .txt file")
        if not writeup.get("style"):
            problems.append(f"{name}: no style")
        lines = path.read_text(encoding="utf-8").splitlines()
        parts = writeup.get("parts", {})
        for part in AUTOMATIC:
            if part not in parts:
                problems.append(f"{name} {part}: an automatically graded part is not listed")
        for part, entry in parts.items():
            problems += [f"{name} {part}: {p}" for p in _entry_problems(part, entry, lines)]
    return problems


def _entry_problems(part: str, entry: Mapping[str, Any], lines: list[str]) -> list[str]:
    problems = []
    status = entry.get("status")
    if part not in AUTOMATIC + MANUAL:
        problems.append("not a part of the homework")
    if status not in STATUSES:
        return problems + [f"unknown status {status!r}"]
    if unknown := set(entry) - PART_FIELDS:
        problems.append(f"unknown fields {sorted(unknown)}")
    if (status == "manual") != (part in MANUAL):
        problems.append("manual is the status of the figure parts, and only theirs")
    if status in GRADED + ("manual",) and not _is_answer(entry.get("answer")):
        problems.append(f"a {status} part needs the answer a grader extracts")
    if status == "missing" and "answer" in entry:
        problems.append("a missing part has no answer")
    if status == "undecided":
        candidates = entry.get("candidates", [])
        if len(candidates) < 2 or not all(_is_answer(c) for c in candidates):
            problems.append("an undecided part needs two or more candidate answers")
        if not entry.get("defer_ok"):
            problems.append("an undecided part must allow the reader to defer (defer_ok)")
    if not isinstance(entry.get("defer_ok", False), bool):
        problems.append("defer_ok is true or false")
    span = entry.get("lines")
    if span is None:
        if status != "missing":
            problems.append("no line range")
        return problems
    if not (isinstance(span, list) and len(span) == 2 and all(isinstance(n, int) for n in span)
            and 1 <= span[0] <= span[1] <= len(lines)):
        return problems + [f"line range {span} is not inside the file (1..{len(lines)})"]
    if "answer" in entry or "candidates" in entry or "start" in entry:
        held = normalise("\n".join(lines[span[0] - 1:span[1]]))
        start = answer_start(entry)
        if not start or start not in held:
            problems.append(f"lines {span[0]}-{span[1]} do not hold the answer's start "
                            f"{start!r}")
    return problems


def label_mismatch(part: str, entry: Mapping[str, Any]) -> str | None:
    """How the key's grade of the typed answer differs from the label, or None."""
    result = grade(part, entry["answer"])
    if result.status.value == entry["status"]:
        return None
    return (f"labelled {entry['status']}, the key says {result.status.value}: "
            f"{result.feedback}")


def partial_credit_exists(part: str) -> bool:
    """Whether the key can give ``part`` partial credit: a named mistake with credit, a
    hedge, a multi-option choice, or a derivation (a right answer with a faulty step)."""
    q = question(part)
    return (any(m.credit > 0 for m in q.mistakes) or bool(q.hedges) or q.select > 1
            or (q.kind == "derivation" and q.bare_answer_credit > 0))


def coverage_shortfalls(manifest: Mapping[str, Any]) -> list[str]:
    """Where the corpus falls short of issue 14's coverage target."""
    shortfalls = []
    files = [w.get("file", "") for w in manifest.get("writeup", [])]
    labels = [(part, entry["status"]) for _, part, entry in entries(manifest)
              if part in AUTOMATIC]
    if len(files) < MIN_WRITEUPS:
        shortfalls.append(f"{len(files)} write-ups, fewer than {MIN_WRITEUPS}")
    if len(labels) < MIN_LABELS:
        shortfalls.append(f"{len(labels)} labelled (file, part) pairs, fewer than {MIN_LABELS}")
    for suffix in SUFFIXES:
        if not any(f.endswith(suffix) for f in files):
            shortfalls.append(f"no {suffix} write-up")
    counts = Counter(labels)
    for part in AUTOMATIC:
        for status, least in MIN_PER_STATUS.items():
            if status == "partial" and not partial_credit_exists(part):
                continue
            if counts[(part, status)] < least:
                shortfalls.append(f"{part}: {counts[(part, status)]} {status}, fewer than "
                                  f"{least}")
    return shortfalls


# -- the parametrisations --------------------------------------------------------------------

_MANIFEST = load_manifest()
_LABELS = [pytest.param(part, entry, id=f"{file}-{part}")
           for file, part, entry in entries(_MANIFEST)
           if entry["status"] in GRADED and (file, part) not in _DISAGREES]
_UNDECIDED = [pytest.param(part, entry, id=f"{file}-{part}")
              for file, part, entry in entries(_MANIFEST) if entry["status"] == "undecided"]
_MANUAL = [pytest.param(part, entry, id=f"{file}-{part}")
           for file, part, entry in entries(_MANIFEST) if entry["status"] == "manual"]
_LISTED = [pytest.param(file, part, status, id=f"{file}-{part}")
           for file, part, status, _ in KEY_DISAGREES]


def _labelled(file: str, part: str) -> Mapping[str, Any]:
    return next(e for f, p, e in entries(_MANIFEST) if (f, p) == (file, part))


# -- the manifest is well formed ---------------------------------------------------------------


def test_the_manifest_is_well_formed() -> None:
    assert manifest_problems(_MANIFEST) == []


def _broken(change: str) -> dict[str, Any]:
    """A copy of the manifest with one defect."""
    manifest = copy.deepcopy(_MANIFEST)
    first = manifest["writeup"][0]
    parts = first["parts"]
    if change == "missing file":
        first["file"] = "no_such_writeup.tex"
    elif change == "unlisted part":
        del parts["1.g"]
    elif change == "range outside the file":
        parts["1.a"]["lines"] = [1, 10_000]
    elif change == "range without the answer":
        parts["1.h"]["lines"] = [1, 2]
    elif change == "unknown status":
        parts["1.a"]["status"] = "fine"
    elif change == "graded part without an answer":
        del parts["1.a"]["answer"]
    elif change == "undecided without candidates":
        parts["1.a"] = {"status": "undecided", "lines": parts["1.a"]["lines"], "defer_ok": True}
    elif change == "unknown part":
        parts["1.k"] = dict(parts["1.a"])
    return manifest


@pytest.mark.parametrize(("change", "message"), [
    ("missing file", "does not exist"),
    ("unlisted part", "1.g: an automatically graded part is not listed"),
    ("range outside the file", "is not inside the file"),
    ("range without the answer", "do not hold the answer's start"),
    ("unknown status", "unknown status"),
    ("graded part without an answer", "needs the answer a grader extracts"),
    ("undecided without candidates", "needs two or more candidate answers"),
    ("unknown part", "1.k: not a part of the homework"),
])
def test_a_malformed_manifest_is_caught(change: str, message: str) -> None:
    problems = manifest_problems(_broken(change))
    assert any(message in p for p in problems), problems


def test_the_answers_start_ignores_only_layout() -> None:
    entry = {"answer": r"\frac{(\mu_\phi - \mu_p)^2}{2\sigma^2}"}
    assert answer_start(entry) in normalise(r"& $\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}$ \\")
    assert answer_start(entry) not in normalise(r"\frac{(\mu_p)^2}{2\sigma^2}")


# -- the labels agree with the key -----------------------------------------------------------


@pytest.mark.parametrize(("part", "entry"), _LABELS)
def test_every_typed_answer_gets_its_label_from_the_key(part: str,
                                                         entry: Mapping[str, Any]) -> None:
    assert label_mismatch(part, entry) is None


def test_a_wrong_label_is_caught_by_the_key() -> None:
    right = {"status": "incorrect", "answer": r"\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}"}
    slip = {"status": "correct", "answer": r"\frac{(\mu_\phi-\mu_p)^2}{\sigma^2}"}
    assert "the key says correct" in (label_mismatch("1.h", right) or "")
    assert "the key says partial" in (label_mismatch("1.h", slip) or "")


@pytest.mark.parametrize(("file", "part", "key_status"), _LISTED)
def test_each_listed_key_disagreement_still_disagrees(file: str, part: str,
                                                      key_status: str) -> None:
    entry = _labelled(file, part)
    assert entry["status"] in GRADED
    assert grade(part, entry["answer"]).status.value == key_status != entry["status"]


def test_key_disagreements_name_labelled_parts_once() -> None:
    pairs = [(file, part) for file, part, _, _ in KEY_DISAGREES]
    assert len(pairs) == len(set(pairs))
    labelled = {(file, part) for file, part, _ in entries(_MANIFEST)}
    assert set(pairs) <= labelled
    assert ("no_such_writeup.tex", "1.a") not in labelled  # the twin: an unknown pair


@pytest.mark.parametrize(("part", "entry"), _UNDECIDED)
def test_an_undecided_parts_candidates_get_different_grades(part: str,
                                                          entry: Mapping[str, Any]) -> None:
    grades = {grade(part, candidate).status.value for candidate in entry["candidates"]}
    assert len(grades) > 1, grades


def test_candidates_with_the_same_grade_would_not_make_a_part_undecided() -> None:
    same = [r"\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}", r"\frac{(\mu_p-\mu_\phi)^2}{2\sigma^2}"]
    assert len({grade("1.h", candidate).status.value for candidate in same}) == 1


@pytest.mark.parametrize(("part", "entry"), _MANUAL)
def test_a_figure_part_is_left_to_a_person(part: str, entry: Mapping[str, Any]) -> None:
    assert grade(part, entry["answer"]).status.value == "manual"


def test_a_part_the_key_grades_is_not_left_to_a_person() -> None:
    assert grade("1.g", "0").status.value != "manual"


# -- coverage ----------------------------------------------------------------------------------


def test_the_corpus_meets_its_coverage_target() -> None:
    assert coverage_shortfalls(_MANIFEST) == []


def test_a_thin_corpus_falls_short_of_the_coverage_target() -> None:
    thin = {"writeup": _MANIFEST["writeup"][:3]}
    shortfalls = coverage_shortfalls(thin)
    assert any("write-ups, fewer than" in s for s in shortfalls)
    assert any(s.startswith("1.h: ") and "incorrect" in s for s in shortfalls)


def test_partial_credit_is_expected_only_where_the_key_gives_it() -> None:
    assert partial_credit_exists("1.h") and partial_credit_exists("1.e")
    assert not partial_credit_exists("1.j") and not partial_credit_exists("3.a")
