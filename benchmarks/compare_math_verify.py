"""Our equivalence engine against HuggingFace's math-verify, side by side on the labelled pairs.

    /tmp/bench-venv/bin/python benchmarks/compare_math_verify.py [--pairs FILE ...] [--json FILE]
                                                                 [--show-misses]

Both checkers get every (reference, answer) pair of each labelled set in one run (``--pairs``,
repeatable; default both ``tests/grading/answers/labelled_pairs.toml``, the project's 92 pairs,
and ``tests/grading/answers/field_pairs.toml``, the field set of issue 10, reported
separately); for each set and checker we print the correct verdicts (equivalent / not
equivalent as labelled), false positives (said "equivalent" for a pair labelled not
equivalent — the error that gives a wrong answer full marks), false negatives, undecided
(no verdict: an error, an empty parse, a timeout, a parse error) and the median and
95th-percentile latency per pair; ``--json`` records every verdict with the pair's category.

* ours: :func:`grading.answers.equivalence.check_equivalence` with the pair's profile of assumptions
  (σ > 0, y ∈ (0, 1), ...), in its default isolation (a forked worker, 4 s deadline).
* math-verify: ``parse`` of both sides, then ``verify(gold=reference, target=answer)``. It
  extracts LaTeX from text, so each side is given wrapped in ``$...$``; if that extracts
  nothing, the bare text is tried (its plain-expression extractor), so answers written in
  SymPy syntax get their best chance. An exception or an empty parse is "undecided". It has
  no notion of the question's assumptions.

math-verify is NOT a dependency of genverify: install it only in a separate benchmark venv
(see ``benchmarks/requirements-compare.txt`` and ``benchmarks/README.md``).

Each checker first answers one warm-up pair per set (not counted), so imports and our worker's
fork are not in the latencies; ours runs on every set before math-verify is imported.
Exit status 0 unless a checker could not be run at all.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "grading" / "answers"
DEFAULT_SETS = (ANSWERS / "labelled_pairs.toml", ANSWERS / "field_pairs.toml")

EQUIVALENT, NOT_EQUIVALENT, UNDECIDED = "equivalent", "not_equivalent", "undecided"


@dataclass
class Tally:
    """Verdicts of one checker over the labelled set."""

    name: str
    verdicts: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self, expected: list[str], keep: list[bool] | None = None
                ) -> dict[str, float | int]:
        keep = keep or [True] * len(expected)
        pairs = [(v, e) for v, e, k in zip(self.verdicts, expected, keep) if k]
        ordered = sorted(s for s, k in zip(self.seconds, keep) if k)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
        return {
            "pairs": len(pairs),
            "correct": sum(v == e for v, e in pairs),
            "false_positives": sum(v == EQUIVALENT and e == NOT_EQUIVALENT for v, e in pairs),
            "false_negatives": sum(v == NOT_EQUIVALENT and e == EQUIVALENT for v, e in pairs),
            "undecided": sum(v == UNDECIDED for v, _ in pairs),
            "median_ms": statistics.median(ordered) * 1000,
            "p95_ms": p95 * 1000,
        }


def run_ours(data: dict) -> Tally:
    """Our engine, one pair after another, with each pair's profile of assumptions."""
    sys.path.insert(0, str(ROOT))
    from grading.answers.equivalence import Kind, check_equivalence

    def verdict(pair: dict) -> tuple[str, str]:
        result = check_equivalence(pair["reference"], pair["answer"],
                                   assumptions=data["profiles"][pair["profile"]])
        kind = result.kind.value if result.kind in (Kind.EQUIVALENT, Kind.NOT_EQUIVALENT) \
            else UNDECIDED
        return kind, result.reason.splitlines()[0]

    return _run("genverify", data["pair"], verdict)


def run_math_verify(data: dict) -> Tally:
    """math-verify's parse + verify, reference as gold, answer as target."""
    from math_verify import parse, verify
    from math_verify.errors import TimeoutException  # a BaseException, not an Exception

    failures = (Exception, TimeoutException)

    def extract(text: str) -> list:
        for candidate in (f"${text}$", text):
            parsed = parse(candidate, raise_on_error=True)
            if parsed:
                return parsed
        return []

    def verdict(pair: dict) -> tuple[str, str]:
        try:
            gold, target = extract(pair["reference"]), extract(pair["answer"])
        except failures as error:  # any failure, its own timeout included, is "no verdict"
            return UNDECIDED, f"parse raised {type(error).__name__}: {error}"[:160]
        if not gold or not target:
            return UNDECIDED, f"empty parse (reference {gold!r}, answer {target!r})"
        try:
            same = verify(gold, target, raise_on_error=True)
        except failures as error:
            return UNDECIDED, f"verify raised {type(error).__name__}: {error}"[:160]
        return (EQUIVALENT if same else NOT_EQUIVALENT), f"read as {gold[0]} vs {target[0]}"

    return _run("math-verify", data["pair"], verdict)


