"""The script that runs INSIDE the sandbox: imports the student's files and calls their functions.

Started by :class:`grading.code.sandbox.Sandbox` as ``python -I -S -B student_runner.py CONFIG``
(never imported by the harness; it imports nothing of the project). It keeps private copies
of the protocol pipes (stdin/stdout), points file descriptors 0 and 1 elsewhere (so whatever
the student prints lands in the captured stderr, not in the protocol), imports numpy and
the modules to preload (numpy and torch when grading: importing torch takes a second or
two, paid once per process), says hello, and then answers requests:

``{"op": "load", "modules": [...]}``
    Load the student's modules (files in the work directory) safely: only imports, functions,
    classes and constants run, one statement at a time; modules grading does not need are
    stubbed. Reply with the import errors and, per module, notes (what was stubbed, which
    lines did not run).

``{"op": "call", "modules": [...], "function": name, "cases": [case, ...]}``
    Find the first of ``modules`` that defines ``function`` (``name`` or ``Class.name``: a
    static method is called as it is, a method on a stand-in ``self`` built from the case's
    ``"self"`` attributes)
    and call it once per case (``repeat`` times with the same arguments, the generator
    running on). A case's arguments are specs: ``{"array": name, "dtype": "float64",
    "grad": bool, "form": "tensor"}`` (a tensor made from a request array; ``"form"``
    ``"numpy"`` or ``"list"`` passes a NumPy array or a list of floats instead),
    ``{"float": v}``, ``{"int": v}``, ``{"bool": v}``,
    ``{"generator": seed}`` (a ``torch.Generator`` seeded so; the global torch, NumPy and
    ``random`` generators are seeded from ``case["seed"]`` before the case too) and
    ``{"callback": name, "outputs": k}`` (a function lent by the harness, shaped like a torch
    module: called with tensors, it sends them as float64 arrays and returns the harness's
    answer as tensors).
    With ``"grad": [argument positions]`` the runner back-propagates the sum of the output
    and reports the gradients.

The reply describes each case (type, dtype, shape, error) in JSON and carries the outputs
and gradients as float64 arrays — plain numbers, never objects (see the wire format in
``grading/code/sandbox.py``). Nothing here is trusted by the harness: the student's code runs in
this process and may replace any of it; the harness validates every reply.
"""

from __future__ import annotations

import ast
import json
import os
import random
import signal
import struct
import sys
import time
import traceback
import types

MAGIC = b"GVF1"
MAX_OUTPUT_ELEMENTS = 16 * 2**20


