"""Closed forms of VAEs, GANs and score-based diffusion, derived step by step in SymPy.

Each module derives its results lazily (on first access) and exports them as UPPER_CASE
``sympy.Lambda`` constants whose arguments fix the order, e.g. ``from derivations.gan import
D_STAR``. :func:`all_derivations` builds every derivation; ``d.verify()`` checks its steps.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os

from derivations.core import Derivation, DerivationError, Step, Verification

__all__ = ["Derivation", "DerivationError", "Step", "Verification", "all_derivations",
           "verify_all", "MODULES"]

MODULES = ("gaussian", "kl", "bernoulli", "elbo", "gan", "diffusion")  # lemmas before their uses


def _import_modules() -> None:
    for name in MODULES:
        try:
            importlib.import_module(f"derivations.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"derivations.{name}":
                raise


def all_derivations() -> tuple[Derivation, ...]:
    """Every derivation of the package, in the order of the homework."""
    from derivations.core import registered

    _import_modules()
    return registered()


_GROUPS = (("gaussian", "kl", "elbo"), ("bernoulli", "gan", "diffusion"))


def _verify_share(share: tuple[int, int, int]) -> list[tuple[str, Verification]]:
    """Build and verify the derivations of every ``workers``-th module, from ``index``.

    Whole modules go to one worker, so a module's lemmas are derived once; ``_GROUPS`` keeps
    the lemmas with their users and splits the work about evenly in two.
    """
    from derivations.core import _REGISTRY

    index, workers, seed = share
    modules = {f"derivations.{name}" for group in _GROUPS[index::workers] for name in group}
    keys = [key for key in _REGISTRY if key.rsplit(".", 1)[0] in modules]
    return [(key, _REGISTRY[key]().verify(seed=seed)) for key in keys]


def verify_all(*, seed: int = 0, workers: int | None = None) -> dict[str, Verification]:
    """Verify every derivation, sharing the work among ``workers`` forked processes.

    Returns the verdicts by registry key (``module.builder``), in registry order. Each worker
    derives what its share needs (lemmas included), so the parent derives nothing; with one
    worker, or where ``fork`` is unavailable, everything runs in this process.
    """
    from derivations.core import _REGISTRY

    _import_modules()
    workers = min(workers or os.cpu_count() or 1, len(_GROUPS))
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return dict(_verify_share((0, 1, seed)))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        shares = pool.map(_verify_share, [(i, workers, seed) for i in range(workers)])
    verdicts = dict(pair for share in shares for pair in share)
    return {key: verdicts[key] for key in _REGISTRY}
