"""dsm_loss calling the score network at σ² instead of σ."""
import torch


def dsm_loss(score, x, sigma, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    s = sigma[:, None]
    residual = score(x + s * eps, sigma**2) + eps / s
    return torch.mean(0.5 * sigma**2 * torch.sum(residual**2, dim=-1))
