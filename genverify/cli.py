r"""The ``genverify`` command line.

    genverify report [--out DIR] [--quick]      verify every derivation (the main job)
    genverify equiv REFERENCE ANSWER [--assume sigma=positive ...] [--json]
    genverify check PART ANSWER... [--json] [--audience staff|student]
    genverify grade ANSWERS.toml|WRITEUP.tex|.md|DIR [--gradescope results.json] [--json]
                    [--audience staff|student]
    genverify parts [--json]                    the answer key: part, points, kind, prompt
    genverify autograder build OUT.zip          a Gradescope autograder bundle
    genverify grade-batch DIR [--workers N] [--csv scores.csv]

Exit status of ``equiv`` and ``check``: 0 equivalent (full points), 1 not equivalent (or
partial credit), 2 undecided or unreadable. ``grade``: 0 every automatic part correct, 1 a
part lost points, 2 a part needs a person (undecided or unreadable) or the answers file cannot
be read. ``parts``, ``autograder build`` and ``grade-batch``: 0 done. Bad input (an unknown
part, a missing or malformed file, an unknown assumption) is one line on stderr and exit
status 2, never a traceback. ``check`` takes a derivation as several ANSWER arguments (one per
line) or ``-`` to read the lines from stdin.

``--audience student`` (``check`` and ``grade``; staff by default here, student by default in
the Gradescope bundle and the pytest plugin) keeps the feedback's named mistake and
counterexample but never shows the key's answer or the correct option
(:mod:`grading.audience`); staff output adds the key's answer (``key:``, ``"reference"``).
``grade --json`` prints genverify's own result (``"format": "genverify-grade"``, see
:func:`grade_data`); Gradescope's ``results.json`` is written with ``--gradescope FILE``.

Answers that start with a minus need no ``--``: for ``equiv`` and ``check`` every argument that
is not exactly one of the command's options (``--json``, ``--assume NAME=KIND``,
``--assume=NAME=KIND``, ``--audience WHO``, ``-h``, ``--help``) is an answer, wherever the options stand, so
``-1``, ``-x``, ``-\frac{x-\mu}{\sigma^2}`` and ``--x`` are answers; a near miss of an option
(``--jsn``, ``--asume``) is an error, and ``--`` still ends the options.
``equiv`` prints the domains it assumed (``assumed: σ > 0``), the field's conventions
(:data:`grading.answers.notation.CONVENTIONS`) unless ``--assume`` says otherwise.

Subcommands import their machinery only when they run, so ``genverify --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Collection, Sequence
from typing import Any, TextIO

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (no usage block) and no exit from :func:`main`."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _BadInput(f"{self.prog}: {message} (see {self.prog.split()[0]} --help)")


class _BadInput(Exception):
    """Input the command cannot work with: reported on one line, exit status 2."""


def _report(args: argparse.Namespace) -> int:
    from report.run import ReportInputError, run_report

    try:  # the inputs are checked before any work: a bad one is one line and exit status 2
        return run_report(out=args.out, quick=args.quick, mnist_dir=args.mnist_dir,
                          progress=False if args.no_progress else None)  # None: on a terminal only
    except ReportInputError as error:
        raise _BadInput(f"genverify report: {error}") from None


def _assumptions(pairs: Sequence[str]) -> dict[str, object]:
    """``["sigma=positive", "y=0:1"]`` → ``{"sigma": "positive", "y": (0.0, 1.0)}``.

    A name may be spelled as in an answer: ``σ``, ``\\sigma`` and ``sigma`` are the same name.
    """
    import math

    from grading.answers.notation import KINDS, UNICODE_GREEK

    assumptions: dict[str, object] = {}
    for pair in pairs:
        name, sep, kind = pair.partition("=")
        name, kind = name.strip(), kind.strip()
        name = UNICODE_GREEK.get(name, name[1:] if name.startswith("\\") else name)
        if not sep or not name or not kind:
            raise _BadInput(f"genverify: --assume takes NAME=KIND, not {pair!r}")
        if ":" in kind:
            lo, _, hi = kind.partition(":")
            try:
                interval = (float(lo), float(hi))
            except ValueError:
                raise _BadInput(f"genverify: --assume {name}=LO:HI needs two numbers, "
                                f"not {kind!r}") from None
            if not all(map(math.isfinite, interval)) or interval[0] >= interval[1]:
                raise _BadInput(f"genverify: --assume {name}=LO:HI needs finite numbers with "
                                f"LO < HI, not {kind!r}")
            assumptions[name] = interval
        elif kind in KINDS:
            assumptions[name] = kind
        else:
            raise _BadInput(f"genverify: unknown assumption {kind!r} for {name!r}; expected one "
                            f"of {', '.join(sorted(KINDS))} or LO:HI")
    return assumptions


def _assumed(verdict: Any, assumptions: dict[str, object]) -> dict[str, str]:
    """The domains the check used, by name, in words (``{"sigma": "sigma > 0"}``): the engine's
    (``Verdict.assumptions``: every name of the two sides that is not real), and every kind given
    with ``--assume`` that is not among them (``sigma real``)."""
    from grading.answers.notation import describe_kind

    used = dict(getattr(verdict, "assumptions", None) or {})
    for name, kind in assumptions.items():
        if name not in used:
            used[name] = f"{name} {describe_kind(kind)}"  # type: ignore[arg-type]
    return used


def _pretty_phrase(phrase: str) -> str:
    """``"sigma_j > 0"`` → ``"σ_j > 0"``: the leading name as a reader writes it."""
    from grading.answers.notation import pretty_name

    name, space, rest = phrase.partition(" ")
    return pretty_name(name) + space + rest


def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def _equiv(args: argparse.Namespace, out: TextIO) -> int:
    from grading.answers.equivalence import Kind, check_equivalence

    assumptions = _assumptions(args.assume)
    verdict = check_equivalence(args.reference, args.answer, assumptions=assumptions)
    code = {Kind.EQUIVALENT: 0, Kind.NOT_EQUIVALENT: 1}.get(verdict.kind, 2)
    assumed = _assumed(verdict, assumptions)
    if args.json:
        _print_json({**verdict.to_dict(), "assumptions": assumed, "exit_code": code}, out)
    else:
        out.write(f"{verdict}\n")
        if assumed:
            out.write("  assumed: " + ", ".join(map(_pretty_phrase, assumed.values())) + "\n")
    return code


def _answer_lines(values: Sequence[str]) -> str | list[str]:
    if list(values) == ["-"]:
        lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
        return lines[0] if len(lines) == 1 else lines
    return values[0] if len(values) == 1 else list(values)


def _key_answer(part: str) -> str | None:
    """The key's answer to ``part`` in one line (staff output only), or ``None``."""
    from grading.audience import reference_text
    from grading.key.registry import AnswerKeyError, question

    try:
        return reference_text(question(part)) or None
    except AnswerKeyError:
        return None


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from grading.audience import for_audience
    from grading.key.registry import AnswerKeyError, grade, question

    try:
        q = question(args.part)
    except AnswerKeyError as error:
        raise _BadInput(f"genverify: {error}") from None
    result = for_audience(grade(q, _answer_lines(args.answer)), args.audience)
    key = _key_answer(q.id) if args.audience == "staff" else None
    if args.json:
        extra = {"reference": key} if args.audience == "staff" else {}
        _print_json({**result.to_dict(), **extra, "kind": q.kind, "audience": args.audience,
                     "exit_code": result.exit_code}, out)
        return result.exit_code
    points = "pending (graded by a person)" if not result.automatic else \
        f"{result.points:g}/{result.max_points:g} points"
    out.write(f"{q.id}: {result.status.value}, {points}\n  {result.feedback}\n")
    if result.read_as:
        out.write(f"  read as: {result.read_as}\n")
    if result.detail and result.status.value not in ("correct", "manual"):
        out.write(f"  {result.detail}\n")
    if key and result.status.value not in ("correct", "manual"):
        out.write(f"  key: {key}\n")
    return result.exit_code


