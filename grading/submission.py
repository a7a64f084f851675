"""Grade a whole submission: a TOML file mapping part ids to answers, against the answer key.

    "1.h" = '\\frac{(\\mu_\\phi - \\mu_p)^2}{2\\sigma^2}'
    "1.c" = ['\\log p_\\theta(x) = ...', '\\geq ...']      # a derivation: one string per line

Keys are part ids (quote them: ``"1.a"``; unquoted dotted keys ``1.a = ...`` become nested
tables, which are flattened back to ``1.a``). A value is an answer string or a list of strings.
The file is read with ``tomllib``; nothing in it is evaluated. Only a regular file is opened
(never a link, FIFO, device or directory), at most :data:`MAX_BYTES` of UTF-8, and ``tomllib``
runs in the isolated worker under a deadline (:func:`parse_answers`): whatever the file holds,
reading it ends with the answers or one :class:`AnswersError` naming the problem
(the file is read by :mod:`grading.textfile`; the results are a :class:`grading.graded.Report`,
both re-exported here). A write-up (``.tex``, ``.md``, ``.txt``) goes to :mod:`grading.writeup`.

Every part of the key gets a :class:`grading.key.registry.Result` (a part with no answer scores 0).
Parts graded by a person (figures) are *pending*: they are excluded from the automatic total
and reported separately (``manual: 0 of 5 parts graded, 33 points pending``). Answers to ids
the key does not have are reported, not graded.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from grading.graded import Report
from grading.isolation import run_isolated
from grading.key.registry import Answer, grade, questions
from grading.textfile import MAX_BYTES, AnswersError, read_answers_text

__all__ = ["AnswersError", "MAX_BYTES", "Report", "WRITEUP_SUFFIXES", "grade_answers",
           "grade_file", "key_lines", "locate", "parse_answers", "read_answers",
           "read_answers_text"]

MAX_KEY_DEPTH = 8  # "2.e.i" is three levels; tables nested deeper are not part ids
READ_SECONDS = 10.0  # to read the TOML of one answers file


def _flatten(table: Mapping[str, Any], source: str) -> Iterable[tuple[str, Any]]:
    """(part id, value) for every leaf of ``table``, in order: nested tables join their keys
    with dots. Iterative, with a depth limit, so deep nesting is an :class:`AnswersError`."""
    stack: list[tuple[str, Iterator[tuple[str, Any]]]] = [("", iter(table.items()))]
    while stack:
        prefix, items = stack[-1]
        entry = next(items, None)
        if entry is None:
            stack.pop()
            continue
        key, value = entry
        name = f"{prefix}.{key}" if prefix else str(key)
        if not isinstance(value, Mapping):
            yield name, value
        elif len(stack) >= MAX_KEY_DEPTH:
            raise AnswersError(f"{source}: tables are nested too deeply (more than "
                               f"{MAX_KEY_DEPTH} levels) for part ids")
        else:
            stack.append((name, iter(value.items())))


def _load_toml(text: str, source: str) -> dict[str, Any]:
    """``tomllib.loads`` with its failures (syntax, nesting, memory) as :class:`AnswersError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AnswersError(f"{source}: not valid TOML: {error}") from None
    except (RecursionError, MemoryError):
        raise AnswersError(f"{source}: the file is nested too deeply to read (arrays or "
                           "tables inside one another); an answer is a string or a list of "
                           "strings") from None


def _answer_items(text: str, source: str) -> list[tuple[str, Answer]]:
    """(part id, answer) from TOML text, in the file's order; an :class:`AnswersError` for a
    value that is not an answer."""
    items: list[tuple[str, Answer]] = []
    for part, value in _flatten(_load_toml(text, source), source):
        if isinstance(value, str):
            items.append((part, value))
        elif isinstance(value, list) and all(isinstance(line, str) for line in value):
            items.append((part, list(value)))
        else:
            raise AnswersError(f"{source}: part {part}: an answer is a string or a list of "
                               f"strings, not {type(value).__name__}")
    return items


def _read_in_worker(text: str, source: str) -> dict[str, Any]:
    """In the isolated worker: ``{"answers": [[part, answer], ...]}`` or ``{"error": ...}``
    (plain JSON data: nothing but strings comes back)."""
    try:
        return {"answers": [[part, value] for part, value in _answer_items(text, source)]}
    except AnswersError as error:
        return {"error": str(error)}


def _answers_from(reply: Any, source: str) -> dict[str, Answer]:
    """The answers of the worker's reply, checked to be strings or lists of strings."""
    if isinstance(reply, dict) and isinstance(reply.get("error"), str):
        raise AnswersError(reply["error"])
    items = reply.get("answers") if isinstance(reply, dict) else None
    answers: dict[str, Answer] = {}
    for item in items if isinstance(items, list) else [None]:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and (isinstance(item[1], str) or isinstance(item[1], list)
                     and all(isinstance(line, str) for line in item[1]))):
            raise AnswersError(f"{source}: the file could not be read")
        answers[item[0]] = item[1]
    return answers


def parse_answers(text: str, source: str = "answers") -> dict[str, Answer]:
    """Part id → answer from TOML text (see the module docstring).

    ``tomllib`` reads the text in the isolated worker (:mod:`grading.isolation`), under a
    deadline of :data:`READ_SECONDS` and a memory cap: its run time grows with the square of
    a key's dotted parts, and deep nesting exhausts its recursion.
    """
    status, reply = run_isolated(_read_in_worker, (text, source), timeout=READ_SECONDS)
    if status == "timeout":
        raise AnswersError(f"{source}: the file could not be read within {READ_SECONDS:g} s "
                           "(keys with very many dotted parts?)")
    if status != "ok":
        raise AnswersError(f"{source}: the file could not be read within the memory and "
                           "nesting limits of the grader")
    return _answers_from(reply, source)


def read_answers(path: str | Path) -> dict[str, Answer]:
    """Part id → answer from a TOML file (see :func:`read_answers_text` for what is read)."""
    return parse_answers(read_answers_text(path), str(Path(path)))


_KEY = re.compile(r"""\s*(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_.\-]+))\s*=""")
_TABLE = re.compile(r"""\s*\[\s*(?:"([^"\\]*)"|'([^']*)'|([A-Za-z0-9_.\-]+))\s*\]\s*(?:#.*)?$""")


def key_lines(text: str) -> dict[str, int]:
    """Part id → the 1-based line where it is written as a key, for every key, in one pass.

    A key is quoted (``"1.h" =``) or bare (``1.h =``) at the start of a line; under a table
    header ``[3]``, ``d =`` is ``3.d``. The first line of each id counts.
    """
    found: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = _TABLE.match(line)
        if header is not None:
            table = next(group for group in header.groups() if group is not None)
            continue
        match = _KEY.match(line)
        if match is None:
            continue
        key = next(group for group in match.groups() if group is not None)
        found.setdefault(f"{table}.{key}" if table else key, number)
    return found


@functools.lru_cache(maxsize=4)
def _cached_key_lines(text: str) -> dict[str, int]:
    return key_lines(text)


def locate(text: str, part: str) -> int | None:
    """The 1-based line of the file where ``part`` is answered, if it is written as a key
    (the lines of every key are found once per text: a lookup is a dictionary access)."""
    return _cached_key_lines(text).get(part)


def grade_answers(answers: Mapping[str, Answer], *, source: str = "",
                  lines: Mapping[str, int] | None = None) -> Report:
    """Grade every part of the key against ``answers`` (part id → answer)."""
    keyed = questions()
    known = {q.id for q in keyed}
    results = tuple(grade(q, answers.get(q.id)) for q in keyed)
    unknown = tuple(part for part in answers if part not in known)
    return Report(results, unknown, source, dict(lines or {}))


WRITEUP_SUFFIXES = (".tex", ".md", ".markdown", ".txt")


def grade_file(path: str | Path) -> Report:
    """Grade an answers file: TOML, or a whole write-up (``.tex``, ``.md``, ``.markdown``,
    ``.txt``: :func:`grading.writeup.grade.grade_writeup`). Raises :class:`AnswersError` if it
    cannot be read."""
    path = Path(path)
    if path.name.lower().endswith(WRITEUP_SUFFIXES):
        from grading.writeup.grade import grade_writeup

        return grade_writeup(path)
    text = read_answers_text(path)
    answers = parse_answers(text, str(path))
    where = key_lines(text)
    lines = {part: where[part] for part in answers if part in where}
    return grade_answers(answers, source=str(path), lines=lines)