class Channel:
    """Frames over the private copies of the protocol pipes."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out

    def _read(self, n: int) -> bytes:
        chunks, have = [], 0
        while have < n:
            chunk = os.read(self.fd_in, n - have)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            have += len(chunk)
        return b"".join(chunks)

    def receive(self) -> tuple[dict, dict]:
        import numpy as np

        if self._read(4) != MAGIC:
            raise EOFError
        (head_len,) = struct.unpack(">I", self._read(4))
        header = json.loads(self._read(head_len).decode())
        (payload_len,) = struct.unpack(">Q", self._read(8))
        payload = self._read(payload_len)
        arrays, offset = {}, 0
        for name, shape in header.get("arrays", []):
            count = 1
            for n in shape:
                count *= n
            arrays[name] = np.frombuffer(payload, dtype="<f8", count=count,
                                         offset=offset).reshape(shape).copy()
            offset += 8 * count
        return header, arrays

    def send(self, header: dict, arrays: dict | None = None) -> None:
        import numpy as np

        directory, chunks = [], []
        for name, value in (arrays or {}).items():
            array = np.ascontiguousarray(np.asarray(value, dtype="<f8"))
            directory.append([name, list(array.shape)])
            chunks.append(array.tobytes())
        head = json.dumps({**header, "arrays": directory}).encode()
        payload = b"".join(chunks)
        data = MAGIC + struct.pack(">I", len(head)) + head + struct.pack(">Q", len(payload)) \
            + payload
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd_out, view):]


def _describe(error: BaseException) -> str:
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})"
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    student = [line for line in lines if "student_runner.py" not in line]
    text = "".join(student[-6:]).strip()
    return text[-1500:]


def _first_parameter(function) -> str:  # noqa: ANN001
    import inspect

    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return ""
    return parameters[0] if parameters else ""


# -- loading a student's file safely ----------------------------------------------------------
#
# A student's file is not imported as a whole: real files train, plot, parse argv and import
# the course's helpers when imported. The file is parsed and only the top-level statements
# that define its interface run, one at a time, in the module's namespace (``__name__`` is the
# registered name, never "__main__"): imports, function and class definitions, docstrings,
# assignments that do not call the file's own functions, argparse set-up calls, and if/try
# blocks made only of those (never the ``if __name__ == "__main__":`` block; a kept try
# block's handlers run with their other statements replaced by ``pass``). A kept statement
# that raises is skipped with a note. Modules grading does not need (plotting, progress bars,
# notebooks, loggers) are inert stubs; a module the file imports that cannot be imported is an
# absent stub, which raises a clear ModuleNotFoundError when anything of it is called. Only
# the names the file's own import statements name are stubbed (torch and numpy keep failing
# their optional imports normally). Another of the submission's files imported by the file
# is loaded the same way. :func:`load_submission` returns the module and its notes.

# packages stubbed even when installed (prefixes: their submodules too)
_INERT_ROOTS = ("matplotlib", "mpl_toolkits", "pylab", "seaborn", "tqdm", "IPython",
                "google.colab", "wandb", "tensorboard", "tensorboardX",
                "torch.utils.tensorboard")
# calls at top level that only configure an argument parser: kept so parse_args() has defaults
_PARSER_SETUP = frozenset({"add_argument", "add_argument_group", "add_mutually_exclusive_group",
                           "set_defaults", "add_subparsers", "add_parser"})
# plotting calls whose result is unpacked (fig, ax = ...): how many stubs they return
_INERT_TUPLES = {"hist": 3, "get_legend_handles_labels": 2, "subplot_mosaic": 2, "xlim": 2,
                 "ylim": 2, "get_xlim": 2, "get_ylim": 2}
_OWN_CALL = "assignments that call the file's own functions"


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


def _prefixes(name: str) -> list[str]:
    """``"a.b.c"`` -> ``["a", "a.b", "a.b.c"]``."""
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _inert_root(fullname: str) -> str | None:
    for root in _INERT_ROOTS:
        if fullname == root or fullname.startswith(root + "."):
            return root
    return None


class _Inert:
    """Anything of a module grading does not need: every use of it does nothing.

    Its attributes are inert, calling it returns an inert stub, it is a no-op context manager,
    iterating it yields nothing, it is truthy, item assignment is ignored.
    """

    def __init__(self, path: str = "stub") -> None:
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> _Inert:
        if _is_dunder(name) or name == "_path":  # (_path: a copy made without __init__)
            raise AttributeError(name)
        return _Inert(f"{self._path}.{name}")

    def __setattr__(self, name: str, value: object) -> None:
        pass

    def __delattr__(self, name: str) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> object:
        return _inert_result(self._path, args, kwargs)

    def __getitem__(self, key: object) -> _Inert:
        return _Inert(f"{self._path}[]")

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __delitem__(self, key: object) -> None:
        pass

    def __enter__(self) -> _Inert:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def __iter__(self):  # noqa: ANN204
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True

    def __contains__(self, item: object) -> bool:
        return False

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (_inert_class(self._path),)

    def __repr__(self) -> str:
        return f"<stub {self._path}>"


class _InertAxes(list):
    """The axes of a stubbed ``plt.subplots``: indexable like NumPy's array of axes."""

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        if isinstance(key, tuple):
            item = self
            for k in key:
                item = item[k]
            return item
        return list.__getitem__(self, key)

    def __getattr__(self, name: str) -> _Inert:
        if _is_dunder(name):
            raise AttributeError(name)
        return _Inert(f"axes.{name}")

    def _flat(self) -> list:
        return [a for row in self for a in (row if isinstance(row, _InertAxes) else [row])]

    @property
    def flat(self) -> _InertAxes:
        return _InertAxes(self._flat())

    def flatten(self) -> _InertAxes:
        return _InertAxes(self._flat())

    ravel = flatten

    def tolist(self) -> list:
        return list(self)

    @property
    def shape(self) -> tuple:
        if self and isinstance(self[0], _InertAxes):
            return (len(self), len(self[0]))
        return (len(self),)


def _count(value: object, default: int) -> int:
    try:
        return max(1, min(int(value), 64))
    except (TypeError, ValueError):
        return default


def _inert_result(path: str, args: tuple, kwargs: dict) -> object:
    last = path.rsplit(".", 1)[-1]
    if last == "subplots":
        nrows = _count(args[0] if args else kwargs.get("nrows", 1), 1)
        ncols = _count(args[1] if len(args) > 1 else kwargs.get("ncols", 1), 1)
        grid = _InertAxes(_InertAxes(_Inert(f"{path}()[{i},{j}]") for j in range(ncols))
                          for i in range(nrows))
        if not kwargs.get("squeeze", True):
            axes = grid
        elif nrows == ncols == 1:
            axes = grid[0][0]
        elif nrows == 1:
            axes = grid[0]
        elif ncols == 1:
            axes = _InertAxes(row[0] for row in grid)
        else:
            axes = grid
        # plt.subplots (a module's function) returns (figure, axes); fig.subplots only axes
        return axes if "(" in path or "[" in path else (_Inert(f"{path}()[0]"), axes)
    if last in _INERT_TUPLES:
        return tuple(_Inert(f"{path}()[{i}]") for i in range(_INERT_TUPLES[last]))
    return _Inert(f"{path}()")


