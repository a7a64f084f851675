"""elbo_loss with a detached sample: the right value, but no gradient flows through z."""
import torch
from reference import log_bernoulli, log_normal_diag, sample_normal


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = sample_normal(mu, logvar, generator).detach()
    log_prior = log_normal_diag(z, torch.zeros_like(z), torch.zeros_like(z))
    log_q = log_normal_diag(z, mu, logvar)
    return -torch.mean(log_bernoulli(x, decoder(z)) + log_prior - log_q)
