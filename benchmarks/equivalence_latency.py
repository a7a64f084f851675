"""Latency and accuracy of ``check_equivalence`` on the labelled set of course answers.

    python benchmarks/equivalence_latency.py [--isolation worker|process|thread|none] [--repeat N]

Runs every (reference, answer) pair of ``tests/grading/answers/labelled_pairs.toml`` in this process
(each check in the isolation mode given, default the engine's own) and prints the median and
95th-percentile latency and the share of correct verdicts (kind and named mistake). Targets from
issue 4: median <= 100 ms, p95 <= 1 s, 100 % correct, none undecided.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAIRS_FILE = ROOT / "tests" / "grading" / "answers" / "labelled_pairs.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isolation", default="worker",
                        choices=("worker", "process", "thread", "none"))
    parser.add_argument("--repeat", type=int, default=1, help="passes over the set")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from grading.answers.equivalence import Kind, check_equivalence

    data = tomllib.loads(PAIRS_FILE.read_text("utf-8"))
    latencies: list[float] = []
    correct = undecided = 0
    for _ in range(args.repeat):
        for pair in data["pair"]:
            start = time.perf_counter()
            verdict = check_equivalence(pair["reference"], pair["answer"],
                                        assumptions=data["profiles"][pair["profile"]],
                                        isolation=args.isolation)
            latencies.append(time.perf_counter() - start)
            mistake = verdict.mistake.name if verdict.mistake else None
            correct += verdict.kind.value == pair["expected"] and mistake == pair.get("mistake")
            undecided += verdict.kind is Kind.UNDECIDED
    latencies.sort()
    total = len(latencies)
    p95 = latencies[min(total - 1, int(round(0.95 * total)) - 1)]
    print(f"pairs: {total} ({len(data['pair'])} x {args.repeat}), isolation: {args.isolation}")
    print(f"median latency: {statistics.median(latencies) * 1000:.1f} ms (target <= 100 ms)")
    print(f"p95 latency:    {p95 * 1000:.1f} ms (target <= 1000 ms)")
    print(f"max latency:    {latencies[-1] * 1000:.1f} ms")
    print(f"accuracy:       {correct}/{total} = {correct / total:.1%}; undecided: {undecided}")
    return 0 if correct == total else 1


if __name__ == "__main__":
    sys.exit(main())