def _inert_class(path: str) -> type:
    """A base class standing for an inert stub (``class Logger(SummaryWriter): ...``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:  # noqa: N807
        pass

    def __getattr__(self, name: str) -> _Inert:  # noqa: N807
        if _is_dunder(name):
            raise AttributeError(name)
        return _Inert(f"{path}.{name}")

    return type(path.rsplit(".", 1)[-1] or "Stub", (), {"__init__": __init__,
                                                       "__getattr__": __getattr__})


class _Progress:
    """tqdm's stand-in: iterates exactly like the iterable it wraps and draws nothing."""

    def __init__(self, iterable: object = None, desc: object = None, total: object = None,
                 *args: object, **kwargs: object) -> None:
        self.iterable, self.desc, self.n = iterable, desc, 0
        if total is None and iterable is not None:
            try:
                total = len(iterable)
            except Exception:  # noqa: BLE001 - no length: none
                total = None
        self.total = total

    def __iter__(self):  # noqa: ANN204
        return iter(()) if self.iterable is None else iter(self.iterable)

    def __len__(self) -> int:
        try:
            return int(self.total) if self.total is not None else 0
        except (TypeError, ValueError):
            return 0

    def __bool__(self) -> bool:
        return True

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> bool:
        return False

    def __getattr__(self, name: str) -> _Inert:
        if _is_dunder(name):
            raise AttributeError(name)
        return _Inert(f"tqdm.{name}")

    def update(self, n: object = 1) -> None:
        try:
            self.n += n
        except TypeError:
            pass

    def set_description(self, desc: object = None, refresh: bool = True) -> None:
        self.desc = desc

    set_description_str = set_description

    def set_postfix(self, *args: object, **kwargs: object) -> None:
        pass

    def set_postfix_str(self, *args: object, **kwargs: object) -> None:
        pass

    def reset(self, total: object = None) -> None:
        self.n, self.total = 0, total

    def close(self) -> None:
        pass

    refresh = clear = display = unpause = close

    @staticmethod
    def write(s: object, file: object = None, end: str = "\n", nolock: bool = False) -> None:
        try:
            print(s, end=end, file=file if file is not None else sys.stdout)
        except Exception:  # noqa: BLE001 - a message, nothing more
            pass

    @classmethod
    def pandas(cls, *args: object, **kwargs: object) -> None:
        pass


def _trange(*args: object, **kwargs: object) -> _Progress:
    return _Progress(range(*args), **kwargs)


class _InertModule(types.ModuleType):
    """A stub for a module grading does not need (matplotlib.pyplot, tqdm, wandb, ...)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        if name == "tqdm" or name.startswith("tqdm."):
            self.tqdm = self.tqdm_notebook = _Progress
            self.trange = self.tnrange = _trange

    def __getattr__(self, name: str) -> object:
        if name == "__version__":
            return "0+stub"
        if _is_dunder(name):
            raise AttributeError(name)
        return _Inert(f"{self.__name__}.{name}")


def _absent_error(module: str, path: str, verb: str) -> ModuleNotFoundError:
    return ModuleNotFoundError(
        f"module {module!r} is not available to the grader (it was replaced by a stub so the "
        f"file could load); this code {verb} {path}", name=module)


class _Absent:
    """Something of a module that cannot be imported: looking it up works, using it raises."""

    def __init__(self, module: str, path: str) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_path", path)

    def __getattr__(self, name: str) -> _Absent:
        if _is_dunder(name) or name in ("_module", "_path"):
            raise AttributeError(name)
        return _Absent(self._module, f"{self._path}.{name}")

    def __call__(self, *args: object, **kwargs: object) -> object:
        raise _absent_error(self._module, self._path, "called")

    def __iter__(self):  # noqa: ANN204
        raise _absent_error(self._module, self._path, "iterated over")

    def __getitem__(self, key: object) -> object:
        raise _absent_error(self._module, self._path, "indexed")

    def __mro_entries__(self, bases: tuple) -> tuple:
        module, path = self._module, self._path

        def __init__(self, *args: object, **kwargs: object) -> None:  # noqa: N807
            raise _absent_error(module, path, "instantiated a subclass of")

        return (type(path.rsplit(".", 1)[-1], (), {"__init__": __init__}),)

    def __repr__(self) -> str:
        return f"<stub {self._path}: module {self._module!r} is not available to the grader>"


class _AbsentModule(types.ModuleType):
    """A stub for a module the student's file imports that cannot be imported (cv2, hw5_utils)."""

    def __getattr__(self, name: str) -> _Absent:
        if _is_dunder(name):
            raise AttributeError(name)
        return _Absent(self.__name__, f"{self.__name__}.{name}")


