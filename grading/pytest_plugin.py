"""A pytest plugin: answer files ``answers*.toml`` become one test item per part of the key.

Enable it with ``pytest -p grading.pytest_plugin`` (or through the ``pytest11`` entry point
``genverify``; ``-p no:genverify`` then turns it off). Each part of the key is an item named
after the part (``answers.toml::1.h``): it passes when the answer earns full points, and
fails otherwise with a report that quotes the line of the file, how the answer was read, the
feedback and the points; a part graded by a person (a figure) is skipped as pending; an answer
to an id the key does not have fails. With ``--junitxml`` the same results become JUnit XML.

The feedback is for students by default (students run the plugin on their own answers): it
names the mistake and shows the counterexample but never the key's answer or the correct
option (:mod:`grading.audience`); ``--genverify-audience staff`` shows everything, including
the key's answer.

The answers are read with ``tomllib`` and checked by :func:`grading.key.registry.grade`; nothing in the
file is evaluated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

__all__ = ["AnswersFile", "PartFailed", "PartItem", "pytest_addoption", "pytest_collect_file"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--genverify-audience student|staff`` (default student)."""
    parser.getgroup("genverify").addoption(
        "--genverify-audience", choices=("student", "staff"), default="student",
        help="who reads the feedback on answers*.toml: student (default; the key's answers "
             "are never shown) or staff (everything, with the key's answer)")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``answers*.toml``."""
    if file_path.suffix == ".toml" and file_path.name.startswith("answers"):
        return AnswersFile.from_parent(parent, path=file_path)
    return None


class PartFailed(Exception):
    """A part that did not earn full points (carries the report's text)."""


class AnswersFile(pytest.File):
    """An answers file: one item per part of the key, and one per id the key does not have."""

    def collect(self) -> Any:
        from grading.key.registry import questions
        from grading.submission import AnswersError, locate, read_answers

        try:
            answers = read_answers(self.path)
        except AnswersError as error:
            raise self.CollectError(str(error)) from None
        text = self.path.read_text(encoding="utf-8")
        known = set()
        for q in questions():
            known.add(q.id)
            yield PartItem.from_parent(self, name=q.id, part=q.id, answer=answers.get(q.id),
                                       line=locate(text, q.id), text=text)
        for part in answers:
            if part not in known:
                yield PartItem.from_parent(self, name=part, part=part, answer=answers[part],
                                           line=locate(text, part), text=text, unknown=True)


class PartItem(pytest.Item):
    """One part of a submission."""

    def __init__(self, *, part: str, answer: Any, line: int | None, text: str,
                 unknown: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.part = part
        self.answer = answer
        self.line = line
        self.text = text
        self.unknown = unknown
        self.result = None

    @property
    def audience(self) -> str:
        return str(self.config.getoption("genverify_audience", default="student"))

    def runtest(self) -> None:
        from grading.audience import for_audience
        from grading.key.registry import Status, grade

        if self.unknown:
            raise PartFailed(f"{self.part!r} is not a part of the answer key")
        result = for_audience(grade(self.part, self.answer), self.audience)
        self.result = result
        self.user_properties.append(("points", result.points))
        self.user_properties.append(("max_points", result.max_points))
        self.user_properties.append(("status", result.status.value))
        if result.status is Status.MANUAL:
            pytest.skip(f"{self.part}: graded by a person, {result.max_points:g} points pending")
        if result.status is not Status.CORRECT:
            raise PartFailed(self._describe(result))

    def _quote(self) -> list[str]:
        if self.line is None:
            return ["  (no answer in the file)"] if self.answer is None else []
        lines = self.text.splitlines()
        shown = [f"  {self.line:>4} | {lines[self.line - 1]}"]
        if isinstance(self.answer, list):  # a derivation: the lines of the array
            for offset, line in enumerate(lines[self.line:self.line + len(self.answer) + 1],
                                          self.line + 1):
                shown.append(f"  {offset:>4} | {line}")
                if line.strip().startswith("]"):
                    break
        return shown

    def _describe(self, result: Any) -> str:
        where = f"{self.path.name}:{self.line}" if self.line else self.path.name
        out = [f"{where}: part {self.part} is {result.status.value} "
               f"({result.points:g}/{result.max_points:g} points)", *self._quote()]
        if result.line is not None and isinstance(self.answer, list):
            out.append(f"  line {result.line} of the answer is the first that does not follow")
        if result.read_as:
            out.append(f"  read as: {result.read_as}")
        out.append(f"  feedback: {result.feedback}")
        if result.detail:
            out.append(f"  detail: {result.detail}")
        if self.audience == "staff":
            from grading.audience import reference_text
            from grading.key.registry import question

            key = reference_text(question(self.part))
            if key:
                out.append(f"  key: {key}")
        return "\n".join(out)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: str | None = None) -> str:
        if isinstance(excinfo.value, PartFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.line - 1) if self.line else None, f"part {self.part}"
