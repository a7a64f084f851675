"""log_bernoulli averaging over the pixels."""
import torch


def log_bernoulli(x, y):
    return torch.mean(x * torch.log(y) + (1 - x) * torch.log(1 - y), dim=-1)
