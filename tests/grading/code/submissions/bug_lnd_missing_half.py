"""log_normal_diag missing the ½ of the quadratic term."""
import math
import torch


def log_normal_diag(x, mu, logvar):
    return torch.sum(-0.5 * (math.log(2 * math.pi) + logvar) - (x - mu) ** 2 / logvar.exp(), dim=-1)
