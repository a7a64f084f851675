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
    With ``"grad": [argument positions]`` the runner asks autograd for the gradient of the
    sum of the output with respect to those arguments and reports it; positions past the
    arguments are the outputs of lent functions whose spec has ``"grad": true``, in the
    order they were returned.

The reply describes each case (type, dtype, shape, error) in JSON and carries the outputs
and gradients as float64 arrays — plain numbers, never objects (see the wire format in
``grading/code/sandbox.py``); it echoes the request's ``"nonce"``.

What the student's code can and cannot change. The student's code runs in this process, so
the part that decides what a reply says (framing and JSON, the conversion of outputs to
float64, the gradients, the per-case report, the request loop) is *sealed*: built by the
``_seal_*`` factories before the first student file is loaded, from references captured then
(``os.read``/``os.write``, ``struct``, a private JSON scanner, numpy's and torch's C functions,
the C descriptors of ``torch._C.TensorBase`` and ``numpy.ndarray``, the autograd engine), held
in closures and read through no global name, class attribute or instance attribute at call
time. So patching ``Runner``, this module's functions, ``torch.Tensor.backward``/``.grad``/
``.detach``, ``torch.autograd``, ``json``, ``struct``, ``os``, the builtins, or installing
``__torch_function__``/``__torch_dispatch__`` overrides, changes nothing the runner reports;
and a frame the submission writes to the protocol pipe itself lacks the request's nonce.
This holds as far as Python allows, when torch is preloaded (as grading does; otherwise
torch's functions are captured at their first use, after the student's files loaded). It is
not a security boundary against code that sets out to subvert it: code in this process can
still reach the sealed closures, their cells and the request (nonce included) through frame
or ``gc`` introspection, signal handlers or threads, replace code objects, or write memory with
``ctypes``. And a gradient is what autograd computes from the student's graph, which a custom
``torch.autograd.Function`` or a hook defines. Hence the harness trusts nothing here: it
validates every reply (``Session.call``) and judges properties from the raw float64 arrays
(e.g. ∂z/∂μ = 1 and ∂z/∂σ ∝ z − μ from the returned z and gradients), and a reply it cannot
use fails that function only.
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
from collections.abc import Callable
from typing import Any

