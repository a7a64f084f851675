#!/usr/bin/env python
"""Mutation testing of the verifier's cores (issue 13): does the default test run notice a
one-token change of the source?

For each target file the script enumerates *mutants*, one small change each, with the standard
library's ``ast`` (positions from the parse, the rest of the file byte for byte unchanged):

* comparison operators swapped: ``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``==`` ↔ ``!=``;
* ``and`` ↔ ``or``; ``not x`` → ``x``;
* numeric constants: an int ``c`` → ``c + 1`` (``0`` ↔ ``1``), a float ``c`` → ``2c``
  (``0.0`` → ``1.0``);
* arithmetic: ``+`` ↔ ``-``, ``*`` ↔ ``/`` (not on string operands);
* ``return x`` → ``return None`` (x not already ``None``); ``True`` ↔ ``False``;
* an ``if`` condition forced to ``True`` and to ``False`` (two mutants);
* removal (``pass``) of a statement that is a call or an augmented assignment.

Skipped: docstrings and every string, f-strings, type annotations, ``__all__``, logging calls,
``if TYPE_CHECKING`` and ``if __name__ == "__main__"``.

Each mutant is written into one scratch copy of the repository (made with ``shutil.copytree``
in a temporary folder, without .git, .venv and build outputs; the file is restored after each
mutant), and the target's test files run there, one mutant at a time, with
``python -m pytest -x -q -p no:cacheprovider TESTS`` (``PYTHONDONTWRITEBYTECODE=1``, stale
bytecode of the target removed). A failing or erroring run kills the mutant; so does a run past
the per-mutant timeout, max(3 × the clean run's time, 20 s).

Survivors that were examined are listed in ``ANNOTATED`` below (equivalent mutants, with the
reason); the kill rate is killed / (mutants run − equivalent survivors), with a 95 %
Clopper–Pearson interval when the mutants are a sample.

Usage (from the repository root, with the project's venv)::

    .venv/bin/python benchmarks/mutation.py --list --target tolerance
    .venv/bin/python benchmarks/mutation.py --target tolerance --target twosample --json out.json
    .venv/bin/python benchmarks/mutation.py --target core --sample 60 --seed 13
    .venv/bin/python benchmarks/mutation.py --target core --only 17 --only 42   # rerun two
    .venv/bin/python benchmarks/mutation.py --target core --diff 17             # show one
    .venv/bin/python benchmarks/mutation.py --target numerics/tolerance.py --tests tests/numerics

``--target`` takes a name from ``TARGETS`` or a path (then ``--tests`` is required).
"""

from __future__ import annotations

import argparse
import ast
import datetime as _dt
import difflib
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_ANSWER_TESTS = ("tests/grading/answers/test_equivalence.py", "tests/grading/answers/test_numeric.py",
                 "tests/grading/answers/test_field_pairs.py")
_CODE_TESTS = ("tests/grading/code/test_checks.py", "tests/grading/code/test_profiles.py")


@dataclass(frozen=True)
class Target:
    path: str
    tests: tuple[str, ...]
    since: str | None = None  # only mutants from this top-level definition to the end of file
    note: str = ""


TARGETS: dict[str, Target] = {
    "core": Target("derivations/core.py", ("tests/derivations/test_core.py",)),
    "equivalence": Target("grading/answers/equivalence.py", _ANSWER_TESTS),
    "numeric-compare": Target("grading/answers/numeric.py", _ANSWER_TESTS, since="_finite",
                              note="compare() and its helpers: from `def _finite` to the end"),
    "tolerance": Target("numerics/tolerance.py", ("tests/numerics/test_tolerance.py",)),
    "twosample": Target("numerics/twosample.py", ("tests/numerics/test_twosample.py",)),
    "vae_checks": Target("grading/code/vae_checks.py", _CODE_TESTS),
    "diffusion_checks": Target("grading/code/diffusion_checks.py", _CODE_TESTS),
    "context": Target("grading/code/context.py", _CODE_TESTS),
}

