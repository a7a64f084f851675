"""elbo_loss decoding the mean μ instead of a sample z."""
import torch
from reference import log_bernoulli, log_normal_diag


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = mu
    zeros = torch.zeros_like(z)
    return -torch.mean(log_bernoulli(x, decoder(z)) + log_normal_diag(z, zeros, zeros)
                       - log_normal_diag(z, mu, logvar))
