"""elbo_loss summing over the batch instead of averaging."""
import torch
from reference import log_bernoulli, log_normal_diag, sample_normal


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = sample_normal(mu, logvar, generator)
    zeros = torch.zeros_like(z)
    return -torch.sum(log_bernoulli(x, decoder(z)) + log_normal_diag(z, zeros, zeros)
                      - log_normal_diag(z, mu, logvar))
