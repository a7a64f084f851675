"""Time to grade one submission written for each course's starter interface (issue 11).

    python benchmarks/grade_profiles.py [--repeat N] [--json FILE]

For each built-in course profile, grades submissions of its corpus
(``tests/grading/code/cs446_*``) copied into a folder under the course's file name, with
:func:`grading.code.checks.grade_code` in a fresh process each time (so the cost includes
importing the harness, deriving the references, starting the sandboxes with torch, detecting
the profile and loading the file safely), with the default settings of course grading
(50 Hypothesis examples per input class, failure probability 1e-6 per statistical
property). Submissions: a typical vectorised one, and the slowest correct style (Python
loops over examples, or a sampler that runs one chain at a time). Target: ≤ 20 s each on
2 cores.
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
CODE = ROOT / "tests" / "grading" / "code"
CASES = (  # (profile, corpus file, the course's file name, what it stands for)
    ("cs446-vae", "cs446_vae/correct_distributions.py", "hw5_vae.py", "torch.distributions"),
    ("cs446-vae", "cs446_vae/correct_loops.py", "hw5_vae.py", "Python loops"),
    ("cs446-vae", "cs446_vae/correct_train_at_import.py", "hw5_vae.py", "trains at import"),
    ("cs446-diffusion", "cs446_diffusion/correct_vectorised.py", "hw5_diffusion.py",
     "vectorised"),
    ("cs446-diffusion", "cs446_diffusion/correct_chainwise_sampler.py", "hw5_diffusion.py",
     "one chain at a time"),
)

_ONE_RUN = """
import json, sys, time
start = time.monotonic()
from grading.code.checks import grade_code
graded = grade_code(sys.argv[1])
print(json.dumps({"seconds": time.monotonic() - start, "profile": graded.profile,
                  "score": graded.score, "max_score": graded.max_score}))
"""


def grade_once(corpus_file: str, name: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="genverify-bench-") as directory:
        shutil.copy(CODE / corpus_file, Path(directory) / name)
        start = time.monotonic()
        out = subprocess.run([sys.executable, "-c", _ONE_RUN, directory], capture_output=True,
                             text=True, check=True, cwd=ROOT)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["wall_seconds"] = time.monotonic() - start
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    rows = []
    for profile, corpus_file, name, style in CASES:
        runs = [grade_once(corpus_file, name) for _ in range(args.repeat)]
        walls = [r["wall_seconds"] for r in runs]
        row = {"profile": profile, "submission": corpus_file, "style": style,
               "detected": runs[0]["profile"], "score": runs[0]["score"],
               "max_score": runs[0]["max_score"], "median_seconds": statistics.median(walls),
               "max_seconds": max(walls)}
        rows.append(row)
        print(f"{profile:16s} {style:22s} detected {row['detected']:16s} "
              f"{row['score']:g}/{row['max_score']:g}  median {row['median_seconds']:.1f} s, "
              f"max {row['max_seconds']:.1f} s (target ≤ 20 s)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["max_seconds"] <= 20 and r["score"] == r["max_score"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
