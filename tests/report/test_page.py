"""The HTML report page, rendered from real derivation evidence and loaded in a real browser.

:func:`report.page.render` builds one self-contained page: MathML math, figures as
``data:`` URLs, no script, no network. Here a page is rendered from the derived Gaussian KL
(``derivations.kl.general()`` and its ``verify()``, the equal-variance KL of part 1.h) and a
matplotlib figure of the derived closed form, written to ``tmp_path`` and opened in Debian's
headless Chromium through the DevTools protocol (``tests/report/headless_chromium.py``). We
check what a person would see:

* the page loads with no console error, uncaught exception or failed load, and asks for no URL
  besides itself;
* every ``<math>`` is a MathML element laid out as math (``display: math``; each fraction's
  numerator sits above its denominator; each superscript is raised above its base), and has
  visible ink in the screenshot;
* the screenshot shows the figure pixel for pixel where the ``<img>`` is, and is not blank;
* at 1400 px the page is no wider than the viewport (a step longer than the page scrolls
  inside its cell);
* the visible text holds no Python name (``derivations.``, ``KL_EQUAL_VARIANCE``, integral
  limits ``x_lo``/``x_hi``, ``ell``, a subscript "tilde", double-struck ⅆ and ⅇ), and no step
  shows a bare ``True``, ``0`` or ``0 = 0`` (the real GAN derivation has steps SymPy settled to
  ``True``: the page shows their claims).

Each check has a twin: one mutated page (a script error, a missing stylesheet, MathML forced
to plain inline layout as in a browser without MathML, math painted white, the figure swapped
for one with the factor-2 mistake, the scroll containers switched off, SymPy's own printing of
an integral over x_lo…x_hi with ⅆ and ⅇ, a Python name, a bare ``True`` step) on which every
check must fail, each for its own mutation.
Set ``GENVERIFY_SCREENSHOT=path.png`` to keep the screenshot of the real page.

Chromium is required: without it these tests FAIL and say how to install it
(``apt-get install -y chromium``). On a developer machine without a browser, set
``GENVERIFY_NO_BROWSER=1`` to skip the browser tests only (the tests of the HTML itself still
run). The browser part takes ~5 s (one browser, two pages).

The tests of the HTML alone (no browser) cover the summary, the contents, the settings and the
failed steps.
"""

from __future__ import annotations

import base64
import html.parser
import io
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy as sp
from PIL import Image

from derivations import gan, kl
from derivations.core import Derivation, Step
from report.page import Evidence, Part, page_meta, render
from tests.report.headless_chromium import Chromium, PageLoad, find_chromium

INSTALL_HINT = ("Chromium is needed to test the HTML report in a real browser: install it with "
                "`apt-get update && apt-get install -y chromium` (Debian), or set "
                "GENVERIFY_NO_BROWSER=1 to skip the browser tests on a developer machine.")

# Evaluated in the page after its load event; returns what the layout engine made of it.
PROBE = """(() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const rect = e => e.getBoundingClientRect();
  const maths = [...document.querySelectorAll('math')];
  const fractions = [...document.querySelectorAll('mfrac')].filter(f => f.children.length === 2);
  const powers = [...document.querySelectorAll('msup')].filter(s => s.children.length === 2);
  return {
    math: maths.map(m => ({mathml: m instanceof MathMLElement,
                           display: getComputedStyle(m).display, box: box(m)})),
    fractions: fractions.length,
    stacked: fractions.filter(f =>
        rect(f.children[0]).bottom <= rect(f.children[1]).top + 0.5).length,
    powers: powers.length,
    raised: powers.filter(s =>
        rect(s.children[1]).bottom < rect(s.children[0]).bottom - 1).length,
    images: [...document.images].map(i => ({complete: i.complete, width: i.naturalWidth,
        height: i.naturalHeight, x: i.getBoundingClientRect().left + scrollX + i.clientLeft,
        y: i.getBoundingClientRect().top + scrollY + i.clientTop})),
    viewport: innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    overflowing: [...document.querySelectorAll('table, .formula, .scroll, img, section')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5).length,
    text: document.body.innerText,
    scripts: [...document.querySelectorAll('msub, msubsup')].map(e => e.children[1] ?
        e.children[1].textContent.trim() : ''),
    identifiers: [...document.querySelectorAll('mi, mo')].map(e => e.textContent.trim()),
    steps: [...document.querySelectorAll('td.step')].map(e =>
        e.textContent.replace(/\\s+/g, '')),
  };
})()"""