def grade_data(report: Any, *, audience: str, exit_code: int) -> dict[str, Any]:
    """genverify's own result of ``grade`` (``--json``), from ``Report.to_dict()``.

    ``{"format": "genverify-grade", "version": 1, "audience", "source", "score",
    "max_score", "pending_points", "total_points", "parts": [{"part", "status", "points",
    "max_points", "feedback", "read_as", "detail", "mistake", "line", "extraction"?,
    "reference" (staff only)}, ...], "unknown", "exit_code"}``: ``score`` and ``max_score``
    count the parts checked automatically, ``pending_points`` those a person grades.
    """
    data = report.to_dict()
    parts = []
    for entry in data.get("parts", []):
        entry = dict(entry)
        if audience == "staff":
            entry["reference"] = _key_answer(str(entry.get("part", "")))
        parts.append(entry)
    return {"format": "genverify-grade", "version": 1, "audience": audience,
            "source": data.get("source", ""), "score": data.get("score"),
            "max_score": data.get("max_score"), "pending_points": data.get("pending_points"),
            "total_points": data.get("total_points"), "parts": parts,
            "unknown": data.get("unknown", []), "exit_code": exit_code}


def _profile_option(args: argparse.Namespace) -> dict[str, Any]:
    """``{"profile": Profile}`` for ``--profile NAME|FILE.toml`` (refused with a clear
    message), or nothing: the profile is then detected per submission."""
    if not args.profile:
        return {}
    from grading.code.profiles import ProfileError, load_profile

    try:
        return {"profile": load_profile(args.profile)}
    except ProfileError as error:
        raise _BadInput(f"genverify: {error}") from None


