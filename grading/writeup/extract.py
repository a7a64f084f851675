"""From one part's text, what the key needs: a final expression, derivation lines or prose.

The text of a part (:class:`grading.writeup.parts.Segment`) is split into prose and math:
display blocks (``$$...$$``, ``\\[...\\]``, ``equation``, ``align``, ``gather``, ``multline``,
``eqnarray``, with their starred forms; ``aligned``/``split`` inside them) and inline math
(``$...$``, ``\\(...\\)``). A display block's rows are split at ``\\\\``; ``\\tag``, ``\\label``,
``\\nonumber``, ``\\notag`` and the alignment ``&`` are dropped, ``\\boxed{X}`` is read as X and
marks a final answer, and trailing reasons (``\\quad (\\text{Jensen})``) stay for the
derivation checker, which reads them as reasons. In plain text (no ``$``), a line that is a
formula (a relation with at most a short label before it) is a display row.

By the kind of the question:

* ``derivation``: every display row of the part, in order (one row: the row itself);
* ``expression``, ``structured``: the boxed expression, else the last display row (a leading
  relation such as ``&= X`` removed), else the only inline formula, or the only one that is
  not a condition equating two names or a name and a number (``$p_G = p_{data}$``);
* ``choice``, ``yes/no``, ``number``: the part's prose with its math, from an "Answer:" line on
  when there is one (the key's readers find the option, the yes/no and its reason, the number);
* ``manual``: nothing is graded; the lines are shown to the person.

A reading the extractor is not sure of is *unsure*, with the reason: two different boxed
answers, or two final candidates with a change of mind between them ("actually", "or",
"alternatively", "instead", "correction"); an expression part with several inline formulas that
are not conditions and no display; a part whose text is empty is *empty* ("skipped", "n/a"
count as empty).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grading.writeup.parts import Segment
from grading.writeup.source import Line

__all__ = ["Block", "Extraction", "blocks", "extract"]

_DISPLAY_ENVS = r"equation|align|gather|multline|eqnarray|flalign|alignat|displaymath|math"
_OPEN = re.compile(r"\$\$|\\\[|\\begin\s*\{(" + _DISPLAY_ENVS + r")(\*?)\}(\{[^}]*\})?")
_INLINE = re.compile(r"(?<![\\$])\$(?!\$)((?:[^$\\]|\\.)+?)\$(?!\$)|\\\((.+?)\\\)")
_DROP = re.compile(r"\\(?:tag\*?\s*\{[^{}]*\}|label\s*\{[^{}]*\}|nonumber\b|notag\b|"
                   r"begin\s*\{(?:aligned|split|gathered|array)\}(?:\{[^{}]*\})?|"
                   r"end\s*\{(?:aligned|split|gathered|array)\}|displaystyle\b|"
                   r"hfill\b|intertext\s*\{[^{}]*\})")
_LEADING_RELATION = re.compile(r"^\s*(?:=|\\geq?\b|\\leq?\b|\\geqslant\b|\\leqslant\b|≥|≤|>=|<=|"
                               r"\\approx\b)\s*")
_FORMULA_LINE = re.compile(r"(?:=|\\geq?|\\leq?|>=|<=|≥|≤|\\implies|\\Rightarrow|=>)")
_HEDGE = re.compile(r"\b(?:actually|alternatively|correction|corrected|on second thought|"
                    r"i(?: am|'m) not sure|not sure)\b|^\W*(?:or|instead|wait|i think)\b(?!\s+"
                    r"(?:equivalently|of))", re.IGNORECASE)
_ANSWER_LINE = re.compile(r"^\W*(?:final\s+)?(?:answer|ans|solution)\s*[:.]", re.IGNORECASE)
_EMPTY = re.compile(r"^\W*(?:skip(?:ped)?|n/?a|not\s+attempted|did\s+not\s+(?:attempt|answer|"
                    r"finish)|no\s+answer|todo|tbd|-+|\?+)\W*$", re.IGNORECASE)
_TEXT_MARKUP = re.compile(r"\\(?:textbf|textit|emph|underline|text|mathrm)\s*\{([^{}]*)\}")
_LAYOUT_COMMAND = re.compile(r"\\(?:noindent|medskip|bigskip|smallskip|centering|newline|"
                             r"vspace\*?\s*\{[^{}]*\}|hspace\*?\s*\{[^{}]*\})(?![A-Za-z])")
_LIST_MARKUP = re.compile(r"\\(?:begin|end)\s*\{(?:itemize|enumerate|description|center|"
                          r"flushleft)\}|\\item\b(?:\[[^\]]*\])?|\\\\|\\newline\b|\\par\b")


@dataclass(frozen=True)
class Row:
    """One row of a display block: the line where it starts and its text."""

    line: int
    text: str
    boxed: bool = False


@dataclass
class Block:
    """A run of the part's text: ``"display"`` rows, or ``"prose"`` (with its inline math)."""

    kind: str
    rows: list[Row]
    env: str = ""

    @property
    def lines(self) -> tuple[int, int]:
        numbers = [row.line for row in self.rows]
        return min(numbers), max(numbers)

    def inline(self) -> list[Row]:
        """The inline formulas of a prose block."""
        found = []
        for row in self.rows:
            for match in _INLINE.finditer(row.text):
                formula = (match.group(1) or match.group(2) or "").strip()
                if formula:
                    found.append(Row(row.line, formula))
        return found


