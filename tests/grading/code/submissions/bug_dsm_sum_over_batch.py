"""dsm_loss summing over the batch."""
import torch


def dsm_loss(score, x, sigma, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    s = sigma[:, None]
    return torch.sum(0.5 * sigma**2 * torch.sum((score(x + s * eps, sigma) + eps / s) ** 2, dim=-1))
