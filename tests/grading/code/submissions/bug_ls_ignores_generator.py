"""langevin_step drawing its noise from the global generator (generator ignored)."""
import math
import torch


def langevin_step(score, x, sigma, alpha, generator=None):
    return x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * torch.randn_like(x)
