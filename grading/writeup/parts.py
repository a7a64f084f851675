"""Find each part of the homework in a write-up by the markers students use.

A *question* starts at a heading: ``\\section*{Question 1}``, ``## Problem 3: GAN``,
``**Question 1**``, ``Q1.`` on a line of its own, ``\\section*{1. VAE}``. A *part* starts at

* a qualified marker anywhere a line starts: ``1.a``, ``1(a)``, ``1a)``, ``Problem 1(a)``,
  ``Q3 (a)``, ``2.e.ii``, ``2.e(ii)``;
* a heading or a label inside the current question: ``\\subsection*{(c)}``, ``\\subsection*{Part
  (c)}``, ``### (c)``, ``**(b)**``, ``\\textbf{(b)}``, ``\\item[(a)]``, ``\\item (a) ...``, and a
  line that starts with ``(a)``, ``a)`` or ``a.``; a plain line counts only if its part was not
  marked before (so a list ``(a) ... (b) ...`` inside a later answer is not read as parts
  again), and ``a.`` only for the letter after the last part;
* an unlabelled ``\\item`` of the question's own ``enumerate`` (the first list after the heading):
  the n-th item is the n-th letter (``start=``/``\\setcounter{enumi}`` respected). When the
  number of unlabelled items differs from the question's number of parts, which item answers
  which part is a guess: those parts are *unsure*.

The exam class numbers its items: ``\\question`` the questions (when there are as many as the
homework has), ``\\part`` the parts of one (a part item count that differs from the
question's makes them unsure), ``\\subpart`` the sub-parts. Unstarred ``\\section{VAE}``
headings are numbered as LaTeX numbers them, when every unstarred section is such a heading and
there are as many as questions.

Roman numerals are sub-parts (``2.e.i``) where the key has sub-parts and letters elsewhere (so
``(i)`` in Question 1 is part 1.i). A part's text runs to the next marker of any part (graded or
not), question heading, unrecognised ``\\section`` or the end of the question's list. A part
found twice (not marked "continued") is *unsure*: which text answers it is a guess.

The part ids and the number of parts of each question come from the answer key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from grading.writeup.source import Line

__all__ = ["Layout", "Segment", "find_parts", "key_layout"]

_ROMAN = ("i", "ii", "iii", "iv", "v", "vi")
_QWORD = r"(?:question|problem|exercise|prob\.?|q)"


@dataclass(frozen=True)
class Layout:
    """The homework's structure: question → its part letters (a, b, ...) and, per part,
    its sub-parts (i, ii, ...)."""

    letters: dict[str, int]  # question → number of lettered parts (from the last key letter)
    subparts: dict[str, tuple[str, ...]]  # "2.e" → ("i", "ii", "iii")
    graded: tuple[str, ...]  # every part id of the key

    def part_id(self, question: str, letter: str, sub: str | None = None) -> str:
        return f"{question}.{letter}" + (f".{sub}" if sub else "")


def key_layout(parts: Iterable[str]) -> Layout:
    """The layout of the key's part ids (``1.a`` … ``2.e.iii`` …)."""
    letters: dict[str, int] = {}
    subparts: dict[str, list[str]] = {}
    graded = tuple(parts)
    for part in graded:
        pieces = part.split(".")
        if len(pieces) < 2 or not pieces[1].isalpha() or len(pieces[1]) != 1:
            continue
        question, letter = pieces[0], pieces[1]
        letters[question] = max(letters.get(question, 0), ord(letter) - ord("a") + 1)
        if len(pieces) == 3:
            subparts.setdefault(f"{question}.{letter}", []).append(pieces[2])
    return Layout(letters, {k: tuple(v) for k, v in subparts.items()}, graded)


