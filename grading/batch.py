"""Regrade many submissions in parallel processes and write a CSV of scores.

``grade_batch(directory, workers, csv_path)`` treats every subdirectory of ``directory`` as one
submission (``answers.toml`` and/or Python files, as :func:`grading.autograder.grade_directory`
reads them) and grades them in ``workers`` processes; each process grades one submission at a
time with one sandbox (so at most ``workers`` student processes run at once). A submission
whose grading fails (a bug of the grader, not of the student) gets a row with the error and
no score, and the others go on.

CSV columns: ``submission``, ``score``, ``max_score``, ``answers_score``, ``answers_max``,
``profile`` (the interface profile the code was graded with), one ``code:<function>`` column
per graded function (its points; the functions of every profile met, in order), ``seconds``
and ``error``.
"""

from __future__ import annotations

import csv
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

__all__ = ["grade_batch", "submissions"]


def submissions(directory: str | Path) -> list[Path]:
    """The submissions of a batch: the subdirectories of ``directory``, sorted by name."""
    return sorted(p for p in Path(directory).iterdir() if p.is_dir() and not
                  p.name.startswith("."))


def _grade_one(path: str, code_options: dict[str, Any]) -> dict[str, Any]:
    """Grade one submission (in a worker process) into one CSV row."""
    start = time.monotonic()
    row: dict[str, Any] = {"submission": Path(path).name, "error": ""}
    try:
        from grading.autograder import grade_directory

        graded = grade_directory(path, parallel=1, **code_options)
    except Exception as error:  # noqa: BLE001 - one bad submission must not stop the batch
        row.update(score="", max_score="", error=f"{type(error).__name__}: {error}"[:500],
                   seconds=round(time.monotonic() - start, 1))
        return row
    report, code = graded["answers"], graded["code"]
    answers_score = float(report.score) if report is not None else 0.0
    answers_max = float(getattr(report, "max_score", 0.0) or 0.0) if report is not None else 0.0
    row["answers_score"] = round(answers_score, 6) if report is not None else ""
    row["answers_max"] = round(answers_max, 6) if report is not None else ""
    row["profile"] = graded.get("code_profile", "")
    for result in code:
        key = f"code:{result.function}"
        row[key] = round(float(row.get(key) or 0.0) + result.score, 6)
    code_score = sum(r.score for r in code)
    code_max = sum(r.max_score for r in code)
    row["score"] = round(answers_score + code_score, 6)
    row["max_score"] = round(answers_max + code_max, 6)
    row["seconds"] = round(time.monotonic() - start, 1)
    return row


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    code = []
    for row in rows:
        code += [key for key in row if key.startswith("code:") and key not in code]
    return (["submission", "score", "max_score", "answers_score", "answers_max", "profile"]
            + code + ["seconds", "error"])


def grade_batch(directory: str | Path, workers: int = 2, csv_path: str | Path = "scores.csv",
                *, progress: bool = True, **code_options: Any) -> list[dict[str, Any]]:
    """Grade every submission under ``directory`` with ``workers`` processes; write the CSV.

    Returns the rows (in the order of the submissions' names). ``code_options`` go to
    :func:`grading.code.checks.grade_code` (e.g. ``settings``, ``profile``).
    """
    paths = submissions(directory)
    rows: dict[str, dict[str, Any]] = {}
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited threads
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
                                   "error": f"{type(error).__name__}: {error}"[:500]}
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    ordered = [rows[p.name] for p in paths]
    out = Path(csv_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as f:
        columns = _columns(ordered)
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in ordered:
            writer.writerow({key: row.get(key, "") for key in columns})
    return ordered
