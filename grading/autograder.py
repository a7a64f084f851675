"""A Gradescope autograder bundle, and the grading of one submission directory into results.json.

Gradescope builds one container image from the bundle (``setup.sh`` runs once, as root) and
then, for each submission, copies the student's files to ``/autograder/submission`` and runs
``/autograder/run_autograder`` (as root), which must leave ``/autograder/results/results.json``.
One container per submission is how grading scales past one machine.

:func:`build_autograder` writes the zip: ``setup.sh`` (Python 3.11, a venv, the CPU build of
torch, then ``pip install -c constraints.txt ./genverify``), ``run_autograder`` (makes the key
and the results directory root-only, then ``python -m grading.autograder grade
/autograder/submission --gradescope /autograder/results/results.json``), ``constraints.txt``
and the package's source under ``genverify/``.

:func:`grade_directory` grades a submission directory: its answers file (``answers.toml``,
else ``answers*.toml``, else its one write-up: ``.tex``, ``.md``, ``.markdown`` or ``.txt``, not
``README*``; see :func:`_answers_file`) with ``grading.submission.grade_file`` and the Python
files with :func:`grading.code.checks.grade_code_submission`; :func:`results_json` merges both
into one Gradescope ``results.json`` (tests, scores, max scores, output, visibility), and
:func:`write_results_json` writes it; :func:`text_report` prints it for a terminal.
``python -m grading.autograder grade DIR [--gradescope OUT] [--audience student|staff]`` does
that from a shell. Inside the bundle the feedback is for students by default
(:mod:`grading.audience`: the named mistake and the counterexample, never the key's answer or
the correct option). Source: Gradescope autograder specifications ("Setting up your
autograder", "Output format").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["build_autograder", "grade_directory", "main", "results_json", "text_report",
           "write_results_json"]

_PACKAGES = ("derivations", "numerics", "models", "grading", "report", "genverify")
_PROJECT_FILES = ("pyproject.toml", "README.md", "constraints.txt")
_ROOT = Path(__file__).resolve().parent.parent

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
cd /autograder/source
if ! command -v python3.11 >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends software-properties-common
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
fi
python3.11 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
# the CPU build of torch (the default wheel on PyPI is the CUDA one, gigabytes larger)
/autograder/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu \\
    -c constraints.txt torch
/autograder/venv/bin/pip install -c constraints.txt ./genverify
# warm the caches: the first import of sympy/torch is slow
/autograder/venv/bin/python -c "import grading.code.checks, torch"
chmod -R go-rwx /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission, as root, in a fresh container.
# The student's code runs in grading.code.sandbox: another user, no network, a private file system.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
chmod 700 "$ROOT/results"
chmod -R go-rwx "$ROOT/source" 2>/dev/null || true
"$PYTHON" -m grading.autograder grade "$ROOT/submission" \\
    --gradescope "$ROOT/results/results.json" __PROFILE__
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    printf '{"score": 0, "output": "The autograder failed (exit status %s); %s"}\\n' \\
        "$status" "please tell the course staff." > "$ROOT/results/results.json"
fi
exit 0
"""