MAGIC = b"GVF1"
MAX_OUTPUT_ELEMENTS = 16 * 2**20
MAX_OUTPUT_DIMS = 7  # (the harness takes arrays of up to 8 dimensions; repeats add one)


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
    """The student-facing helpers: loading the submission's modules, finding a function in
    them, building a stand-in ``self`` and the functions the harness lends.

    Nothing here decides what a reply says. The sealed core (:func:`_seal_requests`) calls
    these through bound methods it captured before any student code ran, and converts and
    reports what the student's function returns itself; patching this class or its instance
    changes at most which of the student's own code runs.
    """

    def __init__(self, channel: object, work: str) -> None:
        # (``channel`` is not used: the sealed core owns the protocol pipes; the parameter stays
        # for callers of the older signature, which pass None)
        self.work = work
        self.modules: dict[str, object] = {}
        self.import_errors: dict[str, str] = {}
        self.load_notes: dict[str, list[str]] = {}

    # -- modules -------------------------------------------------------------------------------

    def module(self, name: str) -> object | None:
        """The student's module ``name``, loaded safely on first use; None if it cannot be."""
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

    def stand_in(self, owner: type, attributes: dict, arrays: dict,
                 argument: Callable[[dict, dict], object]) -> object:
        """An object standing for ``self``: the given attributes (made by ``argument``), else
        the class's own (methods bound to it), never an instance built by the student's
        ``__init__``."""
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
            object.__setattr__(stand, str(key), argument(spec, arrays))
        return stand

    # -- the functions the harness lends -------------------------------------------------------

    def proxy(self, name: str, outputs: int, send: Callable[..., None],
              receive: Callable[[], tuple[dict, dict]],
              record: Callable[[object], None] | None = None) -> object:
        """A function the harness lends (a score network, an encoder), answered over ``send``
        and ``receive``: callable, and shaped like a torch module (``forward``, ``eval``,
        ``to``, ``parameters``) for code that treats it as one. With ``record``, its outputs
        are leaves that require a gradient, each passed to ``record`` (the harness then asks
        for the gradient of the student's output with respect to them)."""
        import numpy as np
        import torch

        def lent(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            arrays, dtype = {}, None
            for key, value in [*((f"a{i}", a) for i, a in enumerate(args)),
                               *((f"k_{k}", v) for k, v in kwargs.items())]:
                if isinstance(value, torch.Tensor):
                    if dtype is None and value.is_floating_point():
                        dtype = value.dtype
                    value = value.detach().to("cpu", torch.float64).numpy()
                arrays[key] = np.asarray(value, dtype=np.float64)
            send({"kind": "callback", "name": name}, arrays)
            header, result = receive()
            if header.get("kind") != "callback_reply" or not header.get("ok"):
                raise RuntimeError(f"calling {name} failed: {header.get('error')}")
            values = [torch.from_numpy(result[f"r{i}"]).to(dtype or torch.float64)
                      for i in range(outputs)]
            if record is not None:
                for value in values:
                    value.requires_grad_(True)
                    record(value)
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


# -- the sealed core --------------------------------------------------------------------------
#
# What decides a reply (the framing, the JSON, the conversion of outputs to float64, the
# gradients, the per-case report and the request loop) is built by the _seal_* factories
# below, in main(), before any of the student's code runs. Their inner functions read no
# global name (tests/grading/code/test_forging.py checks the bytecode): every function, class
# and constant they use is a local variable of the factory that made them, captured then; and
# every method they call on a tensor or an array is the C descriptor of torch._C.TensorBase or
# numpy.ndarray (types the interpreter does not let anyone modify), not an attribute of
# torch.Tensor (a Python class a submission can patch). Conversions and gradients run with
# torch's __torch_function__ and __torch_dispatch__ overrides (tensor subclasses, modes)
# switched off, and the gradients come from the autograd engine itself (the C++ call that
# torch.autograd.grad makes), not from Tensor.backward/.grad nor from torch.autograd's
# Python helpers.


def _seal_json() -> tuple[Callable[[object], bytes], Callable[[bytes], object]]:
    """``(dumps, loads)``: JSON to and from UTF-8 bytes with captured parts (the C string
    quoter and a private C scanner); NaN and infinities are written as Python's json does."""
    try:
        from _json import encode_basestring_ascii as quote
    except ImportError:  # pragma: no cover - CPython always has _json
        from json.encoder import py_encode_basestring_ascii as quote
    scan = json.JSONDecoder().scan_once
    type_, issubclass_, len_, str_, int_, float_ = type, issubclass, len, str, int, float
    bool_, list_, tuple_, dict_ = bool, list, tuple, dict
    type_error, value_error, stop = TypeError, ValueError, StopIteration
    as_str, int_repr, float_repr, items = str.__str__, int.__repr__, float.__repr__, dict.items
    decode, encode_utf8, join = bytes.decode, str.encode, ",".join
    special = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}

    def encode(value: object) -> str:
        kind = type_(value)
        if value is None or kind is bool_:
            return {None: "null", True: "true", False: "false"}[value]
        if issubclass_(kind, str_):
            return quote(as_str(value))
        if issubclass_(kind, int_):
            return int_repr(value)
        if issubclass_(kind, float_):
            text = float_repr(value)
            return special.get(text, text)
        if issubclass_(kind, (list_, tuple_)):
            return "[" + join([encode(item) for item in value]) + "]"
        if issubclass_(kind, dict_):
            return "{" + join([encode(key if issubclass_(type_(key), str_) else int_repr(key))
                               + ":" + encode(item) for key, item in items(value)]) + "}"
        raise type_error(f"cannot encode {kind!r} as JSON")

    def dumps(value: object) -> bytes:
        return encode_utf8(encode(value), "utf-8")

    def loads(data: bytes) -> object:
        text = decode(data, "utf-8")
        try:
            value, end = scan(text, 0)
        except stop:
            raise value_error("empty JSON") from None
        if end != len_(text):
            raise value_error("extra data after the JSON value")
        return value

    return dumps, loads


