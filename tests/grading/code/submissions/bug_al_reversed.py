"""annealed_langevin running the noise levels from the smallest to the largest."""
import math
import torch


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    for sigma in reversed(sigmas.tolist()):
        alpha = eta * sigma**2 / float(sigmas[-1]) ** 2
        for _ in range(steps):
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * eps
    return x