@dataclass
class Extraction:
    """What was read for one part, from which lines, and how; or why nothing was."""

    part: str
    status: str  # "read" | "empty" | "not found" | "unsure" | "manual"
    answer: str | list[str] | None = None
    lines: tuple[int, int] | None = None  # the lines the answer was read from
    segment: tuple[int, int] | None = None  # the lines of the part's text
    how: str = ""
    reason: str = ""
    candidates: list[str] = field(default_factory=list)
    alternatives: list[list[Any]] = field(default_factory=list)  # [[line, row], ...]: other
    # final answers of the same quantity (the same left side) in earlier display blocks

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "status": self.status, "answer": self.answer,
                "lines": list(self.lines) if self.lines else None,
                "segment": list(self.segment) if self.segment else None, "how": self.how,
                "reason": self.reason, "candidates": list(self.candidates),
                "alternatives": [list(item) for item in self.alternatives]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Extraction:
        answer = data.get("answer")
        if not (answer is None or isinstance(answer, str) or isinstance(answer, list)
                and all(isinstance(item, str) for item in answer)):
            raise ValueError("an extracted answer is a string or a list of strings")
        lines, segment = data.get("lines"), data.get("segment")
        return cls(str(data["part"]), str(data["status"]), answer,
                   tuple(int(n) for n in lines) if lines else None,
                   tuple(int(n) for n in segment) if segment else None,
                   str(data.get("how", "")), str(data.get("reason", "")),
                   [str(c) for c in data.get("candidates", [])],
                   [[int(line), str(row)] for line, row in data.get("alternatives", [])])


# --- splitting a part's text ----------------------------------------------------------------


def blocks(lines: Sequence[Line], plain_text: bool = False) -> list[Block]:
    """The part's text as prose and display blocks, in order."""
    out: list[Block] = []
    prose: list[Row] = []
    index = 0
    pending: tuple[int, str] | None = None  # (line, rest of a line after a closed block)
    items = [(line.number, line.text) for line in lines]
    while index < len(items) or pending is not None:
        if pending is not None:
            number, text = pending
            pending = None
        else:
            number, text = items[index]
            index += 1
        opener = _OPEN.search(text)
        if opener is None:
            if plain_text and _is_formula_line(text):
                _flush(out, prose)
                prose = []
                row = _without_trailing_words(_clean_row(text.strip()))
                out.append(Block("display", [Row(number, row)], "line"))
            else:
                prose.append(Row(number, text))
            continue
        if text[:opener.start()].strip():
            prose.append(Row(number, text[:opener.start()]))
        _flush(out, prose)
        prose = []
        env = opener.group(1) or ("$$" if opener.group(0) == "$$" else "\\[")
        closer = {"$$": re.compile(r"\$\$"), "\\[": re.compile(r"\\\]")}.get(
            env, re.compile(r"\\end\s*\{" + re.escape(env) + r"\*?\}"))
        content: list[tuple[int, str]] = []
        rest_number, rest = number, text[opener.end():]
        while True:
            close = closer.search(rest)
            if close is not None:
                content.append((rest_number, rest[:close.start()]))
                after = rest[close.end():]
                if after.strip():
                    pending = (rest_number, after)
                break
            content.append((rest_number, rest))
            if index >= len(items):
                break  # an unclosed block runs to the end of the part
            rest_number, rest = items[index]
            index += 1
        rows = _rows(content)
        if rows:
            out.append(Block("display", rows, env))
    _flush(out, prose)
    return out