class _StubLoader:
    def __init__(self, kind: type) -> None:
        self.kind = kind

    def create_module(self, spec: object) -> types.ModuleType:
        return self.kind(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class _SubmissionLoader:
    """Loads one of the submission's files safely; ``notes`` says how it went."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        self.notes = _execute_file(module, module.__spec__.origin)


class _StubFinder:
    """First on ``sys.meta_path``: the inert packages, the absent names, the submission's files.

    ``absent`` holds only names a student's file imported that could not be imported (and
    their submodules are stubbed too); every other import goes on to the normal finders.
    """

    def __init__(self) -> None:
        self.absent: set[str] = set()
        self.works: list[str] = []

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        try:
            return self._find(fullname, path, target)
        except Exception:  # noqa: BLE001 - never break an import the finder does not handle
            return None

    def _find(self, fullname: str, path: object, target: object) -> object:
        from importlib.machinery import ModuleSpec, PathFinder

        if _inert_root(fullname) is not None:
            return ModuleSpec(fullname, _StubLoader(_InertModule), origin="stub",
                              is_package=True)
        if any(prefix in self.absent for prefix in _prefixes(fullname)):
            return ModuleSpec(fullname, _StubLoader(_AbsentModule), origin="stub",
                              is_package=True)
        # (the parent of an inert package, google for google.colab, is the real one; if it
        # cannot be imported, the file's import fails and google becomes an absent stub)
        if path is None and "." not in fullname:
            for work in self.works:
                candidate = os.path.join(work, fullname + ".py")
                if not os.path.isfile(candidate):
                    continue
                found = PathFinder.find_spec(fullname)
                if found is not None and found.origin and os.path.realpath(found.origin) \
                        != os.path.realpath(candidate):
                    return None  # a library of that name comes first (as on sys.path)
                import importlib.util

                return importlib.util.spec_from_file_location(fullname, candidate,
                                                              loader=_SubmissionLoader())
        return None


_FINDER: _StubFinder | None = None


def _install_finder(work: str | None) -> _StubFinder:
    """The stub finder, first on ``sys.meta_path``; real inert packages already imported (torch
    imports tqdm) are dropped from ``sys.modules`` so the student's file gets the stubs."""
    global _FINDER
    if _FINDER is None:
        _FINDER = _StubFinder()
        for name in list(sys.modules):
            if _inert_root(name) is not None and not isinstance(sys.modules[name], _InertModule):
                del sys.modules[name]
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    if work and work not in _FINDER.works:
        _FINDER.works.append(work)
    return _FINDER


class _OwnNames:
    """What a file defines at top level: its functions, its classes' methods, imported names."""

    def __init__(self, tree: ast.Module) -> None:
        self.functions: set[str] = set()
        self.methods: set[str] = set()
        self.imports: set[str] = set()
        for statement in _top_level(tree.body):
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.add(statement.name)
            elif isinstance(statement, ast.ClassDef):
                self.methods.update(s.name for s in statement.body
                                    if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                                    and not _is_dunder(s.name))
            elif isinstance(statement, ast.Import):
                self.imports.update((a.asname or a.name).split(".")[0] for a in statement.names)
            elif isinstance(statement, ast.ImportFrom):
                self.imports.update(a.asname or a.name for a in statement.names)

    def calls_own(self, func: ast.expr) -> bool:
        """Whether calling ``func`` runs the file's own code (``train(...)``,
        ``vae.train_model(...)`` when a class of the file defines ``train_model``)."""
        if isinstance(func, ast.Name):
            return func.id in self.functions
        if not isinstance(func, ast.Attribute) or func.attr not in self.methods:
            return False
        root = func.value
        while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
            root = root.func if isinstance(root, ast.Call) else root.value
        return not (isinstance(root, ast.Name) and root.id in self.imports)


def _top_level(statements: list) -> list:
    """The statements of a block and of the if/try blocks in it (not inside definitions)."""
    found = []
    for statement in statements:
        found.append(statement)
        if isinstance(statement, ast.If):
            found += _top_level(statement.body + statement.orelse)
        elif isinstance(statement, _TRY):
            found += _top_level(statement.body + statement.orelse + statement.finalbody
                                + [s for h in statement.handlers for s in h.body])
    return found


_TRY = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)


