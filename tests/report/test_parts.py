"""The homework's parts on the report page: every reference answer shown, no Python names.

One test renders the real key with the real derivations (every derivation verified, no model
trained: ~5 s) and reads the HTML as a person would: every part of the key has a reference
answer (MathML for 1.a, 1.g, 1.h, 3.c; the correct options for 1.d and 1.j; "No" with the
reason for 1.e and 1.f), the text has no Python name and no step is a bare ``True``, ``0`` or
``0 = 0``. Each check has a twin fed a page with the defect.
"""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
import sympy as sp

from report.page import Evidence, Part, render
from report.parts import parts, presented

PYTHON_NAME = re.compile(r"\bderivations\.|\bsympy\.|\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")
LIMITS = re.compile(r"<msub(?:sup)?><mo>(?:∫|&#x222B;)</mo><msub><mi>x</mi><mi[^>]*>(?:lo|hi)</mi>")
BARE = {"True", "true", "False", "false", "0", "0=0"}


def _text(page: str) -> str:
    """The visible text of a page: no style, tags as spaces, entities read."""
    page = re.sub(r"<style>.*?</style>|<title>.*?</title>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def python_names(page: str) -> list[str]:
    return PYTHON_NAME.findall(_text(page)) + LIMITS.findall(page)


def bare_steps(page: str) -> list[str]:
    cells = re.findall(r'<td class="step">(.*?)</td>', page, flags=re.S)
    return [text for text in (re.sub(r"\s+", "", _text(c)) for c in cells) if text in BARE]


def _section(page: str, part: str) -> str:
    return re.search(rf'<section id="part-{re.escape(part)}">(.*?)</section>', page, re.S).group(1)


def _reference(page: str, part: str) -> str:
    return re.search(r'<div class="reference">(.*?)</div></div>', _section(page, part),
                     re.S).group(1)


@pytest.fixture(scope="module")
def key_page() -> str:
    """The real key with every derivation's evidence (verified in this process, no models)."""
    import derivations
    from derivations.core import _REGISTRY

    results = []
    for key, verification in derivations.verify_all(workers=1).items():
        d = _REGISTRY[key]()
        results.append(Evidence(d.part, d.name, f"{len(verification.steps)} steps verified",
                                verification.ok, verification.seconds, derivation=d,
                                verification=verification))
    return render(parts(results))


def test_every_part_of_the_key_shows_its_reference_answer(key_page):
    from grading.key.homework import PARTS

    for part in PARTS:
        assert _reference(key_page, part).strip(), part
    for part in ("1.a", "1.b", "1.g", "1.h", "3.a", "3.b", "3.c"):
        assert "<math" in _reference(key_page, part), part
    assert "<mfrac>" in _reference(key_page, "1.h") and "∏" in _reference(key_page, "1.a")
    options = _text(_reference(key_page, "1.d"))
    assert re.findall(r"\((\d)\)", options) == ["1", "2", "3", "4"] and "Any 2 of" in options
    assert re.findall(r"\((\d)\)", _text(_reference(key_page, "1.j"))) == ["3"]
    for part in ("1.e", "1.f"):
        assert _text(_reference(key_page, part)).split()[:3] == ["Reference", "answer", "No:"]


def test_the_key_page_shows_no_python_name_and_no_bare_step(key_page):
    assert python_names(key_page) == []
    assert bare_steps(key_page) == []
    claims = [re.sub(r"\s+", "", _text(c))
              for c in re.findall(r'<span class="claim">(.*?)</span>', key_page, re.S)]
    assert "D*>0" in claims  # SymPy settled it to True from the assumptions: the claim is shown


def test_python_names_integral_limits_and_bare_steps_are_caught():
    from sympy.printing.mathml import MathMLPresentationPrinter

    x, lo, hi = sp.symbols("x x_lo x_hi")
    old = MathMLPresentationPrinter().doprint(sp.Integral(x, (x, lo, hi)))
    page = ("<p>derivations.kl:KL_EQUAL_VARIANCE</p>"
            f"<math>{old}</math><table><tr><td class=\"step\"><math><mi>True</mi></math></td>"
            "<td class=\"step\"><math><mn>0</mn><mo>=</mo><mn>0</mn></math></td></tr></table>")
    assert python_names(page) == ["derivations.", "KL_EQUAL_VARIANCE",
                                  "<msubsup><mo>&#x222B;</mo><msub><mi>x</mi><mi>lo</mi>"]
    assert bare_steps(page) == ["True", "0=0"]


def test_a_reference_that_cannot_be_built_is_described_without_python_names():
    def broken() -> None:
        raise ValueError("derivations.kl has no KL_MISSING")

    question = type("Q", (), {"kind": "expression", "accept": (), "start": None,
                              "relation": "=", "reference": SimpleNamespace(label=""),
                              "reference_expr": property(lambda self: broken())})()
    shown = render([Part("9.z", 1, "", presented(question))])
    assert "could not be built" in shown and python_names(shown) == []


def test_a_missing_part_never_takes_its_neighbours_answer():
    results = [Evidence("1.h", "KL", "ok", True, 0.1), Evidence("4", "score", "ok", True, 0.1),
               Evidence("?", "crashed", "raised", False, 0.1)]
    shown = parts(results)
    ids = [p.id for p in shown]
    assert ids.index("1.h") < ids.index("3.a") < ids.index("4") < ids.index("4.b") < \
        ids.index("?") == len(ids) - 1
    by_id = {p.id: p for p in shown}
    assert [e.claim for e in by_id["1.h"].evidence] == ["KL"]
    assert by_id["1.g"].evidence == [] and by_id["4"].title == "Question 4: supporting results"
    assert by_id["4"].reference is None and by_id["?"].reference is None