def _flush(out: list[Block], prose: list[Row]) -> None:
    if any(row.text.strip() for row in prose):
        out.append(Block("prose", list(prose)))


def _rows(content: list[tuple[int, str]]) -> list[Row]:
    """The rows of a display block's content, split at top-level ``\\\\``."""
    rows, current, start, depth = [], [], None, 0
    for number, text in content:
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\" and text.startswith("\\\\", i) and depth == 0:
                rows.append((start if start is not None else number, "".join(current)))
                current, start = [], None
                i += 2
                continue
            if char == "\\" and i + 1 < len(text):
                if start is None and text[i:].strip():
                    start = number
                current.append(text[i:i + 2])
                i += 2
                continue
            if char == "{":
                depth += 1
            elif char == "}":
                depth = max(0, depth - 1)
            if start is None and not char.isspace():
                start = number
            current.append(char)
            i += 1
        current.append(" ")
    rows.append((start if start is not None else content[-1][0] if content else 0,
                 "".join(current)))
    cleaned = []
    for number, text in rows:
        row, boxed = _unbox(_clean_row(text))
        if row and not re.fullmatch(r"[\s.,;]*", row):
            cleaned.append(Row(number, row, boxed))
    return cleaned


_PAREN_REASON = re.compile(r"(?:\\left)?\(\s*(\\text\s*\{[^{}]*\})\s*(?:\\right)?\)\s*$")


def _clean_row(text: str) -> str:
    text = _DROP.sub(" ", text)
    text = text.replace("&", " ")
    # a trailing reason in parentheses, (\text{Jensen}), is read as the reason \text{Jensen}
    text = _PAREN_REASON.sub(r"\1", text.rstrip(" .,;"))
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*[.,;]\s*$", "", text)


def _unbox(text: str) -> tuple[str, bool]:
    """``\\boxed{X}`` → X (the whole row, or the boxed part of it: ``D^* = \\boxed{X}``)."""
    match = re.search(r"\\(?:boxed|fbox)\s*\{", text)
    if match is None:
        return text, False
    depth, start = 0, match.end() - 1
    for index in range(start, len(text)):
        if text[index] == "{" and text[index - 1] != "\\":
            depth += 1
        elif text[index] == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                inner = text[start + 1:index]
                before = text[:match.start()].strip()
                if before and _FORMULA_LINE.search(before):
                    return f"{before} {inner}".strip(), True
                return inner.strip(), True
    return text, False


def _is_formula_line(text: str) -> bool:
    """A plain-text line that is a formula: a relation, at most a short label before it."""
    stripped = text.strip()
    if not stripped or "$" in stripped:
        return False
    relation = _FORMULA_LINE.search(stripped)
    if relation is None:  # a bare expression: math signs and no words
        return bool(re.search(r"[\\^_/+*]|\w\(", stripped)) and not _english(stripped)
    before = stripped[:relation.start()]
    words = re.findall(r"[A-Za-z]{3,}", before)
    english = [w for w in words if w.lower() not in _MATH_WORDS]
    return len(english) <= 1 and len(before) <= 60


def _english(text: str) -> list[str]:
    """The words of ``text`` that are not names used in formulas (LaTeX commands skipped)."""
    words = re.findall(r"(?<![\\A-Za-z])[A-Za-z]{3,}", text)
    return [word for word in words if word.lower() not in _MATH_WORDS]


def _without_trailing_words(row: str) -> str:
    """A plain formula line without the words after it: ``q*(z) = p(z|x), the posterior``."""
    for match in re.finditer(r"(?:,\s+|\s+\(|\s+-{1,2}\s+|;\s*)(?=([A-Za-z]{3,}))", row):
        if match.group(1).lower() not in _MATH_WORDS:
            return row[:match.start()].strip()
    return row


