"""Session-scoped fixtures for the model tests: each model is trained ONCE per session.

Fixtures are grouped by model; append new groups at the end. Training runs without a progress
bar and on the seed stated here (fixed, not hunted).
"""

from __future__ import annotations

import pytest

# --------------------------------------------------------------------------------------------
# data and the VAE (Question 2)

VAE_SEED = 0  # the seed of the one training run the VAE tests share


@pytest.fixture(scope="session")
def digits():
    """The embedded binarized 8×8 digits (``models.data.load_digits_binarized``)."""
    from models.data import load_digits_binarized

    return load_digits_binarized()


@pytest.fixture(scope="session")
def trained_vae(digits):
    """``models.vae.train`` with the default config (the ≤ 21-nat target) on one thread."""
    from models.vae import VAEConfig, train

    return train(VAEConfig(threads=1), seed=VAE_SEED, data=digits, progress=False)


# --------------------------------------------------------------------------------------------
# the GAN (Question 3) and the score model (Question 4)

GAN_SEED = 0  # the seed of the discriminator and GAN runs the GAN tests share
SCORE_SEED = 0  # the seed of the score-model runs the score tests share


@pytest.fixture(scope="session")
def trained_discriminator_1d():
    """``models.gan.train_discriminator``: p_data = N(1, 1) against a fixed p_G = N(−1, 1.5²)."""
    from models.gan import DiscriminatorConfig, train_discriminator

    return train_discriminator(DiscriminatorConfig(threads=1), seed=GAN_SEED, progress=False)


@pytest.fixture(scope="session")
def trained_discriminator_2d():
    """The same in 2-D (``models.gan.TWO_D_CONFIG``: diagonal Gaussians, JSD ≈ 0.28 nats)."""
    from dataclasses import replace

    from models.gan import TWO_D_CONFIG, train_discriminator

    return train_discriminator(replace(TWO_D_CONFIG, threads=1), seed=GAN_SEED + 1,
                               progress=False)


@pytest.fixture(scope="session")
def trained_gan():
    """``models.gan.train_gan``: an affine generator on the target N(2, 0.5²)."""
    from models.gan import GANConfig, train_gan

    return train_gan(GANConfig(threads=1), seed=GAN_SEED, progress=False)


@pytest.fixture(scope="session")
def score_mixture():
    """The isotropic 2-D mixture of Question 4 (``models.score.question4_mixture``)."""
    from models.score import question4_mixture

    return question4_mixture()


@pytest.fixture(scope="session")
def trained_score(score_mixture):
    """``models.score.train`` on the mixture, default config (the ≤ 10 s target), one thread."""
    from models.score import ScoreConfig, train

    return train(ScoreConfig(threads=1), score_mixture, seed=SCORE_SEED, progress=False)


@pytest.fixture(scope="session")
def text_cloud():
    """20,000 points of the "CS446" text (``models.data.text_point_cloud``, seed 0)."""
    from models.data import text_point_cloud

    return text_point_cloud(20000, seed=0)


@pytest.fixture(scope="session")
def trained_text_score(text_cloud):
    """``models.score.train`` on the text point cloud (``TEXT_CONFIG``), one thread."""
    from dataclasses import replace

    from models.score import TEXT_CONFIG, train

    return train(replace(TEXT_CONFIG, threads=1), text_cloud, seed=SCORE_SEED + 1,
                 progress=False)


@pytest.fixture(scope="module")
def one_thread():
    """Sampling and quadrature on one torch thread (the machine's 2 cores are shared)."""
    from models.layers import threads_limited

    with threads_limited(1):
        yield