def _directory_data(graded: dict[str, Any], source: str, *, audience: str,
                    exit_code: int) -> dict[str, Any]:
    """:func:`grade_data` for a submission folder: the answers' parts, then ``"code"`` (one
    entry per graded property), ``"code_profile"``, ``"code_notes"`` and ``"answers_error"``;
    the scores add the code's points to the answers'."""
    report, code = graded.get("answers"), graded.get("code") or []
    if report is not None:
        data = grade_data(report, audience=audience, exit_code=exit_code)
    else:
        data = {"format": "genverify-grade", "version": 1, "audience": audience,
                "source": source, "score": 0.0, "max_score": 0.0, "pending_points": 0.0,
                "total_points": 0.0, "parts": [], "unknown": [], "exit_code": exit_code}
    data["source"] = source
    got = sum(r.score for r in code)
    total = sum(r.max_score for r in code)
    data["score"] = round(float(data["score"] or 0.0) + got, 6)
    data["max_score"] = round(float(data["max_score"] or 0.0) + total, 6)
    data["total_points"] = round(float(data["total_points"] or 0.0) + total, 6)
    data["code"] = [{"name": r.name, "function": r.function, "part": r.part,
                     "points": r.score, "max_points": r.max_score, "output": r.output}
                    for r in code]
    data["code_profile"] = graded.get("code_profile", "")
    data["code_notes"] = list(graded.get("code_notes") or [])
    data["answers_error"] = graded.get("answers_error")
    data["exit_code"] = data.pop("exit_code")  # last, as in a file's result
    return data


def _directory_exit_code(graded: dict[str, Any]) -> int:
    """2 the answers file cannot be read or a part needs a person; 1 points lost; else 0."""
    if graded.get("answers_error"):
        return EXIT_BAD_INPUT
    report = graded.get("answers")
    answers = report.exit_code if report is not None else 0
    if answers == 2:
        return 2
    code_ok = all(r.score >= r.max_score for r in graded.get("code") or [])
    return 1 if answers == 1 or not code_ok else 0