def _calls_own(node: ast.AST, own: _OwnNames) -> bool:
    """Whether evaluating ``node`` calls the file's own code (lambda bodies do not run)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Lambda):
            continue
        if isinstance(current, ast.Call) and own.calls_own(current.func):
            return True
        stack.extend(ast.iter_child_nodes(current))
    return False


def _is_main_guard(test: ast.expr) -> bool:
    """``__name__ == "__main__"`` in any spelling (either side, either quotes, in an and/or)."""
    nodes = list(ast.walk(test))
    return (any(isinstance(n, ast.Name) and n.id == "__name__" for n in nodes)
            and any(isinstance(n, ast.Constant) and n.value == "__main__" for n in nodes))


def _skip_reason(statement: ast.stmt, own: _OwnNames, nested: bool = False) -> str | None:
    """None if the top-level statement runs when loading; otherwise what kind of code it is."""
    if isinstance(statement, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                              ast.ClassDef)):
        return None
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Constant):  # a docstring
            return None
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                and value.func.attr in _PARSER_SETUP and not _calls_own(value, own):
            return None  # parser.add_argument(...): parse_args() then has its defaults
        return "calls" if isinstance(value, (ast.Call, ast.Await)) else "expressions"
    if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return _OWN_CALL if _calls_own(statement, own) else None
    if isinstance(statement, ast.If):
        if _is_main_guard(statement.test):
            return "the __main__ block"
        if _calls_own(statement.test, own):
            return "calls"
        for child in statement.body + statement.orelse:
            reason = _skip_reason(child, own, nested=True)
            if reason is not None:
                return reason
        return None
    if isinstance(statement, _TRY):  # the handlers are pruned instead (see _prune)
        for child in statement.body + statement.orelse + statement.finalbody:
            reason = _skip_reason(child, own, nested=True)
            if reason is not None:
                return reason
        return None
    if isinstance(statement, ast.Pass) or (nested and isinstance(statement, ast.Raise)):
        return None
    if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
        return "loops"
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return "with blocks"
    return {ast.Delete: "del statements", ast.Assert: "asserts", ast.Raise: "raise statements",
            ast.Global: "global statements"}.get(type(statement),
                                                 f"{type(statement).__name__.lower()} statements")


def _prune(statement: ast.stmt, own: _OwnNames, skipped: list) -> ast.stmt:
    """A kept statement with its try handlers' skipped statements replaced by ``pass``
    (``except ImportError: print(...)`` must not cost the file its imports)."""
    import copy

    if isinstance(statement, ast.If):
        statement = copy.copy(statement)
        statement.body = [_prune(s, own, skipped) for s in statement.body]
        statement.orelse = [_prune(s, own, skipped) for s in statement.orelse]
    elif isinstance(statement, _TRY):
        statement = copy.copy(statement)
        for field in ("body", "orelse", "finalbody"):
            setattr(statement, field, [_prune(s, own, skipped) for s in getattr(statement, field)])
        handlers = []
        for handler in statement.handlers:
            handler = copy.copy(handler)
            body = []
            for child in handler.body:
                reason = _skip_reason(child, own, nested=True)
                if reason is None:
                    body.append(_prune(child, own, skipped))
                else:
                    skipped.append([child.lineno, child.end_lineno or child.lineno, [reason]])
                    body.append(ast.copy_location(ast.Pass(), child))
            handler.body = body
            handlers.append(handler)
        statement.handlers = handlers
    return statement


def _imported_modules(statement: ast.stmt) -> list[str]:
    """The absolute module names the statement's own imports name (not inside definitions)."""
    names = []
    for node in _top_level([statement]):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module)
    return names


def _future_flags(tree: ast.Module) -> int:
    import __future__

    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                flags |= getattr(getattr(__future__, alias.name, None), "compiler_flag", 0)
    return flags


def _describe_failure(error: BaseException) -> str:
    """One short line: the exception's type and the first line of its message."""
    try:
        if isinstance(error, SystemExit):
            text = f"SystemExit: sys.exit({error.code!r})"
        elif isinstance(error, SyntaxError):
            text = (f"SyntaxError: {error.msg} ({os.path.basename(str(error.filename))}, "
                    f"line {error.lineno})")
        else:
            lines = str(error).strip().splitlines()
            text = type(error).__name__ + (f": {lines[0]}" if lines else "")
    except BaseException:  # noqa: BLE001 - a student's exception with a broken __str__
        text = type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _run_statement(statement: ast.stmt, namespace: dict, path: str, flags: int,
                   finder: _StubFinder) -> BaseException | None:
    """Run one statement; an import of a module that cannot be imported is retried with the
    module stubbed. Returns what it raised, if anything."""
    try:
        code = compile(ast.Module(body=[statement], type_ignores=[]), path, "exec",
                       flags=flags, dont_inherit=True)
    except BaseException as error:  # noqa: BLE001
        return error
    while True:
        try:
            exec(code, namespace)  # noqa: S102 - the point: the student's statement
            return None
        except ImportError as error:
            missing = [name for target in _imported_modules(statement)
                       for name in _prefixes(target)
                       if sys.modules.get(name) is None and name not in finder.absent]
            if not missing:
                return error
            finder.absent.update(missing)
        except BaseException as error:  # noqa: BLE001 - SystemExit, MemoryError, anything
            return error


def _line_ranges(runs: list) -> str:
    parts = [f"{start}" if start == end else f"{start}\u2013{end}" for start, end, _ in runs[:8]]
    more = f" and {len(runs) - 8} more" if len(runs) > 8 else ""
    plural = len(runs) > 1 or runs[0][0] != runs[0][1]
    return ("lines " if plural else "line ") + ", ".join(parts) + more