# -- the page under test ------------------------------------------------------------------------


def _figure_png(factor: float = 1.0) -> bytes:
    """A matplotlib figure of the derived KL(N(μ, σ²) ‖ N(0, 1)) against μ (no pyplot state);
    ``factor`` scales the curves (the twin's figure has the factor-2 mistake)."""
    from matplotlib.figure import Figure

    mu_1, sigma_1, mu_2, sigma_2 = kl.KL_GAUSSIAN.variables
    kl_prior = sp.lambdify((mu_1, sigma_1), kl.KL_GAUSSIAN(mu_1, sigma_1, 0, 1), "numpy")
    figure = Figure(figsize=(6, 3.5), dpi=80)
    axes = figure.add_subplot()
    means = np.linspace(-2, 2, 101)
    for scale, colour in zip((0.5, 1.0, 2.0), ("tab:blue", "tab:orange", "tab:green")):
        axes.plot(means, factor * kl_prior(means, scale), color=colour, label=f"σ = {scale}")
    axes.set_xlabel("μ")
    axes.set_ylabel("KL(N(μ, σ²) ‖ N(0, 1))")
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def figure_png() -> bytes:
    return _figure_png()


@pytest.fixture(scope="module")
def parts(figure_png) -> list[Part]:
    """Two homework parts with their real derivations, verifications, a table and a figure."""
    general, equal = kl.general(), kl.equal_variance()
    checked = {}
    for item in (general, equal):
        start = time.perf_counter()
        checked[item.name] = (item.verify(), time.perf_counter() - start)
    mu_1, sigma_1, mu_2, sigma_2 = kl.KL_GAUSSIAN.variables
    table = [{"μ1": f"{m}", "σ1": f"{s}", "KL to N(0, 1)":
              f"{float(kl.KL_GAUSSIAN(m, s, 0, 1)):.6f}"} for m, s in ((0, 1), (1, 1), (0, 2))]
    return [
        Part("1.d", 4, "KL divergence between two Gaussians.", kl.KL_GAUSSIAN, [
            Evidence("1.d", general.name, "derivation checked step by step",
                     checked[general.name][0].ok, checked[general.name][1],
                     derivation=general, verification=checked[general.name][0]),
            Evidence("1.d", "the derived KL against μ", "closed form evaluated", True, 0.0,
                     table=table, figure_png=figure_png),
        ]),
        Part("1.h", 2, "KL between Gaussians of equal variance.", kl.KL_EQUAL_VARIANCE, [
            Evidence("1.h", equal.name, "derivation checked step by step",
                     checked[equal.name][0].ok, checked[equal.name][1],
                     derivation=equal, verification=checked[equal.name][0]),
        ]),
        Part("3.c", 3.5, "The optimal D*(x) for a fixed G, over p_data and p_G.",
             ["D* = p_data/(p_data + p_G)"],
             [_derivation_evidence(gan.value_function()),
              _derivation_evidence(gan.optimal_discriminator())]),
        Part("t", 1, "A step longer than the page.", None,
             [_derivation_evidence(_long_derivation())]),
    ]


def _derivation_evidence(derivation: Derivation) -> Evidence:
    verification = derivation.verify()
    return Evidence(derivation.part, derivation.name, "derivation checked step by step",
                    verification.ok, verification.seconds, derivation=derivation,
                    verification=verification)


def _long_derivation() -> Derivation:
    """One product of 150 factors: far wider than the page, and not a sum to break into lines."""
    factors = sp.symbols("a_1:151", positive=True)
    return Derivation("a long product", "t", (Step(sp.Mul(*factors), "150 factors", "def"),),
                      args=factors)


@pytest.fixture(scope="module")
def page(parts) -> str:
    return render(parts, title="genverify report (browser test)",
                  meta=page_meta(quick=True, mnist_dir=None))