@dataclass
class Segment:
    """The text of one part: its lines (the marker removed), where its marker is, how it was
    found, and why it is unsure (None when it is not)."""

    part: str
    lines: list[Line]
    marker_line: int
    how: str
    unsure: str | None = None
    continued: list[int] = field(default_factory=list)

    @property
    def span(self) -> tuple[int, int]:
        numbers = [line.number for line in self.lines if line.text.strip()] or [self.marker_line]
        return min(numbers + [self.marker_line]), max(numbers)


@dataclass
class _Marker:
    index: int  # into the lines
    kind: str  # "question" | "part" | "end"
    question: str | None = None
    part: str | None = None  # the full part id (graded or not)
    rest: str = ""  # the text of the marker's line after the marker
    how: str = ""
    strong: bool = True
    continued: bool = False
    unsure: str | None = None


# --- recognising one line -------------------------------------------------------------------

_HEADING = re.compile(r"^\s*(?:(#{1,6})\s+|\\(section|subsection|subsubsection|paragraph|"
                      r"subparagraph)\*?\s*\{)")
_BOLD_OPEN = re.compile(r"^\s*(?:\*\*|__|\\textbf\s*\{|\\textit\s*\{|\\emph\s*\{|\\underline\s*\{|"
                        r"\{\\bf\s+)")
_QUESTION = re.compile(r"^" + _QWORD + r"\s*\.?\s*#?\s*(\d+)(?![\d.]*\d)\s*(?=$|[^\w(.]|\.(?!\w))",
                       re.IGNORECASE)
_NUMBER_TITLE = re.compile(r"^(\d+)\s*(?:[.:)]\s*|\s+)(?=[A-Za-z\\]|$)")
_QUALIFIED = re.compile(
    r"^(?:" + _QWORD + r"\s*\.?\s*)?(?P<q>\d+)\s*"
    r"(?:\.\s*\((?P<a>[a-z])\)|\.(?P<b>[a-z])|\((?P<c>[a-z])\))"
    r"(?:\.(?P<r1>i{1,3}|iv|v|vi)|\s*\((?P<r2>i{1,3}|iv|v|vi)\))?(?![A-Za-z0-9])\s*[.:)]?",
    re.IGNORECASE)
_QUALIFIED_TIGHT = re.compile(r"^(?P<q>\d+)(?P<b>[a-j])(?:\)|\.|:)(?=\s|$)")
_PART_WORD = re.compile(r"^part\s*\(?([a-z]|i{1,3}|iv|v|vi)\)?(?![A-Za-z0-9])\s*[.:)]?",
                        re.IGNORECASE)
_PAREN = re.compile(r"^\(([a-z]|i{1,3}|iv|v|vi)\)(?![A-Za-z0-9])\s*[.:]?")
_CLOSE = re.compile(r"^([a-z]|i{1,3}|iv|v|vi)\)(?![A-Za-z0-9])\s*[.:]?")
_DOT = re.compile(r"^([a-j])\.(?=\s|$)")
_ITEM = re.compile(r"^\s*\\item\b\s*(?:\[([^\]]*)\])?")
_BEGIN = re.compile(r"\\begin\s*\{(enumerate|itemize|description)\}(\s*\[[^\]]*\])?")
_END = re.compile(r"\\end\s*\{(enumerate|itemize|description)\}")
_START = re.compile(r"start\s*=\s*(\d+)")
_SETCOUNTER = re.compile(r"\\setcounter\s*\{enumi\}\s*\{(\d+)\}")
_EXAM = re.compile(r"^\s*\\(question|part|subpart)\b\s*(?:\[[^\]]*\])?")  # the exam class
_UNSTARRED_SECTION = re.compile(r"^\s*\\section\s*\{")
_CONTINUED = re.compile(r"^\W*\(?cont(?:inued\b|\.|'d\b)", re.IGNORECASE)
_CLOSERS = re.compile(r"^(?:\s|\*\*|__|\}|\*)*")


