"""langevin_step returning a flattened tensor."""
import math
import torch


def langevin_step(score, x, sigma, alpha, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return (x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * eps).reshape(-1)
