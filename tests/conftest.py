"""Shared pytest configuration: the Hypothesis profiles, and one lock for ``ast.parse``.

``ci`` (the default) is derandomized, so a run is reproducible: the examples come from a fixed
seed that Hypothesis derives from each test, not from a hunted seed. ``dev`` explores more
examples with fresh randomness; select it with ``HYPOTHESIS_PROFILE=dev``.

Each test process serialises ``ast.parse`` as the grader's entry points do
(:func:`grading.isolation.serialise_ast_parse`: CPython 3.11's race, gh-106905), since the
tests call the grading functions directly.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config) -> None:  # noqa: ANN001 - pytest's hook
    from grading.isolation import serialise_ast_parse

    serialise_ast_parse()
