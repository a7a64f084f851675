"""log_normal_diag as the log of the product of densities: right on ordinary inputs, but the
product underflows to 0 (log → −inf) on extreme ones."""
import math
import torch


def log_normal_diag(x, mu, logvar):
    var = torch.exp(logvar)
    density = torch.exp(-((x - mu) ** 2) / (2 * var)) / torch.sqrt(2 * math.pi * var)
    return torch.log(torch.prod(density, dim=-1))