def _sympy_mathml(expr: sp.Basic) -> str:
    """SymPy's own presentation MathML, as the page printed before it used the course's
    notation (integral limits x_lo, x_hi; ⅆ and ⅇ; ``ell``; a subscript "tilde")."""
    from sympy.printing.mathml import MathMLPresentationPrinter

    return f"<math>{MathMLPresentationPrinter().doprint(expr)}</math>"


def _defects() -> str:
    """A section with the defects the page must not have: Python names, SymPy's spelling of
    the course's symbols, and a step that is a bare True."""
    x, lo, hi = sp.symbols("x x_lo x_hi")
    p_data = sp.Function("p_data")
    integral = sp.Integral(p_data(x) * sp.exp(-x) * sp.Symbol("ell") * sp.Symbol("x_tilde"),
                           (x, lo, hi))
    return ('<section><p>Reference answer: derivations.kl:KL_EQUAL_VARIANCE</p>'
            f"<p>{_sympy_mathml(integral)}</p><table class=\"steps\"><tr><td class=\"step\">"
            f"{_sympy_mathml(sp.true)}</td></tr></table></section>")


def _mutated(page: str, figure_png: bytes) -> str:
    """The twin page: each mutation must make exactly its own check fail."""
    other = base64.b64encode(_figure_png(factor=2.0)).decode("ascii")
    page = page.replace(base64.b64encode(figure_png).decode("ascii"), other)
    return page.replace("</head>", '<link rel="stylesheet" href="missing.css">'
                        "<style>math, math * { display: inline !important; }"
                        " math { color: #fff; }</style></head>").replace(
        "</body>", "<script>undefinedFunction()</script></body>")


def _defective(page: str) -> str:
    """The second twin: the scroll containers switched off, and the defects of :func:`_defects`."""
    return page.replace("</head>", "<style>.formula, .scroll { overflow: visible !important; }"
                        " table.steps { table-layout: auto !important; }</style></head>"
                        ).replace("</body>", f"{_defects()}</body>")


# -- judging a loaded page ------------------------------------------------------------------------


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int32)


def _figure_shown(load: PageLoad, figure_png: bytes) -> bool:
    """The screenshot holds the figure, pixel for pixel, where the page put its <img>."""
    shot, figure = _pixels(load.screenshot_png), _pixels(figure_png)
    height, width = figure.shape[:2]
    for image in load.probe["images"]:
        if not image["complete"] or (image["width"], image["height"]) != (width, height):
            continue
        x, y = round(image["x"]), round(image["y"])
        crop = shot[y:y + height, x:x + width]
        if crop.shape == figure.shape and np.abs(crop - figure).mean() < 2.0:
            return True
    return False


def _math_inked(load: PageLoad) -> list[bool]:
    """For each <math>, whether its box in the screenshot holds dark pixels (text)."""
    shot = _pixels(load.screenshot_png)
    inked = []
    for item in load.probe["math"]:
        b = item["box"]
        crop = shot[round(b["y"]):round(b["y"] + b["h"]), round(b["x"]):round(b["x"] + b["w"])]
        dark = (crop.mean(axis=2) < 128).mean() if crop.size else 0.0
        inked.append(b["w"] > 4 and b["h"] > 4 and dark > 0.01)
    return inked


def _laid_out_as_math(load: PageLoad) -> bool:
    probe = load.probe
    return (bool(probe["math"]) and all(m["mathml"] and "math" in m["display"]
                                        for m in probe["math"])
            and probe["fractions"] > 0 and probe["stacked"] == probe["fractions"]
            and probe["powers"] > 0 and probe["raised"] == probe["powers"])


def _fits_the_viewport(load: PageLoad) -> bool:
    probe = load.probe
    return probe["pageWidth"] <= probe["viewport"] and probe["overflowing"] == 0


PYTHON_NAME = re.compile(r"\bderivations\.|\bsympy\.|\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+\b")
SPELLED = {"ell", "tilde", "ⅆ", "ⅇ", "True", "False", "lamda"}


def _python_names(load: PageLoad) -> list[str]:
    """Python names a reader would see: in the text, as integral limits (a subscript "lo" or
    "hi"), or SymPy's spelling of a symbol (``ell``, "tilde", ⅆ, ⅇ)."""
    probe = load.probe
    return PYTHON_NAME.findall(probe["text"]) \
        + [s for s in probe["scripts"] if s in ("lo", "hi", "tilde")] \
        + [i for i in probe["identifiers"] if i in SPELLED]


