"""annealed_langevin with an extra final denoising step x + σ_L² s(x, σ_L)."""
import math
import torch


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    for sigma in sigmas.tolist():
        alpha = eta * sigma**2 / float(sigmas[-1]) ** 2
        for _ in range(steps):
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * eps
    last = float(sigmas[-1])
    return x + last**2 * score(x, last)
