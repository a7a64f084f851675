"""``genverify report``: verify every derivation and print what was checked, step by step.

The exit status is 0 only if every step of every derivation verifies.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TextIO

from derivations.core import Verification


@dataclass(frozen=True)
class Row:
    """One line of the summary table."""

    part: str
    claim: str
    check: str
    ok: bool
    seconds: float


def derivation_rows(seed: int = 0) -> Iterable[Row]:
    """Verify every derivation; one row per derivation."""
    import derivations

    for d in derivations.all_derivations():
        start = time.perf_counter()
        verification: Verification = d.verify(seed=seed)
        elapsed = time.perf_counter() - start
        failure = verification.first_failure
        check = f"{len(verification.steps)} steps verified" if failure is None else \
            f"step {failure.index} fails: {failure.reason} ({failure.detail})"
        yield Row(d.part, d.name, check, verification.ok, elapsed)


def print_table(rows: Iterable[Row], stream: TextIO = sys.stdout) -> list[Row]:
    """Print rows as they come; return them."""
    seen = []
    header = f"{'part':6} {'claim':58} {'result':6} {'time':>7}  check"
    print(header, file=stream)
    print("-" * len(header), file=stream)
    for row in rows:
        seen.append(row)
        print(f"{row.part:6} {row.claim[:58]:58} {'ok' if row.ok else 'FAIL':6} "
              f"{row.seconds:6.2f}s  {row.check}", file=stream, flush=True)
    return seen


def run_report(*, out: str, quick: bool, mnist_dir: str | None, progress: bool) -> int:
    """The main job. Returns the exit status."""
    start = time.perf_counter()
    rows = print_table(derivation_rows())
    failed = sum(not row.ok for row in rows)
    print(f"\n{len(rows) - failed} of {len(rows)} derivations verified "
          f"in {time.perf_counter() - start:.1f} s", flush=True)
    return 1 if failed else 0
