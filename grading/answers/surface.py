"""The surface of an answer: Unicode look-alikes made ASCII, and the math taken out of prose.

Students paste answers from word processors, PDFs and chat: full-width ``＋``, the minus sign
``−``, ``×`` and ``·`` for products, superscript digits ``x²``, and sentences around the math
("The output dimension is 2.", "0, because it is the same distribution"). Both readers see the
text after :func:`normalise` (which keeps every character's original position, so errors still
point into what the student wrote) and after :func:`extract_math`, which keeps the one run of
math in a sentence and refuses — rather than guesses — when a sentence holds two candidate
answers. Nothing here evaluates anything: it is string surgery with position maps.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from grading.answers.limits import ParseError
from grading.answers.notation import FUNCTION_WORDS, GREEK, UNICODE_GREEK

__all__ = ["Surface", "extract_math", "normalise"]

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻", "0123456789+-"))
_SUBSCRIPTS = dict(zip("₀₁₂₃₄₅₆₇₈₉", "0123456789"))
# look-alikes of ASCII operators (full-width forms U+FF01-FF5E are folded by NFKC as well)
_LOOKALIKES = {
    "−": "-", "–": "-", "‐": "-", "‑": "-", "⁃": "-", "﹣": "-", "∗": "*", "⁎": "*",
    "∕": "/", "⁄": "/", "÷": "/", "′": "'", "’": "'", "‘": "'", "″": "''", "＂": '"',
    "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2002": " ", "\u2003": " ", "\u200b": "",
    "ℓ": "\\ell ", "ϵ": "\\epsilon ", "∂": "\\partial ", "∇": "\\nabla ", "∫": "\\int ",
    "⊤": "^\\top ", "ᵀ": "^\\top ", "∥": "\\| ", "⟨": "\\langle ", "⟩": "\\rangle ",
    "≠": "\\neq ", "≤": "\\leq ", "≥": "\\geq ", "∈": "\\in ", "∼": "\\sim ", "ℝ": "\\mathbb{R}",
    "·": "*", "⋅": "*", "×": "*", "½": "(1/2)", "⅓": "(1/3)", "¼": "(1/4)", "¾": "(3/4)",
    "⅔": "(2/3)", "ᾱ": "\\bar{\\alpha}", "ᾰ": "\\breve{\\alpha}", "ā": "\\bar{a}",
    "x̄": "\\bar{x}", "ȳ": "\\bar{y}", "ŷ": "\\hat{y}", "x̂": "\\hat{x}", "x̃": "\\tilde{x}",
    "μ̂": "\\hat{\\mu}", "σ̂": "\\hat{\\sigma}", "θ̂": "\\hat{\\theta}",
}
# combining accents after a letter: the letter with that decoration
_COMBINING = {"\u0304": "bar", "\u0305": "bar", "\u0302": "hat", "\u0303": "tilde"}


@dataclass(frozen=True)
class Surface:
    """Normalised text and, for each of its characters, the position in the original."""

    text: str
    positions: tuple[int, ...]

    def origin(self, position: int) -> int:
        """The original position of character ``position`` of :attr:`text`."""
        if not self.positions:
            return 0
        return self.positions[min(max(position, 0), len(self.positions) - 1)]


def normalise(text: str) -> Surface:
    """``text`` with look-alike characters replaced by what they look like.

    ``x²`` becomes ``x^{2}`` (a run of superscripts is one exponent), ``x₁`` becomes ``x_{1}``,
    full-width and other compatibility forms of ASCII become ASCII (NFKC, one character at a
    time, so Greek letters and mathematical symbols are left alone).
    """
    text, origins = _recover_utf8(text)
    out: list[str] = []
    positions: list[int] = []

    def emit(piece: str, position: int) -> None:
        out.append(piece)
        positions.extend([origins[position] if origins else position] * len(piece))

    i, n = 0, len(text)
    while i < n:
        c = text[i]
        for table, mark in ((_SUPERSCRIPTS, "^"), (_SUBSCRIPTS, "_")):
            if c in table:
                j = i
                while j < n and text[j] in table:
                    j += 1
                emit(_script(out, mark, "".join(table[ch] for ch in text[i:j])), i)
                i = j
                break
        else:
            if i + 1 < n and text[i + 1] in _COMBINING and c.isalpha():
                letter = c if c.isascii() else "\\" + UNICODE_GREEK.get(c, c)
                emit(f"\\{_COMBINING[text[i + 1]]}{{{letter}}}", i)
                i += 2
                continue
            if c in _LOOKALIKES:
                emit(_LOOKALIKES[c], i)
            elif 0xFF01 <= ord(c) <= 0xFF5E or c == "\u3000":
                emit(unicodedata.normalize("NFKC", c), i)
            else:
                emit(c, i)
            i += 1
    return Surface("".join(out), tuple(positions) + (origins[n] if origins else n,))


def _script(out: list[str], mark: str, characters: str) -> str:
    """A run of superscript (or subscript) characters as a script: ``x²`` is ``x^{2}``; after
    a written mark (``x^²``, ``x^{²}``) the mark is not repeated."""
    if out and out[-1] == mark:
        return "{" + characters + "}"
    if len(out) > 1 and out[-1] == "{" and out[-2] == mark:
        return characters
    return mark + "{" + characters + "}"


_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def _recover_utf8(text: str) -> tuple[str, list[int] | None]:
    """Text whose UTF-8 bytes were decoded with ``surrogateescape`` (a command line under a
    non-UTF-8 locale turns ``x²`` into ``x\\udcc2\\udcb2``) decoded again; with, when it
    changed, each character's position in the original. Bytes that are not UTF-8 at all
    (``x²`` saved as Latin-1) are a :class:`ParseError` saying so."""
    if _ESCAPED_BYTES.search(text) is None:
        return text, None
    pieces: list[str] = []
    origins: list[int] = []
    last = 0
    for run in _ESCAPED_BYTES.finditer(text):
        pieces.append(text[last:run.start()])
        origins.extend(range(last, run.start()))
        raw = bytes(ord(ch) - 0xDC00 for ch in run.group(0))
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("the answer holds bytes that are not UTF-8 text: write it in "
                             "UTF-8", run.start()) from None
        pieces.append(decoded)
        origins.extend([run.start()] * len(decoded))
        last = run.end()
    pieces.append(text[last:])
    origins.extend(range(last, len(text) + 1))
    return "".join(pieces), origins


# -- prose around the math ---------------------------------------------------------------------

# English function words: an answer is read as a sentence only when it has one of these
_STOPWORDS = frozenset("""a an the is are was be been being it its it's this that these those
which who because since so thus hence therefore then of to in on at by for with as or and but
not no yes we i you they he she our my your their there here where when while if than would
will can could should may might must do does did has have had get gets got equals equal gives
give given answer final result value same different output input dimension number
distribution function means mean so-called approximately about only just also""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:'[a-z]+)?")


