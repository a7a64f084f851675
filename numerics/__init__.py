"""Numerics for the derived closed forms: NumPy/torch bridges, Monte Carlo estimates with
standard errors, tolerances from a stated false-failure probability, quadrature and
two-sample tests.

Submodules are imported on use (``from numerics.bridge import to_numpy``); importing the
package does no work.
"""