def _seal_channel(fd_in: int, fd_out: int, np: types.ModuleType
                  ) -> tuple[Callable[..., None], Callable[[], tuple[dict, dict]]]:
    """``(send, receive)``: frames over the private copies of the protocol pipes."""
    dumps, loads = _seal_json()
    read, write, pack, unpack = os.read, os.write, struct.pack, struct.unpack
    frombuffer, asarray, contiguous = np.frombuffer, np.asarray, np.ascontiguousarray
    reshape, copy, tobytes = np.ndarray.reshape, np.ndarray.copy, np.ndarray.tobytes
    magic, len_, list_, str_, memoryview_, eof = MAGIC, len, list, str, memoryview, EOFError
    join = b"".join

    def read_exact(n: int) -> bytes:
        chunks, have = [], 0
        while have < n:
            chunk = read(fd_in, n - have)
            if not chunk:
                raise eof
            chunks.append(chunk)
            have += len_(chunk)
        return join(chunks)

    def receive() -> tuple[dict, dict]:
        if read_exact(4) != magic:
            raise eof
        (head_len,) = unpack(">I", read_exact(4))
        header = loads(read_exact(head_len))
        (payload_len,) = unpack(">Q", read_exact(8))
        payload = read_exact(payload_len)
        arrays, offset = {}, 0
        for name, shape in header.get("arrays", []):
            count = 1
            for n in shape:
                count *= n
            arrays[name] = copy(reshape(frombuffer(payload, dtype="<f8", count=count,
                                                   offset=offset), shape))
            offset += 8 * count
        return header, arrays

    def send(header: dict, arrays: dict | None = None) -> None:
        directory, chunks = [], []
        for name, value in (arrays or {}).items():
            array = contiguous(asarray(value, dtype="<f8"))
            directory.append([str_(name), list_(array.shape)])
            chunks.append(tobytes(array))
        head = dumps({**header, "arrays": directory})
        payload = join(chunks)
        view = memoryview_(magic + pack(">I", len_(head)) + head + pack(">Q", len_(payload))
                           + payload)
        while view:
            view = view[write(fd_out, view):]

    return send, receive


def _seal_type_name() -> Callable[[type], str]:
    """``type_name(kind)``: ``"module.QualifiedName"`` of a type, read through ``type``'s own
    descriptors (a metaclass cannot override them), at most 200 characters."""
    module_of, name_of = type.__dict__["__module__"].__get__, type.__dict__["__qualname__"].__get__
    type_, issubclass_, str_, as_str = type, issubclass, str, str.__str__

    def type_name(kind: type) -> str:
        module = module_of(kind)
        module = as_str(module) if issubclass_(type_(module), str_) else "?"
        return (module + "." + as_str(name_of(kind)))[:200]

    return type_name


def _seal_tensors(torch: types.ModuleType) -> tuple[Callable[..., Any], ...]:
    """``(convert, gradients, make_tensor, make_generator, seed)`` over torch's C parts."""
    import contextlib

    base = torch._C.TensorBase
    detach, to, contiguous, as_numpy = base.detach, base.to, base.contiguous, base.numpy
    size, numel, is_complex, total = base.size, base.numel, base.is_complex, base.sum
    requires_grad_, dtype_of = base.requires_grad_, base.dtype.__get__
    requires_grad = base.requires_grad.__get__
    float64, dtypes = torch.float64, {"float64": torch.float64, "float32": torch.float32}
    make, ones_like, generator, manual_seed = (torch.tensor, torch.ones_like, torch.Generator,
                                               torch.Generator.manual_seed)
    seed = torch.default_generator.manual_seed
    engine = torch.autograd.Variable._execution_engine.run_backward
    no_function = torch._C.DisableTorchFunction
    no_dispatch = getattr(torch._C, "_DisableTorchDispatch", contextlib.nullcontext)
    type_, issubclass_, len_, str_, bool_, list_, tuple_, zip_ = (type, issubclass, len, str,
                                                                 bool, list, tuple, zip)
    replace, value_error, type_name = str.replace, ValueError, _seal_type_name()
    max_elements, max_dims = MAX_OUTPUT_ELEMENTS, MAX_OUTPUT_DIMS

    def floats(tensor: object) -> object:
        return as_numpy(contiguous(to(detach(tensor), "cpu", float64)))

    def convert(value: object) -> tuple[dict, object | None]:
        """The output's description and its values as float64 (None if not a tensor)."""
        kind = type_(value)
        info = {"type": type_name(kind)}
        if not issubclass_(kind, base):
            return info, None
        with no_function(), no_dispatch():
            shape = list_(size(value))
            info.update(dtype=replace(str_(dtype_of(value)), "torch.", ""), shape=shape,
                        requires_grad=bool_(requires_grad(value)))
            if numel(value) > max_elements:
                raise value_error(f"the output has {numel(value)} elements")
            if len_(shape) > max_dims:
                raise value_error(f"the output has {len_(shape)} dimensions")
            if is_complex(value):
                return info, None
            return info, floats(value)

    def gradients(output: object, args: list, positions: list, index: int,
                  out_arrays: dict) -> dict:
        """The gradient of the output's sum with respect to the arguments at ``positions``
        (float64 arrays in ``out_arrays``); the state of each: ok, none or disconnected."""
        with no_function(), no_dispatch():
            if not requires_grad(output):
                return {str_(p): "disconnected" for p in positions}
            wanted = [p for p in positions if issubclass_(type_(args[p]), base)
                      and requires_grad(args[p])]
            found = {str_(p): "none" for p in positions}
            if not wanted:
                return found
            summed = total(output)
            grads = engine((summed,), (ones_like(summed),), False, False,
                           tuple_(args[p] for p in wanted), True, accumulate_grad=False)
            for p, grad in zip_(wanted, grads):
                if grad is not None:
                    found[str_(p)] = "ok"
                    out_arrays[f"{index}:grad:{p}"] = floats(grad)
        return found

    def make_tensor(array: object, dtype: str, grad: bool) -> object:
        with no_function(), no_dispatch():
            tensor = make(array, dtype=dtypes[dtype])
            if grad:
                requires_grad_(tensor, True)
        return tensor

    def make_generator(value: int) -> object:
        return manual_seed(generator(), value)

    return convert, gradients, make_tensor, make_generator, seed


