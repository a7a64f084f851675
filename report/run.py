"""``genverify report``: the main job — prove the answer key and show the evidence.

Every derivation is verified step by step; numeric cross-checks and trained models add their
evidence (see :mod:`report.evidence`). The terminal gets a progress display and a summary
table (part, claim, check, result, time); ``DIR/index.html`` gets one self-contained page.
The exit status is 0 only if every check passes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

import sympy as sp

from report.page import Evidence, Part, render

Check = Callable[[], Evidence]


def derivation_checks(seed: int = 0) -> list[tuple[str, Check]]:
    """One check per derivation; all are verified up front by two worker processes."""
    import derivations
    from derivations.core import _REGISTRY

    verdicts = derivations.verify_all(seed=seed)

    def check(key: str) -> Evidence:
        d, verification = _REGISTRY[key](), verdicts[key]
        failure = verification.first_failure
        text = f"{len(verification.steps)} steps verified" if failure is None else \
            f"step {failure.index} fails: {failure.reason} ({failure.detail})"
        return Evidence(d.part, d.name, text, verification.ok, verification.seconds,
                        derivation=d, verification=verification)

    return [(key, (lambda key=key: check(key))) for key in verdicts]


def all_checks(*, quick: bool, mnist_dir: str | None) -> list[tuple[str, Check]]:
    """Every check of the report, cheapest first."""
    from report import evidence

    return derivation_checks() + evidence.checks(quick=quick, mnist_dir=mnist_dir)


def run_checks(checks: list[tuple[str, Check]], *, progress: bool | None,
               stream: TextIO = sys.stdout) -> list[Evidence]:
    """Run the checks with a progress bar; a check that raises is a failed check."""
    from models.progress import progress_bar

    results = []
    bar = progress_bar(total=len(checks), desc="checks", enabled=progress)
    for name, check in checks:
        bar.set_postfix(check=name[:40])
        start = time.perf_counter()
        try:
            results.append(check())
        except Exception as error:  # noqa: BLE001 - a crashing check is reported, not raised
            results.append(Evidence("?", name, f"raised {type(error).__name__}: {error}", False,
                                    time.perf_counter() - start))
        bar.update()
    bar.close()
    return results


def print_table(results: Iterable[Evidence], stream: TextIO = sys.stdout) -> None:
    header = f"{'part':7} {'claim':52} {'result':6} {'time':>7}  check"
    print(header, file=stream)
    print("-" * len(header), file=stream)
    for e in results:
        print(f"{e.part:7} {e.claim[:52]:52} {'ok' if e.ok else 'FAIL':6} {e.seconds:6.2f}s  "
              f"{e.check}", file=stream)


def _parts(results: list[Evidence]) -> list[Part]:
    """Group evidence under the homework's parts, in the key's order when the key is there."""
    from grading.key.registry import questions

    parts = {}
    for q in questions():
        reference: object = None
        if q.reference is not None:
            try:
                reference = q.reference.build(q.namespace())
            except Exception:  # noqa: BLE001 - a reference that cannot be shown is described
                reference = q.reference.describe()
        if not isinstance(reference, (sp.Basic, str)):
            reference = q.reference.describe() if q.reference is not None else None
        parts[q.id] = Part(q.id, q.points, q.prompt, reference)
    for e in results:
        parts.setdefault(e.part, Part(e.part, None, "", None)).evidence.append(e)

    def order(part_id: str) -> tuple:
        return tuple(int(s) if s.isdigit() else ord(s[0]) for s in part_id.replace("?", "9").split("."))

    return sorted(parts.values(), key=lambda p: order(p.id) if p.id else ())


def run_report(*, out: str, quick: bool, mnist_dir: str | None, progress: bool | None) -> int:
    """The main job. Returns the exit status."""
    start = time.perf_counter()
    results = run_checks(all_checks(quick=quick, mnist_dir=mnist_dir), progress=progress)
    print_table(results)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    page.write_text(render(_parts(results)), encoding="utf-8")
    failed = sum(not e.ok for e in results)
    print(f"\n{len(results) - failed} of {len(results)} checks passed in "
          f"{time.perf_counter() - start:.1f} s; report: {page}", flush=True)
    return 1 if failed else 0
