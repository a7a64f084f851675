"""Latency and accuracy of ``check_equivalence`` on the labelled sets of course answers.

    python benchmarks/equivalence_latency.py [--pairs FILE ...] [--isolation MODE] [--repeat N]
                                             [--cli N]

Runs every (reference, answer) pair of each set given with ``--pairs`` (default: both
``tests/grading/answers/labelled_pairs.toml``, the project's 92 pairs, and
``tests/grading/answers/field_pairs.toml``, the field set of issue 10), each check in this
process in the isolation mode given (default the engine's own), and prints per set the median,
95th-percentile and largest latency and the verdicts: correct, false positives (equivalent on a
pair labelled not equivalent), confident wrong verdicts on equivalent pairs, undecided. For a
set whose pairs name the expected mistake (the 92 pairs), "correct" also requires the named
mistake; for the field set it is the verdict alone.

``--cli N`` also times the command line, ``genverify equiv REFERENCE ANSWER`` (a fresh process
per call, the pair's profile passed as ``--assume``), on N pairs of each set drawn with a fixed
seed, and prints the median wall time per call.

Targets: issue 4 (92 pairs): median <= 100 ms, p95 <= 1 s, 100 % correct, none undecided;
issue 10 (field set): in-process median <= 50 ms, CLI per call <= 0.5 s, >= 98 % correct,
0 false positives, 0 confident wrong verdicts on equivalent pairs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "grading" / "answers"
DEFAULT_SETS = (ANSWERS / "labelled_pairs.toml", ANSWERS / "field_pairs.toml")
CLI = ROOT / ".venv" / "bin" / "genverify"
EXIT_KINDS = {0: "equivalent", 1: "not_equivalent"}


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def run_set(path: Path, isolation: str, repeat: int) -> bool:
    """Time and score one set in process; True if its accuracy targets are met."""
    from grading.answers.equivalence import Kind, check_equivalence

    data = tomllib.loads(path.read_text("utf-8"))
    pairs = data["pair"]
    with_mistakes = any("mistake" in pair for pair in pairs)
    latencies: list[float] = []
    correct = false_positives = confident_wrong = undecided = 0
    for _ in range(repeat):
        for pair in pairs:
            start = time.perf_counter()
            verdict = check_equivalence(pair["reference"], pair["answer"],
                                        assumptions=data["profiles"][pair["profile"]],
                                        isolation=isolation)
            latencies.append(time.perf_counter() - start)
            kind = verdict.kind.value
            mistake = verdict.mistake.name if verdict.mistake else None
            right = kind == pair["expected"]
            if with_mistakes:
                right = right and mistake == pair.get("mistake")
            correct += right
            false_positives += kind == "equivalent" and pair["expected"] == "not_equivalent"
            confident_wrong += kind == "not_equivalent" and pair["expected"] == "equivalent"
            undecided += verdict.kind in (Kind.UNDECIDED, Kind.PARSE_ERROR)
    latencies.sort()
    total = len(latencies)
    what = "kind and named mistake" if with_mistakes else "kind"
    print(f"\n{_name(path)}: {total} checks ({len(pairs)} pairs x {repeat}), "
          f"isolation: {isolation}")
    print(f"  median latency: {statistics.median(latencies) * 1000:.1f} ms")
    print(f"  p95 latency:    {_percentile(latencies, 0.95) * 1000:.1f} ms")
    print(f"  max latency:    {latencies[-1] * 1000:.1f} ms")
    print(f"  correct ({what}): {correct}/{total} = {correct / total:.1%}; false positives: "
          f"{false_positives}; confident wrong on equivalent pairs: {confident_wrong}; "
          f"undecided or unreadable: {undecided}")
    if with_mistakes:
        return correct == total
    return correct >= 0.98 * total and false_positives == 0 and confident_wrong == 0


def run_cli(path: Path, sample: int, seed: int = 0) -> None:
    """Median wall time of ``genverify equiv`` over ``sample`` pairs of the set."""
    data = tomllib.loads(path.read_text("utf-8"))
    pairs = random.Random(seed).sample(data["pair"], min(sample, len(data["pair"])))
    seconds: list[float] = []
    agree = 0
    for pair in pairs:
        assume = [f"--assume={name}={kind}"
                  for name, kind in data["profiles"][pair["profile"]].items()]
        command = [str(CLI), "equiv", *assume, pair["reference"], pair["answer"]]
        start = time.perf_counter()
        status = subprocess.run(command, capture_output=True, text=True, check=False).returncode
        seconds.append(time.perf_counter() - start)
        agree += EXIT_KINDS.get(status, "undecided") == pair["expected"]
    seconds.sort()
    print(f"\n{_name(path)}: genverify equiv (one process per call), "
          f"{len(pairs)} pairs drawn with seed {seed}")
    print(f"  median per call: {statistics.median(seconds) * 1000:.0f} ms; "
          f"p95 {_percentile(seconds, 0.95) * 1000:.0f} ms; max {seconds[-1] * 1000:.0f} ms; "
          f"exit status as labelled: {agree}/{len(pairs)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, action="append",
                        help="a labelled set (repeatable; default: both sets)")
    parser.add_argument("--isolation", default="worker",
                        choices=("worker", "process", "thread", "none"))
    parser.add_argument("--repeat", type=int, default=1, help="passes over each set")
    parser.add_argument("--cli", type=int, default=0, metavar="N",
                        help="also time `genverify equiv` on N pairs of each set")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    sets = [path.resolve() for path in args.pairs] if args.pairs else list(DEFAULT_SETS)
    met = [run_set(path, args.isolation, args.repeat) for path in sets]
    if args.cli:
        for path in sets:
            run_cli(path, args.cli)
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