def _strip_heading(text: str) -> tuple[str, str | None]:
    """The text of a heading line without its markup, and the heading's kind (``"#2"``,
    ``"section"``, ...), or the line and None."""
    match = _HEADING.match(text)
    if match is None:
        return text, None
    kind = f"#{len(match.group(1))}" if match.group(1) else match.group(2)
    inner = text[match.end():]
    if match.group(2):
        inner = re.sub(r"\}\s*$", "", inner)
    return inner.strip(), kind


def _unwrap(text: str) -> tuple[str, bool]:
    """The line without a leading bold/emphasis opener or list bullet, and whether a bold
    opener was there (``**(a)**``, ``\\textbf{(a)}``: a label, not prose)."""
    stripped = re.sub(r"^\s*(?:[-*+>]\s+)+", "", text)
    stripped = re.sub(r"^\\noindent\s*", "", stripped)
    match = _BOLD_OPEN.match(stripped)
    if match is None:
        return stripped.strip(), False
    return stripped[match.end():].strip(), True


def _after(text: str, end: int) -> str:
    """The text after a marker ending at ``end``: closing braces and emphasis removed."""
    return _CLOSERS.sub("", text[end:], count=1).strip()


class _Reader:
    """The line-by-line state of the search: the question, its list, the last part."""

    def __init__(self, lines: Sequence[Line], layout: Layout) -> None:
        self.lines = lines
        self.layout = layout
        self.markers: list[_Marker] = []
        self.question: str | None = None
        self.question_level: str | None = None
        self.part_letter: str | None = None  # the last letter met in this question
        self.sub: str | None = None
        self.envs: list[dict] = []  # open enumerate/itemize environments
        self.counter_start: int | None = None
        self.seen: set[str] = set()  # the parts marked so far
        self.numbered = _numbered_sections(lines, layout)  # line index -> question
        self.exam = _exam_questions(lines, layout)  # line index of a question item -> question
        self.exam_parts: list[_Marker] = []  # the part items of the current question item

    # -- helpers ---------------------------------------------------------------------------

    def _letter_part(self, question: str, token: str, *, index: int, rest: str, how: str,
                     strong: bool) -> _Marker | None:
        """A marker for ``token`` (a letter or roman numeral) in ``question``."""
        token = token.lower()
        parent = f"{question}.{self.part_letter}" if self.part_letter else None
        if (token in _ROMAN and parent in self.layout.subparts
                and token in self.layout.subparts[parent]):
            return _Marker(index, "part", question, f"{parent}.{token}", rest, how, strong)
        if len(token) != 1:
            return None
        if not strong and f"{question}.{token}" in self.seen:
            return None  # a list inside an answer ("(a) ... (b) ..."), not a part again
        return _Marker(index, "part", question, f"{question}.{token}", rest, how, strong)

    def _push(self, marker: _Marker) -> None:
        if marker.kind == "question":
            self.question, self.part_letter, self.sub = marker.question, None, None
        elif marker.kind == "part" and marker.part:
            pieces = marker.part.split(".")
            self.question = pieces[0]
            self.part_letter = pieces[1]
            self.sub = pieces[2] if len(pieces) > 2 else None
            self.seen.add(f"{pieces[0]}.{pieces[1]}")
            marker.continued = _CONTINUED.match(marker.rest or "") is not None
        self.markers.append(marker)

    # -- one line --------------------------------------------------------------------------

    def read(self) -> list[_Marker]:
        for index, line in enumerate(self.lines):
            self._line(index, line.text)
        self._check_exam_parts()
        return self.markers

    def _line(self, index: int, text: str) -> None:
        if not text.strip():
            return
        begin, end = _BEGIN.search(text), _END.search(text)
        if begin is not None:
            before, rest = text[:begin.start()], text[begin.end():]
            if before.strip():
                self._line(index, before)
            self._begin(begin)
            if rest.strip():
                self._line(index, rest)
            return
        if (exam := _EXAM.match(text)) is not None:
            self._exam(index, exam, text[exam.end():])
        elif _ITEM.match(text) is not None:
            self._item(index, text)
        else:
            self._plain(index, text)
        if end is not None:
            self._end(index)
        if (counter := _SETCOUNTER.search(text)) is not None:
            self.counter_start = int(counter.group(1)) + 1

    def _exam(self, index: int, match: re.Match[str], rest: str) -> None:
        """The exam class: question items number the questions, part items the parts of one
        (letters), subpart items the sub-parts of a part (roman numerals)."""
        kind = match.group(1)
        if kind == "question":
            self._check_exam_parts()
            question = self.exam.get(index)
            if question is None:
                self._push(_Marker(index, "end", None, how="an unnumbered question item"))
                self.question = None
                return
            self._push(_Marker(index, "question", question, None, rest.strip(),
                               f"question item {question}"))
            return
        if self.question is None:
            return
        if kind == "part":
            letter = chr(ord(self.part_letter) + 1) if self.part_letter else "a"
            marker = _Marker(index, "part", self.question, f"{self.question}.{letter}",
                             rest.strip(), f"part item {len(self.exam_parts) + 1}")
            self.exam_parts.append(marker)
            self._push(marker)
            return
        parent = f"{self.question}.{self.part_letter}" if self.part_letter else ""
        subs = self.layout.subparts.get(parent, ())
        position = subs.index(self.sub) + 1 if self.sub in subs else 0
        if position < len(subs):
            self.sub = subs[position]
            self.markers.append(_Marker(index, "part", self.question, f"{parent}.{self.sub}",
                                        rest.strip(), f"subpart item {position + 1}"))

    def _check_exam_parts(self) -> None:
        """Part items count their letters: when a question has another number of them than
        the key has parts, which part each answers is a guess."""
        expected = self.layout.letters.get(self.question or "")
        if self.exam_parts and expected is not None and len(self.exam_parts) != expected:
            reason = (f"Question {self.question} has {len(self.exam_parts)} part items where "
                      f"the question has {expected} parts: which item answers which part is a "
                      "guess")
            for marker in self.exam_parts:
                marker.unsure = reason
        self.exam_parts = []

    def _begin(self, match: re.Match[str]) -> None:
        options = match.group(2) or ""
        start = _START.search(options)
        parts_list = (match.group(1) == "enumerate" and self.question is not None
                      and self.part_letter is None
                      and not any(env["parts"] for env in self.envs))
        first = int(start.group(1)) if start else (self.counter_start or 1)
        self.counter_start = None
        self.envs.append({"kind": match.group(1), "parts": parts_list, "items": 0,
                          "unlabelled": [], "next": first, "question": self.question})

    def _end(self, index: int) -> None:
        if not self.envs:
            return
        env = self.envs.pop()
        if env["parts"]:
            self._check_count(env)
            self.markers.append(_Marker(index, "end", env["question"], how="end of the list"))
            self.part_letter = None

    def _check_count(self, env: dict) -> None:
        question = env["question"]
        expected = self.layout.letters.get(question)
        unlabelled = env["unlabelled"]
        if unlabelled and expected is not None and env["items"] != expected:
            reason = (f"the items of Question {question}'s list are not labelled and there are "
                      f"{env['items']} of them where the question has {expected} parts: which "
                      "item answers which part is a guess")
            for marker in unlabelled:
                marker.unsure = reason

    def _item(self, index: int, text: str) -> None:
        match = _ITEM.match(text)
        assert match is not None
        label, rest = match.group(1), text[match.end():]
        env = next((env for env in reversed(self.envs) if env["kind"] in
                    ("enumerate", "itemize", "description")), None)
        if label is not None:
            marker = self._label(index, label.strip(), rest, strong=True, how=f"\\item[{label}]")
            if marker is not None:
                if env is not None and env["parts"]:
                    env["items"] += 1
                    env["next"] = ord(marker.part.split(".")[1]) - ord("a") + 2 \
                        if marker.part else env["next"]
                self._push(marker)
                return
        inner, bold = _unwrap(rest)
        marker = self._marker_at_start(index, inner, strong=True, prefix="\\item ")
        if marker is not None and marker.kind == "part":
            if env is not None and env["parts"]:
                env["items"] += 1
            self._push(marker)
            return
        if env is not None and env["parts"] and self.envs and self.envs[-1] is env:
            env["items"] += 1
            letter = chr(ord("a") + env["next"] - 1)
            env["next"] += 1
            marker = _Marker(index, "part", env["question"], f"{env['question']}.{letter}",
                             rest.strip(), f"item {env['items']} of the list", True)
            env["unlabelled"].append(marker)
            self._push(marker)
            return
        self._plain(index, text, in_item=True)

    def _label(self, index: int, label: str, rest: str, *, strong: bool,
               how: str) -> _Marker | None:
        """A marker from an explicit label (``(a)``, ``a)``, ``1.a``, ``Part (c)``)."""
        inner, _ = _unwrap(label)
        inner = re.sub(r"[}{]", "", inner).strip()
        marker = self._marker_at_start(index, inner, strong=strong, prefix=how, whole=True)
        if marker is None or marker.kind != "part":
            return None
        marker.rest = _after(rest, 0)
        return marker

    def _plain(self, index: int, text: str, in_item: bool = False) -> None:
        inner, heading = _strip_heading(text)
        if heading is not None:
            marker = self._heading(index, inner, heading)
            if marker is not None:
                self._push(marker)
            return
        if in_item:
            return
        unwrapped, bold = _unwrap(text)
        marker = self._marker_at_start(index, unwrapped, strong=bold, prefix="")
        if marker is not None:
            self._push(marker)

    def _heading(self, index: int, inner: str, level: str) -> _Marker | None:
        unwrapped, _ = _unwrap(inner)
        marker = self._marker_at_start(index, unwrapped, strong=True, prefix=f"heading ({level})",
                                       heading=True)
        if marker is not None:
            if marker.kind == "question":
                self.question_level = level
            return marker
        if index in self.numbered:  # a section without a number of its own: LaTeX numbers it
            self.question_level = level
            return _Marker(index, "question", self.numbered[index], None, "",
                           f"section number {self.numbered[index]}")
        # an unrecognised heading at the level of the questions (or a \section) ends one
        if level == "section" or (self.question_level is not None and level <= self.question_level
                                  and level.startswith("#")):
            return _Marker(index, "end", self.question, how=f"heading {inner[:40]!r}")
        return None

    def _marker_at_start(self, index: int, text: str, *, strong: bool, prefix: str,
                         heading: bool = False, whole: bool = False) -> _Marker | None:
        """The question or part marker at the start of ``text`` (None if there is none)."""
        text = text.strip()
        match = _QUALIFIED.match(text) or _QUALIFIED_TIGHT.match(text)
        if match is not None and match.group("q") in self.layout.letters:
            groups = match.groupdict()
            letter = next(groups[g] for g in ("a", "b", "c") if groups.get(g)).lower()
            sub = next((groups[g] for g in ("r1", "r2") if groups.get(g)), None)
            part = f"{match.group('q')}.{letter}" + (f".{sub.lower()}" if sub else "")
            return _Marker(index, "part", match.group("q"), part, _after(text, match.end()),
                           f"{prefix}'{match.group(0).strip()}'".strip(), True)
        if (match := _QUESTION.match(text)) is not None and (heading or strong or whole
                                                            or len(text) <= 60):
            rest = _after(text, match.end())
            sub = self._part_after_question(index, match.group(1), rest, prefix)
            if sub is not None:
                return sub
            return _Marker(index, "question", match.group(1), None, rest,
                           f"{prefix}'{match.group(0).strip()}'".strip(), True)
        if heading and (match := _NUMBER_TITLE.match(text)) is not None:
            return _Marker(index, "question", match.group(1), None, _after(text, match.end()),
                           f"{prefix}'{match.group(0).strip()}'".strip(), True)
        if self.question is None:
            return None
        for pattern, kind in ((_PART_WORD, "word"), (_PAREN, "paren"), (_CLOSE, "close"),
                              (_DOT, "dot")):
            match = pattern.match(text)
            if match is None:
                continue
            if kind == "dot" and not (strong or heading or self._is_next(match.group(1))):
                return None
            return self._letter_part(self.question, match.group(1), index=index,
                                     rest=_after(text, match.end()),
                                     how=f"{prefix}'{match.group(0).strip()}'".strip(),
                                     strong=strong or heading or kind == "word")
        return None

    def _part_after_question(self, index: int, question: str, rest: str,
                             prefix: str) -> _Marker | None:
        """``Question 1 (a)``: a question word followed by a part label."""
        match = _PAREN.match(rest) or _CLOSE.match(rest)
        if match is None or len(match.group(1)) != 1:
            return None
        return _Marker(index, "part", question, f"{question}.{match.group(1).lower()}",
                       _after(rest, match.end()), f"{prefix}'Question {question} {match.group(0)}'",
                       True)

    def _is_next(self, letter: str) -> bool:
        expected = "a" if self.part_letter is None else chr(ord(self.part_letter) + 1)
        return letter == expected


