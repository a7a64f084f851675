"""annealed_langevin with the same step η at every level."""
import math
import torch


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    for sigma in sigmas.tolist():
        alpha = eta
        for _ in range(steps):
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * eps
    return x
