"""A write-up's text as numbered lines, with what is not an answer taken out.

Every later step works on :class:`Line` values that keep the line number of the file, so an
extraction can say where it came from. This module:

* for LaTeX (``.tex``): removes comments (``%`` not escaped), keeps the body between
  ``\\begin{document}`` and ``\\end{document}`` when both are there, reads and removes the macro
  definitions and expands the macros (:mod:`grading.writeup.macros`);
* for every format: removes the noise between parts — Gradescope's "Questions assigned to the
  following page: ..." lines, page numbers and "Page 3 of 9" footers, short lines repeated on
  three or more pages (a name/NetID header), figure captions and image lines — and blank runs.

Nothing here evaluates anything; the regular expressions are linear in the line length.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from grading.writeup.macros import Macros, read_definitions

__all__ = ["FORMATS", "Line", "Source", "format_of", "read_source"]

FORMATS = {".tex": "latex", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}

_COMMENT = re.compile(r"(?<!\\)%.*$")
_ASSIGNED = re.compile(r"^\W*questions?\s+assigned\s+to\s+the\s+(?:following|next)\s+pages?\b",
                       re.IGNORECASE)
_PAGE = re.compile(r"^[\s\-–|*]*(?:page\s+\d+(?:\s*(?:of|/)\s*\d+)?|\d+\s+of\s+\d+|"
                   r"\d{2,3})[\s\-–|*]*$", re.IGNORECASE)
_CAPTION = re.compile(r"^\s*(?:\*\*|_)?(?:figure|fig\.)\s*\d+[a-z]?\s*[:.]", re.IGNORECASE)
_IMAGE = re.compile(r"^\s*(?:!\[[^\]]*\]\([^)]*\)|\\includegraphics\b|\\caption\s*\{|"
                    r"<img\b)", re.IGNORECASE)
_PREAMBLE_ONLY = re.compile(r"^\s*(?:\\(?:documentclass|usepackage|title|author|date|maketitle|"
                            r"geometry|setlength|pagestyle|thispagestyle|newpage|clearpage|"
                            r"pagebreak|vspace|hspace|noindent|bigskip|medskip|smallskip|"
                            r"centering|hline|toprule|midrule|bottomrule)\*?\s*"
                            r"(?:\[[^\]]*\]|\{[^{}]*\})*\s*)+$")


@dataclass(frozen=True)
class Line:
    """One line of the file: its 1-based number and its text (after macro expansion)."""

    number: int
    text: str


@dataclass
class Source:
    """The lines of a write-up that may hold answers, and what reading them noted."""

    format: str
    lines: list[Line]
    macros: Macros = field(default_factory=Macros)
    removed: Counter = field(default_factory=Counter)  # kind of noise → lines removed

    @property
    def notes(self) -> list[str]:
        """What was done to the text, for the person reading the extraction."""
        notes = []
        if self.macros.defined:
            names = ", ".join("\\" + name for name in sorted(self.macros.defined))
            notes.append(f"macros expanded: {names}")
        notes += [f"macro not expanded: {message}" for message in self.macros.refused]
        notes += [f"left out: {count} {kind} line{'s' if count != 1 else ''}"
                  for kind, count in sorted(self.removed.items())]
        return notes


def format_of(name: str) -> str | None:
    """``"latex"``, ``"markdown"`` or ``"text"`` for a write-up's file name; None otherwise."""
    lowered = name.lower()
    return next((kind for suffix, kind in FORMATS.items() if lowered.endswith(suffix)), None)


def read_source(text: str, kind: str) -> Source:
    """The numbered answer lines of a write-up's ``text`` in format ``kind``."""
    numbered = [Line(number, line.rstrip("\r"))
                for number, line in enumerate(text.split("\n"), 1)]
    macros = Macros()
    if kind == "latex":
        numbered = [Line(line.number, _COMMENT.sub("", line.text)) for line in numbered]
        numbered = _body(numbered)
        macros = read_definitions([(line.number, line.text) for line in numbered])
        numbered = [Line(line.number, macros.expand(line.text)) for line in numbered
                    if line.number not in macros.definition_lines]
    source = Source(kind, [], macros)
    repeated = _repeated_headers(numbered)
    for line in numbered:
        noise = _noise(line.text, repeated)
        if noise:
            source.removed[noise] += 1
        else:
            source.lines.append(line)
    return source


def _body(lines: list[Line]) -> list[Line]:
    """The lines between ``\\begin{document}`` and ``\\end{document}`` (the preamble is kept
    for its macro definitions only), or all lines when the markers are not both there."""
    begin = next((i for i, line in enumerate(lines) if "\\begin{document}" in line.text), None)
    end = next((i for i, line in enumerate(lines) if "\\end{document}" in line.text), None)
    if begin is None or end is None or end < begin:
        return lines
    preamble = [line for line in lines[:begin] if "\\newcommand" in line.text
                or "\\renewcommand" in line.text or "\\providecommand" in line.text
                or "\\DeclareMathOperator" in line.text or "\\def" in line.text
                or "\\let" in line.text]
    return preamble + lines[begin + 1:end]


def _repeated_headers(lines: list[Line]) -> set[str]:
    """Short prose lines (no math) met three or more times: running heads and feet."""
    counts = Counter(line.text.strip() for line in lines)
    return {text for text, count in counts.items()
            if count >= 3 and 0 < len(text) <= 80 and not re.search(r"[$\\=^_{}]", text)
            and not re.fullmatch(r"[\W\d]*", text) and len(text.split()) >= 2}


def _noise(text: str, repeated: set[str]) -> str | None:
    """The kind of noise ``text`` is, or None if it may belong to an answer."""
    stripped = text.strip()
    if not stripped:
        return None
    if _ASSIGNED.match(stripped):
        return "Gradescope page-assignment"
    if _PAGE.match(stripped):  # not a lone digit: it may be an answer ("2")
        return "page-number"
    if stripped in repeated:
        return "running header/footer"
    if _CAPTION.match(stripped) or _IMAGE.match(stripped):
        return "figure"
    if _PREAMBLE_ONLY.match(stripped):
        return "layout"
    return None
