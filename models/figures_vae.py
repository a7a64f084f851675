"""The homework's VAE figures (Question 2.e), drawn from a trained :class:`models.vae.VAE`.

* 2.e.i  — :func:`prior_samples_figure`: z ~ N(0, I); for each of ``n`` ≥ 10 draws the decoder
  probabilities y = sigmoid(l(z)) (top row) beside a Bernoulli sample x ~ p(x|z) (bottom row).
* 2.e.ii — :func:`latent_means_figure`: the encoder means μ_φ(x) of the training images in the
  2-D latent plane, coloured by digit label.
* 2.e.iii — :func:`interpolation_figure`: for 3 pairs of images (a, b) of different classes,
  z_α = α μ_a + (1 − α) μ_b for α = 0, 0.1, …, 1, decoded to probabilities (one row per pair).

Each function returns a ``matplotlib.figure.Figure`` built without pyplot (Agg canvas, no global
state, no display) and saves a PNG when given ``path``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from models.data import ImageData
    from models.vae import VAE

__all__ = [
    "prior_samples_figure",
    "latent_means_figure",
    "interpolation_figure",
    "default_pairs",
    "ALPHAS",
]

ALPHAS = tuple(np.round(np.linspace(0.0, 1.0, 11), 10))  # α = 0, 0.1, …, 1


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: str | os.PathLike[str] | None) -> Figure:
    if path is not None:
        figure.savefig(os.fspath(path), format="png", dpi=100)
    return figure


def _show_image(axes: Any, image: np.ndarray, shape: tuple[int, int]) -> None:
    axes.imshow(image.reshape(shape), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])


def _image_shape(model: VAE, shape: tuple[int, int] | None) -> tuple[int, int]:
    if shape is not None:
        return shape
    side = int(round(np.sqrt(model.config.n_pixels)))
    if side * side != model.config.n_pixels:
        raise ValueError("give image_shape for non-square images")
    return side, side


def prior_samples_figure(model: VAE, *, n: int = 10, seed: int = 0,
                         image_shape: tuple[int, int] | None = None,
                         path: str | os.PathLike[str] | None = None) -> Figure:
    """2.e.i: ``n`` draws z ~ p(z); decoder probabilities (top) beside a Bernoulli sample (bottom).

    2·n axes, column k showing draw k. Draws come from ``torch.Generator().manual_seed(seed)``.
    """
    import torch

    if n < 4:
        raise ValueError("the homework asks for at least 4 samples")
    shape = _image_shape(model, image_shape)
    with torch.no_grad():
        probabilities, samples = model.sample(n, torch.Generator().manual_seed(seed))
    figure = _figure(1.1 * n, 2.6)
    grid = figure.subplots(2, n, squeeze=False)
    for k in range(n):
        _show_image(grid[0, k], probabilities[k].double().numpy(), shape)
        _show_image(grid[1, k], samples[k].double().numpy(), shape)
    grid[0, 0].set_ylabel("p(x|z)", fontsize=9)
    grid[1, 0].set_ylabel("x ~ p(x|z)", fontsize=9)
    figure.suptitle(f"2.e.i: {n} samples z ~ N(0, I): decoder probabilities and a Bernoulli sample",
                    fontsize=10)
    return _save(figure, path)


def _encoder_means(model: VAE, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        mu, _ = model.encode(torch.tensor(np.array(x), dtype=model.decoder_out.weight.dtype))
    return mu.double().numpy()


def latent_means_figure(model: VAE, data: ImageData, *,
                        path: str | os.PathLike[str] | None = None) -> Figure:
    """2.e.ii: encoder means μ_φ(x) of the training images, coloured by label (one axes)."""
    from matplotlib import colormaps

    if model.config.latent_dim != 2:
        raise ValueError("the latent plane figure needs a 2-D latent space")
    means = _encoder_means(model, data.train_x)
    labels = np.asarray(data.train_y)
    figure = _figure(6.0, 5.4)
    axes = figure.subplots()
    colours = colormaps["tab10"]
    for label in np.unique(labels):
        chosen = labels == label
        axes.scatter(means[chosen, 0], means[chosen, 1], s=6, color=colours(int(label) % 10),
                     label=str(label), alpha=0.8, linewidths=0)
    axes.set_xlabel("μ₁")
    axes.set_ylabel("μ₂")
    axes.set_aspect("equal", adjustable="datalim")
    axes.legend(title="digit", markerscale=3, fontsize=8, loc="best", frameon=True)
    axes.set_title(f"2.e.ii: encoder means of the {len(means)} training images", fontsize=10)
    return _save(figure, path)


def default_pairs(labels: np.ndarray, classes: tuple[tuple[int, int], ...] = ((0, 1), (3, 8), (4, 7))
                  ) -> list[tuple[int, int]]:
    """Indices (a, b) of the first image of each class in each pair of ``classes``."""
    labels = np.asarray(labels)
    pairs = []
    for first, second in classes:
        if first == second:
            raise ValueError("the two images of a pair must be of different classes")
        pairs.append((int(np.flatnonzero(labels == first)[0]), int(np.flatnonzero(labels == second)[0])))
    return pairs


def interpolation_figure(model: VAE, data: ImageData, *,
                         pairs: list[tuple[int, int]] | None = None,
                         alphas: tuple[float, ...] = ALPHAS,
                         path: str | os.PathLike[str] | None = None) -> Figure:
    """2.e.iii: rows of decoded z_α = α μ_a + (1 − α) μ_b, one row per pair, one column per α.

    ``pairs`` are indices into the training set (default: :func:`default_pairs`, 3 pairs of
    different classes); len(pairs) × len(alphas) axes.
    """
    import torch

    pairs = default_pairs(data.train_y) if pairs is None else pairs
    for a, b in pairs:
        if data.train_y[a] == data.train_y[b]:
            raise ValueError(f"images {a} and {b} are both of class {data.train_y[a]}")
    shape = _image_shape(model, data.shape)
    alpha = np.asarray(alphas, dtype=np.float64)
    figure = _figure(1.0 * len(alpha) + 0.6, 1.15 * len(pairs) + 0.6)
    grid = figure.subplots(len(pairs), len(alpha), squeeze=False)
    for row, (a, b) in enumerate(pairs):
        mu = _encoder_means(model, data.train_x[[a, b]])  # (2, d): μ_a, μ_b
        z = alpha[:, None] * mu[0] + (1.0 - alpha[:, None]) * mu[1]  # (A, d)
        with torch.no_grad():
            images = model.decode_probabilities(
                torch.tensor(z, dtype=model.decoder_out.weight.dtype)).double().numpy()
        for column in range(len(alpha)):
            _show_image(grid[row, column], images[column], shape)
            if row == 0:
                grid[row, column].set_title(f"α={alpha[column]:.1f}", fontsize=8)
        grid[row, 0].set_ylabel(f"{data.train_y[b]}→{data.train_y[a]}", fontsize=9)
    figure.suptitle("2.e.iii: decoded z_α = α μ_a + (1 − α) μ_b", fontsize=10)
    return _save(figure, path)
