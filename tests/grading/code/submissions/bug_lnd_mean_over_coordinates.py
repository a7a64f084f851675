"""log_normal_diag averaging over the coordinates instead of summing."""
import math
import torch


def log_normal_diag(x, mu, logvar):
    return -0.5 * torch.mean(math.log(2 * math.pi) + logvar + (x - mu) ** 2 / torch.exp(logvar), dim=-1)
