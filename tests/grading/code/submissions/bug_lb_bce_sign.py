"""log_bernoulli returning the binary cross-entropy (the negative log-likelihood)."""
import torch


def log_bernoulli(x, y):
    return -torch.sum(x * torch.log(y) + (1 - x) * torch.log(1 - y), dim=-1)
