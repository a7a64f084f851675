"""A second correct submission, written differently from reference.py: torch.distributions,
the binary cross-entropy with clamping, in-place draws from the generator (``normal_``), the
analytic KL in the ELBO (same expectation as the single-sample form, part 1.e), sums divided
by the batch size. The grader must give it full points too."""

import torch
import torch.nn.functional as F
from torch.distributions import Normal


def log_normal_diag(x, mu, logvar):
    return Normal(mu, torch.exp(0.5 * logvar)).log_prob(x).sum(-1)


def log_bernoulli(x, y):
    y = y.clamp(1e-7, 1 - 1e-7)
    return -F.binary_cross_entropy(y, x, reduction="none").sum(dim=1)


def sample_normal(mu, logvar, generator=None):
    std = torch.exp(logvar / 2)
    return mu + std * torch.empty_like(std).normal_(generator=generator)


def sample_bernoulli(y, generator=None):
    return torch.bernoulli(y, generator=generator)


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = sample_normal(mu, logvar, generator)
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1)
    return (kl - log_bernoulli(x, decoder(z))).sum() / x.shape[0]


def dsm_loss(score, x, sigma, generator=None):
    noise = torch.empty_like(x).normal_(generator=generator)
    sigma = sigma.view(-1, 1)
    target = -noise / sigma
    loss = 0.5 * (sigma**2 * (score(x + sigma * noise, sigma.view(-1)) - target) ** 2).sum(1)
    return loss.sum() / x.shape[0]


def langevin_step(score, x, sigma, alpha, generator=None):
    noise = torch.empty_like(x).normal_(generator=generator)
    return x + alpha * score(x, sigma) + (2 * alpha) ** 0.5 * noise


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    x = x.clone()
    alphas = eta * sigmas**2 / sigmas[-1] ** 2
    for sigma, alpha in zip(sigmas.tolist(), alphas.tolist()):
        for _ in range(steps):
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + alpha * score(x, sigma) + (2 * alpha) ** 0.5 * noise
    return x
