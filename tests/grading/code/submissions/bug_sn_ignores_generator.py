"""sample_normal drawing from the global generator: its generator argument is ignored."""
import torch


def sample_normal(mu, logvar, generator=None):
    std = torch.exp(logvar / 2)
    return mu + std * torch.randn_like(std)