_MATH_WORDS = {"log", "exp", "sum", "prod", "int", "frac", "sqrt", "kl", "jsd", "max", "min",
               "argmax", "argmin", "mathbb", "mathcal", "mathrm", "left", "right", "sigma",
               "mu", "phi", "theta", "alpha", "beta", "lambda", "data", "partial", "hat",
               "bar", "tilde", "cdot", "elbo", "operatorname", "text", "quad", "qquad", "infty"}


# --- by kind --------------------------------------------------------------------------------


def extract(segment: Segment | None, part: str, kind: str, file_format: str) -> Extraction:
    """The extraction of ``part`` (a question of ``kind``) from its segment."""
    if segment is None:
        if kind == "manual":
            return Extraction(part, "not found", reason=f"no marker for part {part} was found: "
                              "a person looks for the figure")
        return Extraction(part, "not found", reason=f"no marker for part {part} was found in "
                          "the write-up (if the student did not answer it, it scores 0)")
    span = segment.span
    how = f"marked by {segment.how} at line {segment.marker_line}"
    text_lines = [line for line in segment.lines if line.text.strip()]
    if kind == "manual":
        return Extraction(part, "manual", None, span if text_lines else None, span, how)
    if not text_lines or all(_EMPTY.match(_prose_text(line.text)) for line in text_lines):
        return Extraction(part, "empty", None, None, span, how,
                          reason="the part is marked but has no answer")
    kept, restated = _without_restatement(segment.lines)
    if restated:
        how += f"; the restated question (line {restated[0]}) left out"
    if not any(line.text.strip() for line in kept):
        return Extraction(part, "empty", None, None, span, how,
                          reason="the part restates the question but has no answer")
    prose_kind = kind in ("choice", "yes/no", "number")
    found = blocks(kept, plain_text=file_format == "text" and not prose_kind)
    doubt = _two_candidates(part, found, how)
    if doubt is not None:
        extraction = doubt
    elif prose_kind:
        extraction = _prose(part, found, how)  # the key finds the option, yes/no or number
    elif kind == "derivation":
        extraction = _derivation(part, found, how)
    else:
        extraction = _final(part, found, how)
    if kind not in ("choice", "yes/no", "number") and extraction.status == "read":
        extraction.alternatives = _alternatives(found)
    extraction.segment = span
    if segment.unsure and extraction.status == "read":
        extraction.status, extraction.reason = "unsure", segment.unsure
    return extraction


_RESTATED = re.compile(r"^\s*(?:\\(?:emph|textit|textbf|textsl)\s*\{|\*+|_+|>\s*)*\s*(?:question|"
                       r"problem|prompt|task|q)\s*[:.]", re.IGNORECASE)


def _without_restatement(lines: Sequence[Line]) -> tuple[list[Line], list[int]]:
    """The part's lines without a restated question (``Question: ...``, ``\\emph{Q: ...}``),
    which runs to the end of its paragraph or of its emphasis group."""
    kept: list[Line] = []
    dropped: list[int] = []
    depth, inside = 0, False
    for line in lines:
        text = line.text
        if not inside and _RESTATED.match(text):
            inside, depth = True, 0
        if inside:
            dropped.append(line.number)
            depth += text.count("{") - text.count("\\{") - text.count("}") + text.count("\\}")
            emphasised = re.match(r"^\s*\\(?:emph|textit|textbf|textsl)\s*\{", text) is not None
            if depth <= 0 and (emphasised or not text.strip() or text.rstrip().endswith("?")):
                inside = False
            continue
        kept.append(line)
    return kept, dropped


def _left_side(row: str) -> str | None:
    """The text before a row's first top-level ``=`` (None if it starts with a relation)."""
    if _LEADING_RELATION.match(row):
        return None
    depth = 0
    for index, char in enumerate(row):
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif char == "=" and depth == 0:
            left = re.sub(r"\s+", "", row[:index])
            return left or None
    return None


def _alternatives(found: list[Block]) -> list[list[Any]]:
    """Earlier display blocks that end in the same quantity (the same left side) as the last
    one but another right side: other final answers, which the grader compares."""
    displays = [block for block in found if block.kind == "display"]
    if len(displays) < 2:
        return []
    final = displays[-1].rows[-1]
    left = _left_side(final.text)
    if left is None:
        return []
    out = []
    for block in displays[:-1]:
        row = block.rows[-1]
        if _left_side(row.text) == left and \
                re.sub(r"\s+", "", row.text) != re.sub(r"\s+", "", final.text):
            out.append([row.line, row.text])
    return out


