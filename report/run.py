"""``genverify report``: the main job — prove the answer key and show the evidence.

Every derivation is built and verified step by step; numeric cross-checks and trained models
add their evidence (see :mod:`report.evidence`). The inputs (``--mnist-dir``, ``--out``) are
checked before any work (:func:`check_inputs`). The terminal gets a table (part, claim, result,
time, check) whose rows are written, and flushed, as each check ends — also into a pipe, a file
or a CI log — with claims and evidence wrapped inside their columns at the terminal's width
(100 columns when stdout is not a terminal); a progress display goes to stderr when stderr is
a terminal. A row's time is the wall time of that check alone (see :data:`TIME_NOTE`).
``DIR/index.html`` gets one self-contained page. The exit status is 0 only if every check
passes.
"""

from __future__ import annotations

import gzip
import importlib
import os
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from report.evidence import Check
from report.page import Evidence, render

TIME_NOTE = ("time: wall-clock seconds of that check alone (a derivation: building and verifying "
             "it; a model trained for several checks: its training counts in the first of them). "
             "The model checks run in worker processes beside the derivations, so the times add "
             "up to more than the run's wall time.")

# The question a derivations module answers: the part of a derivation that cannot even be built
# (one that is built names its own part).
_MODULE_QUESTION = {"gaussian": "2", "kl": "1", "bernoulli": "1", "elbo": "1", "gan": "3",
                    "diffusion": "4"}

# The MNIST IDX files the report reads (LeCun et al.'s names, plain or gzipped) and the number
# of dimensions each one's header announces (see models.data.read_idx).
MNIST_FILES = {"train-images-idx3-ubyte": 3, "train-labels-idx1-ubyte": 1,
               "t10k-images-idx3-ubyte": 3, "t10k-labels-idx1-ubyte": 1}


class ReportInputError(ValueError):
    """An input the report cannot work with; the message is one line for the user."""


def check_inputs(*, out: str, mnist_dir: str | None) -> None:
    """Refuse, before any work, an ``--out`` that cannot become a folder and an ``--mnist-dir``
    that is missing, not a directory, or lacks an MNIST IDX file (or holds one that is not)."""
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ReportInputError(f"--out {out}: is a file; the report needs a folder to write "
                               "index.html into")
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise ReportInputError(f"--out {out}: {existing} is a file, so the folder cannot be "
                               "created")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ReportInputError(f"--out {out}: cannot write in {existing}")
    if mnist_dir is None:
        return
    directory = Path(mnist_dir)
    if not directory.exists():
        raise ReportInputError(f"--mnist-dir {mnist_dir}: no such directory")
    if not directory.is_dir():
        raise ReportInputError(f"--mnist-dir {mnist_dir}: not a directory")
    missing = []
    for stem, ndim in MNIST_FILES.items():
        path = next((directory / name for name in (stem, f"{stem}.gz")
                     if (directory / name).is_file()), None)
        if path is None:
            missing.append(stem)
        elif (problem := _idx_header_problem(path, ndim)) is not None:
            raise ReportInputError(f"--mnist-dir {mnist_dir}: {path.name} {problem}")
    if missing:
        raise ReportInputError(f"--mnist-dir {mnist_dir}: missing the MNIST IDX file"
                               f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                               "(plain or .gz)")


