"""sample_bernoulli comparing u > y."""
import torch


def sample_bernoulli(y, generator=None):
    u = torch.rand(y.shape, generator=generator, dtype=y.dtype)
    return (u > y).to(y.dtype)
