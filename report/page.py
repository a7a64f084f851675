"""One self-contained HTML page for ``genverify report``: math as MathML, figures inline.

MathML (SymPy's presentation printer) renders natively in current browsers, so the page needs
no script and no network; figures are PNGs embedded as ``data:`` URLs.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.printing.mathml import MathMLPresentationPrinter

from derivations.core import Derivation, Verification

RELATION_SIGNS = {"=": "=", "<=": "≤", ">=": "≥", "<": "<", ">": ">", "solves": "⇒",
                  "stationary": "⇒", "holds": "", "def": ""}


@dataclass(frozen=True)
class Evidence:
    """A checked claim of the report: a derivation, a numeric cross-check or a model check."""

    part: str
    claim: str
    check: str
    ok: bool
    seconds: float
    derivation: Derivation | None = None
    verification: Verification | None = None
    table: Sequence[Mapping[str, str]] = ()
    figure_png: bytes | None = None


@dataclass(frozen=True)
class Part:
    """A homework part as the report shows it."""

    id: str
    points: float | None
    prompt: str
    reference: sp.Basic | str | None
    evidence: list[Evidence] = field(default_factory=list)


class _Printer(MathMLPresentationPrinter):
    """SymPy's presentation MathML, plus ∏ with bounds, bare indices and cases."""

    def _print_Product(self, e: sp.Product) -> Any:
        mrow = self._print_Sum(e)
        mrow.firstChild.firstChild.firstChild.data = "∏"
        return mrow

    def _print_Idx(self, e: sp.Idx) -> Any:
        return self._print(e.label)

    def _print_Piecewise(self, e: sp.Piecewise) -> Any:
        table = self.dom.createElement("mtable")
        for value, condition in e.args:
            row = self.dom.createElement("mtr")
            for item in (value, condition):
                cell = self.dom.createElement("mtd")
                cell.appendChild(self._print(item))
                row.appendChild(cell)
            table.appendChild(row)
        brace = self.dom.createElement("mo")
        brace.appendChild(self.dom.createTextNode("{"))
        mrow = self.dom.createElement("mrow")
        mrow.appendChild(brace)
        mrow.appendChild(table)
        return mrow


def math(expr: sp.Basic) -> str:
    """``expr`` as inline MathML."""
    if isinstance(expr, sp.Lambda):
        expr = expr.expr
    return f'<math display="inline">{_Printer().doprint(expr)}</math>'


def _steps(derivation: Derivation, verification: Verification) -> str:
    rows = []
    for step, report in zip(derivation.steps, verification.steps):
        mark = "✓" if report.ok else "✗"
        rows.append(
            f'<tr class="{"ok" if report.ok else "fail"}"><td class="rel">'
            f"{RELATION_SIGNS[step.rel]}</td><td>{math(step.expr)}</td>"
            f"<td>{html.escape(step.reason)}</td><td>{mark} {html.escape(report.method)}"
            f"{(' — ' + html.escape(report.detail)) if report.detail else ''}</td></tr>"
        )
    return '<table class="steps"><tr><th></th><th>step</th><th>reason</th><th>check</th></tr>' \
           + "".join(rows) + "</table>"


def _evidence(item: Evidence) -> str:
    status = "ok" if item.ok else "fail"
    body = [f'<div class="evidence {status}"><h4>{"✓" if item.ok else "✗"} '
            f"{html.escape(item.claim)} <small>({item.seconds:.2f} s)</small></h4>",
            f"<p>{html.escape(item.check)}</p>"]
    if item.derivation is not None and item.verification is not None:
        body.append(_steps(item.derivation, item.verification))
    if item.table:
        headers = list(item.table[0])
        body.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers)
                    + "</tr>" + "".join("<tr>" + "".join(f"<td>{html.escape(str(row[h]))}</td>"
                                                         for h in headers) + "</tr>"
                                        for row in item.table) + "</table>")
    if item.figure_png is not None:
        encoded = base64.b64encode(item.figure_png).decode("ascii")
        body.append(f'<img alt="{html.escape(item.claim)}" src="data:image/png;base64,{encoded}">')
    body.append("</div>")
    return "".join(body)


def render(parts: Iterable[Part], *, title: str = "genverify report") -> str:
    """The whole page."""
    parts = list(parts)
    checks = [e for p in parts for e in p.evidence]
    passed = sum(e.ok for e in checks)
    sections = []
    for part in parts:
        points = "" if part.points is None else f" <small>({part.points:g} points)</small>"
        reference = ""
        if isinstance(part.reference, sp.Basic):
            reference = f"<p>Reference answer: {math(part.reference)}</p>"
        elif part.reference:
            reference = f"<p>Reference answer: {html.escape(part.reference)}</p>"
        sections.append(
            f'<section id="part-{html.escape(part.id)}"><h2>Part {html.escape(part.id)}{points}</h2>'
            f"<p>{html.escape(part.prompt)}</p>{reference}"
            + "".join(_evidence(e) for e in part.evidence) + "</section>"
        )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; margin: .5rem 0; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3rem .6rem; text-align: left; vertical-align: middle; }}
.fail {{ background: #fdd; }} .evidence {{ margin: 1rem 0; }} td.rel {{ font-size: 1.2rem; }}
img {{ max-width: 100%; border: 1px solid #ccc; }} math {{ font-size: 1.1rem; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="summary">{passed} of {len(checks)} checks passed.</p>
{"".join(sections)}
</body></html>
"""