# Survivors that were examined, keyed by Mutant.key (file, enclosing definition, operator, the
# change, occurrence): "equivalent: ..." when the behaviour is unchanged for every input the code
# can receive (they leave the kill rate's denominator), "accepted: ..." when it changes within
# the documented contract (a tuning constant, timing, a fixture): these count as survivors.
_EQ, _OK = "equivalent: ", "accepted: "
ANNOTATED: dict[str, str] = {
    # numerics/twosample.py
    "numerics/twosample.py::_permutation_energies::number::64::65#1":
        _EQ + "the chunk only groups permutations per matmul; the same ones are drawn in order",
    "numerics/twosample.py::_permutation_energies::number::1::0#1":
        _EQ + "row and column sums of the symmetric distance matrix are the same",
    "numerics/twosample.py::<module>::number::8::9#1":
        _OK + "how many eigenvalues are computed exactly; the Chernoff bound stays valid with any",
    "numerics/twosample.py::_centred_kernel_spectrum::number::1e-10::2e-10#1":
        _OK + "eigsh's tolerance: the eigenvalues change by less than the tested 1e-9",
    "numerics/twosample.py::_weighted_chi2_threshold::number::0::1#2":
        _EQ + "the grid's first point is never the best (t(s) → ∞ as s → 0 and decreases "
              "there: sK'(s) − K(s) is far below log(1/α) at s = s_max/1000), so its left "
              "neighbour is never clipped",
    "numerics/twosample.py::energy_test::number::1::0#8":
        _EQ + "k ≥ 1 always: failure_prob ≥ 1/(permutations + 1) is checked before",
    "numerics/twosample.py::ks_two_sample_threshold::number::1::0#1":
        _EQ + "the bisection finds the smallest h with tail(h) ≤ α from either lower end: "
              "tail(0) = P(D ≥ 0) = 1 > α",
    "numerics/twosample.py::_weighted_chi2_threshold::number::1000::1001#1":
        _EQ + "the grid only brackets the minimum over s, which Brent's method finds: the " \
              "threshold is the same to 1e-15 relative",
    "numerics/twosample.py::_weighted_chi2_threshold::number::3::4#1":
        _EQ + "the grid only brackets the minimum over s, which Brent's method finds: the " \
              "threshold is the same to 1e-15 relative",
    "numerics/twosample.py::_weighted_chi2_threshold::number::12::13#1":
        _EQ + "the grid only brackets the minimum over s, which Brent's method finds: the " \
              "threshold is the same to 1e-15 relative",
    "numerics/twosample.py::_weighted_chi2_threshold::number::400::401#1":
        _EQ + "the grid only brackets the minimum over s, which Brent's method finds: the " \
              "threshold is the same to 1e-15 relative",
    # derivations/core.py
    "derivations/core.py::_mp_value::number::1::0#1":
        _EQ + "the boolean branch again: unreachable (no step's difference or gap compiles to a "
              "boolean)",
    "derivations/core.py::<module>::number::9::10#1":
        _OK + "the top of the confirmation ladder (300 digits instead of 270): only a gap lost "
              "to cancellation between those precisions is decided differently",
    "derivations/core.py::_Checker._evaluate::number::1::0#3":
        _OK + "which half of the points is drawn at the wide scale (the even ones): 8 points "
              "still reach every stratum once",
    "derivations/core.py::_Checker._evaluate::number::0::1#2":
        _OK + "a tuning constant: the wide scale gives way to the moderate one after 9 misses "
              "instead of 10",
    "derivations/core.py::_resolved_gap::compare <= → <::abs(value - precise) <= STABLE * "
    "abs(precise)::((abs(value - precise)) < (STABLE * abs(precise)))#1":
        _OK + "differs only for a gap exactly 0 at 30 and 90 digits: the same verdicts (a strict "
              "relation refused, a non-strict one accepted), 'is 0 to working precision' "
              "instead of '= 0'",
    "derivations/core.py::_unroll.expand::return None::operator::return None#1":
        _EQ + "a Sum whose bounds are not integers cannot be evaluated either way: the step is "
              "refused without an error in both (tested)",
    "derivations/core.py::_symbolically_zero::return None::False::return None#1":
        _EQ + "None is as falsy as False; the only caller tests the truth value",
    "derivations/core.py::_Checker._holds::arithmetic * → /::TOLERANCE * max(1, abs(value))::"
    "((TOLERANCE) / (max(1, abs(value))))#1":
        _EQ + "the slack decides only for |gap| ≤ 1e-12·max(1,|gap|), i.e. |gap| < 1, where "
              "max(1, |gap|) = 1 and * and / agree",
    "derivations/core.py::_Checker._holds::compare < → <=::value < -slack::"
    "((value) <= (-slack))#1":
        _OK + "differs only for a gap of exactly −1e-12 (30-digit) at a drawn point",
    "derivations/core.py::_Checker._evaluate::compare > → >=::attempts > 50 * count::"
    "((attempts) >= (50 * count))#1":
        _OK + "the retry budget for poles is one attempt shorter (399 instead of 400)",
    "derivations/core.py::_Checker._draw::boolean constant::False::True#2":
        _EQ + "every drawn atom (Symbol, IndexedBase label, applied function) has is_positive, "
              "so getattr's default is never used",
    "derivations/core.py::_Checker._draw::number::1.5::3.0#1":
        _OK + "the sampling range of positive symbols (e^±1.5 → e^-1.5..e^3); any range is valid",
    "derivations/core.py::<module>::number::512::513#1": _EQ + "a cache size",
    "derivations/core.py::_mp_value::if False::isinstance(value, bool)::if False#1":
        _EQ + "unreachable: no step's difference or gap compiles to a boolean (none in the 54 "
              "derivations either)",
    "derivations/core.py::_mp_value::if True::isinstance(value, mpmath.mpc)::if True#1":
        _EQ + "an mpf has .real (itself) and .imag = 0, so the complex branch returns it as is",
    "derivations/core.py::_mp_value::if False::not (mpmath.isfinite(value.real) and "
    "mpmath.isfinite(value.imag))::if False#1":
        _EQ + "differs only where the imaginary part is infinite and the real part finite, "
              "a pole hit with probability 0 by a drawn point (other non-finite values are "
              "still refused below)",
    # grading/answers/equivalence.py
    "grading/answers/equivalence.py::_symbolically_equal::number::0::1#1":
        _EQ + "a difference that is 0 is then found 0 by the first canonical form",
    "grading/answers/equivalence.py::_expanded::remove statement::deadline_check()::pass#1":
        _OK + "one cooperative deadline check of several (the next is after the rewrite); "
              "the forked worker is ended at the deadline anyway",
    "grading/answers/equivalence.py::_expanded::if True::expr.has(sp.Derivative)::if True#1":
        _EQ + "replacing derivatives in an expression without any is a no-op",
    "grading/answers/equivalence.py::_expanded::boolean constant::False::True#1":
        _OK + "deep doit also evaluates sums/integrals inside a derivative, which the comparison "
              "evaluates anyway (same verdicts, other timing)",
    "grading/answers/equivalence.py::_one_edit::boolean or → and::abs(len(a) - len(b)) > 1 or "
    "a == b::((abs(len(a) - len(b)) > 1) and (a == b))#1":
        _EQ + "a == b never reaches it (near_variant returns first) and lengths 2+ apart fail "
              "both later tests",
    # grading/answers/numeric.py
    "grading/answers/numeric.py::_decimal_answer::compare < → <=::k < 30::((k) <= (30))#1":
        _OK + "a rational with exactly 31 decimal places is read as a decimal: same verdict, "
              "the note says 31 digits",
    "grading/answers/numeric.py::_decimal_answer::number::15::16#1":
        _EQ + "the binary precision of an intermediate Float, read back by its written digits",
    "grading/answers/numeric.py::_variable_of::boolean and → or::isinstance(distribution, "
    "AppliedUndef) and len(distribution.args) == 1::((isinstance(distribution, AppliedUndef)) "
    "or (len(distribution.args) …#1":
        _EQ + "a divergence's arguments are symbols, applied densities or Normal(μ, σ²): none "
              "is a one-argument non-function",
    "grading/answers/numeric.py::_compare::remove statement::deadline_check()::pass#1":
        _OK + "one cooperative deadline check per point (evaluation checks too); the forked "
              "worker is ended at the deadline anyway",
    "grading/answers/numeric.py::_with_instances::arithmetic + → -::10_000 + number * 100::"
    "((10_000) - (number * 100))#1":
        _OK + "another stated numbering of the instance points (other random points, still "
              "distinct per draw and from the comparison's points 0–79)",
    "grading/answers/numeric.py::_with_instances::number::100::101#1":
        _OK + "another stated numbering of the instance points (other random points, still "
              "distinct per draw and from the comparison's points 0–79)",
    # grading/code/context.py
    "grading/code/context.py::binomial_interval::compare <= → <::p <= 0.0::((p) < (0.0))#1":
        _EQ + "for p = 0 SciPy's binomial ppf and isf are 0 as well: the same (0, 0)",
    # grading/code/diffusion_checks.py
    "grading/code/diffusion_checks.py::_check_langevin_step::number::1.0::2.0#1":
        _OK + "a fixture: the spread of the points a Langevin step is tested at (any works)",
    "grading/code/diffusion_checks.py::_check_annealed::number::20::21#1":
        _OK + "another stated seed for the slice directions of the same calibrated test",
    "grading/code/diffusion_checks.py::_check_annealed::number::19::20#2":
        _OK + "another stated seed for the reference runs the hint compares with",
    "grading/code/diffusion_checks.py::_check_annealed::number::20::21#2":
        _OK + "another stated seed for the hint's two-sample tests",
    # grading/code/vae_checks.py
    "grading/code/vae_checks.py::_check_deterministic::arithmetic + → -::offset + len(group)::"
    "((offset) - (len(group)))#1":
        _OK + "the fallback diagnosis on the extreme inputs, reached only when the 6 diagnostic "
              "inputs name no mistake; no catalogued bug needs it",
    "grading/code/vae_checks.py::_elbo_sample_fixtures::number::1.0::2.0#1":
        _OK + "a fixture: the spread of the encoder means the ELBO of a sample is tested at",
    "grading/code/vae_checks.py::_check_elbo_of_sample::number::21::22#1":
        _OK + "another stated seed for the ELBO fixtures",
    "grading/code/vae_checks.py::<module>::number::10.0::20.0#1":
        _OK + "a fixture mean of sample_normal's law check; the check tests the law at whatever "
              "means it passes",
}


