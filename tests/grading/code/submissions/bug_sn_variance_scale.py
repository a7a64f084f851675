"""sample_normal scaling ε by the variance exp(logvar)."""
import torch


def sample_normal(mu, logvar, generator=None):
    return mu + torch.exp(logvar) * torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