def _run(name: str, pairs: list[dict], verdict: Callable[[dict], tuple[str, str]]) -> Tally:
    verdict({"reference": "x + 1", "answer": "1 + x", "profile": "none"})  # warm-up
    tally = Tally(name)
    for pair in pairs:
        start = time.perf_counter()
        kind, note = verdict(pair)
        tally.seconds.append(time.perf_counter() - start)
        tally.verdicts.append(kind)
        tally.notes.append(note)
    return tally


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def compare(path: Path, data: dict, tallies: list[Tally], show_misses: bool) -> dict:
    """Print one set's table (and misses); return its per-pair record."""
    expected = [pair["expected"] for pair in data["pair"]]

    print(f"\nlabelled pairs: {len(expected)} ({expected.count(EQUIVALENT)} equivalent, "
          f"{expected.count(NOT_EQUIVALENT)} not equivalent) from {_name(path)}")
    header = f"{'checker':<12} {'correct':>12} {'false pos':>9} {'false neg':>9} " \
             f"{'undecided':>9} {'median ms':>9} {'p95 ms':>8}"
    print(header)
    print("-" * len(header))
    summaries = {}
    # answers typed in SymPy/plain syntax (no backslash) are outside math-verify's LaTeX
    # extraction; the second block leaves them out so that it is judged on LaTeX alone
    latex_only = ["\\" in pair["answer"] for pair in data["pair"]]
    for label, keep in (("all pairs", None), ("LaTeX answers only", latex_only)):
        print(f"{label}:")
        for tally in tallies:
            s = summaries[f"{tally.name}, {label}"] = tally.summary(expected, keep)
            print(f"{tally.name:<12} {s['correct']:>3}/{s['pairs']} "
                  f"{s['correct'] / s['pairs']:>6.1%} {s['false_positives']:>9} "
                  f"{s['false_negatives']:>9} {s['undecided']:>9} {s['median_ms']:>9.1f} "
                  f"{s['p95_ms']:>8.1f}")

    if show_misses:
        for tally in tallies:
            print(f"\n{tally.name}: wrong or undecided")
            for index, (pair, kind, note) in enumerate(zip(data["pair"], tally.verdicts,
                                                           tally.notes)):
                if kind != pair["expected"]:
                    print(f"  #{index} expected {pair['expected']}, got {kind}: "
                          f"{pair['reference']}  vs  {pair['answer']}\n      {note}")
    return {
        "summaries": summaries,
        "pairs": [{"reference": p["reference"], "answer": p["answer"],
                   "expected": p["expected"], "category": p.get("category"),
                   **{t.name: {"verdict": t.verdicts[i], "note": t.notes[i],
                               "ms": t.seconds[i] * 1000} for t in tallies}}
                  for i, p in enumerate(data["pair"])],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, action="append",
                        help="a labelled set (repeatable; default: both sets)")
    parser.add_argument("--json", type=Path, help="also write the per-pair verdicts here")
    parser.add_argument("--show-misses", action="store_true",
                        help="list every pair a checker got wrong or left undecided")
    args = parser.parse_args(argv)

    try:
        import math_verify  # noqa: F401
    except ImportError:
        print("math-verify is not installed in this interpreter; install it in a separate "
              "venv: see benchmarks/README.md", file=sys.stderr)
        return 2
    print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}, sympy {_version('sympy')}, "
          f"math-verify {_version('math-verify')}, "
          f"latex2sympy2_extended {_version('latex2sympy2_extended')}")
    sets = [path.resolve() for path in args.pairs] if args.pairs else list(DEFAULT_SETS)
    data = {path: tomllib.loads(path.read_text("utf-8")) for path in sets}
    # ours on every set first, so that its forked worker never sees math-verify's imports
    ours = {path: run_ours(data[path]) for path in sets}
    theirs = {path: run_math_verify(data[path]) for path in sets}
    records = {_name(path): compare(path, data[path], [ours[path], theirs[path]],
                                    args.show_misses) for path in sets}
    if args.json:
        args.json.write_text(json.dumps(records, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