def _stub_notes(file: str, imported: list[str]) -> list[str]:
    absent, inert = [], []
    for target in imported:
        root = _inert_root(target)
        if root is not None:
            if isinstance(sys.modules.get(target), _InertModule) and root not in inert:
                inert.append(root)
            continue
        for prefix in _prefixes(target):
            if isinstance(sys.modules.get(prefix), _AbsentModule):
                if prefix not in absent:
                    absent.append(prefix)
                break
    notes = []
    if absent:
        notes.append(f"{file}: stubbed (not available to the grader): {', '.join(absent)}")
    if inert:
        notes.append(f"{file}: stubbed (not needed for grading): {', '.join(inert)}")
    return notes


def _execute_file(module: types.ModuleType, path: str) -> list[str]:
    """Run the interface of the file at ``path`` in ``module``; the notes. Raises SyntaxError
    (or OSError) when the file cannot be loaded at all."""
    finder = _install_finder(os.path.dirname(path))
    with open(path, "rb") as f:
        source = f.read()
    tree = ast.parse(source, filename=path)
    compile(tree, path, "exec", dont_inherit=True)  # what only the compiler finds (return ...)
    flags = _future_flags(tree)
    own = _OwnNames(tree)
    file = os.path.basename(path)
    namespace = module.__dict__
    docstring = ast.get_docstring(tree, clean=False)
    if docstring is not None:
        namespace["__doc__"] = docstring
    runs: list = []  # [first line, last line, [kinds]] of the code not run
    failures: list[str] = []
    imported: list[str] = []
    run = None
    argv = sys.argv
    sys.argv = [path]
    try:
        for statement in tree.body:
            reason = _skip_reason(statement, own)
            if reason is not None:
                end = statement.end_lineno or statement.lineno
                if run is None:
                    run = [statement.lineno, end, [reason]]
                    runs.append(run)
                else:
                    run[1] = end
                    if reason not in run[2]:
                        run[2].append(reason)
                continue
            run = None
            statement = _prune(statement, own, runs)
            imported += _imported_modules(statement)
            error = _run_statement(statement, namespace, path, flags, finder)
            if error is not None:
                failures.append(f"{file}: line {statement.lineno} failed and was skipped: "
                                f"{_describe_failure(error)}")
                del error
    finally:
        sys.argv = argv
    notes = _stub_notes(file, imported)
    if runs:
        runs.sort(key=lambda r: r[0])
        kinds = []
        for _, _, reasons in runs:
            kinds += [r for r in reasons if r not in kinds]
        notes.append(f"{file}: not run: {_line_ranges(runs)} (top-level code: "
                     f"{', '.join(kinds)})")
    return notes + failures


