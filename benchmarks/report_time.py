"""Time the main job: ``genverify report --quick`` and the full report, each in a fresh process.

Targets (issue 15): ``--quick`` ≤ 15 s and the full run ≤ 45 s of wall time on 2 cores. Each
run records its wall time, the CPU time of the process and its workers (user + system, from
``resource.getrusage(RUSAGE_CHILDREN)``), the 1-minute load average before it started (the
machine is shared: a load near 2 means another job held both cores), the report's own summary
line and the slowest rows of its table.

    python benchmarks/report_time.py [--runs 3] [--mode quick|full|both] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GENVERIFY = [sys.executable, "-m", "genverify.cli"]
TARGETS = {"quick": 15.0, "full": 45.0}
ROW = re.compile(r"^(\S+)\s+(.*?)\s+(ok|FAIL)\s+(\d+\.\d\d)s\s")


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(quick: bool) -> dict:
    """One report in a fresh process: wall and CPU seconds, exit status, summary, slowest rows."""
    with tempfile.TemporaryDirectory() as out:
        command = [*GENVERIFY, "report", "--out", out, "--no-progress", *(["--quick"] if quick else [])]
        load = os.getloadavg()[0]
        cpu, start = _cpu_of_children(), time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds, cpu = time.perf_counter() - start, _cpu_of_children() - cpu
        lines = done.stdout.strip().splitlines()
        summary = lines[-1] if lines else done.stderr[-300:]
        page = Path(out) / "index.html"
        size = page.stat().st_size if page.exists() else 0
    rows = [(float(m.group(4)), m.group(1), m.group(2)) for m in map(ROW.match, lines) if m]
    return {"wall_seconds": seconds, "cpu_seconds": cpu, "load_before": load,
            "exit_code": done.returncode, "checks": len(rows),
            "summary": f"{summary} (page {size / 1e6:.1f} MB)",
            "slowest_rows": [f"{s:.2f} s {part} {claim}" for s, part, claim in sorted(rows, reverse=True)[:5]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--mode", choices=("quick", "full", "both"), default="both")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    modes = ("quick", "full") if args.mode == "both" else (args.mode,)
    results = {}
    for mode in modes:
        runs = [run_once(mode == "quick") for _ in range(args.runs)]
        results[mode] = {"median_wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
                         "median_cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                         "target_wall_seconds": TARGETS[mode], "runs": runs}
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for mode, r in results.items():
            print(f"{mode:5}: median wall {r['median_wall_seconds']:.1f} s (target ≤ "
                  f"{r['target_wall_seconds']:.0f} s), median CPU {r['median_cpu_seconds']:.1f} s")
            for run in r["runs"]:
                print(f"       wall {run['wall_seconds']:.1f} s, CPU {run['cpu_seconds']:.1f} s, load before "
                      f"{run['load_before']:.2f}, exit {run['exit_code']}, {run['checks']} rows; {run['summary']}")
            print("       slowest rows (last run): " + "; ".join(r["runs"][-1]["slowest_rows"]))
    return 0 if all(run["exit_code"] == 0 for r in results.values() for run in r["runs"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
