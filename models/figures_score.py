"""The homework's Question 4 figures: the learned score as a vector field (4.b) and annealed
Langevin samples over the data (4.c), for the Gaussian mixture and the "CS446" point cloud.

* 4.b: arrows of s_θ(x, σ) at a small σ on a grid over the data, drawn over the data points;
  arrows are scaled by a common factor per panel (their direction and relative length are
  what the figure shows: they must point toward the data).
* 4.c: samples of annealed Langevin dynamics (:func:`models.samplers.annealed_langevin` with
  the homework's step α_i = η σ_i²/σ_L²), optionally denoised by one Tweedie step
  (:func:`models.samplers.tweedie_denoise`), over the data.

:func:`question4_figures` trains both score models (or takes trained ones), samples and writes
``figure_4b.png`` and ``figure_4c.png``. Matplotlib's Agg backend; nothing runs at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = [
    "Panel",
    "plot_score_field",
    "plot_samples",
    "figure_4b",
    "figure_4c",
    "question4_panels",
    "question4_figures",
]


@dataclass(frozen=True)
class Panel:
    """One data set of Question 4: its name, the data points (n, 2), a trained score model
    (:class:`models.score.ScoreResult`) and samples drawn with it (m, 2)."""

    name: str
    data: np.ndarray
    result: Any
    samples: np.ndarray


def _limits(data: np.ndarray, margin: float = 0.15) -> tuple[tuple[float, float], tuple[float, float]]:
    lo, hi = data.min(axis=0), data.max(axis=0)
    pad = margin * (hi - lo).max()
    return (float(lo[0] - pad), float(hi[0] + pad)), (float(lo[1] - pad), float(hi[1] + pad))


def plot_score_field(ax: Any, score: Any, data: np.ndarray, sigma: float, *,
                     grid: int = 30, points: int = 2000) -> Any:
    """Quiver of ``score(x, sigma)`` on a lattice over the data (``grid`` arrows across a square
    panel, more across a wide one), data
    underneath. Arrows have one length (the direction is what 4.b asks about: toward the
    data); their colour is log₁₀ ‖s‖. Returns the quiver (for a colour bar)."""
    (x0, x1), (y0, y1) = _limits(data)
    aspect = (y1 - y0) / (x1 - x0)
    nx = int(round(grid * max(1.0, 1.0 / aspect) ** 0.5))  # wide panels get more arrows
    ny = max(8, int(round(nx * aspect)))
    gx, gy = np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny))
    lattice = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float64)
    field = score(lattice, float(sigma)).double().numpy()
    norm = np.linalg.norm(field, axis=1)
    direction = field / np.maximum(norm, 1e-300)[:, None]
    shown = data[: min(points, len(data))]
    ax.scatter(shown[:, 0], shown[:, 1], s=3, color="0.55", alpha=0.5, linewidths=0)
    arrows = ax.quiver(lattice[:, 0].numpy(), lattice[:, 1].numpy(), direction[:, 0],
                       direction[:, 1], np.log10(np.maximum(norm, 1e-12)), cmap="viridis",
                       angles="xy", scale_units="xy", scale=1.6 * nx / (x1 - x0),
                       pivot="middle", width=0.0035)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    return arrows


def plot_samples(ax: Any, samples: np.ndarray, data: np.ndarray, *, points: int = 3000) -> None:
    """Samples (red) over the data (grey)."""
    (x0, x1), (y0, y1) = _limits(data)
    shown = data[: min(points, len(data))]
    drawn = samples[: min(points, len(samples))]
    ax.scatter(shown[:, 0], shown[:, 1], s=2, color="0.65", alpha=0.6, linewidths=0,
               label=f"data ({len(shown)} shown)")
    ax.scatter(drawn[:, 0], drawn[:, 1], s=2, color="tab:red", alpha=0.7, linewidths=0,
               label=f"samples ({len(drawn)} shown)")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, markerscale=4, framealpha=0.8)


def _figure(panels: Sequence[Panel]) -> tuple[Any, list[Any]]:
    from matplotlib.figure import Figure

    widths = [np.ptp(p.data[:, 0]) / max(np.ptp(p.data[:, 1]), 1e-9) for p in panels]
    fig = Figure(figsize=(4.0 + 3.2 * sum(min(w, 3.0) for w in widths), 4.6),
                 layout="constrained")
    axes = fig.subplots(1, len(panels), width_ratios=[min(w, 3.0) for w in widths], squeeze=False)
    return fig, list(axes[0])


def figure_4b(panels: Sequence[Panel], sigma: float | None = None) -> Any:
    """Part 4.b: the learned score at a small σ (default: each model's smallest level)."""
    fig, axes = _figure(panels)
    for ax, panel in zip(axes, panels):
        level = float(panel.result.config.sigma_min if sigma is None else sigma)
        arrows = plot_score_field(ax, panel.result.score, panel.data, level)
        fig.colorbar(arrows, ax=ax, label="log₁₀ ‖s_θ‖", shrink=0.8)
        ax.set_title(f"4.b {panel.name}: direction of the learned score s_θ(x, σ = {level:.3g})\n"
                     f"(training: {panel.result.seconds:.2f} s wall clock, "
                     f"{panel.result.cpu_seconds:.2f} s CPU)", fontsize=10)
    return fig


def figure_4c(panels: Sequence[Panel]) -> Any:
    """Part 4.c: annealed Langevin samples over the data."""
    fig, axes = _figure(panels)
    for ax, panel in zip(axes, panels):
        plot_samples(ax, panel.samples, panel.data)
        ax.set_title(f"4.c {panel.name}: annealed Langevin samples", fontsize=10)
    return fig


def question4_panels(*, seed: int = 0, samples: int = 3000, progress: bool | None = None,
                     results: dict[str, Any] | None = None) -> list[Panel]:
    """Train (unless given in ``results`` by name) and sample both Question 4 models.

    Names: ``"mixture"`` (:func:`models.score.question4_mixture`, :class:`ScoreConfig`
    defaults) and ``"CS446"`` (:func:`models.data.text_point_cloud`,
    :data:`models.score.TEXT_CONFIG`). Samples: annealed Langevin at the course's settings
    (:data:`models.samplers.COURSE_SETTINGS`, η scaled with σ_L² so that η/σ_L² stays 0.2),
    then one Tweedie denoising step.
    """
    from models.data import text_point_cloud
    from models.samplers import COURSE_SETTINGS, LangevinSettings, sample_from_noise, tweedie_denoise
    from models.score import TEXT_CONFIG, ScoreConfig, question4_mixture, train

    results = dict(results or {})
    rng = np.random.default_rng(seed)
    mixture = question4_mixture()
    cloud = text_point_cloud(20000, seed=seed)
    datasets = {  # name: (points shown, training source, config)
        "mixture": (mixture.sample(20000, rng)[0], mixture, ScoreConfig()),
        "CS446": (cloud, cloud, TEXT_CONFIG),
    }
    panels = []
    for offset, (name, (points, source, config)) in enumerate(datasets.items()):
        result = results.get(name) or train(config, source, seed=seed + offset, progress=progress)
        sigmas = result.config.sigmas
        settings = LangevinSettings(COURSE_SETTINGS.eta * (sigmas[-1] / 0.1) ** 2,
                                    COURSE_SETTINGS.steps_per_level)  # η/σ_L² stays the same
        x = sample_from_noise(result.score, sigmas, samples,
                              generator=torch.Generator().manual_seed(seed + 10 + offset),
                              settings=settings)
        x = tweedie_denoise(result.score, x, float(sigmas[-1]))
        panels.append(Panel(name, points, result, x.numpy()))
    return panels


def question4_figures(out_dir: str | Path, *, seed: int = 0, progress: bool | None = None,
                      panels: Sequence[Panel] | None = None, dpi: int = 110) -> dict[str, Path]:
    """Write ``figure_4b.png`` and ``figure_4c.png`` to ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    panels = list(panels) if panels is not None else question4_panels(seed=seed, progress=progress)
    paths = {"4.b": out / "figure_4b.png", "4.c": out / "figure_4c.png"}
    figure_4b(panels).savefig(paths["4.b"], dpi=dpi)
    figure_4c(panels).savefig(paths["4.c"], dpi=dpi)
    return paths