def load_submission(path: str, registered: str,
                    work: str | None = None) -> tuple[types.ModuleType, list[str]]:
    """Load the student's file at ``path`` as module ``registered`` (in ``sys.modules``), running
    only its interface; the module and the notes. Raises what makes the file unloadable
    (SyntaxError, OSError); anything a statement raises is a note instead."""
    import importlib.util

    _install_finder(work if work is not None else os.path.dirname(path))
    loader = _SubmissionLoader()
    spec = importlib.util.spec_from_file_location(registered, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[registered] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(registered, None)
        raise
    return module, loader.notes


def _load_error(error: BaseException) -> str:
    if isinstance(error, SyntaxError):
        return "".join(traceback.format_exception_only(type(error), error)).strip()[-1500:]
    return _describe(error)


class Runner:
    def __init__(self, channel: Channel, work: str) -> None:
        import numpy as np

        self.np = np
        self.channel = channel
        self.work = work
        self.modules: dict[str, object] = {}
        self.import_errors: dict[str, str] = {}
        self.load_notes: dict[str, list[str]] = {}

    @property
    def torch(self):  # noqa: ANN201 - imported on first use (preloaded when grading)
        import torch

        return torch

    # -- modules -------------------------------------------------------------------------------

    def module(self, name: str) -> object | None:
        if name in self.modules:
            return self.modules[name]
        if name in self.import_errors:
            return None
        path = os.path.join(self.work, name + ".py")
        loaded = sys.modules.get(name)
        loader = getattr(getattr(loaded, "__spec__", None), "loader", None)
        if isinstance(loader, _SubmissionLoader) and os.path.realpath(
                str(getattr(loaded, "__file__", ""))) == os.path.realpath(path):
            module, notes = loaded, loader.notes  # another of the files imported it (safely)
        else:
            # a file named like a module already loaded (numpy.py, json.py) must not replace it
            registered = name if name not in sys.modules else f"_submission_{name}"
            try:
                module, notes = load_submission(path, registered, self.work)
            except BaseException as error:  # noqa: BLE001 - a syntax error, an unreadable file
                self.import_errors[name] = f"importing {name}.py failed: {_load_error(error)}"
                return None
        self.load_notes[name] = list(notes)
        self.modules[name] = module
        return module

    def function(self, modules: list[str], name: str) -> tuple[object | None, str]:
        """The first of ``modules`` that defines ``name`` (``function`` or ``Class.method``):
        ``(found, module)``, where ``found`` is ``(callable, owner class or None, needs self)``;
        or ``(None, why)``."""
        import inspect

        owner_name, _, attribute = name.rpartition(".")
        for module_name in modules:
            module = self.module(module_name)
            owner = module
            for part in owner_name.split(".") if owner_name else []:
                owner = getattr(owner, part, None)
            if module is None or owner is None:
                continue
            try:
                raw = inspect.getattr_static(owner, attribute)
            except AttributeError:
                continue
            if not isinstance(owner, type):
                if callable(raw):
                    return (raw, None, False), module_name
                continue
            if isinstance(raw, staticmethod):
                return (raw.__func__, owner, False), module_name
            if isinstance(raw, classmethod):
                return (getattr(owner, attribute), owner, False), module_name
            if callable(raw):  # a method (called with a stand-in self), or a static method
                return (raw, owner, _first_parameter(raw) == "self"), module_name
        errors = "; ".join(self.import_errors[m] for m in modules if m in self.import_errors)
        return None, (f"no function {name!r} in {', '.join(m + '.py' for m in modules)}"
                      + (f" ({errors})" if errors else ""))

    def stand_in(self, owner: type, attributes: dict, arrays: dict):  # noqa: ANN201
        """An object standing for ``self``: the given attributes, else the class's own
        (methods bound to it), never an instance built by the student's ``__init__``."""
        import inspect

        class StandIn:
            def __getattr__(inner, item):  # noqa: ANN001, ANN202, N805
                try:
                    raw = inspect.getattr_static(owner, item)
                except AttributeError:
                    raise AttributeError(f"{owner.__name__!r} stand-in has no attribute "
                                         f"{item!r} (the grader provides only "
                                         f"{sorted(attributes)} and the class's own "
                                         f"methods)") from None
                if isinstance(raw, staticmethod):
                    return raw.__func__
                if isinstance(raw, classmethod):
                    return raw.__func__.__get__(owner, owner)
                if isinstance(raw, property):
                    return raw.fget(inner)
                if hasattr(raw, "__get__") and callable(raw):
                    return raw.__get__(inner, type(inner))
                return raw

        StandIn.__name__ = StandIn.__qualname__ = owner.__name__
        stand = StandIn()
        for key, spec in attributes.items():
            object.__setattr__(stand, str(key), self.argument(spec, arrays))
        return stand

    # -- arguments -----------------------------------------------------------------------------

    def proxy(self, name: str, outputs: int):  # noqa: ANN201
        """A function the harness lends (a score network, an encoder): callable, and shaped
        like a torch module (``forward``, ``eval``, ``to``, ``parameters``) for code that
        treats it as one."""
        np, torch = self.np, self.torch
        channel = self.channel

        def lent(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            arrays, dtype = {}, None
            for key, value in [*((f"a{i}", a) for i, a in enumerate(args)),
                               *((f"k_{k}", v) for k, v in kwargs.items())]:
                if isinstance(value, torch.Tensor):
                    if dtype is None and value.is_floating_point():
                        dtype = value.dtype
                    value = value.detach().to("cpu", torch.float64).numpy()
                arrays[key] = np.asarray(value, dtype=np.float64)
            channel.send({"kind": "callback", "name": name}, arrays)
            header, result = channel.receive()
            if header.get("kind") != "callback_reply" or not header.get("ok"):
                raise RuntimeError(f"calling {name} failed: {header.get('error')}")
            values = [torch.from_numpy(result[f"r{i}"]).to(dtype or torch.float64)
                      for i in range(outputs)]
            return values[0] if outputs == 1 else tuple(values)

        class Lent:
            device = torch.device("cpu")
            training = False

            def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
                return lent(*args, **kwargs)

            forward = __call__

            def parameters(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                return iter([torch.zeros(1)])

            def eval(self):  # noqa: ANN202
                return self

            def train(self, mode=True):  # noqa: ANN001, ANN202
                return self

            def to(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                return self

            def requires_grad_(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
                return self

            def zero_grad(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
                return None

        Lent.__name__ = Lent.__qualname__ = name
        return Lent()

    def argument(self, spec: dict, arrays: dict):  # noqa: ANN201
        torch = self.torch
        if "array" in spec:
            dtype = {"float64": torch.float64, "float32": torch.float32}[spec.get("dtype",
                                                                                   "float64")]
            if spec.get("form") == "numpy":
                return self.np.asarray(arrays[spec["array"]], dtype=str(spec.get("dtype",
                                                                                 "float64")))
            if spec.get("form") == "list":
                return [float(v) for v in self.np.asarray(arrays[spec["array"]]).ravel()]
            tensor = torch.tensor(arrays[spec["array"]], dtype=dtype)
            if spec.get("grad"):
                tensor.requires_grad_(True)
            return tensor
        if "float" in spec:
            return float(spec["float"])
        if "bool" in spec:
            return bool(spec["bool"])
        if "int" in spec:
            return int(spec["int"])
        if "generator" in spec:
            return torch.Generator().manual_seed(int(spec["generator"]))
        if "callback" in spec:
            return self.proxy(str(spec["callback"]), int(spec.get("outputs", 1)))
        return None

    # -- outputs -------------------------------------------------------------------------------

    def convert(self, value) -> tuple[dict, object | None]:  # noqa: ANN001
        """The output's description and its values as float64 (or None if not a tensor)."""
        torch = sys.modules.get("torch")
        info = {"type": type(value).__module__ + "." + type(value).__qualname__}
        if torch is None or not isinstance(value, torch.Tensor):
            return info, None
        info.update(dtype=str(value.dtype).replace("torch.", ""), shape=list(value.shape),
                    requires_grad=bool(value.requires_grad))
        if value.numel() > MAX_OUTPUT_ELEMENTS:
            raise ValueError(f"the output has {value.numel()} elements")
        if value.is_complex():
            return info, None
        return info, value.detach().to("cpu", torch.float64).contiguous().numpy()

    # -- requests ------------------------------------------------------------------------------

    def call(self, request: dict, arrays: dict) -> tuple[dict, dict]:
        found, where = self.function([str(m) for m in request["modules"]],
                                     str(request["function"]))
        if found is None:
            return {"kind": "reply", "found": False, "error": where}, {}
        function, owner, needs_self = found
        cases, out_arrays = [], {}
        for index, case in enumerate(request["cases"]):
            seed = int(case.get("seed", 0))
            if "torch" in sys.modules:
                sys.modules["torch"].manual_seed(seed)
            self.np.random.seed(seed % 2**32)
            random.seed(seed)
            report: dict = {"ok": False}
            start = time.perf_counter()
            try:
                args = [self.argument(s, arrays) for s in case.get("args", [])]
                kwargs = {k: self.argument(s, arrays) for k, s in case.get("kwargs", {}).items()}
                bound = [self.stand_in(owner, case.get("self", {}), arrays)] if needs_self \
                    else []
                values, info = [], {}
                for _ in range(int(case.get("repeat", 1))):
                    output = function(*bound, *args, **kwargs)
                    info, value = self.convert(output)
                    if value is None:
                        report.update(info)
                        raise TypeError(f"returned {info['type']}, not a torch.Tensor")
                    if values and value.shape != values[0].shape:
                        raise ValueError(f"the output's shape changed between calls: "
                                         f"{tuple(values[0].shape)} then {tuple(value.shape)}")
                    values.append(value)
                report.update(info)
                stacked = values[0] if "repeat" not in case else self.np.stack(values)
                out_arrays[f"{index}:out"] = stacked
                if case.get("grad"):
                    report["grads"] = self.gradients(output, args, case["grad"], index,
                                                     out_arrays)
                report["ok"] = True
            except BaseException as error:  # noqa: BLE001 - anything the student raises
                report["error"] = _describe(error)
                report["exception"] = type(error).__name__
            report["seconds"] = time.perf_counter() - start
            cases.append(report)
        return {"kind": "reply", "found": True, "module": where, "cases": cases}, out_arrays

    def gradients(self, output, args, positions, index, out_arrays) -> dict:  # noqa: ANN001
        torch = self.torch
        if not output.requires_grad:
            return {str(p): "disconnected" for p in positions}
        output.sum().backward()
        found = {}
        for p in positions:
            grad = args[p].grad
            if grad is None:
                found[str(p)] = "none"
            else:
                found[str(p)] = "ok"
                out_arrays[f"{index}:grad:{p}"] = grad.detach().to(torch.float64).numpy()
        return found


def main() -> None:
    config = json.loads(sys.argv[1])
    for path in config["sys_path"]:
        if path not in sys.path:
            sys.path.append(path)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    fd_in, fd_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # the student's prints go to the captured stderr
    channel = Channel(fd_in, fd_out)
    import importlib

    import numpy as np

    versions = {"numpy": np.__version__}
    for name in config.get("preload", ["torch"]):
        module = importlib.import_module(name)
        versions[name] = getattr(module, "__version__", "")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    sys.path.append(config["work"])  # last: the student's files cannot shadow a library
    runner = Runner(channel, config["work"])
    channel.send({"kind": "hello", "layers": config["layers"], "uid": os.getuid(),
                  "versions": versions})
    while True:
        try:
            request, arrays = channel.receive()
        except EOFError:
            return
        try:
            if request.get("op") == "call":
                header, out = runner.call(request, arrays)
            elif request.get("op") == "load":
                for name in request.get("modules", []):
                    runner.module(str(name))
                header, out = {"kind": "reply", "errors": runner.import_errors,
                               "notes": runner.load_notes}, {}
            else:
                header, out = {"kind": "reply", "echo": request.get("echo")}, {}
        except BaseException as error:  # noqa: BLE001
            header, out = {"kind": "reply", "found": True, "error": _describe(error),
                           "cases": []}, {}
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - the student may have replaced it
                pass
        channel.send(header, out)


if __name__ == "__main__":
    main()