def _numbered_sections(lines: Sequence[Line], layout: Layout) -> dict[int, str]:
    """Line index -> question for unstarred section headings without a number of their own,
    which LaTeX numbers 1, 2, ...: only when every unstarred section is such a heading and
    there are as many as the homework has questions (an extra one would shift the numbers)."""
    found = [index for index, line in enumerate(lines) if _UNSTARRED_SECTION.match(line.text)]
    titles = [_strip_heading(lines[index].text)[0].strip() for index in found]
    numbered = [t for t in titles if _QUESTION.match(t) or _NUMBER_TITLE.match(t)]
    questions = sorted(layout.letters, key=int)
    if numbered or len(found) != len(questions):
        return {}
    return dict(zip(found, questions))


def _exam_questions(lines: Sequence[Line], layout: Layout) -> dict[int, str]:
    """Line index -> question for the exam class's question items, numbered 1, 2, ...: only
    when there are as many as the homework has questions."""
    found = [index for index, line in enumerate(lines)
             if (match := _EXAM.match(line.text)) is not None and match.group(1) == "question"]
    questions = sorted(layout.letters, key=int)
    return dict(zip(found, questions)) if len(found) == len(questions) else {}


def find_parts(lines: Sequence[Line], layout: Layout) -> tuple[dict[str, Segment], list[str]]:
    """Part id → its segment, for every part of ``layout.graded`` found in ``lines``; and notes
    (parts found twice, markers of parts the key does not have)."""
    markers = _Reader(lines, layout).read()
    segments: dict[str, Segment] = {}
    notes: list[str] = []
    for position, marker in enumerate(markers):
        if marker.kind != "part" or marker.part is None:
            continue
        stop = markers[position + 1].index if position + 1 < len(markers) else len(lines)
        body = list(lines[marker.index + 1:stop])
        first = Line(lines[marker.index].number, marker.rest)
        segment = Segment(marker.part, [first] + body, lines[marker.index].number, marker.how,
                          marker.unsure)
        if marker.part not in layout.graded:
            continue
        if marker.part in segments:
            earlier = segments[marker.part]
            if marker.continued:
                earlier.lines += segment.lines
                earlier.continued.append(segment.marker_line)
                continue
            reason = (f"part {marker.part} is marked twice (lines {earlier.marker_line} and "
                      f"{segment.marker_line}): which text answers it is a guess")
            earlier.unsure = reason
            earlier.lines += [Line(0, "")] + segment.lines
            notes.append(reason)
            continue
        segments[marker.part] = segment
    return segments, notes
