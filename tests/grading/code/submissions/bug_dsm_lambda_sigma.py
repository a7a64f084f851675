"""dsm_loss weighting by λ(σ) = σ instead of σ²."""
import torch


def dsm_loss(score, x, sigma, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    s = sigma[:, None]
    return torch.mean(0.5 * sigma * torch.sum((score(x + s * eps, sigma) + eps / s) ** 2, dim=-1))
