"""The package's entry points: every derivation listed once, verified alike in parallel."""

from __future__ import annotations

import derivations
from derivations import _GROUPS, MODULES
from derivations.core import _REGISTRY


def test_the_parallel_groups_hold_every_module_exactly_once():
    grouped = [name for group in _GROUPS for name in group]
    assert sorted(grouped) == sorted(MODULES)


def test_verifying_in_two_workers_gives_the_verdicts_of_one_process():
    parallel = derivations.verify_all(workers=2)
    assert list(parallel) == list(_REGISTRY)
    serial = derivations.verify_all(workers=1)
    for key, verdict in serial.items():
        assert parallel[key].ok == verdict.ok
        assert [s.method for s in parallel[key].steps] == [s.method for s in verdict.steps]