BARE = {"True", "true", "False", "false", "0", "0=0"}


def _bare_steps(load: PageLoad) -> list[str]:
    return [step for step in load.probe["steps"] if step in BARE]


def _not_blank(png: bytes) -> bool:
    """Many distinct colours and a fair share of non-white pixels."""
    pixels = _pixels(png).reshape(-1, 3)
    colours = len(np.unique(pixels[:, 0] * 65536 + pixels[:, 1] * 256 + pixels[:, 2]))
    return colours >= 64 and (pixels.min(axis=1) < 250).mean() > 0.02


# -- browser fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("GENVERIFY_NO_BROWSER") == "1":
        pytest.skip("GENVERIFY_NO_BROWSER=1: browser tests of the HTML report not run")
    if find_chromium() is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with Chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def loaded(browser, page, tmp_path_factory) -> PageLoad:
    path = tmp_path_factory.mktemp("report") / "index.html"
    path.write_text(page, "utf-8")
    load = browser.load(path, probe=PROBE, width=1400)
    path.with_name("screenshot.png").write_bytes(load.screenshot_png)
    if os.environ.get("GENVERIFY_SCREENSHOT"):  # keep a copy for a person to look at
        Path(os.environ["GENVERIFY_SCREENSHOT"]).write_bytes(load.screenshot_png)
    return load


@pytest.fixture(scope="module")
def loaded_twin(browser, page, figure_png, tmp_path_factory) -> PageLoad:
    path = tmp_path_factory.mktemp("twin") / "index.html"
    path.write_text(_mutated(page, figure_png), "utf-8")
    return browser.load(path, probe=PROBE, width=1400)


@pytest.fixture(scope="module")
def loaded_defective(browser, page, tmp_path_factory) -> PageLoad:
    path = tmp_path_factory.mktemp("defective") / "index.html"
    path.write_text(_defective(page), "utf-8")
    return browser.load(path, probe=PROBE, width=1400)


# -- the page in the browser ----------------------------------------------------------------------


def test_the_report_page_loads_in_chromium_with_no_console_error_and_no_request(loaded):
    assert loaded.errors == []
    assert loaded.requests == []


def test_a_script_error_and_a_missing_stylesheet_are_caught_as_errors_and_requests(loaded_twin):
    assert any("undefinedFunction" in error for error in loaded_twin.errors)
    assert any("missing.css" in error for error in loaded_twin.errors)
    assert [url for url in loaded_twin.requests if url.endswith("/missing.css")]


def test_every_formula_is_laid_out_as_mathml_math(loaded, parts):
    steps = sum(len(e.derivation.steps) for p in parts for e in p.evidence if e.derivation)
    assert len(loaded.probe["steps"]) == steps
    # each step, each reference, and the math of prompts and reasons
    assert len(loaded.probe["math"]) > steps + len(parts)
    assert _laid_out_as_math(loaded), {k: loaded.probe[k] for k in ("fractions", "stacked",
                                                                     "powers", "raised")}


def test_formulas_forced_into_plain_inline_layout_are_not_taken_for_math(loaded_twin):
    assert not _laid_out_as_math(loaded_twin)
    assert loaded_twin.probe["stacked"] == 0 and loaded_twin.probe["raised"] == 0


def test_every_formula_shows_ink_in_the_screenshot(loaded):
    assert all(_math_inked(loaded))


def test_formulas_painted_white_show_no_ink(loaded_twin):
    # forced inline, a formula may wrap: its bounding box then spans the words of its lines
    one_line = [inked for inked, m in zip(_math_inked(loaded_twin), loaded_twin.probe["math"])
                if m["box"]["h"] <= 30]
    assert len(one_line) > 20 and not any(one_line)


def test_the_screenshot_shows_the_figure_pixel_for_pixel(loaded, figure_png):
    assert _not_blank(loaded.screenshot_png)
    assert _figure_shown(loaded, figure_png)


