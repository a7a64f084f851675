"""Grade a whole submission: a TOML file mapping part ids to answers, against the answer key.

    "1.h" = '\\frac{(\\mu_\\phi - \\mu_p)^2}{2\\sigma^2}'
    "1.c" = ['\\log p_\\theta(x) = ...', '\\geq ...']      # a derivation: one string per line

Keys are part ids (quote them: ``"1.a"``; unquoted dotted keys ``1.a = ...`` become nested
tables, which are flattened back to ``1.a``). A value is an answer string or a list of strings.
The file is read with ``tomllib``; nothing in it is evaluated. Only a regular file is opened
(never a link, FIFO, device or directory), at most :data:`MAX_BYTES` of UTF-8, and ``tomllib``
runs in the isolated worker under a deadline (:func:`parse_answers`): whatever the file holds,
reading it ends with the answers or one :class:`AnswersError` naming the problem.

Every part of the key gets a :class:`grading.key.registry.Result` (a part with no answer scores 0).
Parts graded by a person (figures) are *pending*: they are excluded from the automatic total
and reported separately (``manual: 0 of 5 parts graded, 33 points pending``). Answers to ids
the key does not have are reported, not graded.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grading.isolation import run_isolated
from grading.key.registry import Answer, Result, Status, grade, questions

__all__ = ["AnswersError", "MAX_BYTES", "Report", "WRITEUP_SUFFIXES", "grade_answers", "grade_file", "key_lines",
           "locate", "parse_answers", "read_answers", "read_answers_text"]


class AnswersError(ValueError):
    """An answers file that cannot be read (not TOML, or a value that is not an answer)."""


MAX_BYTES = 1 << 20  # an answers file is text: 1 MiB holds any honest submission many times
MAX_KEY_DEPTH = 8  # "2.e.i" is three levels; tables nested deeper are not part ids
READ_SECONDS = 10.0  # to read the TOML of one answers file
MAX_LISTED = 20  # ids the key does not have, listed one by one in the table

_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0))


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


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
             (stat.S_ISSOCK, "a socket"))
    return next((words for test, words in kinds if test(mode)), "not a regular file")


def _open_regular(path: Path) -> int:
    """A read-only descriptor of ``path``, which must be a regular file and not a link.

    ``O_NOFOLLOW`` refuses a link, ``O_NONBLOCK`` keeps a FIFO from blocking the open, and
    ``fstat`` on the open descriptor (not on the name, which could be swapped) checks the kind.
    """
    if path.is_symlink():
        raise AnswersError(f"{path}: is a symbolic link; an answers file must be a regular "
                           "file (links are not followed)")
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise AnswersError(f"{path}: is a symbolic link; an answers file must be a regular "
                               "file (links are not followed)") from None
        raise AnswersError(f"{path}: cannot read the file: {error.strerror or error}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise AnswersError(f"{path}: is {_kind(mode)}; an answers file must be a regular file")
    return fd


def _read_limited(fd: int, path: Path) -> bytes:
    """At most :data:`MAX_BYTES` bytes from ``fd`` (an :class:`AnswersError` beyond)."""
    chunks, size = [], 0
    while size <= MAX_BYTES:
        try:
            chunk = os.read(fd, min(1 << 16, MAX_BYTES + 1 - size))
        except OSError as error:
            raise AnswersError(f"{path}: cannot read the file: {error.strerror or error}") \
                from None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise AnswersError(f"{path}: the file is larger than {MAX_BYTES // 1024} KiB; an answers "
                       "file holds one short answer per part")


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 text, or an :class:`AnswersError` saying where the first other byte is."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise AnswersError(f"{path}: line {line}, column {column}: the byte "
                           f"0x{data[error.start]:02X} is not UTF-8 text; save the file as "
                           "UTF-8") from None


def read_answers_text(path: str | Path) -> str:
    """The text of an answers file: a regular file (never a link, FIFO, device or directory)
    of at most :data:`MAX_BYTES` bytes of UTF-8."""
    path = Path(path)
    fd = _open_regular(path)
    try:
        data = _read_limited(fd, path)
    finally:
        os.close(fd)
    return _decode(data, path)


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


@dataclass(frozen=True)
class Report:
    """The results of one submission, part by part, and the totals."""

    results: tuple[Result, ...]
    unknown: tuple[str, ...] = ()
    source: str = ""
    lines: Mapping[str, int] = field(default_factory=dict)
    extractions: Mapping[str, Any] = field(default_factory=dict)  # part → what a write-up gave
    notes: tuple[str, ...] = ()  # how a write-up was read (macros, noise left out)

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
        """A per-part table with points and feedback (wrapped, never cut), then the totals.
        For a write-up, each part first shows what was read and from which lines."""
        rows = [("part", "result", "points", "feedback")]
        for r in self.results:
            points = f"–/{_num(r.max_points)}" if not r.automatic else \
                f"{_num(r.points)}/{_num(r.max_points)}"
            feedback = r.feedback
            if r.detail and r.status not in (Status.CORRECT, Status.MANUAL) and \
                    r.detail not in feedback:
                feedback += f" [{r.detail}]"
            rows.append((r.part, r.status.value, points, feedback))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        indent = sum(widths) + 4
        room = max(30, width - indent)
        out = []
        for row, result in zip(rows, (None, *self.results)):
            text = " ".join(cell.ljust(w) for cell, w in zip(row[:3], widths))
            extraction = self.extractions.get(result.part) if result is not None else None
            if extraction is not None:
                for line in _wrap(_extraction_text(extraction), width - 2):
                    out.append(f"  {line}")
            lines = _wrap(" ".join(row[3].split()), room) or [""]
            out.append(f"{text}  {lines[0]}".rstrip())
            out += [" " * indent + line for line in lines[1:]]
        out.insert(1, "-" * min(width, len(out[0]) + 10))
        for part in self.unknown[:MAX_LISTED]:
            out.append(f"(ignored: {part[:40]!r} is not a part of the key)")
        if len(self.unknown) > MAX_LISTED:
            out.append(f"(ignored: {len(self.unknown) - MAX_LISTED} more ids that are not parts "
                       "of the key)")
        for note in self.notes:
            out += _wrap(f"(reading: {note})", width)
        out.append(self.summary())  # one line: scripts grep it
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        parts = []
        for r in self.results:
            entry = r.to_dict()
            if r.part in self.extractions:
                entry["extraction"] = self.extractions[r.part].to_dict()
            parts.append(entry)
        data = {"source": self.source, "score": self.score, "max_score": self.max_score,
                "pending_points": self.pending_points, "total_points": self.total_points,
                "parts": parts, "unknown": list(self.unknown)}
        if self.notes:
            data["notes"] = list(self.notes)
        return data


def _num(value: float) -> str:
    return f"{value:g}"


def _wrap(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces to ``width`` columns (a longer word gets a line of its own)."""
    import textwrap

    return textwrap.wrap(text, max(20, width), break_long_words=False, break_on_hyphens=False)


def _extraction_text(extraction: Any) -> str:
    """One part's extraction in words: what was read, from which lines, how; or why not."""
    where = ""
    if extraction.lines:
        first, last = extraction.lines
        where = f"line {first}" if first == last else f"lines {first}–{last}"
    answer = extraction.answer
    if isinstance(answer, list):
        shown = " ⏎ ".join(answer)
    else:
        shown = answer or ""
    if len(shown) > 300:
        shown = shown[:297] + "..."
    if extraction.status == "read":
        return f"read from {where} ({extraction.how}): {shown}"
    if extraction.status == "manual":
        return f"for a person: {where or 'no text'} ({extraction.how})"
    if extraction.status == "empty":
        return f"empty ({extraction.how}): {extraction.reason}"
    candidates = "; candidates: " + " | ".join(extraction.candidates) \
        if extraction.candidates else ""
    return f"{extraction.status}{' at ' + where if where else ''}: {extraction.reason}{candidates}"


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