# -- enumeration ------------------------------------------------------------------------------

@dataclass
class Mutant:
    index: int
    path: str
    line: int
    function: str
    operator: str
    before: str
    after: str
    start: int  # byte offsets of the replaced segment
    end: int
    replacement: str
    key: str = ""
    status: str = "not run"
    seconds: float = 0.0
    killed_by: str = ""
    annotation: str = ""

    def describe(self) -> str:
        return (f"{self.path}:{self.line} [{self.function}] {self.operator}: "
                f"`{self.before}` → `{self.after}`")


_COMPARE_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                 ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
           ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.And: "and", ast.Or: "or",
           ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
           ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.MatMult: "@",
           ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
_LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _is_logging_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    owner = node.func.value
    name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
    return node.func.attr in _LOG_METHODS and "log" in name.lower()


def _is_string(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, (str, bytes)))


def _compact(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


def _skipped_if(test: ast.AST) -> bool:
    text = ast.unparse(test)
    return "TYPE_CHECKING" in text or "__name__" in text


class _Enumerator:
    def __init__(self, path: str, source: bytes, since: str | None) -> None:
        self.path, self.source = path, source
        self.tree = ast.parse(source)
        self.line_starts = [0]
        for line in source.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.since_line = 0
        if since is not None:
            found = [n.lineno for n in self.tree.body
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == since]
            if not found:
                raise SystemExit(f"{path}: no top-level definition {since!r}")
            self.since_line = found[0]
        self.mutants: list[Mutant] = []
        self.original_dump = ast.dump(self.tree)

    # positions
    def span(self, node: ast.AST) -> tuple[int, int]:
        return (self.line_starts[node.lineno - 1] + node.col_offset,
                self.line_starts[node.end_lineno - 1] + node.end_col_offset)

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode()

    def par(self, node: ast.AST) -> str:
        return "(" + self.text(node) + ")"

    # traversal
    def run(self) -> list[Mutant]:
        self.visit_body(self.tree.body, "<module>")
        return self.mutants

    def visit_body(self, body: list[ast.stmt], where: str) -> None:
        for i, stmt in enumerate(body):
            if (i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)):
                continue  # docstring
            self.visit(stmt, where)

    def visit(self, node: ast.AST, where: str) -> None:  # noqa: C901 - one dispatch
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = node.name if where == "<module>" else f"{where}.{node.name}"
            for decorator in node.decorator_list:
                self.visit(decorator, where)
            if not isinstance(node, ast.ClassDef):
                args = node.args
                for default in [*args.defaults, *[d for d in args.kw_defaults if d is not None]]:
                    self.visit(default, name)
            else:
                for base in node.bases:
                    self.visit(base, where)
            self.visit_body(node.body, name)
            return
        if isinstance(node, ast.JoinedStr) or _is_logging_call(node):
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit(node.value, where)
            return
        if isinstance(node, (ast.Assign, ast.AugAssign)) and any(
                isinstance(t, ast.Name) and t.id == "__all__"
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])):
            return
        if isinstance(node, ast.If) and _skipped_if(node.test):
            return
        if isinstance(node, ast.Expr) and _is_logging_call(node.value):
            return
        self.mutate(node, where)
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item, where)
            elif isinstance(value, ast.AST):
                self.visit(value, where)

    # mutation operators
    def add(self, node: ast.AST, where: str, operator: str, before: str, after: str,
            replacement: str, span: tuple[int, int] | None = None) -> None:
        if node.lineno < self.since_line:
            return
        start, end = span or self.span(node)
        mutated = self.source[:start] + replacement.encode() + self.source[end:]
        try:
            tree = ast.parse(mutated)
        except SyntaxError:
            return
        if ast.dump(tree) == self.original_dump:
            return
        if before == "":
            before = _compact(self.source[start:end].decode())
            after = _compact(replacement)
        self.mutants.append(Mutant(0, self.path, node.lineno, where, operator, before, after,
                                   start, end, replacement))

    def mutate(self, node: ast.AST, where: str) -> None:  # noqa: C901 - one per operator
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                new = _COMPARE_SWAP.get(type(op))
                if new is None:
                    continue
                parts = [self.par(node.left)]
                for j, (o, c) in enumerate(zip(node.ops, node.comparators)):
                    parts += [_SYMBOL[new if j == i else type(o)], self.par(c)]
                self.add(node, where, f"compare {_SYMBOL[type(op)]} → {_SYMBOL[new]}", "", "",
                         "(" + " ".join(parts) + ")")
        elif isinstance(node, ast.BoolOp):
            new = "or" if isinstance(node.op, ast.And) else "and"
            self.add(node, where, f"boolean {_SYMBOL[type(node.op)]} → {new}", "", "",
                     "(" + f" {new} ".join(self.par(v) for v in node.values) + ")")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.add(node, where, "not x → x", "", "", self.par(node.operand))
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAP:
            if _is_string(node.left) or _is_string(node.right):
                return
            new = _BINOP_SWAP[type(node.op)]
            self.add(node, where, f"arithmetic {_SYMBOL[type(node.op)]} → {_SYMBOL[new]}", "", "",
                     f"({self.par(node.left)} {_SYMBOL[new]} {self.par(node.right)})")
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                self.add(node, where, "boolean constant", str(value), str(not value),
                         str(not value))
            elif isinstance(value, int):
                new = 1 if value == 0 else 0 if value == 1 else value + 1
                self.add(node, where, "number", repr(value), repr(new), f"({new!r})")
            elif isinstance(value, float):
                new = 1.0 if value == 0.0 else 2 * value
                self.add(node, where, "number", repr(value), repr(new), f"({new!r})")
        elif isinstance(node, ast.Return):
            if node.value is not None and not (isinstance(node.value, ast.Constant)
                                               and node.value.value is None):
                self.add(node, where, "return None", _compact("return " + self.text(node.value)),
                         "return None", "None", span=self.span(node.value))
        elif isinstance(node, ast.If):
            if not isinstance(node.test, ast.Constant):
                for forced in ("True", "False"):
                    self.add(node, where, f"if {forced}", _compact("if " + self.text(node.test)),
                             f"if {forced}", forced, span=self.span(node.test))
        elif (isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await))) \
                or isinstance(node, ast.AugAssign):
            self.add(node, where, "remove statement", _compact(self.text(node)), "pass", "pass")


