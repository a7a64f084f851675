"""A submission's files and the sandbox session that runs them.

:func:`submission_files` takes a submission's Python files (regular files with a module
name, bounded in size and number); :func:`locate_functions` finds, by parsing (never running),
which module defines each top-level name and each ``Class.method``; a :class:`Session` holds
one :class:`grading.code.sandbox.Sandbox` with the files loaded and restarts it after a crash
or a timeout. :class:`CheckSettings` states how hard the checks look and the seed of every
random draw.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grading.code.sandbox import Limits, Sandbox, SandboxError

__all__ = [
    "CaseResult",
    "CheckSettings",
    "Session",
    "StudentCodeFailed",
    "locate_functions",
    "submission_files",
    "top_level_names",
]

_MAX_FILE_BYTES = 1_000_000
_MAX_FILES = 50


@dataclass(frozen=True)
class CheckSettings:
    """How hard the checks look, and the seed of every random draw (stated, fixed)."""

    seed: int = 446
    failure_prob: float = 1e-6  # per statistical property
    examples: int = 50  # Hypothesis examples per input class (ordinary, extreme)
    shrink_seconds: float = 5.0
    limits: Limits = field(default_factory=Limits)
    confine: bool | None = None  # None: confine when running as root


class StudentCodeFailed(Exception):
    """The student's code could not be run to the end of a request (crash, timeout...)."""


# --------------------------------------------------------------------------------------------
# the submission's files


def submission_files(path: str | Path) -> list[Path]:
    """The Python files of a submission (a directory's top level, or one file)."""
    path = Path(path)
    if path.is_file():
        candidates = [path] if path.suffix == ".py" else []
    else:
        candidates = sorted(p for p in path.glob("*.py") if p.is_file())
        if not candidates:
            candidates = sorted(p for p in path.rglob("*.py") if p.is_file())[:_MAX_FILES]
    files = []
    for candidate in candidates[:_MAX_FILES]:
        if candidate.stat().st_size <= _MAX_FILE_BYTES and re.fullmatch(
                r"[A-Za-z_][A-Za-z0-9_]*\.py", candidate.name):
            files.append(candidate)
    return files


