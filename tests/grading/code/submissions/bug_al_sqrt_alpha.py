"""annealed_langevin with noise √α_i ε."""
import math
import torch


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    for sigma in sigmas.tolist():
        alpha = eta * sigma**2 / float(sigmas[-1]) ** 2
        for _ in range(steps):
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + alpha * score(x, sigma) + math.sqrt(alpha) * eps
    return x
