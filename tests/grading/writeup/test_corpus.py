"""The reader on the write-up corpus: every part's verdict from the document is the human
label, or "needs a person" — never another confident verdict (grading/writeup/grade.py).

The corpus (``corpus/``, labels in ``corpus/manifest.toml``) was written and labelled
independently of the reader, in the styles of real submissions: LaTeX with ``enumerate``,
``\\section*``, ``align*`` and ``\\tag``, macros; Markdown converted from a PDF with page
headers and Gradescope's page-assignment lines; plain text; parts out of order, missing,
skipped, restated; two final answers. ``test_corpus_labels.py`` checks the labels against the
key on the retyped answers; this module checks that reading the documents gives the same.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

import pytest

from grading.key.registry import Status
from grading.submission import grade_file

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8"))
WRITEUPS = {w["file"]: w for w in MANIFEST["writeup"]}
LABELLED = [(file, part) for file, w in WRITEUPS.items() for part, label in w["parts"].items()
            if label["status"] != "manual"]
NEEDS_A_PERSON = (Status.UNDECIDED, Status.UNPARSABLE)

#: the least share of the labelled parts the reader must decide as the human did (measured:
#: 204 of 210 on 2026-12-05; the rest go to a person, none is decided otherwise)
AGREEMENT = 0.96


@lru_cache(maxsize=None)
def _report(file: str):
    return grade_file(CORPUS / file)


def _result(file: str, part: str):
    return next(r for r in _report(file).results if r.part == part)


@pytest.mark.parametrize(("file", "part"), LABELLED)
def test_a_part_read_from_a_write_up_gets_the_human_verdict_or_goes_to_a_person(file, part):
    label = WRITEUPS[file]["parts"][part]
    result = _result(file, part)
    expected = label["status"]
    if result.status.value == expected:
        return
    extraction = _report(file).extractions[part]
    assert result.status in NEEDS_A_PERSON, (
        f"{file} {part}: labelled {expected}, graded {result.status.value} "
        f"({extraction.status}: {extraction.answer!r}; {result.feedback})")
    if expected == "missing":  # never graded on a neighbour's answer
        assert extraction.status in ("not found", "unsure")


def test_most_parts_are_decided_as_the_human_grader_decided_them():
    agree = sum(_result(file, part).status.value == WRITEUPS[file]["parts"][part]["status"]
                or (WRITEUPS[file]["parts"][part]["status"] == "missing"
                    and _report(file).extractions[part].status == "not found")
                for file, part in LABELLED)
    assert agree / len(LABELLED) >= AGREEMENT, f"{agree} of {len(LABELLED)}"


@pytest.mark.parametrize(("file", "part"), [(f, p) for f, p in LABELLED
                                            if "lines" in WRITEUPS[f]["parts"][p]])
def test_what_was_read_comes_from_the_lines_of_the_answer(file, part):
    first, last = WRITEUPS[file]["parts"][part]["lines"]
    extraction = _report(file).extractions[part]
    if extraction.lines is None:
        assert extraction.status in ("not found", "empty", "unsure")
        return
    start, end = extraction.lines
    assert first - 3 <= start and end <= last + 3, (extraction.lines, (first, last))


def test_every_style_of_the_issue_is_in_the_corpus():
    suffixes = {Path(file).suffix for file in WRITEUPS}
    assert suffixes == {".tex", ".md", ".txt"} and len(WRITEUPS) >= 12
    styles = " ".join(w.get("style", "") for w in WRITEUPS.values()).lower()
    for style in ("enumerate", "section", "align", "tag", "macro", "markdown", "page",
                  "out of order", "missing"):
        assert style in styles, style


def test_a_missing_part_never_takes_its_neighbours_answer(tmp_path):
    for file, w in WRITEUPS.items():
        for part, label in w["parts"].items():
            if label["status"] == "missing":
                extraction = _report(file).extractions[part]
                assert extraction.status != "read", (file, part, extraction)
    # the twin: deleting a part's marker from a labelled write-up leaves that part not found
    source = (CORPUS / "w01_enumerate_sections.tex").read_text(encoding="utf-8")
    lines = source.splitlines()
    first, _ = WRITEUPS["w01_enumerate_sections.tex"]["parts"]["1.g"]["lines"]
    marker = next(i for i in range(first - 1, -1, -1) if "\\item" in lines[i])
    del lines[marker:first]
    copy = tmp_path / "w01.tex"
    copy.write_text("\n".join(lines), encoding="utf-8")
    report = grade_file(copy)
    g = next(r for r in report.results if r.part == "1.g")
    assert g.status in NEEDS_A_PERSON and g.points == 0
