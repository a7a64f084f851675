"""log_normal_diag using exp(logvar) as the standard deviation."""
import math
import torch


def log_normal_diag(x, mu, logvar):
    sigma = torch.exp(logvar)
    return torch.sum(-0.5 * math.log(2 * math.pi) - torch.log(sigma) - (x - mu) ** 2 / (2 * sigma**2), dim=-1)
