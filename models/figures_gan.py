"""The Question 3 figure: a trained discriminator beside the optimal one, D* = p_data/(p_data + p_G).

* 1-D: p_data and p_G (left axis), the trained D and D* (right axis, [0, 1]), and the region
  (p_data + p_G)/2 ≥ 0.05 on which sup |D − D*| is measured, shaded;
* 2-D: D* and the trained D as filled contours, with the contours of the two densities;
* the full GAN: JSD(p_data ‖ p_G) by quadrature along training (log scale).

D* comes from ``derivations.gan`` through :func:`models.gan.optimal_discriminator`.
:func:`question3_figure` trains what it is not given and writes ``figure_3.png``.
Matplotlib's Agg backend (``matplotlib.figure.Figure``); nothing runs at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_discriminator_1d", "plot_discriminator_2d", "plot_jsd", "figure_3",
           "question3_figure"]


def plot_discriminator_1d(ax: Any, result: Any, *, threshold: float = 0.05) -> None:
    """Densities, trained D and D* on the line, with the checked region shaded."""
    from models.gan import optimal_discriminator, region_grid, sup_error_on_region

    config = result.config
    grid = region_grid(config.data, config.generator, 1201, width=4.0)
    x = grid[:, 0]
    p, q = config.data.density(grid), config.generator.density(grid)
    d_star = optimal_discriminator(config.data, config.generator)(grid)
    inside = 0.5 * (p + q) >= threshold
    ax.fill_between(x, 0, 1, where=inside, color="0.92", transform=ax.get_xaxis_transform(),
                    label=f"(p_data + p_G)/2 ≥ {threshold:g}")
    ax.plot(x, p, color="tab:blue", label="p_data")
    ax.plot(x, q, color="tab:orange", label="p_G")
    ax.set_ylabel("density")
    twin = ax.twinx()
    twin.plot(x, d_star, color="black", lw=2.2, label="D* = p_data/(p_data + p_G)")
    twin.plot(x, result.probability(grid), color="tab:red", lw=1.2, ls="--", label="trained D")
    twin.set_ylim(-0.02, 1.02)
    twin.set_ylabel("D(x)")
    error = sup_error_on_region(result, threshold=threshold)
    ax.set_title(f"1-D: sup |D − D*| = {error:.4f} on the shaded region "
                 f"(training: {result.seconds:.2f} s wall clock, {result.cpu_seconds:.2f} s CPU)",
                 fontsize=10)
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="upper left")
    ax.set_xlabel("x")


def plot_discriminator_2d(axes: Any, result: Any, *, threshold: float = 0.05) -> None:
    """Two panels: D* and the trained D (filled contours), density contours over both."""
    from models.gan import optimal_discriminator, region_grid, sup_error_on_region

    config = result.config
    side = 121
    grid = region_grid(config.data, config.generator, side * side, width=3.5)
    shape = (side, side)
    gx, gy = grid[:, 0].reshape(shape), grid[:, 1].reshape(shape)
    p, q = config.data.density(grid), config.generator.density(grid)
    panels = (("D*", optimal_discriminator(config.data, config.generator)(grid)),
              ("trained D", result.probability(grid)))
    error = sup_error_on_region(result, threshold=threshold)
    levels = np.linspace(0, 1, 11)
    for ax, (name, values) in zip(axes, panels):
        filled = ax.contourf(gx, gy, values.reshape(shape), levels=levels, cmap="RdBu_r")
        ax.contour(gx, gy, p.reshape(shape), levels=4, colors="tab:blue", linewidths=0.8)
        ax.contour(gx, gy, q.reshape(shape), levels=4, colors="tab:orange", linewidths=0.8)
        ax.contour(gx, gy, (0.5 * (p + q)).reshape(shape), levels=[threshold], colors="k",
                   linewidths=1.0, linestyles="--")
        ax.set_aspect("equal")
        ax.set_title(f"2-D: {name}" + (f" (sup |D − D*| = {error:.4f}; training: "
                                       f"{result.seconds:.2f} s wall clock, "
                                       f"{result.cpu_seconds:.2f} s CPU)" if name != "D*" else
                                       " (blue: p_data, orange: p_G)"), fontsize=10)
    axes[1].figure.colorbar(filled, ax=list(axes), shrink=0.8, label="D(x)")


def plot_jsd(ax: Any, gan: Any) -> None:
    """JSD(p_data ‖ p_G) by quadrature against the generator step."""
    ax.semilogy(gan.recorded_steps, np.maximum(gan.jsd, 1e-8), marker="o", color="tab:purple")
    ax.axhline(np.log(2), color="0.6", lw=0.8, ls=":")
    final = gan.generator.distribution()
    ax.set_title(f"full GAN: JSD falls from {gan.jsd[0]:.4f} to {gan.jsd[-1]:.5f} nats in "
                 f"{gan.seconds:.2f} s wall clock; "
                 f"p_G = N({final.mean[0]:.2f}, {final.std[0]:.2f}²) vs p_data = "
                 f"N({gan.config.data.mean[0]:g}, {gan.config.data.std[0]:g}²)", fontsize=9)
    ax.set_xlabel("generator step")
    ax.set_ylabel("JSD (nats, quadrature)")


def figure_3(one_d: Any, two_d: Any | None = None, gan: Any | None = None) -> Any:
    """The figure: 1-D panel, optional 2-D pair, optional JSD curve."""
    from matplotlib.figure import Figure

    rows = 1 + (two_d is not None) + (gan is not None)
    fig = Figure(figsize=(11, 3.8 * rows), layout="constrained")
    grid = fig.add_gridspec(rows, 2)
    plot_discriminator_1d(fig.add_subplot(grid[0, :]), one_d)
    row = 1
    if two_d is not None:
        plot_discriminator_2d([fig.add_subplot(grid[row, 0]), fig.add_subplot(grid[row, 1])],
                              two_d)
        row += 1
    if gan is not None:
        plot_jsd(fig.add_subplot(grid[row, :]), gan)
    fig.suptitle("Question 3: the discriminator against a fixed generator, and a full GAN")
    return fig


def question3_figure(out_dir: str | Path, *, seed: int = 0, progress: bool | None = None,
                     one_d: Any = None, two_d: Any = None, gan: Any = None,
                     dpi: int = 110) -> Path:
    """Train what is not given (default configs; 2-D: ``TWO_D_CONFIG``) and write figure_3.png."""
    from models.gan import (TWO_D_CONFIG, DiscriminatorConfig, GANConfig, train_discriminator,
                            train_gan)

    one_d = one_d or train_discriminator(DiscriminatorConfig(), seed=seed, progress=progress)
    two_d = two_d or train_discriminator(TWO_D_CONFIG, seed=seed + 1, progress=progress)
    gan = gan or train_gan(GANConfig(), seed=seed + 2, progress=progress)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "figure_3.png"
    figure_3(one_d, two_d, gan).savefig(path, dpi=dpi)
    return path
