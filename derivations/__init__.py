"""Closed forms of VAEs, GANs and score-based diffusion, derived step by step in SymPy.

Each module derives its results lazily (on first access) and exports them as UPPER_CASE
``sympy.Lambda`` constants whose arguments fix the order, e.g. ``from derivations.gan import
D_STAR``. :func:`all_derivations` builds every derivation; ``d.verify()`` checks its steps.
"""

from __future__ import annotations

import importlib

from derivations.core import Derivation, DerivationError, Step, Verification

__all__ = ["Derivation", "DerivationError", "Step", "Verification", "all_derivations", "MODULES"]

MODULES = ("gaussian", "kl", "bernoulli", "elbo", "gan", "diffusion")


def all_derivations() -> tuple[Derivation, ...]:
    """Every derivation of the package, in the order of the homework."""
    from derivations.core import registered

    for name in MODULES:
        try:
            importlib.import_module(f"derivations.{name}")
        except ModuleNotFoundError as missing:
            if missing.name != f"derivations.{name}":
                raise
    return registered()
