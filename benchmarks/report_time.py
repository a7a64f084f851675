"""Time the main job: ``genverify report --quick`` and the full report, each in a fresh process.

Targets (issue 6): ``--quick`` ≤ 60 s, full ≤ 5 min on 2 cores.

    python benchmarks/report_time.py [--runs 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENVERIFY = [sys.executable, "-m", "genverify.cli"]


def run_once(quick: bool) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as out:
        command = [*GENVERIFY, "report", "--out", out, "--no-progress", *(["--quick"] if quick else [])]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
        page = Path(out) / "index.html"
        size = page.stat().st_size if page.exists() else 0
    return seconds, done.returncode, f"{summary} (page {size / 1e6:.1f} MB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {}
    for mode, quick, target in (("quick", True, 60.0), ("full", False, 300.0)):
        runs = [run_once(quick) for _ in range(args.runs)]
        results[mode] = {"median_seconds": statistics.median(r[0] for r in runs),
                         "all_seconds": [r[0] for r in runs], "exit_codes": [r[1] for r in runs],
                         "target_seconds": target, "summary": runs[-1][2]}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for mode, r in results.items():
            print(f"{mode:5}: median {r['median_seconds']:.1f} s (target ≤ {r['target_seconds']:.0f} s), "
                  f"exit {r['exit_codes']}; {r['summary']}")
    return 0 if all(code == 0 for r in results.values() for code in r["exit_codes"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
