"""elbo_loss with the reconstruction term only."""
import torch
from reference import log_bernoulli, sample_normal


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = sample_normal(mu, logvar, generator)
    return -torch.mean(log_bernoulli(x, decoder(z)))