def enumerate_mutants(path: str, root: Path = ROOT, since: str | None = None) -> list[Mutant]:
    source = (root / path).read_bytes()
    mutants = _Enumerator(path, source, since).run()
    mutants.sort(key=lambda m: (m.start, m.end, m.operator, m.replacement))
    seen: dict[str, int] = {}
    for i, m in enumerate(mutants):
        m.index = i
        compact = " ".join(source[m.start:m.end].decode().split())[:80]
        base = f"{m.path}::{m.function}::{m.operator}::{compact}::{m.after}"
        seen[base] = seen.get(base, 0) + 1
        m.key = f"{base}#{seen[base]}"
        m.annotation = ANNOTATED.get(m.key, "")
    return mutants


def mutated_source(mutant: Mutant, root: Path = ROOT) -> bytes:
    source = (root / mutant.path).read_bytes()
    return source[:mutant.start] + mutant.replacement.encode() + source[mutant.end:]


def diff(mutant: Mutant, root: Path = ROOT) -> str:
    old = (root / mutant.path).read_bytes().decode().splitlines(keepends=True)
    new = mutated_source(mutant, root).decode().splitlines(keepends=True)
    return "".join(difflib.unified_diff(old, new, f"a/{mutant.path}", f"b/{mutant.path}", n=1))


