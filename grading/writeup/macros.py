"""Students' LaTeX macros, expanded by textual substitution (nothing executes).

What is expanded: ``\\newcommand``, ``\\renewcommand``, ``\\providecommand`` (starred or not) with
no argument or a fixed number of arguments (``[2]`` and ``#1``, ``#2`` in the body),
``\\DeclareMathOperator{\\KL}{KL}`` (starred or not: becomes ``\\operatorname{KL}``), and
``\\def\\E{...}`` without parameters. Each definition must fit on one line (the form students
write); its line is removed from the text and the macro is replaced wherever it is used, with
its arguments read as ``{...}`` groups or single tokens as TeX reads them.

What is refused, with a message: an optional argument (``[2][default]``), ``\\def`` with
parameters, ``\\let``, a definition spread over lines, a macro that expands to itself (directly
or not) or expands past :data:`MAX_EXPANSIONS` uses or :data:`MAX_GROWTH` times the text. A
refused macro stays unexpanded, so the answers that use it show it as an unknown command and go
to a person; the other macros are expanded.

Source: the LaTeX 2e user's guide (Lamport, *LaTeX*, 2nd ed., §3.4 "Defining Commands") for
the forms; TeX's argument reading (*The TeXbook*, ch. 20) for undelimited arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Macro", "Macros", "MAX_EXPANSIONS", "MAX_GROWTH", "read_definitions"]

MAX_EXPANSIONS = 20_000  # uses replaced in one document
MAX_GROWTH = 4  # the expanded text may be at most this many times the original (+ 64 KiB)
MAX_ROUNDS = 12  # macros used inside macros: nesting depth

_NAME = r"\\([A-Za-z]+)"
_DEFINING = re.compile(r"\\(?:(?:re)?newcommand|providecommand|DeclareMathOperator|def|let)"
                       r"(?![A-Za-z])")
_NEWCOMMAND = re.compile(r"\\(?:(?:re)?newcommand|providecommand)\*?\s*(?:\{\s*" + _NAME
                         + r"\s*\}|" + _NAME + r")\s*(\[\s*(\d)\s*\])?\s*(\[)?")
_OPERATOR = re.compile(r"\\DeclareMathOperator(\*)?\s*(?:\{\s*" + _NAME + r"\s*\}|" + _NAME
                       + r")\s*")
_DEF = re.compile(r"\\def\s*" + _NAME + r"\s*([^{\s]*)\s*")


@dataclass(frozen=True)
class Macro:
    """A macro: its name (without the backslash), number of arguments and body."""

    name: str
    arguments: int
    body: str
    line: int


@dataclass
class Macros:
    """The macros of a document, the lines that defined them, and the refusals."""

    defined: dict[str, Macro] = field(default_factory=dict)
    definition_lines: set[int] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)

    def expand(self, text: str) -> str:
        """``text`` with every defined macro replaced (see the module docstring); a macro
        that grows without end is refused and the text is returned as far as it got."""
        if not self.defined:
            return text
        pattern = re.compile(r"\\(" + "|".join(sorted(map(re.escape, self.defined),
                                                         key=len, reverse=True))
                             + r")(?![A-Za-z])")
        budget = [MAX_EXPANSIONS]
        limit = MAX_GROWTH * len(text) + (1 << 16)
        for _ in range(MAX_ROUNDS):
            expanded = self._expand_once(text, pattern, budget)
            if expanded == text:
                return text
            if len(expanded) > limit or budget[0] < 0:
                self._refuse_growth()
                return text
            text = expanded
        self._refuse_growth()
        return text

    def _refuse_growth(self) -> None:
        names = ", ".join("\\" + name for name in sorted(self.defined))
        message = (f"the macros ({names}) expand without end or past the grader's limits: "
                   "they were not expanded")
        if message not in self.refused:
            self.refused.append(message)

    def _expand_once(self, text: str, pattern: re.Pattern[str], budget: list[int]) -> str:
        out, position = [], 0
        for match in pattern.finditer(text):
            if match.start() < position:
                continue  # inside the arguments of the previous use
            macro = self.defined[match.group(1)]
            end, arguments = match.end(), []
            for _ in range(macro.arguments):
                argument, end = _argument(text, end)
                if argument is None:
                    break
                arguments.append(argument)
            if len(arguments) < macro.arguments:
                continue  # used without its arguments: left as written
            budget[0] -= 1
            if budget[0] < 0:
                return text
            body = re.sub(r"#([1-9])", lambda m: arguments[int(m.group(1)) - 1]
                          if int(m.group(1)) <= len(arguments) else m.group(0), macro.body)
            out.append(text[position:match.start()])
            # a body ending in a command name is kept apart from the letters that follow
            out.append(body + (" " if re.search(r"\\[A-Za-z]+$", body) else ""))
            position = end
        out.append(text[position:])
        return "".join(out)


def _group(text: str, start: int) -> tuple[str | None, int]:
    """The content of the brace group opening at ``text[start]`` and the index after it."""
    if start >= len(text) or text[start] != "{":
        return None, start
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "\\":
            continue
        if char == "{" and (index == 0 or text[index - 1] != "\\"):
            depth += 1
        elif char == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1:index], index + 1
    return None, start


def _argument(text: str, start: int) -> tuple[str | None, int]:
    """One undelimited argument: a ``{...}`` group, a command name or a single character,
    after optional spaces."""
    index = start
    while index < len(text) and text[index] in " \t":
        index += 1
    if index >= len(text):
        return None, start
    if text[index] == "{":
        return _group(text, index)
    command = re.match(r"\\(?:[A-Za-z]+|.)", text[index:])
    if command is not None:
        return command.group(0), index + command.end()
    return text[index], index + 1


def read_definitions(lines: list[tuple[int, str]]) -> Macros:
    """The macros defined on ``lines`` ((line number, text) pairs, comments removed)."""
    macros = Macros()
    for number, text in lines:
        if _DEFINING.search(text) is None:
            continue
        _read_line(macros, number, text)
    _refuse_cycles(macros)
    return macros


def _read_line(macros: Macros, number: int, text: str) -> None:
    rest = text.strip()
    while rest:
        match = _DEFINING.search(rest)
        if match is None:
            return
        rest = rest[match.start():]
        consumed = _read_one(macros, number, rest)
        if consumed <= 0:
            return
        macros.definition_lines.add(number)
        rest = rest[consumed:].strip()


def _refuse(macros: Macros, number: int, why: str) -> int:
    """Note a definition that is not expanded; its line is still not an answer."""
    macros.refused.append(f"line {number}: {why}")
    macros.definition_lines.add(number)
    return 0


def _read_one(macros: Macros, number: int, text: str) -> int:
    """Read the definition at the start of ``text``; the characters it used (0: refused)."""
    unfinished = "the definition of \\{} does not end on its line; write it on one line"
    if text.startswith("\\let"):
        return _refuse(macros, number, "\\let is not expanded (only \\newcommand, "
                                       "\\DeclareMathOperator and \\def without parameters)")
    if (match := _NEWCOMMAND.match(text)) is not None:
        name = match.group(1) or match.group(2)
        if match.group(5):
            return _refuse(macros, number, f"\\{name} has an optional argument; such macros "
                                           "are not expanded")
        body, end = _group(text, match.end())
        if body is None:
            return _refuse(macros, number, unfinished.format(name))
        if not (text.startswith("\\providecommand") and name in macros.defined):
            count = int(match.group(4)) if match.group(4) else 0
            macros.defined[name] = Macro(name, count, body, number)
        return end
    if (match := _OPERATOR.match(text)) is not None:
        name = match.group(2) or match.group(3)
        body, end = _group(text, match.end())
        if body is None:
            return _refuse(macros, number, unfinished.format(name))
        star = "*" if match.group(1) else ""
        macros.defined[name] = Macro(name, 0, f"\\operatorname{star}{{{body}}}", number)
        return end
    if (match := _DEF.match(text)) is not None:
        name = match.group(1)
        if match.group(2):
            return _refuse(macros, number, f"\\def\\{name} has parameters; such macros are "
                                           "not expanded (use \\newcommand)")
        body, end = _group(text, match.end())
        if body is None:
            return _refuse(macros, number, unfinished.format(name))
        macros.defined[name] = Macro(name, 0, body, number)
        return end
    return len(text) if text.startswith(("\\newcommand", "\\renewcommand", "\\providecommand",
                                         "\\DeclareMathOperator", "\\def")) else 0


def _refuse_cycles(macros: Macros) -> None:
    """Remove the macros that use themselves, directly or through others."""
    uses = {name: {other for other in macros.defined
                   if re.search(r"\\" + re.escape(other) + r"(?![A-Za-z])", macro.body)}
            for name, macro in macros.defined.items()}
    cyclic = set()
    for name in uses:
        seen, stack = set(), list(uses[name])
        while stack:
            other = stack.pop()
            if other == name:
                cyclic.add(name)
                break
            if other not in seen:
                seen.add(other)
                stack.extend(uses.get(other, ()))
    for name in sorted(cyclic):
        macros.refused.append(f"line {macros.defined[name].line}: \\{name} expands to itself; "
                              "it was not expanded")
        del macros.defined[name]