def test_a_swapped_figure_is_not_taken_for_the_figure(loaded_twin, figure_png):
    assert [i for i in loaded_twin.probe["images"] if i["complete"] and i["width"] > 0]
    assert not _figure_shown(loaded_twin, figure_png)


def test_the_page_is_no_wider_than_a_1400_px_viewport(loaded):
    assert loaded.probe["viewport"] == 1400
    assert _fits_the_viewport(loaded), {k: loaded.probe[k] for k in ("pageWidth", "overflowing")}


def test_a_step_longer_than_the_page_without_its_scroll_container_is_caught(loaded_defective):
    assert loaded_defective.probe["pageWidth"] > loaded_defective.probe["viewport"]
    assert not _fits_the_viewport(loaded_defective)


def test_the_page_shows_no_python_name_and_the_course_notation(loaded):
    assert _python_names(loaded) == []
    assert {"ℝ", "e", "d"} <= set(loaded.probe["identifiers"])  # ∫_ℝ … dx and e^…


def test_python_names_and_sympys_spelling_are_caught(loaded_defective):
    found = _python_names(loaded_defective)
    for name in ("derivations.", "KL_EQUAL_VARIANCE", "lo", "hi", "ell", "tilde", "ⅆ", "ⅇ"):
        assert name in found, (name, found)


def test_no_step_is_a_bare_true_and_settled_claims_are_shown(loaded):
    assert _bare_steps(loaded) == []
    assert "D*>0" in loaded.probe["steps"]  # SymPy settled it to True: the claim is shown


def test_a_bare_true_step_is_caught(loaded_defective):
    assert _bare_steps(loaded_defective) == ["True"]


def test_a_blank_screenshot_is_judged_blank():
    white = Image.new("RGB", (1200, 800), "white")
    buffer = io.BytesIO()
    white.save(buffer, format="PNG")
    assert not _not_blank(buffer.getvalue())


# -- the HTML itself (no browser) -----------------------------------------------------------------


