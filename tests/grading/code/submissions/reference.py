"""Reference implementations of the homework's coding functions (a correct submission).

Written the way a course's solution would be: plain torch, the formulas of the homework.
The grader must give it full points.
"""

import math

import torch


def log_normal_diag(x, mu, logvar):
    return -0.5 * torch.sum(math.log(2 * math.pi) + logvar + (x - mu) ** 2 / torch.exp(logvar),
                            dim=-1)


def log_bernoulli(x, y):
    return torch.sum(x * torch.log(y) + (1 - x) * torch.log(1 - y), dim=-1)


def sample_normal(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps


def sample_bernoulli(y, generator=None):
    u = torch.rand(y.shape, generator=generator, dtype=y.dtype)
    return (u < y).to(y.dtype)


def elbo_loss(x, encoder, decoder, generator=None):
    mu, logvar = encoder(x)
    z = sample_normal(mu, logvar, generator)
    y = decoder(z)
    log_prior = log_normal_diag(z, torch.zeros_like(z), torch.zeros_like(z))
    log_q = log_normal_diag(z, mu, logvar)
    return -torch.mean(log_bernoulli(x, y) + log_prior - log_q)


def dsm_loss(score, x, sigma, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    s = sigma[:, None]
    noisy = x + s * eps
    residual = score(noisy, sigma) + eps / s
    return torch.mean(0.5 * sigma**2 * torch.sum(residual**2, dim=-1))


def langevin_step(score, x, sigma, alpha, generator=None):
    eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * eps


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    for sigma in sigmas:
        alpha = eta * float(sigma) ** 2 / float(sigmas[-1]) ** 2
        for _ in range(steps):
            x = langevin_step(score, x, float(sigma), alpha, generator)
    return x
