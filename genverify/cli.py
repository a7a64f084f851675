r"""The ``genverify`` command line.

    genverify report [--out DIR] [--quick]      verify every derivation (the main job)
    genverify equiv REFERENCE ANSWER [--assume sigma=positive ...] [--json]
    genverify check PART ANSWER... [--json]     an answer against the key, e.g. PART = 1.h
    genverify grade ANSWERS.toml|SUBMISSION_DIR [--gradescope results.json] [--json]
    genverify autograder build OUT.zip          a Gradescope autograder bundle
    genverify grade-batch DIR [--workers N] [--csv scores.csv]

Exit status of ``equiv`` and ``check``: 0 equivalent (full points), 1 not equivalent (or
partial credit), 2 undecided or unreadable. ``grade``: 0 every automatic part correct, 1 a
part lost points, 2 a part needs a person (undecided or unreadable). Bad input (an unknown
part, a missing or malformed file, an unknown assumption) is one line on stderr and exit
status 2, never a traceback. ``check`` takes a derivation as several ANSWER arguments (one per
line) or ``-`` to read the lines from stdin.

Answers that start with a minus need no ``--``: for ``equiv`` and ``check`` every argument that
is not exactly one of the command's options (``--json``, ``--assume NAME=KIND``,
``--assume=NAME=KIND``, ``-h``, ``--help``) is an answer, wherever the options stand, so
``-1``, ``-x``, ``-\frac{x-\mu}{\sigma^2}`` and ``--x`` are answers; a near miss of an option
(``--jsn``, ``--asume``) is an error, and ``--`` still ends the options.
``equiv`` prints the domains it assumed (``assumed: σ > 0``), the field's conventions
(:data:`grading.answers.notation.CONVENTIONS`) unless ``--assume`` says otherwise.

Subcommands import their machinery only when they run, so ``genverify --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
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
    from report.run import run_report

    return run_report(out=args.out, quick=args.quick, mnist_dir=args.mnist_dir,
                      progress=False if args.no_progress else None)  # None: on a terminal only


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


def _check(args: argparse.Namespace, out: TextIO) -> int:
    from grading.key.registry import AnswerKeyError, grade, question

    try:
        q = question(args.part)
    except AnswerKeyError as error:
        raise _BadInput(f"genverify: {error}") from None
    result = grade(q, _answer_lines(args.answer))
    if args.json:
        _print_json({**result.to_dict(), "kind": q.kind, "exit_code": result.exit_code}, out)
        return result.exit_code
    points = "pending (graded by a person)" if not result.automatic else \
        f"{result.points:g}/{result.max_points:g} points"
    out.write(f"{q.id}: {result.status.value}, {points}\n  {result.feedback}\n")
    if result.read_as:
        out.write(f"  read as: {result.read_as}\n")
    if result.detail and result.status.value not in ("correct", "manual"):
        out.write(f"  {result.detail}\n")
    return result.exit_code


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


def _grade_code(args: argparse.Namespace, out: TextIO) -> int:
    """A submission directory (answers.toml and/or Python files) or one Python file."""
    from pathlib import Path

    from grading.autograder import grade_directory, results_json, text_report

    options = _profile_option(args)
    graded = grade_directory(args.answers, **options)
    if args.gradescope:
        try:
            Path(args.gradescope).write_text(
                json.dumps(results_json(graded), indent=2, ensure_ascii=False) + "\n")
        except OSError as error:
            raise _BadInput(f"genverify: cannot write {args.gradescope}: {error}") from None
    if args.json:
        _print_json(results_json(graded), out)
    else:
        out.write(text_report(graded) + "\n")
    if graded.get("answers_error"):
        sys.stderr.write(f"genverify: {graded['answers_error']}\n")
        return EXIT_BAD_INPUT
    results = results_json(graded)["tests"]
    return 0 if all(t.get("score", 0) >= t.get("max_score", 0) for t in results) else 1


def _autograder(args: argparse.Namespace, out: TextIO) -> int:
    from grading.autograder import build_autograder

    _profile_option(args)  # a bad profile is refused here, with its reason
    path = build_autograder(args.out, profile=args.profile)
    out.write(f"wrote {path}\n")
    return 0


def _grade_batch(args: argparse.Namespace, out: TextIO) -> int:
    from grading.batch import grade_batch

    options = _profile_option(args)
    grade_batch(args.directory, args.workers, args.csv, **options)
    out.write(f"wrote {args.csv}\n")
    return 0


def _grade(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    if Path(args.answers).is_dir() or args.answers.endswith(".py"):
        return _grade_code(args, out)
    from grading.submission import AnswersError, grade_file

    try:
        report = grade_file(args.answers)
    except AnswersError as error:
        raise _BadInput(f"genverify: {error}") from None
    if args.gradescope:
        from grading.gradescope import write_results

        try:
            write_results(report, args.gradescope)
        except OSError as error:
            raise _BadInput(f"genverify: cannot write {args.gradescope}: {error}") from None
    if args.json:
        _print_json({**report.to_dict(), "exit_code": report.exit_code}, out)
    else:
        out.write(report.table() + "\n")
    return report.exit_code


def _guarded(command: Callable[[argparse.Namespace, TextIO], int]) -> Callable[..., int]:
    """Run a grading command; bad input and unexpected failures are one line, exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args, sys.stdout)
        except _BadInput:
            raise
        except (OSError, ValueError) as error:
            raise _BadInput(f"genverify: {error}") from None
        except Exception as error:  # noqa: BLE001 - a CLI never shows a traceback
            raise _BadInput(f"genverify: internal error: {type(error).__name__}: "
                            f"{error}") from None

    return run


