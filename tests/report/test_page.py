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
* the screenshot shows the figure pixel for pixel where the ``<img>`` is, and is not blank.

Each check has a twin: one mutated page (a script error, a missing stylesheet, MathML forced
to plain inline layout as in a browser without MathML, math painted white, the figure swapped
for one with the factor-2 mistake) on which every check must fail, each for its own mutation.
Set ``GENVERIFY_SCREENSHOT=path.png`` to keep the screenshot of the real page.

Chromium is required: without it these tests FAIL and say how to install it
(``apt-get install -y chromium``). On a developer machine without a browser, set
``GENVERIFY_NO_BROWSER=1`` to skip the browser tests only (the tests of the HTML itself still
run). The browser part takes ~5 s (one browser, two pages).
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

from derivations import kl
from derivations.core import Derivation, Step
from report.page import Evidence, Part, render
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
    ]


@pytest.fixture(scope="module")
def page(parts) -> str:
    return render(parts, title="genverify report (browser test)")


def _mutated(page: str, figure_png: bytes) -> str:
    """The twin page: each mutation must make exactly its own check fail."""
    other = base64.b64encode(_figure_png(factor=2.0)).decode("ascii")
    page = page.replace(base64.b64encode(figure_png).decode("ascii"), other)
    return page.replace("</head>", '<link rel="stylesheet" href="missing.css">'
                        "<style>math, math * { display: inline !important; }"
                        " math { color: #fff; }</style></head>").replace(
        "</body>", "<script>undefinedFunction()</script></body>")


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
    load = browser.load(path, probe=PROBE)
    path.with_name("screenshot.png").write_bytes(load.screenshot_png)
    if os.environ.get("GENVERIFY_SCREENSHOT"):  # keep a copy for a person to look at
        Path(os.environ["GENVERIFY_SCREENSHOT"]).write_bytes(load.screenshot_png)
    return load


@pytest.fixture(scope="module")
def loaded_twin(browser, page, figure_png, tmp_path_factory) -> PageLoad:
    path = tmp_path_factory.mktemp("twin") / "index.html"
    path.write_text(_mutated(page, figure_png), "utf-8")
    return browser.load(path, probe=PROBE)


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
    assert len(loaded.probe["math"]) == steps + len(parts)  # each step and each reference
    assert _laid_out_as_math(loaded), loaded.probe | {"math": loaded.probe["math"][:2]}


def test_formulas_forced_into_plain_inline_layout_are_not_taken_for_math(loaded_twin):
    assert not _laid_out_as_math(loaded_twin)
    assert loaded_twin.probe["stacked"] == 0 and loaded_twin.probe["raised"] == 0


def test_every_formula_shows_ink_in_the_screenshot(loaded):
    assert all(_math_inked(loaded))


def test_formulas_painted_white_show_no_ink(loaded_twin):
    assert not any(_math_inked(loaded_twin))


def test_the_screenshot_shows_the_figure_pixel_for_pixel(loaded, figure_png):
    assert _not_blank(loaded.screenshot_png)
    assert _figure_shown(loaded, figure_png)


def test_a_swapped_figure_is_not_taken_for_the_figure(loaded_twin, figure_png):
    assert [i for i in loaded_twin.probe["images"] if i["complete"] and i["width"] > 0]
    assert not _figure_shown(loaded_twin, figure_png)


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
