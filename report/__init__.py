"""The main job, ``genverify report``: prove the answer key and show the evidence.

:mod:`~report.run` runs every check (each derivation verified step by step, then the
numeric and model evidence) and prints the terminal table; :mod:`~report.evidence` holds the
numeric cross-checks and the trained models' checks; :mod:`~report.page` renders the
self-contained HTML page.
"""
