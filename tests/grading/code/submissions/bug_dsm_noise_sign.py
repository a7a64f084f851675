"""dsm_loss with the wrong sign of the noise term: ‖s − ε/σ‖²."""
import torch


def dsm_loss(score, x, sigma, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    s = sigma[:, None]
    return torch.mean(0.5 * sigma**2 * torch.sum((score(x + s * eps, sigma) - eps / s) ** 2, dim=-1))