def _is_prose_word(word: str, before: str) -> bool:
    """A word of two or more letters, all lower case (or capitalised), not a LaTeX command
    and not an identifier (``p_data``, ``x1``)."""
    if before.endswith("\\"):
        return False
    bare = word.split("'")[0]
    if len(bare) < 2 or "_" in bare or any(ch.isdigit() for ch in bare):
        return False
    if bare.lower() not in _STOPWORDS and bare in _NAMES:
        return False
    return bare.isalpha() and (bare.lower() == bare or bare.istitle())


# names the readers know as words (a prose word is never one of these unless it is also an
# English function word such as "in")
_NAMES = GREEK | FUNCTION_WORDS | frozenset(
    "Sum sum prod Product Expectation ell oo infty inf std logvar eps".split())


def extract_math(text: str) -> tuple[str, int, str]:
    """The math of an answer written inside a sentence: ``(math, offset, note)``.

    An answer with no prose comes back unchanged (note ``""``). Math between ``$...$`` is taken
    when there is exactly one such span. Otherwise the words of prose are found; the one run of
    non-prose text that remains (with trailing punctuation removed) is the answer, and the note
    says what was read. Two runs of math separated by prose ("2, or maybe 3") are two
    candidate answers: a :class:`ParseError` asks for one.
    """
    spans = [m for m in re.finditer(r"\$\$?([^$]+)\$\$?", text)]
    if spans:
        if len(spans) > 1 and len({m.group(1).strip() for m in spans}) > 1:
            raise ParseError("the answer holds several formulas between $...$: "
                             "give the one final answer", spans[1].start())
        body = spans[0].group(1)
        outside = text[: spans[0].start()] + text[spans[-1].end():]
        note = "" if not outside.strip(" .,;:") else f"read the math {body.strip()!r}"
        return body, spans[0].start(1), note
    text = _without_prose_asides(text)
    words = [m for m in _WORD.finditer(text) if not _inside_text_command(text, m.start())
             and not text[:m.start()].endswith(("\\", "_", "_{", "^", "^{"))]
    english = [m for m in words if _english(m.group(0))]
    if not any(m.group(0).split("'")[0].lower() in _STOPWORDS and len(m.group(0)) > 1
               or m.group(0) in ("a", "I") and _followed_by_word(text, m.end())
               for m in words) and not (english and ("\\" in text or len(english) > 1)):
        return text, 0, ""  # one unknown word in plain text is a name (sigmas), not prose
    prose = [m for m in words if _is_prose_word(m.group(0), text[: m.start()])]
    if not prose:
        return text, 0, ""
    reason = next((m for m in prose if m.group(0).lower() in _REASONS), None)
    if reason is not None:  # "0, because it is the same distribution": the rest is a reason
        prose = [m for m in prose if m.start() < reason.start()] + [reason]
    runs: list[tuple[int, int, str]] = []  # start, end, the prose word that follows
    start = 0
    for m in [*prose, None]:
        end = m.start() if m is not None else len(text)
        piece = text[start:end]
        stripped = piece.strip(" \t\n,.;:!?\"'")
        if stripped and not _only_connectives(stripped):
            lead = piece.index(stripped[0])
            runs.append((start + lead, start + lead + len(stripped),
                         m.group(0).lower() if m is not None else ""))
        if m is None or m is reason:
            break
        start = m.end()
    # "KL is 0": a run followed by "is"/"equals" names the quantity; the answer comes after
    answers = [run for run in runs if run[2] not in _COPULAS] or runs[-1:]
    if not answers:
        raise ParseError("the answer is a sentence with no formula or number in it",
                         prose[0].start())
    if len(answers) > 1:
        first, second = (text[a:b] for a, b, _ in answers[:2])
        raise ParseError(f"the sentence holds two candidate answers, {first!r} and {second!r}: "
                         "give the one final answer", answers[1][0])
    a, b, _ = answers[0]
    label = re.match(r"\(\d\)\s+", text[a:b])  # "(3) p(z|x), which ...": an option's label
    if label:
        a += label.end()
    math = text[a:b]
    if math.endswith(".") and not math[-2:-1].isdigit():
        math = math[:-1]
    if math.count("(") != math.count(")"):
        raise ParseError(f"cannot tell where the formula in the sentence ends ({math!r}): "
                         "give the answer alone", a)
    return math, a, f"read the math {math!r} from the sentence"


