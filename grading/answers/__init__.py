"""Reading one answer and comparing it with a reference.

Reading: :mod:`~grading.answers.tokens` and :mod:`~grading.answers.latex` (a hand-written
LaTeX grammar), :mod:`~grading.answers.plain` (an AST allow-list for plain text),
:mod:`~grading.answers.notation` (the course's symbols and their domains),
:mod:`~grading.answers.limits` (caps on length, nesting and exponents) and
:mod:`~grading.answers.parse` (the entry point). Comparing: :mod:`~grading.answers.numeric`
(random points in high precision), :mod:`~grading.answers.equivalence` (verdicts with
counterexamples) and :mod:`~grading.answers.feedback` (named mistakes).
"""