def build_autograder(out_zip: str | Path, *, source: str | Path | None = None,
                     profile: str | Path | None = None) -> Path:
    """Write the Gradescope autograder bundle ``out_zip`` and return its path.

    ``source`` is the project's root (default: the tree this module belongs to); the bundle
    holds its packages' files (no caches), ``pyproject.toml``, ``README.md`` and
    ``constraints.txt``. ``profile`` (a built-in profile's name or a TOML file, which the
    bundle carries as ``profile.toml``) is the interface every submission is graded with;
    by default each submission's is detected.
    """
    profile_data = None
    run_autograder = RUN_AUTOGRADER.replace(" __PROFILE__", "")
    if profile is not None:
        from grading.code.profiles import load_profile

        loaded = load_profile(profile)  # refused here, not on Gradescope
        if str(profile).endswith(".toml"):
            profile_data = Path(profile).read_bytes()
            run_autograder = RUN_AUTOGRADER.replace(
                "__PROFILE__", '--profile "$ROOT/source/profile.toml"')
        else:
            run_autograder = RUN_AUTOGRADER.replace("__PROFILE__", f"--profile {loaded.name}")
    root = Path(source) if source is not None else _ROOT
    missing = [name for name in ("pyproject.toml", "constraints.txt", *_PACKAGES)
               if not (root / name).exists()]
    if missing:
        raise FileNotFoundError(f"{root} is not the project's root: no {', '.join(missing)}")
    out = Path(out_zip)
    out.parent.mkdir(parents=True, exist_ok=True)

    def add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int) -> None:
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)

    with zipfile.ZipFile(out, "w") as archive:
        add(archive, "setup.sh", SETUP_SH.encode(), 0o755)
        add(archive, "run_autograder", run_autograder.encode(), 0o755)
        if profile_data is not None:
            add(archive, "profile.toml", profile_data, 0o644)
        add(archive, "constraints.txt", (root / "constraints.txt").read_bytes(), 0o644)
        for name in _PROJECT_FILES:
            if (root / name).is_file():
                add(archive, f"genverify/{name}", (root / name).read_bytes(), 0o644)
        for package in _PACKAGES:
            for path in sorted((root / package).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts and \
                        path.suffix not in (".pyc", ".pyo"):
                    relative = path.relative_to(root).as_posix()
                    add(archive, f"genverify/{relative}", path.read_bytes(), 0o644)
    return out


# --------------------------------------------------------------------------------------------
# grading one directory


WRITEUP_SUFFIXES = (".tex", ".md", ".markdown", ".txt")
_NOT_WRITEUPS = ("readme", "requirements")  # names (lower case) that are never a write-up


class SeveralWriteups(ValueError):
    """A submission with more than one write-up and no answers file: which to grade is not
    guessed."""


def _writeups(directory: Path) -> list[Path]:
    """The write-ups of a submission: entries with a write-up suffix that are not folders
    (links and FIFOs included, so that reading them refuses them by name) and not
    ``README*`` or ``requirements*``."""
    found = []
    for path in directory.iterdir():
        if path.suffix.lower() not in WRITEUP_SUFFIXES or path.name.startswith(".") or \
                path.name.lower().startswith(_NOT_WRITEUPS):
            continue
        if path.is_symlink() or not path.is_dir():
            found.append(path)
    return sorted(found, key=lambda p: p.name)


def _answers_file(directory: Path) -> Path | None:
    """The answers file of a submission: ``answers.toml``, else the first ``answers*.toml``,
    else its one write-up (:func:`_writeups`); several write-ups raise
    :class:`SeveralWriteups` rather than guess.

    Whatever the name is (a link, a FIFO, a directory) it is returned, never opened or
    followed here: :func:`grading.submission.read_answers_text` refuses what is not a regular
    file with a clear message.
    """
    preferred = directory / "answers.toml"
    if os.path.lexists(preferred):
        return preferred
    candidates = sorted(path for path in directory.iterdir()
                        if path.name.startswith("answers") and path.name.endswith(".toml"))
    if candidates:
        return candidates[0]
    writeups = _writeups(directory)
    if len(writeups) > 1:
        raise SeveralWriteups(f"several write-ups: {', '.join(p.name for p in writeups)}; "
                              "keep one")
    return writeups[0] if writeups else None


def grade_directory(directory: str | Path, *, audience: str = "staff",
                    **code_options: Any) -> dict[str, Any]:
    """Grade a submission directory: ``{"answers": Report | None, "answers_error": str | None,
    "code": [CodeResult, ...], "code_profile": str, "code_notes": [str, ...]}``.

    The code is graded when the directory holds Python files or no answers file (so a
    submission with nothing gets zero on the coding parts rather than nothing at all);
    ``code_options`` go to :func:`grading.code.checks.grade_code` (``profile``, ``settings``).
    ``audience``: who reads the answers' feedback (:func:`grading.audience.for_audience`).
    """
    from grading.audience import for_audience
    from grading.code.checks import grade_code, submission_files

    directory = Path(directory)
    report, problem = None, None
    try:
        answers = _answers_file(directory) if directory.is_dir() else None
    except SeveralWriteups as error:
        answers, problem = None, str(error)
    if answers is not None:
        from grading.submission import AnswersError, grade_file

        try:
            report = for_audience(grade_file(answers), audience)
        except AnswersError as error:  # a link, FIFO, device, directory, too large, not TOML
            problem = f"{answers.name} could not be read: {error}"
    code, profile, notes = [], "", []
    if submission_files(directory) or (answers is None and problem is None):
        graded = grade_code(directory, **code_options)
        code, profile, notes = graded.results, graded.profile, list(graded.notes)
    return {"answers": report, "answers_error": problem, "code": code,
            "code_profile": profile, "code_notes": notes}


def results_json(graded: dict[str, Any], *, visibility: str = "visible",
                 seconds: float | None = None) -> dict[str, Any]:
    """One Gradescope ``results.json`` for the answers' report and the code results."""
    tests: list[dict[str, Any]] = []
    outputs: list[str] = []
    score = 0.0
    report = graded.get("answers")
    if graded.get("answers_error"):
        tests.append({"name": "answers file", "score": 0.0, "max_score": 0.0,
                      "status": "failed", "output": graded["answers_error"],
                      "visibility": visibility})
        outputs.append(graded["answers_error"])
    if report is not None:
        from grading.gradescope import results_json as answers_json

        answers = answers_json(report, visibility=visibility)
        tests += answers["tests"]
        score += float(answers["score"])
        outputs.append(answers.get("output", ""))
    code = graded.get("code") or []
    for result in code:
        test = result.to_gradescope()
        test["visibility"] = visibility
        test["status"] = "passed" if result.score >= result.max_score else "failed"
        tests.append(test)
    if code:
        got = sum(r.score for r in code)
        total = sum(r.max_score for r in code)
        score += got
        outputs.append(f"code: {got:g} of {total:g} points")
        outputs += [f"note: {n}" for n in graded.get("code_notes") or []]
    data: dict[str, Any] = {"score": round(score, 6), "output": "\n".join(o for o in outputs if o),
                            "visibility": visibility, "stdout_visibility": "hidden",
                            "tests": tests}
    if seconds is not None:
        data["execution_time"] = round(seconds, 1)
    return data


def text_report(graded: dict[str, Any], width: int = 100) -> str:
    """A terminal report of :func:`grade_directory`'s result: the answers' table, then each
    code property (points and the first line of its feedback, wrapped to ``width``), then the
    totals."""
    lines: list[str] = []
    if graded.get("answers_error"):
        lines.append(graded["answers_error"])
    report = graded.get("answers")
    if report is not None:
        lines += [report.table(width), ""]
    code = graded.get("code") or []
    if code:
        import textwrap

        name_width = min(40, max(len(r.name) for r in code))
        room = max(20, width - name_width - 12)
        for r in code:  # the name and the first line of the feedback wrap, never cut
            first = r.output.splitlines()[0] if r.output else ""
            names = textwrap.wrap(r.name, name_width, break_long_words=False) or [""]
            texts = textwrap.wrap(first, room, break_long_words=False) or [""]
            points = f"{r.score:4g}/{r.max_score:<4g}"
            for row in range(max(len(names), len(texts))):
                name = names[row] if row < len(names) else ""
                shown = points if row == 0 else " " * len(points)
                text = texts[row] if row < len(texts) else ""
                lines.append(f"{name:{name_width}}  {shown} {text}".rstrip())
        got, total = sum(r.score for r in code), sum(r.max_score for r in code)
        lines.append(f"code: {got:g} / {total:g} points")
        lines += [f"note: {n}" for n in graded.get("code_notes") or []]
    return "\n".join(lines)


def write_results_json(directory: str | Path, path: str | Path, *, audience: str = "student",
                       **code_options: Any) -> Path:
    """Grade ``directory`` and write its Gradescope ``results.json`` to ``path`` (for students
    by default: this is what the bundle shows them)."""
    start = time.monotonic()
    data = results_json(grade_directory(directory, audience=audience, **code_options),
                        seconds=time.monotonic() - start)
    path = Path(path)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m grading.autograder grade DIR [--gradescope OUT] [--audience WHO]`` or
    ``build OUT.zip``."""
    parser = argparse.ArgumentParser(prog="python -m grading.autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a submission directory")
    grade.add_argument("directory")
    grade.add_argument("--gradescope", metavar="RESULTS_JSON", default=None)
    grade.add_argument("--profile", default=None, help="interface profile: a name or a TOML file")
    grade.add_argument("--audience", choices=("student", "staff"), default="student",
                       help="who reads the feedback: student (default; the key's answers are "
                            "never shown) or staff")
    build = commands.add_parser("build", help="write the Gradescope autograder bundle")
    build.add_argument("out_zip")
    build.add_argument("--profile", default=None, help="interface profile: a name or a TOML file")
    args = parser.parse_args(argv)
    if args.command == "grade":  # Gradescope's timeout sends SIGTERM: close every sandbox
        from grading.code.sandbox import install_termination_handler

        install_termination_handler()
    if args.command == "build":
        print(build_autograder(args.out_zip, profile=args.profile))
        return 0
    options = {"profile": args.profile} if args.profile else {}
    if args.gradescope:
        write_results_json(args.directory, args.gradescope, audience=args.audience, **options)
        print(f"wrote {args.gradescope}")
        return 0
    print(text_report(grade_directory(args.directory, audience=args.audience, **options)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
