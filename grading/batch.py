"""Regrade many submissions in parallel processes and write a CSV of scores.

``grade_batch(directory, workers, csv_path)`` grades every submission of ``directory``
(:func:`submissions`): each visible sub-folder (an answers file or a write-up, and/or Python
files, as :func:`grading.autograder.grade_directory` reads them) and each regular file that
is an answers file or a write-up (``.toml``, ``.tex``, ``.md``, ``.markdown``, ``.txt``; graded
with :func:`grading.submission.grade_file`). They are graded in ``workers`` processes; each
process grades one submission at a time with one sandbox (so at most ``workers`` student
processes run at once). A progress bar goes to stderr only when stderr is a terminal.

A submission whose answers file cannot be read gets its reason in the ``error`` column (and
its code is still graded); a submission whose grading fails (a bug of the grader, not of the
student) gets a row with the error and no score, and the others go on.

Every row has the same maximum: ``max_score`` = the key's automatic points (``answers_max``)
+ the code profile's points (``code_max``), whatever the student handed in. The profile is
the one asked for (``profile=`` or ``specs=``), else the one most submissions were graded with;
a submission graded with another profile says so in ``note``. Points a person grades (figures)
are not in ``score`` or ``max_score``: ``pending_points`` holds them.

CSV columns: ``submission``, ``score``, ``max_score``, ``answers_score``, ``answers_max``,
``code_score``, ``code_max``, ``pending_points``, ``review`` (the parts that need a person:
undecided or unreadable, e.g. a write-up part not found), ``profile`` (the interface profile the code
was graded with), one ``code:<function>`` column per graded function (its points; the functions
of every profile met, in order), ``seconds``, ``error`` and ``note``.
"""

from __future__ import annotations

import csv
import multiprocessing
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

__all__ = ["SUBMISSION_SUFFIXES", "grade_batch", "submissions"]

#: files that are a submission by themselves: an answers file or a write-up
SUBMISSION_SUFFIXES = (".toml", ".tex", ".md", ".markdown", ".txt")


def submissions(directory: str | Path) -> list[Path]:
    """The submissions of a batch, sorted by name: the visible sub-folders of ``directory``
    and its visible regular files (not links) whose suffix is in :data:`SUBMISSION_SUFFIXES`."""
    found = []
    for path in Path(directory).iterdir():
        if path.name.startswith("."):
            continue
        if path.is_dir():
            found.append(path)
        elif path.suffix.lower() in SUBMISSION_SUFFIXES and path.is_file() and \
                not path.is_symlink():
            found.append(path)
    return sorted(found, key=lambda p: p.name)


def _key_points() -> tuple[float, float]:
    """The key's automatic points and the points a person grades."""
    from grading.submission import grade_answers

    empty = grade_answers({})
    return float(empty.max_score), float(empty.pending_points)


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(str(text).split())[:limit]


