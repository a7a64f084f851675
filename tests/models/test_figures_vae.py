"""Tests of models.figures_vae: the 2.e figures are drawn, saved as PNG, with the right panels."""

from __future__ import annotations

import numpy as np
import pytest

from models.figures_vae import (
    ALPHAS,
    default_pairs,
    interpolation_figure,
    latent_means_figure,
    prior_samples_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_SIGNATURE


def test_prior_samples_figure_shows_ten_probability_images_beside_ten_bernoulli_samples(
        trained_vae, tmp_path):
    path = tmp_path / "2e_i.png"
    figure = prior_samples_figure(trained_vae.model, n=10, path=path)
    assert _is_png(path) and len(figure.axes) == 20
    top = [ax.images[0].get_array() for ax in figure.axes[:10]]
    bottom = [ax.images[0].get_array() for ax in figure.axes[10:]]
    assert all(a.shape == (8, 8) for a in top + bottom)
    # the top row holds probabilities in (0, 1), the bottom row binary samples
    assert all(np.all((a > 0) & (a < 1)) for a in top)
    assert all(set(np.unique(a)) <= {0.0, 1.0} for a in bottom)
    # the twin of "one of the two missing": fewer than 4 samples is refused
    with pytest.raises(ValueError):
        prior_samples_figure(trained_vae.model, n=3)


def test_latent_means_figure_plots_every_training_image_coloured_by_its_label(
        trained_vae, digits, tmp_path):
    path = tmp_path / "2e_ii.png"
    figure = latent_means_figure(trained_vae.model, digits, path=path)
    assert _is_png(path) and len(figure.axes) == 1
    collections = figure.axes[0].collections
    assert len(collections) == 10  # one scatter per digit label
    assert sum(len(c.get_offsets()) for c in collections) == len(digits.train_x)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert labels == [str(d) for d in range(10)]


def test_interpolation_figure_decodes_three_pairs_at_eleven_alphas(trained_vae, digits, tmp_path):
    path = tmp_path / "2e_iii.png"
    figure = interpolation_figure(trained_vae.model, digits, path=path)
    assert _is_png(path) and len(figure.axes) == 3 * 11
    assert ALPHAS == tuple(np.round(np.arange(11) / 10, 10))
    assert [ax.get_title() for ax in figure.axes[:11]] == [f"α={a:.1f}" for a in ALPHAS]
    pairs = default_pairs(digits.train_y)
    assert len(pairs) == 3 and all(digits.train_y[a] != digits.train_y[b] for a, b in pairs)
    # α = 1 decodes μ_a, α = 0 decodes μ_b: the end panels are the decoded encoder means
    import torch

    a, b = pairs[0]
    with torch.no_grad():
        mu, _ = trained_vae.model.encode(torch.tensor(np.array(digits.train_x[[a, b]])))
        ends = trained_vae.model.decode_probabilities(mu).numpy()
    np.testing.assert_allclose(figure.axes[10].images[0].get_array().ravel(), ends[0], rtol=1e-5)
    np.testing.assert_allclose(figure.axes[0].images[0].get_array().ravel(), ends[1], rtol=1e-5)


def test_interpolation_refuses_a_pair_of_the_same_class(trained_vae, digits):
    same = np.flatnonzero(np.asarray(digits.train_y) == 3)[:2]
    with pytest.raises(ValueError, match="class"):
        interpolation_figure(trained_vae.model, digits, pairs=[(int(same[0]), int(same[1]))])
