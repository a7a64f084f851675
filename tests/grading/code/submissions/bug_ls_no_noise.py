"""langevin_step without the noise term (gradient ascent on log p)."""


def langevin_step(score, x, sigma, alpha, generator=None):
    return x + alpha * score(x, sigma)
