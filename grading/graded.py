"""The results of one submission: every part's :class:`grading.key.registry.Result`, the totals,
and — for a write-up — what was read for each part; as a table for people and as plain data.

Parts graded by a person (figures) are pending: excluded from the automatic total and reported
apart ("manual: 0 of 5 parts graded, 33 points pending").
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grading.key.registry import Result, Status

__all__ = ["MAX_LISTED", "Report", "extraction_text"]

MAX_LISTED = 20  # ids the key does not have, listed one by one in the table


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
                for line in _wrap(extraction_text(extraction), width - 2):
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
    return textwrap.wrap(text, max(20, width), break_long_words=False, break_on_hyphens=False)


def extraction_text(extraction: Any) -> str:
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