class _Resources(html.parser.HTMLParser):
    """Every src/href of a page, and whether it has a script."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        self.scripts += tag == "script"
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _external_resources(page: str) -> list[str]:
    parser = _Resources()
    parser.feed(page)
    return [url for url in parser.urls if not url.startswith(("data:", "#"))] \
        + ["<script>"] * parser.scripts


def test_the_page_is_self_contained_with_the_figure_embedded_byte_for_byte(page, figure_png):
    assert _external_resources(page) == []
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert [base64.b64decode(e) for e in embedded] == [figure_png]


def test_a_page_with_an_external_resource_or_a_script_is_not_self_contained(page):
    assert _external_resources(page.replace("</head>", '<link href="x.css"></head>')) == \
        ["x.css"]
    assert _external_resources(page.replace("</body>", "<script></script></body>")) == \
        ["<script>"]


def test_a_failed_step_is_shown_as_failed_and_counted_in_the_summary():
    x = sp.Symbol("x", real=True)
    wrong = Derivation("a wrong expansion", "t", (
        Step((x + 1) ** 2, "a square", "def"),
        Step(x**2 + 1, "expanded, cross term lost"),
    ), args=(x,))
    verification = wrong.verify()
    assert not verification.ok
    page = render([Part("t", 1, "expand", None, [
        Evidence("t", wrong.name, "derivation", verification.ok, 0.0, derivation=wrong,
                 verification=verification)])])
    assert page.count('<tr class="fail">') == 1 and page.count('<tr class="ok">') == 1
    assert "0 of 1 checks passed" in page


def test_the_header_shows_the_version_date_settings_seeds_and_data(page):
    from importlib import metadata

    assert f"<td>genverify</td><td>{metadata.version('genverify')}</td>" in page
    assert re.search(r"<td>date</td><td>\d{4}-\d\d-\d\d \d\d:\d\d", page)
    assert "<td>settings</td><td>quick" in page and "<td>seeds</td><td>0</td>" in page
    assert "embedded digits" in page


def test_a_full_run_on_mnist_is_not_reported_as_a_quick_run_on_the_embedded_digits():
    meta = page_meta(quick=False, mnist_dir="/data/mnist")
    assert meta["settings"] == "full" and meta["data"] == "MNIST IDX files from /data/mnist"
    page = render([], meta=meta)
    assert "quick" not in page and "embedded digits" not in page


def _failing_page() -> str:
    good = Evidence("1.h", "a passing check", "checked", True, 0.1)
    bad = Evidence("3.c", "the trained 1-D discriminator lands on D*", "too far", False, 0.2)
    return render([Part("1.h", 3.5, "", None, [good]), Part("3.c", 3.5, "", None, [bad])])


def test_the_summary_links_each_failed_check_and_the_contents_link_each_part():
    page = _failing_page()
    assert "1 of 2 checks passed." in page
    failed = re.search(r"<p>Failed:</p><ul>(.*?)</ul>", page).group(1)
    assert re.findall(r'href="#(check-\d+)"', failed) == ["check-2"]
    assert 'id="check-2"' in page and '<div class="evidence fail" id="check-2">' in page
    contents = re.search(r"<nav>(.*?)</nav>", page).group(1)
    assert re.findall(r'href="#(part-[^"]+)"', contents) == ["part-1.h", "part-3.c"]
    assert all(f'id="{a}"' in page for a in ("part-1.h", "part-3.c"))


def test_a_page_where_every_check_passes_links_no_failure():
    page = _failing_page().replace("too far", "")
    passing = render([Part("1.h", 3.5, "", None, [Evidence("1.h", "c", "ok", True, 0.1)])])
    assert "Failed:" in page and "Failed:" not in passing


def test_the_course_notation_in_a_sentence_becomes_mathml_and_the_words_stay_text():
    from report.page import mathtext

    shown = mathtext("Explicit form of p_θ(x|z), using y_j and KL(q‖p) ≥ 0.")
    assert shown.startswith("Explicit form of <math")
    assert "<msub><mi>p</mi><mrow><mi>θ</mi></mrow></msub>" in shown and "‖" in shown
    assert ", using <math" in shown and "_" not in re.sub(r"<[^>]+>", "", shown)


def test_a_name_from_code_in_a_sentence_stays_visible_as_text():
    from report.page import mathtext

    shown = mathtext("see KL_EQUAL_VARIANCE and euler_equations")
    assert "<math" not in shown and "KL_EQUAL_VARIANCE" in shown and "euler_equations" in shown


def test_symbols_print_as_in_the_course():
    from report.page import math

    x, sigma = sp.Symbol("x", real=True), sp.Symbol("sigma", positive=True)
    lo, hi = sp.symbols("x_lo x_hi")
    expr = sp.Integral(sp.Symbol("ell") * sp.Symbol("x_tilde") * sp.Function("p_data")(x)
                       * sp.exp(-x**2 / (2 * sigma**2)), (x, lo, hi))
    shown = math(expr)
    assert "<mi>ℓ</mi>" in shown and '<mover accent="true"><mi>x</mi><mo stretchy="false">~' \
        in shown
    assert '<msub><mi>p</mi><mi mathvariant="normal">data</mi></msub>' in shown
    assert "<msub><mo>∫</mo><mi>ℝ</mi></msub>" in shown
    assert '<mi mathvariant="normal">d</mi><mi>x</mi>' in shown
    power = math(sp.exp(-x**2 / (2 * sigma**2)))  # the fraction in the exponent, inline
    assert '<msup><mi mathvariant="normal">e</mi>' in power and "<mo>/</mo>" in power
    assert "<mfrac>" not in power
    for spelled in ("ell", "tilde", "lo", "hi", "&dd;", "&ExponentialE;", "p_data"):
        assert f">{spelled}<" not in shown and spelled not in re.sub(r"<[^>]+>", " ", shown)


def test_sympys_own_printing_of_the_same_expression_has_every_defect():
    x, sigma = sp.Symbol("x", real=True), sp.Symbol("sigma", positive=True)
    lo, hi = sp.symbols("x_lo x_hi")
    expr = sp.Integral(sp.Symbol("ell") * sp.Symbol("x_tilde") * sp.Function("p_data")(x)
                       * sp.exp(-x**2 / (2 * sigma**2)), (x, lo, hi))
    shown = _sympy_mathml(expr)
    for spelled in ("ell", "tilde", "lo", "hi", "&dd;", "&ExponentialE;", "p_data"):
        assert f">{spelled}<" in shown
