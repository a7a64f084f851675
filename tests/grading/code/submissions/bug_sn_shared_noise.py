"""sample_normal sharing one ε across the coordinates of a row."""
import torch


def sample_normal(mu, logvar, generator=None):
    eps = torch.randn(mu.shape[0], 1, generator=generator, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
