"""Time to grade students' code: one full correct submission, and the buggy catalogue.

    python benchmarks/grade_code.py [--repeat N] [--parallel P] [--catalogue] [--json FILE]

Grades ``tests/grading/code/submissions/reference.py`` as a submission directory with
:func:`grading.code.checks.grade_code_submission` in a fresh process each time (so the cost
includes importing the harness, deriving the references and starting the sandboxes, each of
which imports torch), with the default settings that course grading uses (50 Hypothesis
examples per input class, failure probability 1e-6 per statistical property). Target (issue
5): ≤ 30 s on 2 cores. ``--catalogue`` also grades every ``bug_*.py`` of the folder in one
sandbox and prints how many are caught, with their feedback's first line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "tests" / "grading" / "code" / "submissions"

_ONE_RUN = """
import json, sys, time
start = time.monotonic()
from grading.code.checks import grade_code_submission
results = grade_code_submission(sys.argv[1], parallel=int(sys.argv[2]))
print(json.dumps({"seconds": time.monotonic() - start,
                  "score": sum(r.score for r in results),
                  "max_score": sum(r.max_score for r in results),
                  "failed": [r.name for r in results if r.score < r.max_score]}))
"""


def grade_reference(parallel: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="genverify-bench-") as directory:
        shutil.copy(SUBMISSIONS / "reference.py", Path(directory) / "hw5.py")
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-c", _ONE_RUN, directory, str(parallel)],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_seconds"] = time.monotonic() - start
        return result


def catalogue() -> list[tuple[str, str, float, float, str]]:
    from grading.code.checks import CheckSettings, Session, check_function, submission_files
    from grading.code.spec import spec

    prefixes = {"lnd": "log_normal_diag", "lb": "log_bernoulli", "sn": "sample_normal",
                "sb": "sample_bernoulli", "elbo": "elbo_loss", "dsm": "dsm_loss",
                "ls": "langevin_step", "al": "annealed_langevin"}
    rows = []
    with Session(submission_files(SUBMISSIONS), CheckSettings()) as session:
        for path in sorted(SUBMISSIONS.glob("bug_*.py")):
            function = prefixes[path.stem.split("_")[1]]
            results = check_function(session, spec(function), [path.stem])
            lost = [r for r in results if r.score < r.max_score]
            first = lost[0].output.splitlines()[0] if lost else "NOT CAUGHT"
            rows.append((path.stem, function, sum(r.score for r in results),
                         sum(r.max_score for r in results), first))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--catalogue", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    runs = [grade_reference(args.parallel) for _ in range(args.repeat)]
    for i, run in enumerate(runs, 1):
        print(f"run {i}: {run['wall_seconds']:.1f} s wall ({run['seconds']:.1f} s inside), "
              f"{run['score']:g}/{run['max_score']:g} points"
              + (f", lost: {run['failed']}" if run["failed"] else ""))
    walls = [r["wall_seconds"] for r in runs]
    print(f"one full correct submission: median {statistics.median(walls):.1f} s, "
          f"max {max(walls):.1f} s (target ≤ 30 s on 2 cores)")
    report = {"runs": runs, "median_seconds": statistics.median(walls)}
    if args.catalogue:
        rows = catalogue()
        caught = sum(1 for r in rows if r[2] < r[3])
        for name, function, score, total, first in rows:
            print(f"  {name:32s} {function:18s} {score:4g}/{total:g}  {first[:90]}")
        print(f"caught: {caught} of {len(rows)} buggy implementations")
        report["catalogue"] = rows
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if all(r["score"] == r["max_score"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
