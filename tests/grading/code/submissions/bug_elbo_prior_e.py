"""elbo_loss with the prior N(0, e·I): log-variance 1 where 0 belongs."""
import torch
from reference import log_bernoulli, log_normal_diag, sample_normal


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = sample_normal(mu, logvar, generator)
    log_prior = log_normal_diag(z, torch.zeros_like(z), torch.ones_like(z))
    log_q = log_normal_diag(z, mu, logvar)
    return -torch.mean(log_bernoulli(x, decoder(z)) + log_prior - log_q)
