"""Time ``import derivations`` plus ``verify()`` of every derivation, in fresh processes.

Each run starts a new interpreter (nothing cached, as on a fresh machine) that imports the
package, builds and verifies every derivation, and reports its own timings as JSON; this script
prints the median over the runs: the whole process, the import, and each derivation's build
(the first access, which derives it) and verify. It also times ``derivations.verify_all()``,
which shares the work between two forked workers (the machine has two cores). Target: ≤ 3 s.

    python benchmarks/verify_derivations.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, time
t0 = time.perf_counter()
import derivations
from derivations.core import _REGISTRY
import importlib
for name in derivations.MODULES:
    try:
        importlib.import_module(f"derivations.{name}")
    except ModuleNotFoundError as missing:
        if missing.name != f"derivations.{name}":
            raise
t_import = time.perf_counter() - t0
rows = []
for key, build in list(_REGISTRY.items()):
    t1 = time.perf_counter()
    d = build()
    t2 = time.perf_counter()
    verdict = d.verify()
    t3 = time.perf_counter()
    rows.append({"key": key, "name": d.name, "build": t2 - t1, "verify": t3 - t2,
                 "ok": bool(verdict.ok)})
print(json.dumps({"import": t_import, "total": time.perf_counter() - t0, "rows": rows}))
"""


PARALLEL_CHILD = r"""
import json, time
t0 = time.perf_counter()
import derivations
verdicts = derivations.verify_all()
print(json.dumps({"total": time.perf_counter() - t0, "ok": all(v.ok for v in verdicts.values()),
                  "count": len(verdicts)}))
"""


def run_parallel_once() -> tuple[float, dict]:
    """``import derivations; derivations.verify_all()`` (2 forked workers) in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PARALLEL_CHILD], capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the child process failed:\n{done.stderr}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def run_once() -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the child process failed:\n{done.stderr}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args(argv)

    parallel = [run_parallel_once() for _ in range(args.runs)]
    walls, reports = zip(*(run_once() for _ in range(args.runs)))
    keys = [row["key"] for row in reports[0]["rows"]]
    per = {key: {"name": next(r["name"] for r in reports[0]["rows"] if r["key"] == key),
                 "build": statistics.median(next(r["build"] for r in rep["rows"] if r["key"] == key)
                                            for rep in reports),
                 "verify": statistics.median(next(r["verify"] for r in rep["rows"] if r["key"] == key)
                                             for rep in reports),
                 "ok": all(next(r["ok"] for r in rep["rows"] if r["key"] == key) for rep in reports)}
           for key in keys}
    summary = {
        "runs": args.runs,
        "process_wall_median": statistics.median(walls),
        "process_wall_all": list(walls),
        "in_process_median": statistics.median(r["total"] for r in reports),
        "import_median": statistics.median(r["import"] for r in reports),
        "verify_all_wall_median": statistics.median(w for w, _ in parallel),
        "verify_all_wall_all": [w for w, _ in parallel],
        "verify_all_ok": all(r["ok"] for _, r in parallel),
        "derivations": per,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"import derivations + verify_all() (2 workers), {args.runs} fresh processes: median "
          f"{summary['verify_all_wall_median']:.2f} s (all: "
          f"{', '.join(f'{w:.2f}' for w in summary['verify_all_wall_all'])}); target ≤ 3 s")
    print(f"one worker, {args.runs} fresh processes; median wall time {summary['process_wall_median']:.2f} s "
          f"(all: {', '.join(f'{w:.2f}' for w in walls)}); in-process (import + build + verify) "
          f"{summary['in_process_median']:.2f} s; import {summary['import_median']:.2f} s; "
          f"target ≤ 3 s")
    print(f"{'derivation':<58} {'build s':>8} {'verify s':>9}  ok")
    for key in sorted(keys, key=lambda k: -(per[k]["build"] + per[k]["verify"])):
        row = per[key]
        print(f"{row['name'][:58]:<58} {row['build']:>8.3f} {row['verify']:>9.3f}  "
              f"{'yes' if row['ok'] else 'NO'}")
    return 0 if all(row["ok"] for row in per.values()) and summary["verify_all_ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