def _prose(part: str, found: list[Block], how: str) -> Extraction:
    """The part's words and math as one text (from an "Answer:" line on, if there is one)."""
    rows: list[Row] = []
    for block in found:
        if block.kind == "prose":
            rows += [Row(row.line, _prose_text(row.text)) for row in block.rows]
        else:
            rows += [Row(row.line, f"${row.text}$") for row in block.rows]
    rows = [row for row in rows if row.text.strip()]
    start = next((i for i, row in enumerate(rows) if _ANSWER_LINE.match(row.text)), None)
    if start is not None:
        rows = rows[start:]
        rows[0] = Row(rows[0].line, _ANSWER_LINE.sub("", rows[0].text, count=1).strip())
        how += "; from the 'Answer' line on"
    text = _join(rows)
    if not text:
        return Extraction(part, "empty", reason="the part is marked but has no answer")
    return Extraction(part, "read", text, (rows[0].line, rows[-1].line), how=how + "; its text")


def _join(rows: list[Row]) -> str:
    """The rows as one text: a row that starts a list item or follows a finished sentence or
    a formula starts a new line (the key reads one option per line); a wrapped line goes on."""
    out = ""
    for row in rows:
        text = row.text.strip()
        if not text:
            continue
        new_line = out and (re.search(r"[.;:!?$]$", out) or
                            re.match(r"^(?:[-*•]|\(?\d{1,2}[).]|\(?[a-z][).]\s)", text))
        out += ("\n" if new_line else " " if out else "") + text
    return out