def _idx_header_problem(path: Path, ndim: int) -> str | None:
    """Why ``path`` does not start like an IDX file of unsigned bytes in ``ndim`` dimensions."""
    try:
        with (gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")) as handle:
            head = handle.read(4)
    except (OSError, EOFError) as error:
        return f"cannot be read ({getattr(error, 'strerror', None) or error})"
    if head != bytes((0, 0, 0x08, ndim)):
        return (f"is not an MNIST IDX file: it starts with 0x{head.hex() or 'nothing'}, "
                f"expected 0x{bytes((0, 0, 0x08, ndim)).hex()}")
    return None


def derivation_checks(seed: int = 0) -> list[Check]:
    """One check per derivation, in registry order (lemmas before their users): it builds the
    derivation and verifies every step; its time is that build and verification (a lemma
    is built and verified once, by its own check)."""
    import derivations
    from derivations.core import _REGISTRY

    for name in derivations.MODULES:
        importlib.import_module(f"derivations.{name}")

    def check(key: str) -> Evidence:
        start = time.perf_counter()
        d = _REGISTRY[key]()
        verification = d.verify(seed=seed)
        seconds = time.perf_counter() - start
        failure = verification.first_failure
        text = f"{len(verification.steps)} steps verified" if failure is None else \
            f"step {failure.index} fails: {failure.reason} ({failure.detail})"
        return Evidence(d.part, d.name, text, verification.ok, seconds,
                        derivation=d, verification=verification)

    return [Check(key, _MODULE_QUESTION.get(key.split(".")[1], "?"), lambda key=key: check(key))
            for key in _REGISTRY]


def all_checks(*, quick: bool, mnist_dir: str | None) -> list[Check]:
    """Every check of the report, cheapest first."""
    from report import evidence

    return derivation_checks() + evidence.checks(quick=quick, mnist_dir=mnist_dir)


@dataclass(frozen=True)
class TableLayout:
    """The terminal table's columns: part, claim, result, time, check; claim and check share
    what the terminal's width leaves and wrap inside their columns."""

    claim: int
    check: int
    width: int
    PART = 7
    RESULT = 6
    TIME = 7

    @classmethod
    def for_width(cls, width: int | None = None) -> "TableLayout":
        """Columns for ``width`` (default: the terminal's, 100 when stdout is not a terminal)."""
        width = width or shutil.get_terminal_size((100, 24)).columns
        free = max(width - (cls.PART + cls.RESULT + cls.TIME + 5), 32)  # ≥ 57 columns in all
        claim = max(14, free * 9 // 20)
        return cls(claim, max(16, free - claim), width)

    def header(self) -> list[str]:
        line = (f"{'part':{self.PART}} {'claim':{self.claim}} {'result':{self.RESULT}} "
                f"{'time':>{self.TIME}}  check")
        return [line, self.rule]

    @property
    def rule(self) -> str:
        return "-" * (self.PART + self.claim + self.RESULT + self.TIME + self.check + 5)

    def row(self, e: Evidence) -> list[str]:
        claim = textwrap.wrap(e.claim, self.claim) or [""]
        check = [line for paragraph in (e.check.splitlines() or [""])
                 for line in (textwrap.wrap(paragraph, self.check, subsequent_indent="  ") or [""])]
        first = (f"{e.part:{self.PART}} {claim[0]:{self.claim}} {'ok' if e.ok else 'FAIL':{self.RESULT}} "
                 f"{e.seconds:{self.TIME - 1}.2f}s  {check[0]}")
        blank = " " * (self.PART + 1)
        rest = [f"{blank}{c:{self.claim}} {'':{self.RESULT}} {'':{self.TIME}}  {k}".rstrip()
                for c, k in zip(claim[1:] + [""] * len(check), check[1:] + [""] * len(claim))
                if c or k]
        return [first.rstrip(), *rest]

    def footer(self) -> list[str]:
        return [self.rule, *textwrap.wrap(TIME_NOTE, len(self.rule))]


def run_checks(checks: Sequence[Check], *, progress: bool | None, stream: TextIO | None = None,
               width: int | None = None, background: bool = False,
               preload: Sequence[str] = ()) -> list[Evidence]:
    """Run the checks and write each one's row as soon as it ends; the results in check order.

    Rows are flushed one by one, so they reach a pipe, a file or a CI log at once; the
    progress display goes to stderr when stderr is a terminal (:mod:`models.progress`). A check
    that raises is a failed check, reported under its own part. ``background``: the checks of
    each ``Check.process`` run in order in one forked worker process, beside this process,
    which runs the others in order; rows then arrive as their checks end, interleaved. The
    modules named in ``preload`` are imported by a worker before its first check (or once, here,
    before two or more workers fork), so that no check's time holds them.
    """
    import threading

    from models.progress import progress_bar, write_line

    stream = sys.stdout if stream is None else stream
    layout = TableLayout.for_width(width)
    bar = progress_bar(total=len(checks), desc="checks", enabled=progress)
    lock = threading.Lock()
    results: dict[int, Evidence] = {}

    def report(index: int, evidence: Evidence) -> None:
        with lock:
            results[index] = evidence
            write_line(bar, "\n".join(layout.row(evidence)), stream)
            bar.update()

    write_line(bar, "\n".join(layout.header()), stream)
    groups: dict[str, list[tuple[int, Check]]] = {}
    for index, check in enumerate(checks):
        if background and check.process is not None:
            groups.setdefault(check.process, []).append((index, check))
    shared = len(groups) > 1  # one worker loads them itself, beside the work here
    _import_all(preload if shared else ())
    workers = [_Worker(group, report, () if shared else preload) for group in groups.values()]
    workers = [worker for worker in workers if worker.start()]  # all forked before any work here
    for worker in workers:  # and before any thread writes: no child holds half a row
        worker.listen()
    elsewhere = {index for worker in workers for index in worker.indices}
    for index, check in enumerate(checks):
        if index not in elsewhere:
            with lock:
                bar.set_postfix(check=check.name[:40])
            report(index, _run_one(check))
    for worker in workers:
        worker.join(lambda index: checks[index])
    write_line(bar, "\n".join(layout.footer()), stream)
    bar.close()
    return [results[i] for i in range(len(checks))]


def _import_all(modules: Iterable[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:  # the check that needs it will say so
            pass


def _run_one(check: Check) -> Evidence:
    start = time.perf_counter()
    try:
        return check.run()
    except Exception as error:  # noqa: BLE001 - a crashing check is reported, not raised
        return Evidence(check.part, check.name, f"raised {type(error).__name__}: {error}", False,
                        time.perf_counter() - start)


class _Worker:
    """One forked process that runs some checks in order and sends back each one's evidence;
    a thread of this process receives them and reports each as it arrives."""

    def __init__(self, checks: list[tuple[int, Check]], report: Callable[[int, Evidence], None],
                 preload: Iterable[str] = ()):
        self.checks, self.report, self.preload = checks, report, tuple(preload)
        self.indices = {index for index, _ in checks}
        self.received: set[int] = set()

    def start(self) -> bool:
        """Fork the worker; False where ``fork`` is unavailable (the caller runs the checks)."""
        import multiprocessing

        if "fork" not in multiprocessing.get_all_start_methods():
            return False
        context = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            stream.flush()
        self.receiving, sending = context.Pipe(duplex=False)
        self.process = context.Process(target=self._work, args=(sending,), daemon=True)
        self.process.start()
        sending.close()
        return True

    def listen(self) -> None:
        """Report each evidence as it arrives, from a thread of this process."""
        import threading

        self.thread = threading.Thread(target=self._receive, args=(self.receiving,), daemon=True)
        self.thread.start()

    def _work(self, sending: Any) -> None:  # in the worker process
        _import_all(self.preload)
        for index, check in self.checks:
            evidence = _run_one(check)
            try:
                sending.send((index, evidence))
            except Exception as error:  # noqa: BLE001 - evidence that does not pickle
                sending.send((index, Evidence(evidence.part, evidence.claim,
                                              f"{evidence.check}; the evidence could not be sent "
                                              f"back ({type(error).__name__})", evidence.ok,
                                              evidence.seconds)))
        sending.close()

    def _receive(self, receiving: Any) -> None:
        while True:
            try:
                index, evidence = receiving.recv()
            except (EOFError, OSError):
                break
            self.received.add(index)
            self.report(index, evidence)
        receiving.close()

    def join(self, check_at: Callable[[int], Check]) -> None:
        """Wait for the worker; a check it never reported (the process died) is a failed check."""
        self.thread.join()
        self.process.join()
        for index in sorted(self.indices - self.received):
            check = check_at(index)
            self.report(index, Evidence(check.part, check.name, "not run: the worker process "
                                        f"stopped (exit status {self.process.exitcode})", False, 0.0))


def print_table(results: Iterable[Evidence], stream: TextIO | None = None,
                width: int | None = None) -> None:
    """The whole table at once: header, one row per result, the note on times."""
    stream = sys.stdout if stream is None else stream
    layout = TableLayout.for_width(width)
    lines = layout.header() + [line for e in results for line in layout.row(e)] + layout.footer()
    stream.write("\n".join(lines) + "\n")
    stream.flush()


def run_report(*, out: str, quick: bool, mnist_dir: str | None, progress: bool | None) -> int:
    """The main job. Returns the exit status."""
    check_inputs(out=out, mnist_dir=mnist_dir)  # before any work: ReportInputError
    if quick and mnist_dir is not None:
        print("note: --quick leaves out the VAE, the one model trained on MNIST; --mnist-dir is "
              "not used", file=sys.stderr, flush=True)
    start = time.perf_counter()
    from report.evidence import WORKER_IMPORTS

    results = run_checks(all_checks(quick=quick, mnist_dir=mnist_dir), progress=progress,
                         background=True, preload=WORKER_IMPORTS)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "index.html"
    from report.parts import parts
    from report.page import page_meta

    meta = page_meta(quick=quick, mnist_dir=mnist_dir, seeds="0 (derivations, Monte Carlo, models)")
    page.write_text(render(parts(results), meta=meta), encoding="utf-8")
    failed = sum(not e.ok for e in results)
    print(f"\n{len(results) - failed} of {len(results)} checks passed in "
          f"{time.perf_counter() - start:.1f} s; report: {page}", flush=True)
    return 1 if failed else 0