_REASONS = frozenset({"because", "since", "which", "as", "where", "so", "when", "while"})
_COPULAS = frozenset({"is", "are", "equals", "equal", "becomes", "gives", "was", "be"})


def _english(word: str) -> bool:
    """A lower-case word of four or more letters that no reader knows as a name: prose
    ("everywhere"), never math (LaTeX multiplies letters, but nobody writes abcd for a·b·c·d)."""
    bare = word.split("'")[0]
    return len(bare) >= 4 and bare.isalpha() and bare.islower() and bare not in _KNOWN_WORDS


# the words of LaTeX commands written without their backslash, and plain names: never prose
_KNOWN_WORDS = _NAMES | frozenset("""alphabar sigmoid frac dfrac tfrac cdot times mathrm mathbb
mathcal text textrm operatorname left right big bigg nabla partial data model real fake prime
star tilde widehat widetilde overline mathbf boldsymbol limits quad qquad middle langle rangle
intercal parallel""".split())


def _without_prose_asides(text: str) -> str:
    """``4 (mean and variance)``: a parenthesis holding only words is an aside, not math."""
    return re.sub(r"\s*\((?:\s*[A-Za-z]{2,}[,;]?)+\s*\)", "", text) \
        if re.search(r"\((?:\s*[A-Za-z]{2,}[,;]?)+\s*\)", text) and \
        any(w.lower() in _STOPWORDS or _english(w) for w in re.findall(r"\(([^()]*)\)", text)
            for w in w.split()) else text


def _followed_by_word(text: str, end: int) -> bool:
    return re.match(r" +[a-z]{2,}", text[end:]) is not None


def _only_connectives(piece: str) -> bool:
    return all(not ch.isalnum() and ch not in "\\{}^_+-*/=|" for ch in piece)


def _inside_text_command(text: str, position: int) -> bool:
    """Whether ``position`` lies inside ``\\text{...}``/``\\mathrm{...}`` (a name, not prose)."""
    head = text[:position]
    opening = max(head.rfind("\\text{"), head.rfind("\\mathrm{"), head.rfind("\\textrm{"),
                  head.rfind("\\operatorname{"), head.rfind("\\mathit{"))
    return opening >= 0 and "}" not in head[opening:]