def top_level_names(path: Path) -> list[str]:
    """The names a student's file defines at top level (functions, classes, assignments,
    imports) and the methods of its classes (``Class.method``), from its syntax tree; the file
    is parsed, never run."""
    names: list[str] = []
    for node in _parse_python(path).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        if isinstance(node, ast.ClassDef):
            names.extend(f"{node.name}.{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)))
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _parse_python(path: Path) -> ast.Module:
    return ast.parse(path.read_bytes(), filename=path.name)


def _names_in_fresh_interpreter(path: Path) -> list[str]:
    """CPython 3.11 before 3.11.8 can leave a process whose ``ast.parse`` fails with
    "SystemError: AST constructor recursion depth mismatch" (gh-106905); a fresh interpreter
    parses the file instead and returns the names as JSON."""
    import json
    import subprocess
    import sys

    script = ("import json, sys; from pathlib import Path; "
              "from grading.code.session import top_level_names; "
              "print(json.dumps(top_level_names(Path(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "it does not parse"
        raise SyntaxError(last)
    return [str(name) for name in json.loads(done.stdout)]


def locate_functions(files: Sequence[Path]) -> tuple[dict[str, list[str]], list[str]]:
    """For each top-level name, the modules that define it (parsed, never run), and notes."""
    defined: dict[str, list[str]] = {}
    notes: list[str] = []
    for path in files:
        module = path.stem
        try:
            try:
                names = top_level_names(path)
            except SystemError:
                names = _names_in_fresh_interpreter(path)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            line = getattr(error, "lineno", None)
            notes.append(f"{path.name} does not parse ({type(error).__name__}"
                         f"{f' at line {line}' if line else ''})")
            continue
        for name in names:
            defined.setdefault(name, [])
            if module not in defined[name]:
                defined[name].append(module)
    return defined, notes


# --------------------------------------------------------------------------------------------
# the session: a sandbox that is restarted after a crash or a timeout


@dataclass
class CaseResult:
    ok: bool
    error: str
    info: dict[str, Any]
    out: np.ndarray | None
    grads: dict[int, np.ndarray | str]

    @property
    def shape(self) -> tuple[int, ...] | None:
        shape = self.info.get("shape")
        return tuple(shape) if isinstance(shape, list) else None

    @property
    def dtype(self) -> str:
        return str(self.info.get("dtype", "?"))[:40]


class Session:
    """A sandbox holding a submission's files; restarted on the next call after it dies."""

    def __init__(self, files: Sequence[Path], settings: CheckSettings = CheckSettings()) -> None:
        self.files = [Path(f) for f in files]
        self.settings = settings
        self.sandbox: Sandbox | None = None
        self.restarts = 0
        self.layers: tuple[str, ...] = ()
        self.import_errors: dict[str, str] = {}
        self.load_notes: dict[str, list[str]] = {}  # what loading did not run or stubbed
        self.broken: str | None = None  # why the submission cannot be run at all

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def start(self) -> None:
        """Start the sandbox (again, after a failure) and import the submission's files."""
        if self.broken:
            raise StudentCodeFailed(self.broken)
        if self.sandbox is not None and self.sandbox.alive:
            return
        if self.sandbox is not None:
            self.sandbox.close()
            self.restarts += 1
        self.sandbox = Sandbox(self.files, limits=self.settings.limits,
                               confine=self.settings.confine)
        try:
            self.sandbox.start()
        except SandboxError as error:
            self.sandbox.close()
            self.sandbox = None
            self.broken = f"the sandbox did not start: {error.reason}"
            raise StudentCodeFailed(self.broken) from None
        self.layers = self.sandbox.layers
        try:
            reply = self.sandbox.request({"op": "load", "modules": [f.stem for f in self.files]})
        except SandboxError as error:
            tail = self.sandbox.output_tail(600, since_request=True).strip()
            self.sandbox.close()
            self.sandbox = None
            self.broken = (f"importing the submission's files failed: {error.reason}"
                           + (f"\nIts last output:\n{tail}" if tail else ""))
            raise StudentCodeFailed(self.broken) from None
        errors = reply.header.get("errors")
        if isinstance(errors, dict):
            self.import_errors = {str(k)[:80]: str(v)[:1500] for k, v in errors.items()}
        notes = reply.header.get("notes")
        if isinstance(notes, dict):
            self.load_notes = {str(k)[:80]: [str(n)[:300] for n in v][:20]
                               for k, v in list(notes.items())[:50] if isinstance(v, list)}

    def call(self, modules: Sequence[str], function: str, cases: Sequence[Mapping[str, Any]],
             arrays: Mapping[str, Any], *,
             callbacks: Mapping[str, Callable[..., Any]] | None = None,
             timeout: float | None = None) -> list[CaseResult]:
        """Run ``function`` on each case; :class:`StudentCodeFailed` if the process fails."""
        self.start()
        try:
            reply = self.sandbox.request(
                {"op": "call", "modules": list(modules), "function": function,
                 "cases": list(cases)}, arrays, callbacks=callbacks, timeout=timeout)
        except SandboxError as error:
            tail = self.sandbox.output_tail(600, since_request=True).strip()
            self.sandbox.close()
            self.sandbox = None
            raise StudentCodeFailed(error.reason + (f"\nIts last output:\n{tail}" if tail else "")
                                    ) from None
        header = reply.header
        if not header.get("found", False):
            raise StudentCodeFailed(str(header.get("error", "function not found"))[:2000])
        reported = header.get("cases")
        if not isinstance(reported, list) or len(reported) != len(cases):
            raise StudentCodeFailed("the sandbox's reply does not describe every case "
                                    f"({str(header.get('error', ''))[:1500]})")
        results = []
        for index, info in enumerate(reported):
            if not isinstance(info, dict):
                info = {}
            grads: dict[int, np.ndarray | str] = {}
            for key, state in (info.get("grads") or {}).items():
                position = int(key) if str(key).isdigit() else -1
                grads[position] = reply.arrays.get(f"{index}:grad:{position}", str(state)[:40])
            results.append(CaseResult(bool(info.get("ok")), str(info.get("error", ""))[:2000],
                                      info, reply.arrays.get(f"{index}:out"), grads))
        return results

