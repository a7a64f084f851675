"""Grade a whole write-up (``.tex``, ``.md``, ``.txt``) part by part, showing what was read.

The file is read as an answers file is (:func:`grading.submission.read_answers_text`: a regular
file, at most 1 MiB of UTF-8). Finding the parts and extracting the answers runs in the
isolated worker under a deadline (:data:`READ_SECONDS`), as every parse of student text does;
only plain data comes back. Then each part is graded by the key (:func:`grading.key.registry.grade`)
on what was extracted:

* *read*: graded as if the student had typed it into ``answers.toml``;
* *empty* (the part is marked but blank, or "skipped"): scores 0 as a missing answer;
* *not found* and *unsure* (two candidates, a guessed item order, a part marked twice): the part
  needs a person — status undecided, 0 points until a person decides, and the reason;
* *manual* (figures): pending, with the lines a person should look at.

The report carries every part's extraction, so the table and the JSON show, before the
verdict, what was read and from which lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.isolation import run_isolated
from grading.key.registry import Result, Status, grade, questions
from grading.graded import Report
from grading.textfile import AnswersError, read_answers_text
from grading.writeup.extract import Extraction, extract
from grading.writeup.parts import find_parts, key_layout
from grading.writeup.source import format_of, read_source

__all__ = ["READ_SECONDS", "Reading", "grade_writeup", "read_writeup"]

READ_SECONDS = 10.0


@dataclass(frozen=True)
class Reading:
    """What reading a write-up found: every part's extraction, and notes on the text."""

    extractions: list[Extraction]
    notes: list[str]


def _read(text: str, file_format: str, kinds: dict[str, str]) -> dict[str, Any]:
    """In the worker: the extraction of every part of ``kinds`` (part id → kind)."""
    source = read_source(text, file_format)
    segments, notes = find_parts(source.lines, key_layout(kinds))
    extractions = [extract(segments.get(part), part, kind, file_format).to_dict()
                   for part, kind in kinds.items()]
    return {"extractions": extractions, "notes": source.notes + notes}


def read_writeup(text: str, file_format: str, *, source: str = "write-up") -> Reading:
    """Find and extract every part of the key in ``text`` (format ``"latex"``, ``"markdown"``
    or ``"text"``), in the isolated worker; :class:`AnswersError` if that fails."""
    kinds = {q.id: q.kind for q in questions()}
    status, reply = run_isolated(_read, (text, file_format, kinds), timeout=READ_SECONDS)
    if status == "timeout":
        raise AnswersError(f"{source}: the write-up could not be read within "
                           f"{READ_SECONDS:g} s")
    if status != "ok" or not isinstance(reply, dict):
        raise AnswersError(f"{source}: the write-up could not be read within the memory limits "
                           "of the grader")
    try:
        extractions = [Extraction.from_dict(item) for item in reply["extractions"]]
        notes = [str(note) for note in reply.get("notes", [])]
    except (KeyError, TypeError, ValueError):
        raise AnswersError(f"{source}: the write-up could not be read") from None
    return Reading(extractions, notes)


def _needs_a_person(q: Any, extraction: Extraction) -> Result:
    return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                  f"needs a person: {extraction.reason}")


_DEFINITE = (Status.CORRECT, Status.PARTIAL, Status.INCORRECT)


def _disagreeing_alternative(q: Any, extraction: Extraction) -> Extraction | None:
    """When an earlier display block ends in the same quantity as the final one (``K = a``,
    later ``K = b``), both are final answers: if the key grades them differently, which one
    the student meant is a guess — an unsure extraction naming both; else None."""
    if not extraction.alternatives:
        return None
    final = extraction.answer[-1] if isinstance(extraction.answer, list) else extraction.answer
    graded = grade(q, final)
    for line, row in extraction.alternatives:
        other = grade(q, row)
        if other.status in _DEFINITE and graded.status in _DEFINITE and \
                (other.status, other.points) != (graded.status, graded.points):
            first = extraction.lines[1] if extraction.lines else 0
            return Extraction(q.id, "unsure", None, (line, first), extraction.segment,
                              extraction.how, reason=f"two final answers that grade "
                              f"differently: line {line} ({row[:60]}) and line {first} "
                              f"({final[:60]})", candidates=[row, final])
    return None


def grade_writeup(path: str | Path) -> Report:
    """Grade a write-up file; raises :class:`AnswersError` if it cannot be read."""
    path = Path(path)
    file_format = format_of(path.name)
    if file_format is None:
        raise AnswersError(f"{path}: not a write-up (.tex, .md, .markdown or .txt)")
    text = read_answers_text(path)
    reading = read_writeup(text, file_format, source=str(path))
    by_part = {e.part: e for e in reading.extractions}
    results, lines = [], {}
    for q in questions():
        extraction = by_part.get(q.id)
        if extraction is None:
            continue
        if extraction.lines:
            lines[q.id] = extraction.lines[0]
        elif extraction.segment:
            lines[q.id] = extraction.segment[0]
        if extraction.status == "read":
            result = grade(q, extraction.answer)
            doubt = _disagreeing_alternative(q, extraction)
            results.append(result if doubt is None else _needs_a_person(q, doubt))
        elif extraction.status in ("not found", "unsure") and q.kind != "manual":
            results.append(_needs_a_person(q, extraction))
        else:  # empty: a missing answer; manual: pending
            results.append(grade(q, None))
    return Report(tuple(results), (), str(path), lines, extractions=by_part,
                  notes=tuple(reading.notes))
