"""The answer key: the registry of questions and checkers, and the built-in homework key.

:mod:`~grading.key.registry` knows nothing of the built-in key; this package wires the two,
explicitly and lazily: the homework's questions (:mod:`~grading.key.homework`) are registered
before the first lookup, and the structured (:mod:`~grading.key.structured`) and derivation
(:mod:`~grading.key.steps`) checkers on their first use. Importing the package only records
these three loaders.
"""

from grading.key import registry as _registry


def _load_homework() -> None:
    from grading.key import homework  # noqa: F401  (registers the questions)


def _load_structured() -> None:
    from grading.key import structured  # noqa: F401  (registers the checker)


def _load_steps() -> None:
    from grading.key import steps  # noqa: F401  (registers the checker)


_registry.register_loader(_load_homework)
_registry.register_lazy_checker("structured", _load_structured)
_registry.register_lazy_checker("derivation", _load_steps)
