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
from grading.isolation import parse_ast

__all__ = [
    "CaseResult",
    "CheckSettings",
    "Session",
    "StudentCodeFailed",
    "locate_functions",
    "refused_files",
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
    """The Python files of a submission (a directory's top level, or else its subfolders; or
    one file): regular files only, never a symbolic link, a device, a FIFO or a socket, and
    never a file reached through a linked folder, each a module name and at most 1 MB, at most
    50 of them. :func:`refused_files` says which were left out and why."""
    return _scan_submission(Path(path))[0]


def refused_files(path: str | Path) -> list[str]:
    """One sentence per Python file of the submission that :func:`submission_files` leaves
    out, in the order found, e.g. ``"x.py is a symbolic link: not read"``; empty if none."""
    return _scan_submission(Path(path))[1]


def _scan_submission(path: Path) -> tuple[list[Path], list[str]]:
    """The accepted files and the refusals. ``path`` itself is the operator's choice and is
    followed if it is a link; nothing inside it is."""
    import os

    if path.is_dir():
        found, refused = _python_entries(path, recursive=False)
        if not found:
            deeper, refused_deeper = _python_entries(path, recursive=True)
            found, refused = deeper, refused + [r for r in refused_deeper if r not in refused]
    elif path.suffix == ".py" and os.path.exists(path):
        found, refused = [(path, path.name, os.stat(path))], []
    else:
        return [], []
    return _accept(found, refused)


def _python_entries(top: Path, *, recursive: bool
                    ) -> tuple[list[tuple[Path, str, Any]], list[str]]:
    """The ``*.py`` entries of ``top`` (its top level, or every folder below it reached
    without following a link) with their ``lstat``, and the linked folders not searched."""
    import os

    entries: list[tuple[Path, str, Any]] = []
    refused: list[str] = []
    for directory, subfolders, names in os.walk(top):  # a linked folder is listed, not entered
        here = Path(directory)
        shown = here.relative_to(top)
        subfolders.sort()
        linked = [name for name in subfolders if (here / name).is_symlink()]
        if recursive:
            refused += [f"{shown / name}/ is a symbolic link to a folder: not searched"
                        for name in linked if not name.endswith(".py")]
        entries += [(here / name, str(shown / name), os.lstat(here / name))
                    for name in names + linked if name.endswith(".py")]
        if not recursive:
            break
    return sorted(entries, key=lambda entry: entry[0]), refused


def _accept(entries: Sequence[tuple[Path, str, Any]], refused: list[str]
            ) -> tuple[list[Path], list[str]]:
    """Keep the regular files with a module name and at most ``_MAX_FILE_BYTES`` bytes, the
    first ``_MAX_FILES`` of them; say why each other one is refused."""
    files: list[Path] = []
    for path, shown, status in entries:
        reason = _refusal(shown, status)
        if reason is None and len(files) >= _MAX_FILES:
            reason = f"{shown}: not read (only the first {_MAX_FILES} Python files are read)"
        if reason is None:
            files.append(path)
        else:
            refused.append(reason)
    return files, refused


def _refusal(shown: str, status: Any) -> str | None:
    """Why a ``*.py`` entry (its ``lstat``) is not read, or None when it is a module to read."""
    import stat

    mode = status.st_mode
    if not stat.S_ISREG(mode):
        kind = ("a symbolic link" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode)
                else "a device file" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "not a regular file")
        return f"{shown} is {kind}: not read"
    if status.st_size > _MAX_FILE_BYTES:
        return f"{shown} is larger than {_MAX_FILE_BYTES} bytes: not read"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\.py", Path(shown).name):
        return f"{shown} is not named like a Python module: not read"
    return None


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
    return parse_ast(path.read_bytes(), filename=path.name)  # one thread at a time


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
    """One case of a :meth:`Session.call`, from a validated reply: whether the call
    succeeded, the error it raised, the output's description (``info``: type, dtype, shape,
    requires_grad, seconds: each checked for type and size), the output as float64 (None when
    there is none) and, per argument position asked for, its gradient (an array) or why there
    is none ("none", "disconnected")."""

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
    """A sandbox holding a submission's files; restarted on the next call after it dies.

    Every reply is untrusted (the student's code shares the runner's process and may write
    frames of its own): :meth:`call` checks that the reply answers this very request (its
    nonce), and the type, size and consistency of every field, before any check sees it. A
    reply that fails is malformed: :class:`StudentCodeFailed` for that call, and the sandbox is
    closed so that the next call starts afresh.
    """

    _MAX_TEXT = {"error": 4000, "type": 300, "dtype": 40, "exception": 200}
    _GRAD_STATES = frozenset({"ok", "none", "disconnected"})
    _MAX_DIMS = 64  # torch's own limit
    _MAX_EXTENT = 2**40

    def __init__(self, files: Sequence[Path], settings: CheckSettings = CheckSettings()) -> None:
        self.files = [Path(f) for f in files]
        self.settings = settings
        self.sandbox: Sandbox | None = None
        self.restarts = 0
        self.layers: tuple[str, ...] = ()
        self.import_errors: dict[str, str] = {}
        self.load_notes: dict[str, list[str]] = {}  # what loading did not run or stubbed
        self.broken: str | None = None  # why the submission cannot be run at all
        self.replies = 0  # the calls answered so far (with a valid reply)

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
            reply = self._request({"op": "load", "modules": [f.stem for f in self.files]}, {})
        except StudentCodeFailed as error:
            self.broken = f"importing the submission's files failed: {error}"
            raise StudentCodeFailed(self.broken) from None
        errors = reply.header.get("errors")
        if isinstance(errors, dict):
            self.import_errors = {str(k)[:80]: str(v)[:1500]
                                  for k, v in list(errors.items())[:50]}
        notes = reply.header.get("notes")
        if isinstance(notes, dict):
            self.load_notes = {str(k)[:80]: [str(n)[:300] for n in v[:20]]
                               for k, v in list(notes.items())[:50] if isinstance(v, list)}

    def call(self, modules: Sequence[str], function: str, cases: Sequence[Mapping[str, Any]],
             arrays: Mapping[str, Any], *,
             callbacks: Mapping[str, Callable[..., Any]] | None = None,
             timeout: float | None = None) -> list[CaseResult]:
        """Run ``function`` on each case; :class:`StudentCodeFailed` if the process fails or
        its reply is malformed (then "the sandbox's reply was malformed: ...")."""
        import secrets

        self.start()
        nonce = secrets.token_hex(16)
        reply = self._request({"op": "call", "nonce": nonce, "modules": list(modules),
                               "function": function, "cases": list(cases)}, arrays,
                              callbacks=callbacks, timeout=timeout)
        try:
            results = self._results(reply.header, reply.arrays, nonce, cases, arrays)
        except StudentCodeFailed:
            raise
        except Exception as error:  # noqa: BLE001 - whatever is wrong with it: malformed
            raise self._malformed(str(error)) from None
        self.replies += 1
        return results

    # -- the untrusted reply -----------------------------------------------------------------

    def _request(self, header: dict[str, Any], arrays: Mapping[str, Any],
                 **options: Any) -> Any:
        """The sandbox's reply to ``header``; :class:`StudentCodeFailed` (the sandbox closed)
        if the process fails or sends something the sandbox cannot even decode."""
        from grading.code.sandbox import ProtocolError, RequestNotDelivered

        try:
            try:
                return self.sandbox.request(header, arrays, **options)
            except RequestNotDelivered:
                if header.get("op") != "call":
                    raise
                # the process ended after its last reply (e.g. the previous call exited it)
                # and before it read this request: nothing of this call ran, so it goes to a
                # fresh process once, rather than failing a function that never started
                self.close()
                self.restarts += 1
                self.start()
                return self.sandbox.request(header, arrays, **options)
        except ProtocolError as error:
            raise self._malformed(error.reason) from None
        except SandboxError as error:
            tail = self.sandbox.output_tail(600, since_request=True).strip()
            self.close()
            raise StudentCodeFailed(error.reason + (f"\nIts last output:\n{tail}" if tail else "")
                                    ) from None
        except Exception as error:  # noqa: BLE001 - e.g. RecursionError: a header too deep
            raise self._malformed(f"it could not be decoded ({type(error).__name__})") from None

    def _malformed(self, why: str) -> StudentCodeFailed:
        """Close the sandbox (a frame may be left unread) and say why the reply is unusable."""
        self.close()
        return StudentCodeFailed(f"the sandbox's reply was malformed: {why[:500]}")

    def _results(self, header: Mapping[str, Any], replied: Mapping[str, Any], nonce: str,
                 cases: Sequence[Mapping[str, Any]],
                 arrays: Mapping[str, Any]) -> list[CaseResult]:
        """The validated results of a reply to a call (ValueError: malformed)."""
        if header.get("nonce") != nonce:
            raise ValueError("it does not answer this request (no or another nonce: a frame "
                             "written by the submission itself?)")
        found = header.get("found")
        error = header.get("error", "")
        if not isinstance(found, bool) or not isinstance(error, str):
            raise ValueError("'found' is not a boolean or 'error' not a string")
        if not found:
            raise StudentCodeFailed(error[:2000] or "function not found")
        reported = header.get("cases")
        if not isinstance(reported, list):
            raise ValueError("'cases' is not a list")
        if len(reported) != len(cases):
            if reported:
                raise ValueError(f"it describes {len(reported)} cases, not {len(cases)}")
            raise StudentCodeFailed("the sandbox's reply does not describe every case "
                                    f"({error[:1500]})")
        expected = {f"{i}:out" for i in range(len(cases))} | {
            f"{i}:grad:{p}" for i, case in enumerate(cases) for p in case.get("grad") or ()}
        unexpected = sorted(set(replied) - expected)
        if unexpected:
            raise ValueError(f"it carries arrays nobody asked for: {unexpected[:3]!r}"[:200])
        return [self._case_result(index, info, cases[index], replied, arrays)
                for index, info in enumerate(reported)]

    def _case_result(self, index: int, info: object, case: Mapping[str, Any],
                     replied: Mapping[str, Any], arrays: Mapping[str, Any]) -> CaseResult:
        """One case's result, every field checked (ValueError: malformed)."""
        if not isinstance(info, dict):
            raise ValueError(f"case {index} is a {type(info).__name__}, not an object")
        allowed = {"ok", "grads", "shape", "requires_grad", "seconds", *self._MAX_TEXT}
        unknown = sorted(str(key)[:40] for key in info if key not in allowed)
        if unknown:
            raise ValueError(f"case {index} has unknown fields {unknown[:3]}")
        if not isinstance(info.get("ok"), bool):
            raise ValueError(f"case {index}: 'ok' is not a boolean")
        clean: dict[str, Any] = {"ok": info["ok"]}
        for key, limit in self._MAX_TEXT.items():
            if key in info:
                clean[key] = self._text(info[key], limit, f"case {index}: {key!r}")
        if "requires_grad" in info:
            if not isinstance(info["requires_grad"], bool):
                raise ValueError(f"case {index}: 'requires_grad' is not a boolean")
            clean["requires_grad"] = info["requires_grad"]
        if "seconds" in info:
            clean["seconds"] = self._seconds(info["seconds"], index)
        if "shape" in info:
            clean["shape"] = self._shape(info["shape"], index)
        out = self._output(index, clean, case, replied)
        grads = self._grads(index, info.get("grads"), case, replied, arrays)
        return CaseResult(clean["ok"], clean.get("error", "")[:2000], clean, out, grads)

    @staticmethod
    def _text(value: object, limit: int, what: str) -> str:
        if not isinstance(value, str) or len(value) > limit:
            raise ValueError(f"{what} is not a string of at most {limit} characters")
        return value

    @staticmethod
    def _seconds(value: object, index: int) -> float:
        import math

        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or not 0 <= value < 1e9:
            raise ValueError(f"case {index}: 'seconds' is not a duration")
        return float(value)

    @classmethod
    def _shape(cls, value: object, index: int) -> list[int]:
        if not isinstance(value, list) or len(value) > cls._MAX_DIMS or not all(
                isinstance(n, int) and not isinstance(n, bool) and 0 <= n < cls._MAX_EXTENT
                for n in value):
            raise ValueError(f"case {index}: 'shape' is not a list of sizes")
        return list(value)

    @staticmethod
    def _output(index: int, info: Mapping[str, Any], case: Mapping[str, Any],
                replied: Mapping[str, Any]) -> np.ndarray | None:
        """The case's output array, which must have the shape the case declares (with the
        repeats first; a scalar comes as one value); a successful case must have one."""
        out = replied.get(f"{index}:out")
        if out is None:
            if info["ok"]:
                raise ValueError(f"case {index} succeeded but carries no output")
            return None
        if "shape" not in info:
            raise ValueError(f"case {index} carries an output but no shape")
        declared = tuple(info["shape"])
        if "repeat" in case:
            declared = (int(case["repeat"]), *declared)
        if tuple(out.shape) != (declared or (1,)):
            raise ValueError(f"case {index}: its output has shape {tuple(out.shape)}"[:120]
                             + f", not the declared {declared}"[:120])
        return out

    @staticmethod
    def _grads(index: int, value: object, case: Mapping[str, Any], replied: Mapping[str, Any],
               arrays: Mapping[str, Any]) -> dict[int, np.ndarray | str]:
        """The gradients of a case: positions asked for only, known states, an array exactly
        when the state is "ok", shaped like the argument it is the gradient of."""
        asked = [p for p in case.get("grad") or () if isinstance(p, int)]
        value = {} if value is None else value
        if not isinstance(value, dict) or len(value) > len(asked):
            raise ValueError(f"case {index}: 'grads' is not an object of the positions asked")
        grads: dict[int, np.ndarray | str] = {}
        for key, state in value.items():
            if not (key.isascii() and key.isdecimal() and len(key) <= 3) or int(key) not in asked:
                raise ValueError(f"case {index}: gradient position {key[:20]!r} was not asked for")
            if not isinstance(state, str) or state not in Session._GRAD_STATES:
                raise ValueError(f"case {index}: gradient state {str(state)[:20]!r} is unknown")
            position, array = int(key), replied.get(f"{index}:grad:{key}")
            if (array is not None) != (state == "ok"):
                raise ValueError(f"case {index}: gradient {position} is {state} but "
                                 f"{'has no' if array is None else 'has an'} array")
            spec = (list(case.get("args") or ()) + [None] * (position + 1))[position]
            if array is not None and isinstance(spec, Mapping) and spec.get("array") in arrays \
                    and tuple(array.shape) != np.shape(arrays[spec["array"]]):
                raise ValueError(f"case {index}: gradient {position} has shape "
                                 f"{tuple(array.shape)}, not its argument's")
            grads[position] = array if array is not None else state
        stray = [p for p in asked if p not in grads and f"{index}:grad:{p}" in replied]
        if stray:
            raise ValueError(f"case {index}: gradient {stray[0]} has an array but no state")
        return grads