def _grade_one(path: str, code_options: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission (in a worker process) into one CSV row; its ``max_score`` is the
    key's automatic points plus the points of the profile it was graded with (the batch then
    sets the batch's)."""
    from grading.isolation import serialise_ast_parse

    serialise_ast_parse()  # a fresh worker process: CPython 3.11's ast.parse race (gh-106905)
    start = time.monotonic()
    row: dict[str, Any] = {"submission": Path(path).name, "error": ""}
    try:
        answers_max, pending = _key_points()
        if Path(path).is_dir():
            from grading.autograder import grade_directory

            graded = grade_directory(path, parallel=1, **code_options)
        else:
            from grading.submission import AnswersError, grade_file

            try:
                graded = {"answers": grade_file(path), "answers_error": None, "code": [],
                          "code_profile": ""}
            except AnswersError as error:
                graded = {"answers": None, "answers_error": f"{Path(path).name} could not be "
                          f"read: {error}", "code": [], "code_profile": ""}
    except Exception as error:  # noqa: BLE001 - one bad submission must not stop the batch
        row.update(score="", max_score="", seconds=round(time.monotonic() - start, 1),
                   error=_one_line(f"the grader failed on this submission "
                                   f"({type(error).__name__}: {error})"))
        return row
    report, code = graded["answers"], graded["code"]
    answers_score = float(report.score) if report is not None else 0.0
    code_score = sum(r.score for r in code)
    code_max = sum(r.max_score for r in code)
    row["answers_score"] = round(answers_score, 6)
    row["answers_max"] = round(answers_max, 6)
    row["code_score"] = round(code_score, 6)
    row["code_max"] = round(code_max, 6)
    row["pending_points"] = round(pending, 6)
    row["profile"] = graded.get("code_profile", "")
    for result in code:
        key = f"code:{result.function}"
        row[key] = round(float(row.get(key) or 0.0) + result.score, 6)
    row["score"] = round(answers_score + code_score, 6)
    row["max_score"] = round(answers_max + code_max, 6)
    row["review"] = " ".join(r.part for r in (report.automatic if report is not None else ())
                             if r.exit_code == 2)
    row["error"] = _one_line(graded.get("answers_error") or "")
    row["seconds"] = round(time.monotonic() - start, 1)
    return row


def _asked_profile(code_options: dict[str, Any]) -> tuple[str, float] | None:
    """The name and points of the profile the batch was asked to use, if any."""
    if code_options.get("specs") is not None:
        return "custom", float(sum(s.points for s in code_options["specs"]))
    profile = code_options.get("profile")
    if profile is None:
        return None
    if isinstance(profile, (str, Path)):
        from grading.code.profiles import load_profile

        profile = load_profile(profile)
    return profile.name, float(profile.points)


def _batch_profile(rows: list[dict[str, Any]], asked: tuple[str, float] | None
                   ) -> tuple[str, float] | None:
    """The batch's profile: the one asked for, else the one most rows were graded with."""
    if asked is not None:
        return asked
    graded = [row for row in rows if row.get("profile")]
    if not graded:
        return None
    name, _ = Counter(row["profile"] for row in graded).most_common(1)[0]
    return name, float(next(row["code_max"] for row in graded if row["profile"] == name))


def _same_maximum(rows: list[dict[str, Any]], profile: tuple[str, float] | None) -> None:
    """Every graded row gets the batch's maximum (the key's automatic points + the profile's);
    a row graded with another profile says so."""
    code_max = profile[1] if profile is not None else 0.0
    for row in rows:
        if row.get("score", "") == "" or "answers_max" not in row:
            continue  # the grader failed: no score, no maximum
        if profile is not None and row.get("profile") and row["profile"] != profile[0]:
            row["note"] = (f"graded with profile {row['profile']} ({row['code_max']:g} points), "
                           f"not the batch's {profile[0]}; pass --profile to grade every "
                           "submission alike")
        row["code_max"] = round(code_max, 6)
        row["max_score"] = round(float(row["answers_max"]) + code_max, 6)


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    code = []
    for row in rows:
        code += [key for key in row if key.startswith("code:") and key not in code]
    return (["submission", "score", "max_score", "answers_score", "answers_max", "code_score",
             "code_max", "pending_points", "review", "profile"] + code
            + ["seconds", "error", "note"])


def grade_batch(directory: str | Path, workers: int = 2, csv_path: str | Path = "scores.csv",
                *, progress: bool | None = None, **code_options: Any) -> list[dict[str, Any]]:
    """Grade every submission under ``directory`` with ``workers`` processes; write the CSV.

    Returns the rows (in the order of the submissions' names). ``progress``: a progress bar on
    stderr (``None``: only when stderr is a terminal). ``code_options`` go to
    :func:`grading.code.checks.grade_code` (e.g. ``settings``, ``profile``, ``specs``).
    """
    paths = submissions(directory)
    asked = _asked_profile(code_options)  # a bad profile is refused before any work
    rows: dict[str, dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited threads
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(paths), desc="grading", unit="submission", file=sys.stderr)
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
        futures = {pool.submit(_grade_one, str(p), code_options): p for p in paths}
        for future in as_completed(futures):
            path = futures[future]
            try:
                rows[path.name] = future.result()
            except Exception as error:  # noqa: BLE001 - e.g. a worker process died
                rows[path.name] = {"submission": path.name, "score": "", "max_score": "",
                                   "error": _one_line(f"the grader failed on this submission "
                                                      f"({type(error).__name__}: {error})")}
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    ordered = [rows[p.name] for p in paths]
    _same_maximum(ordered, _batch_profile(ordered, asked))
    out = Path(csv_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        columns = _columns(ordered)
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in ordered:
            writer.writerow({key: row.get(key, "") for key in columns})
    return ordered
