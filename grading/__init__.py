"""The grading aid: students' answers, code and submissions checked against the proven key.

Subpackages (nothing happens at import):

- :mod:`grading.answers` — reading one answer (LaTeX grammar, plain text, notation, limits)
  and comparing it with a reference (numeric points, equivalence, named mistakes);
- :mod:`grading.key` — the registry of questions, the built-in homework key, and the
  structured and derivation checkers;
- :mod:`grading.code` — students' code: the spec of each function, the checks, the sandbox
  and the runner that executes inside it.

Modules here deliver results: :mod:`grading.isolation` (deadlines in a worker),
:mod:`grading.submission` (answer files), :mod:`grading.batch`, :mod:`grading.gradescope`,
:mod:`grading.autograder` and :mod:`grading.pytest_plugin`.
"""