def _prose_text(text: str) -> str:
    text = _LIST_MARKUP.sub(" ", text)
    text = _LAYOUT_COMMAND.sub(" ", text)
    text = re.sub(r"\\(?:boxed|fbox)\s*\{([^{}]*)\}", r"\1", text)
    for _ in range(3):
        text = _TEXT_MARKUP.sub(r"\1", text)
    text = re.sub(r"\*\*|__", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _display_rows(found: list[Block]) -> list[Row]:
    return [row for block in found if block.kind == "display" for row in block.rows]


def _change_of_mind(found: list[Block]) -> tuple[Row, Row] | None:
    """Two final candidates with a change of mind written between them: the last row of a
    display block, prose with a hedge, and a later display block."""
    last_display: Row | None = None
    hedged = False
    for block in found:
        if block.kind == "display":
            if last_display is not None and hedged:
                return last_display, block.rows[-1]
            last_display, hedged = block.rows[-1], False
        elif last_display is not None and any(_HEDGE.search(_prose_text(row.text))
                                              for row in block.rows):
            hedged = True
    return None


def _boxed(found: list[Block]) -> list[Row]:
    rows = [row for row in _display_rows(found) if row.boxed]
    for block in found:
        if block.kind == "prose":
            for row in block.inline():
                inner, boxed = _unbox(row.text)
                if boxed:
                    rows.append(Row(row.line, inner, True))
    return rows


def _unsure_between(part: str, first: Row, second: Row, how: str, why: str) -> Extraction:
    return Extraction(part, "unsure", None, (first.line, second.line), how=how,
                      reason=f"{why}: line {first.line} ({first.text[:60]}) and line "
                             f"{second.line} ({second.text[:60]})",
                      candidates=[first.text, second.text])


def _two_candidates(part: str, found: list[Block], how: str) -> Extraction | None:
    """Unsure when the part gives two final answers: two different boxed ones, or two
    displayed ones with a change of mind written between them (any kind of part)."""
    boxed = _boxed(found)
    distinct = {re.sub(r"\s+", "", row.text): row for row in boxed}
    if len(distinct) > 1:
        first, second = list(distinct.values())[:2]
        return _unsure_between(part, first, second, how, "two different boxed answers")
    candidates = _change_of_mind(found)
    if candidates is not None and not boxed:
        return _unsure_between(part, *candidates, how, "two final answers with a change of "
                               "mind between them")
    return None


def _final(part: str, found: list[Block], how: str) -> Extraction:
    """One final expression: boxed, else the last display row, else the only inline one."""
    boxed = _boxed(found)
    if boxed:
        row = boxed[-1]
        return Extraction(part, "read", _strip_relation(row.text), (row.line, row.line),
                          how=how + f"; the boxed expression (line {row.line})")
    rows = _display_rows(found)
    if rows:
        row = rows[-1]
        return Extraction(part, "read", _strip_relation(row.text), (row.line, row.line),
                          how=how + f"; the last displayed line (line {row.line})")
    inline = [row for block in found if block.kind == "prose" for row in block.inline()
              if not _BARE_SYMBOL.match(row.text)]
    answers = [row for row in inline if not _CONDITION.match(row.text)]
    if len(inline) > 1 and len({re.sub(r"\s+", "", row.text) for row in answers}) == 1:
        row = answers[-1]  # "$\log 4 - 2\,JSD$, minimised at $p_G = p_{data}$"
        return Extraction(part, "read", _strip_relation(row.text), (row.line, row.line),
                          how=how + f"; the formula in the text (line {row.line}), the others "
                                    "being conditions")
    distinct_inline = {re.sub(r"\s+", "", row.text): row for row in inline}
    if len(distinct_inline) == 1:
        row = inline[-1]
        return Extraction(part, "read", _strip_relation(row.text), (row.line, row.line),
                          how=how + f"; the formula in the text (line {row.line})")
    if len(distinct_inline) > 1:
        return Extraction(part, "unsure", None, (inline[0].line, inline[-1].line), how=how,
                          reason=f"{len(distinct_inline)} formulas in the text and none "
                                 "displayed or boxed: which one is the answer is a guess",
                          candidates=[row.text for row in list(distinct_inline.values())[:4]])
    words = " ".join(_prose_text(row.text) for block in found for row in block.rows).strip()
    first = re.split(r"(?:(?<!\\)[,;]\s|\.\s|\bsince\b|\bbecause\b|\bas\b)", words,
                     maxsplit=1)[0].strip()
    if first and len(first) <= 40 and not re.search(r"[A-Za-z]{4,}", first):
        line = found[0].rows[0].line
        return Extraction(part, "read", first, (line, line), how=how + "; the start of the text")
    line = found[0].rows[0].line
    return Extraction(part, "read", words, (line, found[-1].rows[-1].line),
                      how=how + "; its text (no formula found)")


_NAME = (r"(?:\\(?:mathrm|mathbf|mathcal|operatorname|text)\s*\{[^{}]*\}|\\[A-Za-z]+|[A-Za-z])"
         r"\s*(?:[_^]\s*(?:\{(?:[^{}]|\{[^{}]*\})*\}|\\?[A-Za-z0-9*]+)\s*)*(?:\([^()=]*\))?")
_NUMBER = r"-?\s*(?:\d+(?:\.\d+)?|\\[dt]?frac\s*\{\s*\d+\s*\}\s*\{\s*\d+\s*\}|\d+\s*/\s*\d+)"
# a formula that equates two names, or a name and a number: a condition stated next to the
# answer ($p_G = p_{data}$, $D^*(x) = 1/2$, $\mu_\phi \to \mu_p$), not an expression answered
_CONDITION = re.compile(r"^\s*" + _NAME + r"\s*(?:=|\\neq?|\\to|\\approx|\\equiv)\s*(?:"
                        + _NAME + "|" + _NUMBER + r")\s*[.,;]?\s*$")
# a name alone ($q$, $\sigma^2$, $q_\phi(z|x)$): named in the text, not answered
_BARE_SYMBOL = re.compile(r"^\s*" + _NAME + r"\s*$")


def _strip_relation(text: str) -> str:
    return _LEADING_RELATION.sub("", text, count=1).strip()


def _derivation(part: str, found: list[Block], how: str) -> Extraction:
    """Every display row in order; one row alone is a final answer."""
    rows = _display_rows(found)
    if not rows:
        return _final(part, found, how)
    if len(rows) == 1:
        row = rows[0]
        return Extraction(part, "read", row.text, (row.line, row.line),
                          how=how + f"; the displayed line (line {row.line})")
    return Extraction(part, "read", [row.text for row in rows], (rows[0].line, rows[-1].line),
                      how=how + f"; {len(rows)} displayed lines as the derivation")
