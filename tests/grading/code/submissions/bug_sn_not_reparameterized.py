"""sample_normal drawing with .sample(): no gradient reaches μ or logvar."""
import torch
from torch.distributions import Normal


def sample_normal(mu, logvar, generator=None):
    return Normal(mu, torch.exp(0.5 * logvar)).sample()
