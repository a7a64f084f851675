"""log_normal_diag treating logvar as the variance σ²."""
import math
import torch


def log_normal_diag(x, mu, logvar):
    var = logvar
    return -0.5 * torch.sum(math.log(2 * math.pi) + torch.log(var) + (x - mu) ** 2 / var, dim=-1)
