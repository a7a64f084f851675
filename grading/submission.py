"""Grade a whole submission: a TOML file mapping part ids to answers, against the answer key.

    "1.h" = '\\frac{(\\mu_\\phi - \\mu_p)^2}{2\\sigma^2}'
    "1.c" = ['\\log p_\\theta(x) = ...', '\\geq ...']      # a derivation: one string per line

Keys are part ids (quote them: ``"1.a"``; unquoted dotted keys ``1.a = ...`` become nested
tables, which are flattened back to ``1.a``). A value is an answer string or a list of strings.
The file is read with ``tomllib``; nothing in it is evaluated.

Every part of the key gets a :class:`grading.key.registry.Result` (a part with no answer scores 0).
Parts graded by a person (figures) are *pending*: they are excluded from the automatic total
and reported separately (``manual: 0 of 5 parts graded, 33 points pending``). Answers to ids
the key does not have are reported, not graded.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.key.registry import Answer, Result, Status, grade, questions

__all__ = ["AnswersError", "Report", "grade_answers", "grade_file", "locate", "parse_answers",
           "read_answers"]


class AnswersError(ValueError):
    """An answers file that cannot be read (not TOML, or a value that is not an answer)."""


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            yield from _flatten(value, name)
        else:
            yield name, value


def parse_answers(text: str, source: str = "answers") -> dict[str, Answer]:
    """Part id → answer from TOML text (see the module docstring)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AnswersError(f"{source}: not valid TOML: {error}") from None
    answers: dict[str, Answer] = {}
    for part, value in _flatten(data):
        if isinstance(value, str):
            answers[part] = value
        elif isinstance(value, list) and all(isinstance(line, str) for line in value):
            answers[part] = list(value)
        else:
            raise AnswersError(f"{source}: part {part}: an answer is a string or a list of "
                               f"strings, not {type(value).__name__}")
    return answers


def read_answers(path: str | Path) -> dict[str, Answer]:
    """Part id → answer from a TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise AnswersError(f"{path}: cannot read the file: {error}") from None
    return parse_answers(text, str(path))


def locate(text: str, part: str) -> int | None:
    """The 1-based line of the file where ``part`` is answered, if it is written as a key."""
    escaped = re.escape(part)
    pattern = re.compile(rf"^\s*(?:\"{escaped}\"|'{escaped}'|{escaped})\s*=")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return number
    return None


@dataclass(frozen=True)
class Report:
    """The results of one submission, part by part, and the totals."""

    results: tuple[Result, ...]
    unknown: tuple[str, ...] = ()
    source: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def automatic(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if r.automatic)

    @property
    def manual(self) -> tuple[Result, ...]:
        return tuple(r for r in self.results if not r.automatic)

    @property
    def score(self) -> float:
        """Points earned on the parts checked automatically."""
        return round(sum(r.points for r in self.automatic), 4)

    @property
    def max_score(self) -> float:
        """Points of the parts checked automatically."""
        return round(sum(r.max_points for r in self.automatic), 4)

    @property
    def pending_points(self) -> float:
        return round(sum(r.max_points for r in self.manual), 4)

    @property
    def total_points(self) -> float:
        return round(sum(r.max_points for r in self.results), 4)

    @property
    def exit_code(self) -> int:
        """0 every automatic part correct; 1 a part lost points; 2 a part needs a person
        (undecided or unreadable)."""
        codes = [r.exit_code for r in self.automatic]
        if any(code == 2 for code in codes):
            return 2
        return 1 if any(codes) else 0

    def summary(self) -> str:
        manual = (f"manual: 0 of {len(self.manual)} parts graded, {_num(self.pending_points)} "
                  "points pending (graded by a person, not in the total)") if self.manual else \
            "manual: none"
        return (f"total: {_num(self.score)} / {_num(self.max_score)} points checked "
                f"automatically ({_num(self.total_points)} in all); {manual}")

    def table(self, width: int = 100) -> str:
        """A per-part table with points and feedback, then the totals."""
        rows = [("part", "result", "points", "feedback")]
        for r in self.results:
            points = f"–/{_num(r.max_points)}" if not r.automatic else \
                f"{_num(r.points)}/{_num(r.max_points)}"
            feedback = r.feedback
            if r.detail and r.status not in (Status.CORRECT, Status.MANUAL):
                feedback += f" [{r.detail}]"
            rows.append((r.part, r.status.value, points, feedback))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        room = max(20, width - sum(widths) - 6)
        out = []
        for row in rows:
            text = " ".join(cell.ljust(w) for cell, w in zip(row[:3], widths))
            feedback = " ".join(row[3].split())
            out.append(f"{text}  {feedback[:room - 1] + '…' if len(feedback) > room else feedback}")
        out.insert(1, "-" * min(width, len(out[0]) + 10))
        for part in self.unknown:
            out.append(f"(ignored: {part!r} is not a part of the key)")
        out.append(self.summary())
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "score": self.score, "max_score": self.max_score,
                "pending_points": self.pending_points, "total_points": self.total_points,
                "parts": [r.to_dict() for r in self.results], "unknown": list(self.unknown)}


def _num(value: float) -> str:
    return f"{value:g}"


def grade_answers(answers: Mapping[str, Answer], *, source: str = "",
                  lines: Mapping[str, int] | None = None) -> Report:
    """Grade every part of the key against ``answers`` (part id → answer)."""
    keyed = questions()
    known = {q.id for q in keyed}
    results = tuple(grade(q, answers.get(q.id)) for q in keyed)
    unknown = tuple(part for part in answers if part not in known)
    return Report(results, unknown, source, dict(lines or {}))


def grade_file(path: str | Path) -> Report:
    """Grade a TOML answers file (raises :class:`AnswersError` if it cannot be read)."""
    path = Path(path)
    answers = read_answers(path)
    text = path.read_text(encoding="utf-8")
    lines = {part: line for part in answers if (line := locate(text, part)) is not None}
    return grade_answers(answers, source=str(path), lines=lines)

