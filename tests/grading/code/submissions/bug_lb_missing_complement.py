"""log_bernoulli without the (1 − x) log(1 − y) term."""
import torch


def log_bernoulli(x, y):
    return torch.sum(x * torch.log(y), dim=-1)