def _grade_code(args: argparse.Namespace, out: TextIO) -> int:
    """A submission directory (an answers file or a write-up, and/or Python files) or one
    Python file."""
    from pathlib import Path

    from grading.audience import for_audience
    from grading.autograder import grade_directory, results_json, text_report

    options = _profile_option(args)
    graded = grade_directory(args.answers, **options)
    if graded.get("answers") is not None:
        graded["answers"] = for_audience(graded["answers"], args.audience)
    code = _directory_exit_code(graded)
    if args.gradescope:
        try:
            Path(args.gradescope).write_text(
                json.dumps(results_json(graded), indent=2, ensure_ascii=False) + "\n",
                encoding="utf-8")
        except OSError as error:
            raise _BadInput(f"genverify: cannot write {args.gradescope}: "
                            f"{error.strerror or error}") from None
    if args.json:
        _print_json(_directory_data(graded, str(args.answers), audience=args.audience,
                                    exit_code=code), out)
    else:
        out.write(text_report(graded) + "\n")
    if graded.get("answers_error"):
        sys.stderr.write(f"genverify: {graded['answers_error']}\n")
    return code


def _autograder(args: argparse.Namespace, out: TextIO) -> int:
    from grading.autograder import build_autograder

    _profile_option(args)  # a bad profile is refused here, with its reason
    path = build_autograder(args.out, profile=args.profile)
    out.write(f"wrote {path}\n")
    return 0


