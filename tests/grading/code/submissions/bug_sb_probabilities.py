"""sample_bernoulli returning the probabilities instead of a sample."""


def sample_bernoulli(y, generator=None):
    return y.clone()
