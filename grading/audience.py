"""Who reads a grade: staff see everything, students never see the key's answer.

A :class:`grading.key.registry.Result` is written for the course staff: its feedback may quote
the correct option of a choice part (``the answer is (3) p_θ(z|x)``), the expected yes/no and
the key's explanation, the min–max problem a structured answer should state, the term of the
reference a mistake got wrong (``log(4) should be -log(4)``), or the reference itself when it
is a number (``the exact numbers 0 and 1 differ``). :func:`for_audience` with ``"student"``
rewrites exactly those messages so that the feedback still names the mistake and shows the
counterexample (the point where the answer and the key disagree, with the answer's value),
but never reveals the reference answer or the correct option; ``"staff"`` returns the result
unchanged. As a last guard, any rendering of the reference (:func:`secrets`) left in the
feedback or detail, and not written by the student, is replaced by ``(hidden)``.

:func:`reference_text` is the key's answer in one line, which staff-facing outputs show.

Where the messages come from: ``grading/key/registry.py`` (choice, yes/no, number, the
engine's verdicts), ``grading/key/structured.py`` (min–max problems), ``grading/key/steps.py``
(derivations) and ``grading/answers/feedback.py`` (named mistakes); the tests grade a wrong
and a partial answer to every part of the key in both modes.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, TypeVar

from grading.key.registry import AnswerKeyError, Question, Result, Status, question

__all__ = ["AUDIENCES", "DEFAULT_AUDIENCE", "HIDDEN", "for_audience", "for_student",
           "reference_text", "secrets"]

AUDIENCES = ("staff", "student")
DEFAULT_AUDIENCE = "staff"  # the command line; the Gradescope bundle and pytest use "student"
HIDDEN = "(hidden)"
_NOTE = " Explanation (for a person to read):"

T = TypeVar("T")


# -- the key's answer ---------------------------------------------------------------------------


def _question(part: str) -> Question | None:
    try:
        return question(part)
    except AnswerKeyError:
        return None


def _rendered(q: Question) -> list[str]:
    """The reference as the grader renders it: LaTeX (as ``read as`` shows an answer) and
    SymPy's plain text, for every accepted form."""
    import sympy as sp

    from grading.answers.parse import render_latex

    shown: list[str] = []
    if q.reference is None:
        return shown
    for _, form in q.accepted():
        if isinstance(form, sp.Basic):
            shown += [render_latex(form), sp.sstr(form)]
        elif hasattr(form, "latex"):  # a structured problem
            shown.append(form.latex())
    return shown


def reference_text(q: Question) -> str:
    """The key's answer to ``q`` in one line: the correct option(s), the expected yes/no and
    why, the number, or the reference's label (else its LaTeX); empty for a part a person
    grades."""
    if q.kind == "choice":
        correct = "; ".join(f"({o.label}) {o.text}" for o in q.options if o.correct)
        return f"any {q.select} of {correct}" if q.select > 1 else correct
    if q.kind == "yes/no":
        return f"{q.expected}: {q.explanation}" if q.explanation else str(q.expected)
    if q.reference is None:
        return ""
    if q.kind == "number":
        return str(q.reference_expr)
    if q.reference.label:
        return q.reference.label
    rendered = _rendered(q)
    return rendered[0] if rendered else ""


def secrets(q: Question) -> list[str]:
    """Texts that reveal the key's answer to ``q``: :func:`reference_text`, each rendering of
    each accepted form, the correct options (``(3)`` and their text) and the key's
    explanation of a yes/no part. Short numbers are left out (they are guarded by the
    rewrites, not by search)."""
    found: list[str] = []
    if q.kind == "choice":
        for option in q.options:
            if option.correct:
                found += [f"({option.label}) {option.text}", option.text]
    elif q.kind == "yes/no":
        found += [q.explanation, f"the answer is {q.expected}"]
    elif q.reference is not None:
        found += [q.reference.label, *_rendered(q)]
        if q.kind != "number":
            found.append(reference_text(q))
    return [text for text in dict.fromkeys(found) if len(text) >= 3]


# -- rewriting the messages that quote the key -------------------------------------------------

_ENGINE_REWRITES = (  # grading/answers/feedback.py: the named mistakes that quote the reference
    (re.compile(r"One term has the wrong sign: .+? should be .+? \(the other terms are "
                r"right\)\."), "One term has the wrong sign (the other terms are right)."),
    (re.compile(r"One term has the wrong factor: the factor .+? of .+? is dropped\."),
     "One term has the wrong factor: a numeric factor is dropped."),
    (re.compile(r"One term has the wrong factor: .+? is multiplied by .+? instead of .+?\."),
     "One term has the wrong factor (the other terms are right)."),
    (re.compile(r"The constant term .+? has the wrong sign \(the rest is right\)\."),
     "The constant term has the wrong sign (the rest is right)."),
    (re.compile(r"\(a factor 2 dropped; the constant .+? is right\)"),
     "(a factor 2 dropped; the constant is right)"),
    (re.compile(r"\(the constant .+? is right\)"), "(the constant is right)"),
    (re.compile(r"A constant is wrong: log .+? where log .+? belongs\."),
     "A constant is wrong: the number inside a logarithm."),
    (re.compile(r"The numerator is swapped: .+? over .+? where .+? belongs on top\."),
     "The numerator is swapped: the other term of the denominator belongs on top."),
    # grading/key/structured.py: the problem the answer should state
    (re.compile(r"only the objective is given: the problem is .+? of it"),
     "only the objective is given: the answer is the whole min–max problem"),
    (re.compile(r"the optimisation runs over (.+?); it should be [^;(]+"),
     r"the optimisation runs over \1: not the game's players in the game's order"),
    (re.compile(r"the directions of min and max do not match: it should be .+? \(or all "
                r"flipped with the objective negated\)"),
     "the directions of min and max do not match"),
    # grading/answers/equivalence.py: two numbers, one of them the key's
    (re.compile(r"the exact numbers \S+ and \S+ differ by \S+"),
     "the answer is not the right number"),
)