def _grade_batch(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from grading.batch import grade_batch

    if args.workers < 1:
        raise _BadInput(f"genverify grade-batch: --workers must be at least 1, not "
                        f"{args.workers}")
    if not Path(args.directory).is_dir():
        raise _BadInput(f"genverify grade-batch: {args.directory}: not a folder of submissions")
    try:  # refused now, not after the whole batch is graded
        Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise _BadInput(f"genverify grade-batch: cannot write {args.csv}: "
                        f"{error.strerror or error}") from None
    options = _profile_option(args)
    rows = grade_batch(args.directory, args.workers, args.csv, progress=None, **options)
    errors = sum(1 for row in rows if row.get("error"))
    said = f"; {errors} with an error (see the error column)" if errors else ""
    out.write(f"wrote {args.csv}: {len(rows)} submission{'s' if len(rows) != 1 else ''}"
              f"{said}\n")
    return 0


def _grade(args: argparse.Namespace, out: TextIO) -> int:
    import os
    from pathlib import Path

    if not os.path.lexists(args.answers):
        raise _BadInput(f"genverify: {args.answers}: no such file or folder")
    if Path(args.answers).is_dir() or args.answers.endswith(".py"):
        return _grade_code(args, out)
    from grading.audience import for_audience
    from grading.submission import AnswersError, grade_file

    try:
        report = for_audience(grade_file(args.answers), args.audience)
    except AnswersError as error:
        raise _BadInput(f"genverify: {error}") from None
    if args.gradescope:
        from grading.gradescope import write_results

        try:
            write_results(report, args.gradescope)
        except OSError as error:
            raise _BadInput(f"genverify: cannot write {args.gradescope}: "
                            f"{error.strerror or error}") from None
    if args.json:
        _print_json(grade_data(report, audience=args.audience, exit_code=report.exit_code), out)
    else:
        out.write(report.table() + "\n")
    return report.exit_code


def _parts(args: argparse.Namespace, out: TextIO) -> int:
    """The answer key: part, points, kind and prompt (wrapped, never cut), then the totals."""
    import shutil
    import textwrap

    from grading.key.registry import Status, grade, questions

    rows = [{"part": q.id, "points": q.points, "kind": q.kind,
             "automatic": grade(q, None).status is not Status.MANUAL, "prompt": q.prompt}
            for q in questions()]
    automatic = sum(r["points"] for r in rows if r["automatic"])
    manual = sum(r["points"] for r in rows if not r["automatic"])
    count = sum(1 for r in rows if r["automatic"])
    totals = {"total_points": automatic + manual, "automatic_points": automatic,
              "manual_points": manual}
    if args.json:
        _print_json({"format": "genverify-parts", "version": 1, "parts": rows, **totals}, out)
        return 0
    header = ("part", "points", "kind", "prompt")
    cells = [(r["part"], f"{r['points']:g}", r["kind"] if r["automatic"] else
              f"{r['kind']} (by a person)", r["prompt"]) for r in rows]
    widths = [max(len(row[i]) for row in [header, *cells]) for i in range(3)]
    width = shutil.get_terminal_size((100, 24)).columns
    room = max(30, width - sum(widths) - 2 * 3 - 1)
    indent = " " * (sum(widths) + 2 * 3)
    lines = []
    for row in [header, *cells]:
        left = "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  "
        wrapped = textwrap.wrap(row[3], room, break_long_words=False,
                                break_on_hyphens=False) or [""]
        lines.append((left + wrapped[0]).rstrip())
        lines += [(indent + more).rstrip() for more in wrapped[1:]]
    lines.insert(1, "-" * min(width - 1, sum(widths) + 6 + room))
    lines.append(f"total: {automatic + manual:g} points in {len(rows)} parts: "
                 f"{automatic:g} checked automatically ({count} parts), {manual:g} graded "
                 f"by a person ({len(rows) - count} parts)")
    out.write("\n".join(lines) + "\n")
    return 0


def _guarded(command: Callable[[argparse.Namespace, TextIO], int]) -> Callable[..., int]:
    """Run a grading command; bad input and unexpected failures are one line, exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args, sys.stdout)
        except (_BadInput, BrokenPipeError):  # a closed pipe ends the command quietly
            raise
        except OSError as error:  # "x.zip: No such file or directory", not "[Errno 2] ..."
            where = f"{error.filename}: " if error.filename else ""
            raise _BadInput(f"genverify: {where}{error.strerror or error}") from None
        except ValueError as error:
            raise _BadInput(f"genverify: {error}") from None
        except Exception as error:  # noqa: BLE001 - a CLI never shows a traceback
            raise _BadInput(f"genverify: internal error: {type(error).__name__}: "
                            f"{error}") from None

    return run


AUDIENCE_CHOICES = ("staff", "student")
_AUDIENCE_HELP = ("who reads the feedback: staff (default) see the key's answer; student "
                  "keeps the named mistake and the counterexample but never shows the key's "
                  "answer or the correct option")
_EXIT_STATUS = """exit status (every command: bad input is one line on stderr and 2):
  equiv   0 equivalent, 1 not equivalent, 2 undecided or unreadable
  check   0 correct, 1 partial or incorrect, 2 undecided, unreadable or graded by a person
  grade   0 every automatic part correct, 1 points lost, 2 a part needs a person or the
          answers file cannot be read
  report  0 every check passed, 1 a check failed
  parts, autograder build, grade-batch: 0 done"""

_PROFILE_HELP = ("the interface profile of the code: a built-in name (genverify, cs446-vae, "
                 "cs446-diffusion) or a TOML file; detected from the functions the files "
                 "define by default")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="genverify",
        description="Verify the mathematics of VAEs, GANs and score-based diffusion.",
        epilog=_EXIT_STATUS, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.commands = commands.choices  # type: ignore[attr-defined]  # for _answers_last

    report = commands.add_parser("report", help="verify every derivation and check it numerically")
    report.add_argument("--out", default="genverify-report", help="folder of the HTML report")
    report.add_argument("--quick", action="store_true", help="the fast subset of the checks")
    report.add_argument("--mnist-dir", default=None, help="MNIST IDX files to use for the VAE")
    report.add_argument("--no-progress", action="store_true", help="no progress display")
    report.set_defaults(run=_report)

    equiv = commands.add_parser(
        "equiv", help="is ANSWER equivalent to REFERENCE? (exit 0 yes, 1 no, 2 undecided)",
        description="Compare two expressions (LaTeX or plain text).",
        epilog="exit status: 0 equivalent; 1 not equivalent (a counterexample is printed); "
               "2 undecided, unreadable or bad input.")
    equiv.add_argument("reference", metavar="REFERENCE")
    equiv.add_argument("answer", metavar="ANSWER")
    equiv.add_argument("--assume", action="append", default=[], metavar="NAME=KIND",
                       help="an assumption, e.g. sigma=positive, y=probability, x=0:1 "
                            "(repeatable)")
    equiv.add_argument("--json", action="store_true", help="the verdict as JSON")
    equiv.set_defaults(run=_guarded(_equiv))

    check = commands.add_parser(
        "check", help="check an answer against the key (exit 0 correct, 1 not, 2 undecided)",
        description="Grade one answer against the answer key (the parts: genverify parts). "
                    "A derivation is several ANSWER arguments, one per line, or '-' to read "
                    "the lines from stdin.",
        epilog="exit status: 0 correct (full points); 1 partial credit or incorrect; "
               "2 undecided, unreadable, graded by a person (a figure) or bad input.")
    check.add_argument("part", metavar="PART", help="a part id, e.g. 1.h")
    check.add_argument("answer", metavar="ANSWER", nargs="+")
    check.add_argument("--json", action="store_true", help="the result as JSON")
    check.add_argument("--audience", choices=AUDIENCE_CHOICES, default="staff",
                       help=_AUDIENCE_HELP)
    check.set_defaults(run=_guarded(_check))

    grade = commands.add_parser(
        "grade", help="grade a submission (answers.toml, a write-up or a folder) and print a "
                      "table",
        description="Grade every part of the key against a TOML answers file, a write-up "
                    "(.tex, .md) or a submission folder (its answers file or write-up and its "
                    "Python files); parts graded by a person (figures) are pending and not in "
                    "the automatic total.",
        epilog="exit status: 0 every automatic part correct (and all code points); 1 a part "
               "lost points; 2 a part needs a person (undecided or unreadable), the answers "
               "file cannot be read, or bad input. --json prints genverify's own result "
               "(\"format\": \"genverify-grade\", version 1; see README.md).")
    grade.add_argument("answers", metavar="ANSWERS.toml|WRITEUP|DIR",
                       help="a TOML answers file, a write-up (.tex, .md, .markdown, .txt), or "
                            "a submission folder (answers.toml or a write-up, and/or *.py)")
    grade.add_argument("--gradescope", metavar="results.json", default=None,
                       help="also write Gradescope's results.json")
    grade.add_argument("--json", action="store_true",
                       help="genverify's own structured result as JSON")
    grade.add_argument("--audience", choices=AUDIENCE_CHOICES, default="staff",
                       help=_AUDIENCE_HELP)
    grade.add_argument("--profile", metavar="NAME|FILE.toml", default=None,
                       help=_PROFILE_HELP)
    grade.set_defaults(run=_guarded(_grade))

    parts = commands.add_parser(
        "parts", help="the answer key: part, points, kind, prompt",
        description="List the parts of the answer key with their points, their kind of check "
                    "and their prompt, then the automatic and manual totals.",
        epilog="exit status: 0.")
    parts.add_argument("--json", action="store_true", help="the key's parts as JSON")
    parts.set_defaults(run=_guarded(_parts))

    autograder = commands.add_parser("autograder", help="build a Gradescope autograder bundle")
    actions = autograder.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser(
        "build", help="write the bundle (setup.sh, run_autograder)",
        description="Write the Gradescope autograder bundle; inside it, submissions are "
                    "graded for students (--audience student: the key's answers never "
                    "shown).",
        epilog="exit status: 0 written; 2 bad input (an unknown profile, an unwritable path).")
    build.add_argument("out", metavar="OUT.zip")
    build.add_argument("--profile", metavar="NAME|FILE.toml", default=None,
                       help=_PROFILE_HELP)
    build.set_defaults(run=_guarded(_autograder))

    batch = commands.add_parser(
        "grade-batch", help="grade many submissions in parallel into a CSV",
        description="Grade every submission of DIR (each sub-folder, and each answers file or "
                    "write-up: .toml, .tex, .md, .markdown, .txt) in parallel processes and "
                    "write one CSV row per submission. Every row has the same max_score: the "
                    "key's automatic points plus the code profile's points. A progress bar "
                    "is shown on stderr only when it is a terminal.",
        epilog="exit status: 0 the CSV is written (a submission that cannot be graded is a "
               "row with its error); 2 bad input.")
    batch.add_argument("directory", metavar="DIR",
                       help="one sub-folder or answers file / write-up per submission")
    batch.add_argument("--workers", type=int, default=2, metavar="N",
                       help="parallel processes, each grading one submission at a time with "
                            "its own sandbox (default: 2)")
    batch.add_argument("--csv", default="scores.csv", help="where to write the scores")
    batch.add_argument("--profile", metavar="NAME|FILE.toml", default=None,
                       help=_PROFILE_HELP)
    batch.set_defaults(run=_guarded(_grade_batch))
    return parser


# Commands whose positional arguments are answers, which often start with a minus.
_ANSWER_COMMANDS = ("equiv", "check")


def _options(command: argparse.ArgumentParser) -> dict[str, bool]:
    """The option strings of a command → whether each takes a value."""
    return {option: action.nargs != 0
            for action in command._actions for option in action.option_strings}


def _near_option(token: str, options: Collection[str]) -> str | None:
    """The option ``token`` misspells (``--jsn`` → ``--json``), or ``None`` for an answer."""
    import difflib
    import re

    name = token[2:].split("=", 1)[0]
    if not token.startswith("--") or not re.fullmatch(r"[A-Za-z][A-Za-z-]*", name):
        return None
    for option in options:
        if option.startswith("--") and len(name) >= 2 and option[2:].startswith(name):
            return option
    close = difflib.get_close_matches(name, [o[2:] for o in options if o.startswith("--")],
                                      n=1, cutoff=0.75)
    return f"--{close[0]}" if close else None


def _answers_last(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """For ``equiv`` and ``check``: the options first, then ``--`` and every other argument.

    An argument is an option only when it is exactly one of the command's options (or
    ``--assume=...``); everything else, ``-1``, ``-x``, ``--x``, is an answer, so answers that
    start with a minus need no ``--``. A near miss of an option (``--jsn``) is an error."""
    argv = list(argv)
    if not argv or argv[0] not in _ANSWER_COMMANDS:
        return argv
    name, rest = argv[0], iter(argv[1:])
    options = _options(parser.commands[name])  # type: ignore[attr-defined]
    chosen: list[str] = []
    answers: list[str] = []
    for token in rest:
        if token == "--":
            answers.extend(rest)
            break
        option, has_value, _ = token.partition("=") if token.startswith("--") else \
            (token, "", "")
        if option in options:
            if has_value and not options[option]:
                raise _BadInput(f"genverify {name}: {option} takes no value")
            chosen.append(token)
            if options[option] and not has_value:
                value = next(rest, None)
                if value is None:
                    raise _BadInput(f"genverify {name}: {option} needs a value, e.g. "
                                    f"{option} sigma=positive")
                chosen.append(value)
        elif (near := _near_option(token, options)) is not None:
            raise _BadInput(f"genverify {name}: unknown option {token!r} (did you mean "
                            f"{near}?); an answer that starts with '--' goes after a '--'")
        else:
            answers.append(token)
    return [name, *chosen, "--", *answers]


def main(argv: Sequence[str] | None = None) -> int:
    from grading.isolation import serialise_ast_parse

    serialise_ast_parse()  # CPython 3.11's ast.parse race (gh-106905)
    try:
        parser = build_parser()
        args = parser.parse_args(_answers_last(parser, sys.argv[1:] if argv is None else argv))
        return args.run(args)
    except _BadInput as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    except SystemExit as exit_:  # --help, --version
        return exit_.code if isinstance(exit_.code, int) else 0


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command whose reader left


def console_main() -> None:
    """The ``genverify`` command: :func:`main`, with SIGTERM and SIGINT closing every live
    sandbox (and so every process of the students' code) before the process exits; output
    into a pipe whose reader has gone ends quietly with status 141."""
    from grading.code.sandbox import install_termination_handler

    install_termination_handler()
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`genverify report | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
        code = EXIT_BROKEN_PIPE
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
