"""Gradescope's ``results.json`` for a graded submission.

One test per part of the key, with its ``score``, ``max_score``, ``status`` (``passed`` only
with full points), ``output`` (for a write-up, what was read and from which lines; the feedback, how the answer
was read, the counterexample or the first invalid line) and ``visibility``; the top level has the automatic ``score``, an
``output`` summary and the ``visibility``. Parts graded by a person are listed with
``max_score`` 0 and an output saying they are pending, so the autograder's total is the
automatic total; their points come from the manual questions of the Gradescope assignment.

The report is written as given: for students (Gradescope shows the output to them), pass it
through ``grading.audience.for_audience(report, "student")`` first, as the autograder bundle
does, so that no output reveals the key's answer or the correct option.

Source: Gradescope autograder specifications, "Output Format" (results.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grading.graded import Report, extraction_text
from grading.key.registry import Result

__all__ = ["VISIBILITIES", "results_json", "write_results"]

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def _output(result: Result, extraction: Any = None) -> str:
    lines = [extraction_text(extraction)] if extraction is not None else []
    lines.append(f"{result.status.value}: {result.feedback}")
    if result.read_as:
        lines.append(f"read as: {result.read_as}")
    if result.line:
        lines.append(f"line {result.line} of the answer")
    if result.detail and result.automatic:
        lines.append(f"detail: {result.detail}")
    return "\n".join(lines)


def results_json(report: Report, *, visibility: str = "visible",
                 test_visibility: str | None = None) -> dict[str, Any]:
    """The ``results.json`` data of a :class:`grading.submission.Report`."""
    for value in (visibility, test_visibility or visibility):
        if value not in VISIBILITIES:
            raise ValueError(f"visibility is one of {VISIBILITIES}, not {value!r}")
    tests = []
    for result in report.results:
        test = {
            "name": f"{result.part}",
            "number": result.part,
            "score": result.points if result.automatic else 0.0,
            "max_score": result.max_points if result.automatic else 0.0,
            "status": "passed" if result.automatic and result.points == result.max_points
            else "failed",
            "output": _output(result, report.extractions.get(result.part)),
            "visibility": test_visibility or visibility,
        }
        if not result.automatic:
            test["output"] = f"graded by a person: {result.max_points:g} points pending. " \
                             f"{result.feedback}"
            test["tags"] = ["manual"]
        tests.append(test)
    output = report.summary()
    if report.unknown:
        output += "\nignored (not parts of the key): " + ", ".join(report.unknown)
    return {"score": report.score, "output": output, "visibility": visibility,
            "stdout_visibility": "hidden", "tests": tests}


def write_results(report: Report, path: str | Path, **options: Any) -> Path:
    """Write ``results.json`` (UTF-8, indented) and return its path."""
    path = Path(path)
    path.write_text(json.dumps(results_json(report, **options), indent=2, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    return path