_CHOICE_ANSWER = re.compile(r"^(choose one option; )?the answer is .*$", re.DOTALL)
_CHOICE_MISMATCH = re.compile(r"^option \((\w+)\) is (.*?), but the answer writes .*?, which is "
                              r"option \(\w+\): the two do not match$", re.DOTALL)
_REFERENCE_VALUE = re.compile(r"the reference is \S+ but the answer is (\S+)")


def _engine(text: str, constant: bool) -> str:
    for pattern, replacement in _ENGINE_REWRITES:
        text = pattern.sub(replacement, text)
    if constant:  # the key's value at any point is the key's answer itself
        text = _REFERENCE_VALUE.sub(r"the answer is \1, which is not the right value", text)
    return text


def _choice(q: Question, result: Result) -> str:
    feedback = result.feedback
    match = _CHOICE_ANSWER.match(feedback)
    if match is not None:
        return "choose one option; that is not the right one" if match.group(1) else \
            "that is not the right option"
    match = _CHOICE_MISMATCH.match(feedback)
    if match is not None:
        return (f"option ({match.group(1)}) is {match.group(2)}, but the expression written "
                "is another option's: the two do not match")
    return feedback


def _yes_no(q: Question, result: Result) -> str:
    """The yes/no feedback rebuilt from the status, what the answer said and the student's own
    explanation (the key's expected answer and its explanation left out)."""
    feedback = result.feedback
    at = feedback.find(_NOTE)
    note = feedback[at:] if at >= 0 else ""
    said = result.read_as or "the answer"
    if result.status is Status.INCORRECT:
        return f"{said} is not the expected answer.{note}"
    if result.status is Status.PARTIAL:
        return f"{said} is not the expected answer; the explanation earns part of the " \
               f"points.{note}"
    if result.status is Status.UNDECIDED and ("the key needs a reason" in feedback or
                                              "explanation gives a reason for" in feedback):
        return f"a person will read the answer and its explanation.{note}"
    return feedback


def _constant(q: Question | None) -> bool:
    import sympy as sp

    if q is None or q.reference is None or q.kind in ("structured",):
        return False
    forms = [form for _, form in q.accepted()]
    return any(isinstance(form, sp.Basic) and not form.free_symbols for form in forms)


def _scrub(text: str, hidden: list[str], written: str) -> str:
    for secret in hidden:
        if secret and secret in text and secret not in written:
            text = text.replace(secret, HIDDEN)
    return text


def for_student(result: Result) -> Result:
    """``result`` as a student may read it (see the module docstring)."""
    q = _question(result.part)
    if result.status in (Status.CORRECT, Status.MANUAL, Status.MISSING) or q is None:
        return result
    feedback, detail = result.feedback, result.detail
    if q.kind == "choice":
        feedback = _choice(q, result)
    elif q.kind == "yes/no":
        feedback = _yes_no(q, result)
    constant = _constant(q)
    feedback, detail = _engine(feedback, constant), _engine(detail, constant)
    if result.status is Status.UNDECIDED and "checker failed" in feedback:
        detail = ""  # the grader's own failure: nothing for the student in it
    written = result.read_as or ""
    hidden = secrets(q)
    feedback, detail = _scrub(feedback, hidden, written), _scrub(detail, hidden, written)
    if (feedback, detail) == (result.feedback, result.detail):
        return result
    return dataclasses.replace(result, feedback=feedback, detail=detail)


def for_audience(item: T, audience: str) -> T:
    """A :class:`Result`, or a :class:`grading.submission.Report` (every result), for
    ``audience``: ``"staff"`` unchanged, ``"student"`` through :func:`for_student`."""
    if audience not in AUDIENCES:
        raise ValueError(f"the audience is one of {', '.join(AUDIENCES)}, not {audience!r}")
    if audience == "staff":
        return item
    if isinstance(item, Result):
        return for_student(item)  # type: ignore[return-value]
    results: Any = getattr(item, "results", None)
    if results is None or not dataclasses.is_dataclass(item):
        raise TypeError(f"for_audience takes a Result or a Report, not {type(item).__name__}")
    return dataclasses.replace(item, results=tuple(for_student(r) for r in results))  # type: ignore[type-var]
