"""log_normal_diag casting its result to float32."""
import math
import torch


def log_normal_diag(x, mu, logvar):
    return (-0.5 * torch.sum(math.log(2 * math.pi) + logvar + (x - mu) ** 2 / torch.exp(logvar), dim=-1)).float()
