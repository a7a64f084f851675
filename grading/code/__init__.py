"""Students' code, graded by running it in a sandbox against the derived references.

:mod:`~grading.code.spec` (each function: signature, properties, points, references),
:mod:`~grading.code.checks` (the properties, checked on the trusted side),
:mod:`~grading.code.sandbox` (the confined process) and :mod:`~grading.code.runner` (the
script that runs inside it and imports nothing of the project).
"""