# -- running ----------------------------------------------------------------------------------

def make_scratch() -> Path:
    scratch = Path(tempfile.mkdtemp(prefix="genverify-mutation-")) / "repo"
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "__pycache__", "*.egg-info",
                                    ".pytest_cache", ".hypothesis", "*.pyc")
    shutil.copytree(ROOT, scratch, ignore=ignore, symlinks=True)
    return scratch


def _clear_bytecode(scratch: Path, path: str) -> None:
    cache = (scratch / path).parent / "__pycache__"
    for pyc in cache.glob(Path(path).stem + ".*.pyc"):
        pyc.unlink(missing_ok=True)


def run_tests(scratch: Path, tests: tuple[str, ...], timeout: float | None,
              extra: tuple[str, ...] = ()) -> tuple[str, float, str]:
    """(status, seconds, first failing test or the reason): status is "survived" (the tests
    passed), "killed" (a test failed or errored) or "timeout" (counted as killed)."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *extra,
               *tests]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=scratch, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return "timeout", time.monotonic() - started, f"timeout after {timeout:.0f} s"
    seconds = time.monotonic() - started
    text = out.decode(errors="replace")
    if process.returncode == 0:
        return "survived", seconds, ""
    reason = next((line for line in text.splitlines() if line.startswith(("FAILED", "ERROR"))),
                  f"pytest exit code {process.returncode}")
    return "killed", seconds, reason[:300]


def check_imports(scratch: Path, path: str) -> None:
    """The scratch copy, not the editable install, must be what the tests import."""
    module = path.removesuffix(".py").replace("/", ".")
    out = subprocess.run([sys.executable, "-c", f"import {module} as m; print(m.__file__)"],
                         cwd=scratch, capture_output=True, text=True, check=True).stdout.strip()
    if Path(out).resolve() != (scratch / path).resolve():
        raise SystemExit(f"the tests would import {out}, not the scratch copy of {path}")


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    from scipy.stats import beta

    if n == 0:
        return 0.0, 1.0
    tail = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - tail, k + 1, n - k))
    return lo, hi


def summarise(name: str, target: Target, generated: int, mutants: list[Mutant],
              sampled: bool) -> dict:
    killed = [m for m in mutants if m.status in ("killed", "timeout")]
    survivors = [m for m in mutants if m.status == "survived"]
    equivalent = [m for m in survivors if m.annotation.startswith(_EQ)]
    others = [m for m in survivors if not m.annotation.startswith(_EQ)]
    accepted = [m for m in others if m.annotation.startswith(_OK)]
    relevant = len(killed) + len(others)
    rate = len(killed) / relevant if relevant else math.nan
    interval = clopper_pearson(len(killed), relevant) if sampled else None
    return {"target": name, "path": target.path, "tests": list(target.tests),
            "generated": generated, "run": len(mutants), "sampled": sampled,
            "killed": len(killed), "timeouts": sum(m.status == "timeout" for m in mutants),
            "equivalent_survivors": len(equivalent), "other_survivors": len(others),
            "accepted_survivors": len(accepted),
            "kill_rate": rate, "ci95": interval}


def _sample_size(options: list[str], name: str) -> int | None:
    size = None
    for option in options:
        key, _, value = option.rpartition("=")
        if key in ("", name):
            size = int(value)
    return size


def main(argv: list[str] | None = None) -> int:  # noqa: C901 - a script's main
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", default=[],
                        help=f"a name ({', '.join(TARGETS)}) or a path; repeatable; default all")
    parser.add_argument("--tests", nargs="+", help="test files to run (default: the target's)")
    parser.add_argument("--pytest-arg", action="append", default=[], metavar="ARG",
                        help="an extra pytest argument, e.g. --pytest-arg=-k=generator "
                             "(repeatable; for checking one test against chosen mutants)")
    parser.add_argument("--max", type=int, help="run at most the first N mutants per target")
    parser.add_argument("--sample", action="append", default=[], metavar="[NAME=]N",
                        help="run a random sample of N mutants (per target, or for target NAME)")
    parser.add_argument("--seed", type=int, default=13, help="the sample's seed (default 13)")
    parser.add_argument("--only", type=int, action="append", default=[],
                        help="run only this mutant index (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--diff", type=int, action="append", default=[],
                        help="print this mutant's diff, run nothing (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--survivors-of", type=Path, metavar="JSON",
                        help="re-run only the mutants that survived in this earlier --json "
                             "result (matched by key); its killed mutants are carried over, so "
                             "the summary is the final one for the same selection")
    args = parser.parse_args(argv)

    chosen: list[tuple[str, Target]] = []
    for name in args.target or list(TARGETS):
        if name in TARGETS:
            target = TARGETS[name]
        else:
            if not args.tests:
                parser.error(f"{name} is not a known target: give --tests")
            target = Target(name, tuple(args.tests))
        if args.tests:
            target = Target(target.path, tuple(args.tests), target.since, target.note)
        chosen.append((name, target))

    earlier = {t["target"]: t for t in json.loads(args.survivors_of.read_text())["targets"]} \
        if args.survivors_of else {}
    plans, carried = [], {}
    for name, target in chosen:
        mutants = enumerate_mutants(target.path, since=target.since)
        generated = len(mutants)
        sampled = False
        if args.survivors_of:
            if name not in earlier:
                parser.error(f"{args.survivors_of} has no results for {name}")
            before = earlier[name]
            by_key = {m.key: m for m in mutants}
            missing = [m["key"] for m in before["mutants"] if m["key"] not in by_key]
            if missing:
                raise SystemExit(f"{name}: the source changed since {args.survivors_of}: "
                                 f"{missing[0]} is gone")
            mutants = [by_key[m["key"]] for m in before["mutants"] if m["status"] == "survived"]
            carried[name] = [m for m in before["mutants"] if m["status"] != "survived"]
            generated, sampled = before["generated"], before["sampled"]
            plans.append((name, target, generated, mutants, sampled))
            continue
        if args.only:
            mutants = [mutants[i] for i in args.only]
        elif (size := _sample_size(args.sample, name)) is not None and size < len(mutants):
            picked = random.Random(args.seed).sample(range(len(mutants)), size)
            mutants = [mutants[i] for i in sorted(picked)]
            sampled = True
        if args.max is not None:
            mutants = mutants[:args.max]
        plans.append((name, target, generated, mutants, sampled))

    if args.list or args.diff:
        for name, target, generated, mutants, sampled in plans:
            if args.list:
                print(f"# {name}: {generated} mutants generated, {len(mutants)} selected")
                for m in mutants:
                    mark = f"  ({m.annotation.split(':')[0]})" if m.annotation else ""
                    print(f"{m.index:4d}  {m.describe()}{mark}")
            for i in args.diff:
                all_mutants = enumerate_mutants(target.path, since=target.since)
                print(f"# mutant {i}: {all_mutants[i].describe()}\n# key: {all_mutants[i].key}")
                print(diff(all_mutants[i]))
        return 0

    scratch = make_scratch()
    started = _dt.datetime.now()
    results = []
    try:
        for name, target, generated, mutants, sampled in plans:
            check_imports(scratch, target.path)
            extra = tuple(args.pytest_arg)
            status, clean, reason = run_tests(scratch, target.tests, None, extra)
            if status != "survived":
                raise SystemExit(f"{name}: the tests fail without any mutant: {reason}")
            timeout = max(3 * clean, 20.0)
            print(f"# {name}: {target.path}, {generated} mutants, running {len(mutants)}"
                  f"{' (sample, seed %d)' % args.seed if sampled else ''}; clean run "
                  f"{clean:.1f} s, timeout {timeout:.0f} s", file=sys.stderr, flush=True)
            original = (scratch / target.path).read_bytes()
            for n, m in enumerate(mutants, 1):
                try:
                    (scratch / target.path).write_bytes(
                        original[:m.start] + m.replacement.encode() + original[m.end:])
                    _clear_bytecode(scratch, target.path)
                    m.status, m.seconds, m.killed_by = run_tests(scratch, target.tests, timeout,
                                                                 extra)
                finally:
                    (scratch / target.path).write_bytes(original)
                    _clear_bytecode(scratch, target.path)
                mark = ("" if m.status != "survived" else
                        f"  ({m.annotation.split(':')[0]})" if m.annotation else "  <-- SURVIVED")
                by = f" by {m.killed_by.split(' - ')[0]}" if m.status == "killed" else ""
                print(f"[{n}/{len(mutants)}] #{m.index} {m.describe()}: {m.status} "
                      f"{m.seconds:.1f} s{by}{mark}", file=sys.stderr, flush=True)
            results_now = [{k: v for k, v in asdict(m).items() if k not in ("start", "end")}
                           for m in mutants]
            if name in carried:  # the earlier run's killed mutants, then these re-runs
                kept = [Mutant(**{**m, "start": 0, "end": 0}) for m in carried[name]]
                mutants = sorted(kept + mutants, key=lambda m: m.index)
                results_now = sorted(carried[name] + results_now, key=lambda m: m["index"])
            summary = summarise(name, target, generated, mutants, sampled)
            summary.update(clean_seconds=round(clean, 2), timeout_seconds=round(timeout, 1),
                           seed=(earlier[name]["seed"] if name in earlier else
                                 args.seed if sampled else None), note=target.note,
                           mutants=results_now)
            results.append(summary)
    finally:
        shutil.rmtree(scratch.parent, ignore_errors=True)

    print("\n| target | generated | run | killed | equivalent survivors | other survivors "
          "(accepted) | kill rate (non-equivalent) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in results:
        ci = (f" (95 % CI {100 * s['ci95'][0]:.1f}–{100 * s['ci95'][1]:.1f} %)"
              if s["ci95"] else "")
        print(f"| {s['target']} | {s['generated']} | {s['run']} | {s['killed']} "
              f"| {s['equivalent_survivors']} | {s['other_survivors']} "
              f"({s['accepted_survivors']}) "
              f"| {100 * s['kill_rate']:.1f} %{ci} |")
    for s in results:
        for m in s["mutants"]:
            if m["status"] == "survived":
                print(f"survivor #{m['index']} {m['path']}:{m['line']} [{m['function']}] "
                      f"{m['operator']}: `{m['before']}` → `{m['after']}`"
                      + (f" — {m['annotation']}" if m["annotation"] else " — not examined"))
    if args.json:
        args.json.write_text(json.dumps({
            "date": started.isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "python": sys.version.split()[0], "targets": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
