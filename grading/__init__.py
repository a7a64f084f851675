"""Grading aid: safe parsing of student answers and an equivalence engine.

Submodules (imported on demand, nothing happens at import): ``grading.parse`` (LaTeX and plain
ASCII answers to SymPy), ``grading.equivalence`` (``check_equivalence`` and its ``Verdict``),
``grading.feedback`` (named common mistakes).
"""