def _seal_requests(runner: Runner, send: Callable[..., None],
                   receive: Callable[[], tuple[dict, dict]], np: types.ModuleType
                   ) -> Callable[[], None]:
    """The request loop (``serve()``, until the harness closes the pipe), with everything
    it uses captured now: the channel, the tensor functions (torch's, if it is imported; else
    captured at its first use), the seeding functions and the runner's bound methods."""
    import importlib

    find, stand_in, lend, load = runner.function, runner.stand_in, runner.proxy, runner.module
    import_errors, load_notes = runner.import_errors, runner.load_notes
    seal_tensors, describe, modules, import_module = (_seal_tensors, _describe, sys.modules,
                                                      importlib.import_module)
    sys_, np_seed, random_seed, clock = sys, np.random.seed, random.seed, time.perf_counter
    as_array, empty, tolist, ravel = np.array, np.empty, np.ndarray.tolist, np.ndarray.ravel
    type_name, len_ = _seal_type_name(), len
    type_, str_, int_, float_, bool_, tuple_, range_, enumerate_, getattr_ = (
        type, str, int, float, bool, tuple, range, enumerate, getattr)
    base_exception, type_error, value_error, eof = BaseException, TypeError, ValueError, EOFError
    name_of = type.__dict__["__name__"].__get__
    # the tensor functions: now if torch is imported (preloaded), else at its first use
    sealed: list = [seal_tensors(modules["torch"])] if "torch" in modules else []

    def tensors(needed: bool) -> tuple | None:
        if not sealed and (needed or "torch" in modules):
            sealed.append(seal_tensors(import_module("torch")))
        return sealed[0] if sealed else None

    def argument(spec: dict, arrays: dict, record: object = None) -> object:
        if "array" in spec:
            dtype = str_(spec.get("dtype", "float64"))
            if spec.get("form") == "numpy":
                return as_array(arrays[spec["array"]], dtype=dtype)
            if spec.get("form") == "list":
                return tolist(ravel(as_array(arrays[spec["array"]], dtype="float64")))
            return tensors(True)[2](arrays[spec["array"]], dtype, bool_(spec.get("grad")))
        if "float" in spec:
            return float_(spec["float"])
        if "bool" in spec:
            return bool_(spec["bool"])
        if "int" in spec:
            return int_(spec["int"])
        if "generator" in spec:
            return tensors(True)[3](int_(spec["generator"]))
        if "callback" in spec:
            return lend(str_(spec["callback"]), int_(spec.get("outputs", 1)), send, receive,
                        record if spec.get("grad") else None)
        return None

    def reseed(seed: int) -> None:
        kit = tensors(False)
        if kit is not None:
            kit[4](seed)
        np_seed(seed % 2**32)
        random_seed(seed)

    def outputs(function: object, bound: list, args: list, kwargs: dict, case: dict,
                report: dict) -> tuple[object, object]:
        """Call the function ``repeat`` times: its last output and the float64 values."""
        values, info, output = [], {}, None
        for _ in range_(int_(case.get("repeat", 1))):
            output = function(*bound, *args, **kwargs)
            kit = tensors(False)
            info, value = kit[0](output) if kit is not None else (
                {"type": type_name(type_(output))}, None)
            if value is None:
                report.update(info)
                raise type_error(f"returned {info['type']}, not a torch.Tensor" if "dtype" not in
                                 info else f"returned a {info['dtype']} tensor: complex values "
                                           f"cannot be graded")
            if values and value.shape != values[0].shape:
                raise value_error(f"the output's shape changed between calls: "
                                  f"{tuple_(values[0].shape)} then {tuple_(value.shape)}")
            values.append(value)
        report.update(info)
        if "repeat" not in case:
            return output, values[0]
        stacked = empty((len_(values), *values[0].shape))
        for i, value in enumerate_(values):
            stacked[i] = value
        return output, stacked

    def run_case(found: tuple, case: dict, index: int, arrays: dict, out_arrays: dict) -> dict:
        function, owner, needs_self = found
        reseed(int_(case.get("seed", 0)))
        report: dict = {"ok": False}
        start = clock()
        try:
            lent_outputs: list = []  # outputs of lent functions marked "grad", in call order
            args = [argument(s, arrays, lent_outputs.append) for s in case.get("args", [])]
            kwargs = {k: argument(s, arrays) for k, s in case.get("kwargs", {}).items()}
            bound = [stand_in(owner, case.get("self", {}), arrays, argument)] if needs_self \
                else []
            output, values = outputs(function, bound, args, kwargs, case, report)
            out_arrays[f"{index}:out"] = values
            if case.get("grad"):  # positions past the arguments: the lent outputs
                report["grads"] = tensors(True)[1](output, args + lent_outputs, case["grad"],
                                                   index, out_arrays)
            report["ok"] = True
        except base_exception as error:  # noqa: BLE001 - anything the student raises
            report["error"] = explain(error)
            report["exception"] = name_of(type_(error))
        report["seconds"] = clock() - start
        return report

    def call(request: dict, arrays: dict) -> tuple[dict, dict]:
        found, where = find([str_(m) for m in request["modules"]], str_(request["function"]))
        if found is None:
            return {"kind": "reply", "found": False, "error": where}, {}
        cases, out_arrays = [], {}
        for index, case in enumerate_(request["cases"]):
            cases.append(run_case(found, case, index, arrays, out_arrays))
        return {"kind": "reply", "found": True, "module": where, "cases": cases}, out_arrays

    def answer(request: dict, arrays: dict) -> tuple[dict, dict]:
        try:
            if request.get("op") == "call":
                return call(request, arrays)
            if request.get("op") == "load":
                for name in request.get("modules", []):
                    load(str_(name))
                return {"kind": "reply", "errors": import_errors, "notes": load_notes}, {}
            return {"kind": "reply", "echo": request.get("echo")}, {}
        except base_exception as error:  # noqa: BLE001
            return {"kind": "reply", "found": True, "error": explain(error), "cases": []}, {}

    def explain(error: BaseException) -> str:
        try:
            return str_(describe(error))
        except base_exception:  # noqa: BLE001 - an exception whose description fails
            return f"{name_of(type_(error))} (its description failed)"

    def flush() -> None:
        for name in ("stdout", "stderr"):
            try:
                getattr_(sys_, name).flush()
            except base_exception:  # noqa: BLE001 - the student may have replaced it
                pass

    def serve() -> None:
        while True:
            try:
                request, arrays = receive()
            except eof:
                return
            header, out = answer(request, arrays)
            flush()
            send({**header, "nonce": request.get("nonce")}, out)

    return serve


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
    import importlib

    import numpy as np

    versions = {"numpy": np.__version__}
    for name in config.get("preload", ["torch"]):
        module = importlib.import_module(name)
        versions[name] = str(getattr(module, "__version__", ""))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    # sealed now, before the first of the student's files is loaded
    send, receive = _seal_channel(fd_in, fd_out, np)
    serve = _seal_requests(Runner(None, config["work"]), send, receive, np)
    sys.path.append(config["work"])  # last: the student's files cannot shadow a library
    send({"kind": "hello", "layers": config["layers"], "uid": os.getuid(),
          "versions": versions})
    serve()


if __name__ == "__main__":
    main()
