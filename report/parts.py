"""The homework's parts as the report shows them, each with its reference answer presented.

:func:`parts` groups the report's evidence under the parts of the answer key, in the key's
order; :func:`presented` turns a question of the key into what the page shows as its
reference answer:

* an expression, a derivation's result or a count: the SymPy expression the key builds from
  ``derivations`` in the question's namespace (``Question.reference_expr``), rendered as
  MathML — with the relation a derivation must establish (1.c: ``log p_θ(x) ≥ …``) and the
  other accepted forms;
* a reference the key labels (1.c, 1.i, 3.d: the built object is a finite model, not the
  course's notation): the label, in the course's notation;
* a min–max problem (3.a, 3.b): its operators over the objective;
* a choice: the correct option(s), with how many to pick; a yes/no question: the expected
  answer and the reason the key gives; a figure: what the person grading it looks for.

Source: the answer key, :mod:`grading.key.homework` (``HOMEWORK.md``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sympy as sp

from report.page import Evidence, Part, math

__all__ = ["parts", "presented"]

_SIGNS = {"=": "=", ">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def _options(question: Any) -> list[Any]:
    correct = [o for o in question.options if o.correct]
    lines: list[Any] = []
    if question.select > 1 or len(correct) > 1:
        lines.append(f"Any {question.select} of these {len(correct)}:"
                     if len(correct) > question.select else "All of:")
    lines += [f"({o.label}) {o.text}" for o in correct]
    return lines


def _yes_no(question: Any) -> list[Any]:
    answer = question.expected.capitalize()
    return [f"{answer}: {question.explanation}" if question.explanation else answer]


def _built(question: Any) -> Any:
    """The key's reference object, or None when it cannot be built."""
    try:
        return question.reference_expr
    except Exception:  # noqa: BLE001 - a reference that cannot be built is described instead
        return None


def _expression_lines(question: Any) -> list[Any]:
    reference = question.reference
    value = _built(question)
    label = reference.label
    if label:
        line: list[Any] = []
        if question.start is not None and question.start.label and question.relation != "=":
            line.append(f"{question.start.label} {_SIGNS.get(question.relation, '')} {label}")
        elif isinstance(value, sp.Basic) and value.is_number:
            line += [value, f"— {label}"]
        else:
            line.append(label)
        lines: list[Any] = [line]
    elif value is None:
        return ["The key's reference could not be built here; `genverify parts` lists it."]
    else:
        lines = [value]
    shown = {math(value)} if isinstance(value, sp.Basic) else set()
    for other in question.accept:
        if other.label:
            lines.append(f"also accepted: {other.label}")
            continue
        try:
            form = other.build(question.namespace)
        except Exception:  # noqa: BLE001 - an accepted form that cannot be built is left out
            continue
        if isinstance(form, sp.Basic) and math(form) not in shown:
            shown.add(math(form))
            lines.append(["also accepted:", form])
    return lines


def presented(question: Any) -> Any:
    """A question's reference answer as :attr:`report.page.Part.reference` (see the module
    docstring); None when the key has none to show."""
    if question.kind == "choice":
        return _options(question)
    if question.kind == "yes/no":
        return _yes_no(question)
    if question.kind == "manual":
        return [f"A figure, graded by a person: {question.rubric}."] if question.rubric else None
    if question.reference is None:
        return None
    return _expression_lines(question)


def _order(part_id: str) -> tuple:
    if part_id == "?":
        return (99,)
    return tuple(int(s) if s.isdigit() else ord(s[0]) for s in part_id.split(".") if s)


def _supporting(part_id: str) -> Part:
    if part_id.isdigit():
        return Part(part_id, None, "", None, title=f"Question {part_id}: supporting results")
    return Part(part_id, None, "", None)


def parts(results: Iterable[Evidence]) -> list[Part]:
    """Group evidence under the homework's parts, in the key's order when the key is there."""
    from grading.key.registry import questions

    grouped: dict[str, Part] = {}
    for q in questions():
        grouped[q.id] = Part(q.id, q.points, q.prompt, presented(q))
    for e in results:
        grouped.setdefault(e.part, _supporting(e.part)).evidence.append(e)
    return sorted(grouped.values(), key=lambda p: _order(p.id) if p.id else ())