_PROFILE_HELP = ("the interface profile of the code: a built-in name (genverify, cs446-vae, "
                 "cs446-diffusion) or a TOML file; detected from the functions the files "
                 "define by default")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="genverify",
        description="Verify the mathematics of VAEs, GANs and score-based diffusion.",
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
        description="Compare two expressions (LaTeX or plain text); exit status 0 equivalent, "
                    "1 not equivalent, 2 undecided or unreadable.")
    equiv.add_argument("reference", metavar="REFERENCE")
    equiv.add_argument("answer", metavar="ANSWER")
    equiv.add_argument("--assume", action="append", default=[], metavar="NAME=KIND",
                       help="an assumption, e.g. sigma=positive, y=probability, x=0:1 "
                            "(repeatable)")
    equiv.add_argument("--json", action="store_true", help="the verdict as JSON")
    equiv.set_defaults(run=_guarded(_equiv))

    check = commands.add_parser(
        "check", help="check an answer against the key (exit 0 correct, 1 not, 2 undecided)",
        description="Grade one answer against the answer key. A derivation is several "
                    "ANSWER arguments, one per line, or '-' to read the lines from stdin.")
    check.add_argument("part", metavar="PART", help="a part id, e.g. 1.h")
    check.add_argument("answer", metavar="ANSWER", nargs="+")
    check.add_argument("--json", action="store_true", help="the result as JSON")
    check.set_defaults(run=_guarded(_check))

    grade = commands.add_parser(
        "grade", help="grade a TOML submission (part id = answer) and print a table",
        description="Grade every part of a TOML answers file; parts graded by a person "
                    "(figures) are pending and not in the automatic total.")
    grade.add_argument("answers", metavar="ANSWERS.toml|DIR",
                       help="a TOML answers file, or a submission folder (answers.toml and/or *.py)")
    grade.add_argument("--gradescope", metavar="results.json", default=None,
                       help="also write Gradescope's results.json")
    grade.add_argument("--json", action="store_true", help="the report as JSON")
    grade.add_argument("--profile", metavar="NAME|FILE.toml", default=None,
                       help=_PROFILE_HELP)
    grade.set_defaults(run=_guarded(_grade))

    autograder = commands.add_parser("autograder", help="build a Gradescope autograder bundle")
    actions = autograder.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="write the bundle (setup.sh, run_autograder)")
    build.add_argument("out", metavar="OUT.zip")
    build.add_argument("--profile", metavar="NAME|FILE.toml", default=None,
                       help=_PROFILE_HELP)
    build.set_defaults(run=_guarded(_autograder))

    batch = commands.add_parser("grade-batch", help="grade many submission folders in parallel")
    batch.add_argument("directory", metavar="DIR", help="one sub-folder per submission")
    batch.add_argument("--workers", type=int, default=2, help="parallel processes")
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
    try:
        parser = build_parser()
        args = parser.parse_args(_answers_last(parser, sys.argv[1:] if argv is None else argv))
        return args.run(args)
    except _BadInput as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_BAD_INPUT
    except SystemExit as exit_:  # --help, --version
        return exit_.code if isinstance(exit_.code, int) else 0


def console_main() -> None:
    """The ``genverify`` command: :func:`main`, with SIGTERM and SIGINT closing every live
    sandbox (and so every process of the students' code) before the process exits."""
    from grading.code.sandbox import install_termination_handler

    install_termination_handler()
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    console_main()
