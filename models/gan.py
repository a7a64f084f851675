"""A tiny GAN in 1-D and 2-D, checked against the optimal discriminator (homework Question 3).

The value of the game (Goodfellow et al., "Generative Adversarial Nets", 2014, eq. 1) is

    V(D, G) = E_{x~p_data}[log D(x)] + E_{x~p_G}[log(1 − D(x))],

maximised over the discriminator D for a fixed generator G. Its maximiser D* and the value
V(D*, G) = −log 4 + 2·JSD(p_data ‖ p_G) are NOT typed here: they come from
``derivations.gan`` (``D_STAR(p_data, p_G)``, derived by Euler–Lagrange) through the torch/NumPy
bridges of ``numerics.bridge``, and the log-densities of the Gaussians from
``derivations.gaussian``. This module trains

* a discriminator against a FIXED generator whose density is a known diagonal Gaussian
  (:func:`train_discriminator`), so that the trained D can be compared with D* on a grid and
  its value with −log 4 + 2·JSD (JSD by quadrature, :mod:`numerics.quadrature`);
* a full GAN on a 1-D Gaussian target with an AFFINE generator G(z) = b + a·z, z ~ N(0, 1)
  (:func:`train_gan`); its density N(b, a²) is exact, so JSD(p_data ‖ p_G) is computed by
  quadrature during training and must fall.

The discriminator outputs a logit ℓ(x), D = sigmoid(ℓ); then log D = logsigmoid(ℓ) and
log(1 − D) = logsigmoid(−ℓ) are evaluated without loss of precision. ``bug=`` plants a known
mistake (labels swapped, log(1 − D) replaced by log D) so that tests can show it is caught.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from models.layers import initialise, threads_limited

__all__ = [
    "Gaussian",
    "DiscriminatorConfig",
    "TWO_D_CONFIG",
    "Discriminator",
    "DiscriminatorResult",
    "GANConfig",
    "AffineGenerator",
    "GANResult",
    "BUGS",
    "value_terms",
    "train_discriminator",
    "optimal_discriminator",
    "value_estimate",
    "value_by_quadrature",
    "optimal_value",
    "js_divergence",
    "integrate_box",
    "sup_error_on_region",
    "region_grid",
    "train_gan",
]

BUGS = ("swapped_labels", "log_d_for_log_one_minus_d")


# --------------------------------------------------------------------------------------------
# densities


@functools.cache
def _diagonal_log_density(backend: str) -> Callable[..., Any]:
    """``DIAGONAL_GAUSSIAN_LOG_DENSITY(x, mu, logvar)`` compiled once for a backend."""
    from derivations.gaussian import DIAGONAL_GAUSSIAN_LOG_DENSITY
    from numerics.bridge import to_numpy, to_torch

    return (to_torch if backend == "torch" else to_numpy)(DIAGONAL_GAUSSIAN_LOG_DENSITY)


@dataclass(frozen=True)
class Gaussian:
    """A diagonal Gaussian N(mean, diag(std²)) in d = len(mean) dimensions."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise ValueError("mean and std must have the same, positive length")
        if any(s <= 0 for s in self.std):
            raise ValueError("std must be positive")

    @property
    def dim(self) -> int:
        return len(self.mean)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n draws, shape (n, d)."""
        mean = torch.tensor(self.mean)
        std = torch.tensor(self.std)
        return mean + std * torch.randn(n, self.dim, generator=generator)

    def log_prob(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """log N(x; mean, diag(std²)) for x of shape (..., d), by the derived closed form
        ``DIAGONAL_GAUSSIAN_LOG_DENSITY`` of ``derivations.gaussian`` (through the bridges)."""
        logvar = [2.0 * math.log(s) for s in self.std]
        if isinstance(x, torch.Tensor):
            return _diagonal_log_density("torch")(
                x, torch.tensor(self.mean, dtype=x.dtype), torch.tensor(logvar, dtype=x.dtype))
        return _diagonal_log_density("numpy")(np.asarray(x, dtype=np.float64),
                                              np.asarray(self.mean), np.asarray(logvar))

    def density(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        log_p = self.log_prob(x)
        return log_p.exp() if isinstance(log_p, torch.Tensor) else np.exp(log_p)


# --------------------------------------------------------------------------------------------
# the discriminator


class Discriminator(nn.Module):
    """An MLP x ↦ logit ℓ(x); D(x) = sigmoid(ℓ(x)).

    Inputs are standardised by a fixed ``shift`` and ``scale`` (the pooled mean and spread of
    the two distributions it separates), so one learning rate suits every problem.
    """

    def __init__(self, dim: int, hidden: int, depth: int, shift: torch.Tensor,
                 scale: torch.Tensor) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = dim
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        self.register_buffer("shift", shift.reshape(dim))
        self.register_buffer("scale", scale.reshape(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,) logits
        return self.net((x - self.shift) / self.scale).squeeze(-1)

    def probability(self, x: torch.Tensor) -> torch.Tensor:  # (n, d) -> (n,) D(x)
        return torch.sigmoid(self(x))


def value_terms(logit_data: torch.Tensor, logit_generated: torch.Tensor,
                bug: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample terms of V: (log D(x_data), log(1 − D(x_generated))), from logits.

    ``bug`` plants a mistake for the twins of the tests: ``"swapped_labels"`` trains D to call
    the generated samples real; ``"log_d_for_log_one_minus_d"`` uses log D(G(z)) in place of
    log(1 − D(G(z))).
    """
    if bug is None:
        return F.logsigmoid(logit_data), F.logsigmoid(-logit_generated)
    if bug == "swapped_labels":
        return F.logsigmoid(-logit_data), F.logsigmoid(logit_generated)
    if bug == "log_d_for_log_one_minus_d":
        return F.logsigmoid(logit_data), F.logsigmoid(logit_generated)
    raise ValueError(f"unknown bug {bug!r}; expected one of {BUGS}")


@dataclass(frozen=True)
class DiscriminatorConfig:
    """A discriminator trained against a fixed Gaussian generator.

    Defaults: p_data = N(1, 1), p_G = N(−1, 1.5²) in 1-D (JSD ≈ 0.17 nats); for 2-D pass 2-D
    Gaussians. Adam with a cosine-decayed learning rate; every step draws fresh samples.
    """

    data: Gaussian = Gaussian((1.0,), (1.0,))
    generator: Gaussian = Gaussian((-1.0,), (1.5,))
    hidden: int = 32
    depth: int = 2
    steps: int = 1000
    batch_size: int = 512
    learning_rate: float = 1e-2
    bug: str | None = None
    threads: int | None = None  # torch.set_num_threads during training (None: leave it)

    def __post_init__(self) -> None:
        if self.data.dim != self.generator.dim:
            raise ValueError("p_data and p_G must live in the same dimension")


# The 2-D problem of the tests and the figure: JSD ≈ 0.28 nats.
TWO_D_CONFIG = DiscriminatorConfig(data=Gaussian((1.0, 0.5), (1.0, 0.8)),
                                   generator=Gaussian((-0.5, -0.5), (1.3, 1.0)))


@dataclass
class DiscriminatorResult:
    """A trained discriminator, the wall-clock and CPU time it took, the loss −V per step."""

    config: DiscriminatorConfig
    discriminator: Discriminator
    seconds: float
    cpu_seconds: float
    losses: list[float] = field(default_factory=list)

    def probability(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        """D(x) as float64 NumPy, for x of shape (n, d)."""
        from scipy.special import expit

        return expit(self.logit(x))  # sigmoid in float64

    def logit(self, x: torch.Tensor | np.ndarray) -> np.ndarray:
        with torch.no_grad():
            ell = self.discriminator(torch.as_tensor(np.asarray(x), dtype=torch.float32))
        return ell.double().numpy()


def _pooled(data: Gaussian, generator: Gaussian) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of the equal mixture of the two Gaussians, per coordinate."""
    m1, m2 = torch.tensor(data.mean), torch.tensor(generator.mean)
    s1, s2 = torch.tensor(data.std), torch.tensor(generator.std)
    mean = (m1 + m2) / 2
    var = (s1**2 + s2**2) / 2 + ((m1 - m2) / 2) ** 2
    return mean, var.sqrt()


def _progress_steps(steps: int, progress: bool | None, description: str) -> Iterable[int]:
    """range(steps) behind the project's progress bar (off when not a terminal)."""
    from models.progress import progress_bar

    return progress_bar(range(steps), enabled=progress, desc=description, total=steps)


def train_discriminator(config: DiscriminatorConfig, *, seed: int,
                        progress: bool | None = None) -> DiscriminatorResult:
    """Maximise V(D, G) over D for the fixed p_G of ``config`` (minimise −V by Adam)."""
    generator = torch.Generator().manual_seed(seed)
    shift, scale = _pooled(config.data, config.generator)
    model = Discriminator(config.data.dim, config.hidden, config.depth, shift, scale)
    initialise(model, generator)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps)
    losses: list[float] = []
    with threads_limited(config.threads):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in _progress_steps(config.steps, progress, "discriminator"):
            x_data = config.data.sample(config.batch_size, generator)            # (B, d)
            x_generated = config.generator.sample(config.batch_size, generator)  # (B, d)
            real, fake = value_terms(model(x_data), model(x_generated), config.bug)
            loss = -(real.mean() + fake.mean())  # −V(D, G)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return DiscriminatorResult(config, model.eval(), seconds, cpu, losses)


# --------------------------------------------------------------------------------------------
# the closed forms, through the bridges


def _closed_form(name: str) -> Callable[..., np.ndarray]:
    """A result of ``derivations.gan`` as a NumPy function (derived once, compiled once)."""
    from derivations import gan
    from numerics.bridge import to_numpy

    return to_numpy(getattr(gan, name))


_TINY = 1e-300  # densities are clipped here: 0·log 0 is read as 0, as in the integrals


def _shifted_densities(data: Gaussian, generator: Gaussian,
                       x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_data·e^{−t}, p_G·e^{−t}, t) with t = max(log p_data, log p_G) at each x.

    D* and the value at D* are homogeneous in (p_data, p_G) (of degree 0 and 1), so the shift
    changes nothing but keeps the far tails from underflowing to 0/0.
    """
    x = np.asarray(x, dtype=np.float64)
    log_p, log_q = data.log_prob(x), generator.log_prob(x)
    top = np.maximum(log_p, log_q)
    return (np.maximum(np.exp(log_p - top), _TINY), np.maximum(np.exp(log_q - top), _TINY), top)


def optimal_discriminator(data: Gaussian, generator: Gaussian) -> Callable[[np.ndarray], np.ndarray]:
    """x ↦ D*(x) = D_STAR(p_data(x), p_G(x)) from ``derivations.gan``, on float64 arrays (n, d)."""
    d_star = _closed_form("D_STAR")

    def evaluate(x: np.ndarray) -> np.ndarray:
        p, q, _ = _shifted_densities(data, generator, x)
        return np.asarray(d_star(p, q), dtype=np.float64)

    return evaluate


def value_estimate(probability: Callable[[np.ndarray], np.ndarray], data: Gaussian,
                   generator: Gaussian, n: int, rng: np.random.Generator):
    """Monte Carlo V(D, G) = E_data log D + E_G log(1 − D) from n independent draws of each.

    Returns a :class:`numerics.estimates.Estimate`; the two means are independent, so their
    variances add. ``probability`` maps float64 points (n, d) to D(x).
    """
    from numerics.estimates import Estimate

    x_data = np.asarray(data.mean) + np.asarray(data.std) * rng.standard_normal((n, data.dim))
    x_gen = np.asarray(generator.mean) + np.asarray(generator.std) * rng.standard_normal(
        (n, generator.dim))
    real = np.log(np.clip(probability(x_data), _TINY, 1.0))
    fake = np.log(np.clip(1.0 - probability(x_gen), _TINY, 1.0))
    return Estimate.from_samples(real) + Estimate.from_samples(fake)


# -- quadrature: composite Gauss–Legendre, vectorised, on the line or the plane --------------

PANELS, NODES = 48, 12  # per axis, over ±12 standard deviations: 576 nodes per axis


def _box(data: Gaussian, generator: Gaussian) -> list[tuple[float, float]]:
    """Per axis, ±12 std around both means: outside, both densities are < e^{−72} of a peak."""
    return [(min(m1 - 12 * s1, m2 - 12 * s2), max(m1 + 12 * s1, m2 + 12 * s2))
            for m1, s1, m2, s2 in zip(data.mean, data.std, generator.mean, generator.std)]


def _gauss_legendre(lo: float, hi: float, panels: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a composite Gauss–Legendre rule on [lo, hi]."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    edges = np.linspace(lo, hi, panels + 1)
    half = np.diff(edges)[:, None] / 2
    centre = (edges[:-1] + edges[1:])[:, None] / 2
    return (centre + half * t).ravel(), (half * w).ravel()


def integrate_box(integrand: Callable[[np.ndarray], np.ndarray],
                  box: list[tuple[float, float]], panels: int = PANELS,
                  nodes: int = NODES) -> tuple[float, float]:
    """∫ integrand over a box (1-D or 2-D) by a (tensor) composite Gauss–Legendre rule, and an
    error estimate.

    ``integrand`` maps points (n, d) to values (n,). The error estimate is the difference from
    the same rule with half the panels (a Gauss rule converges fast for smooth integrands, so
    the finer value is far more accurate than this difference).
    """

    def rule(p: int) -> float:
        axes = [_gauss_legendre(lo, hi, p, nodes) for lo, hi in box]
        if len(axes) == 1:
            (x, wx), = axes
            return float(wx @ np.asarray(integrand(x[:, None]), dtype=np.float64))
        if len(axes) != 2:
            raise ValueError("a 1-D or 2-D box")
        (x, wx), (y, wy) = axes
        mesh = np.stack(np.meshgrid(x, y, indexing="ij"), axis=-1).reshape(-1, 2)
        values = np.asarray(integrand(mesh), dtype=np.float64).reshape(len(x), len(y))
        return float(wx @ values @ wy)

    fine = rule(panels)
    return fine, abs(fine - rule(panels // 2))


def _integrate(integrand: Callable[[np.ndarray], np.ndarray], data: Gaussian,
               generator: Gaussian) -> float:
    """∫ integrand(x) dx over ±12 standard deviations of both Gaussians (:func:`integrate_box`)."""
    return integrate_box(integrand, _box(data, generator))[0]


def value_by_quadrature(probability: Callable[[np.ndarray], np.ndarray], data: Gaussian,
                        generator: Gaussian) -> float:
    """V(D, G) = ∫ GAN_VALUE_INTEGRAND(p_data, p_G, D) dx by quadrature (:func:`integrate_box`).

    ``probability`` maps float64 points (n, d) to D(x); it is clipped to [1e−15, 1 − 1e−15] so
    that log D and log(1 − D) stay finite where the densities are negligible.
    """
    lagrangian = _closed_form("GAN_VALUE_INTEGRAND")

    def integrand(x: np.ndarray) -> np.ndarray:
        p, q, top = _shifted_densities(data, generator, x)
        d = np.clip(probability(x), 1e-15, 1 - 1e-15)
        return np.exp(top) * lagrangian(p, q, d)  # L is linear in (p_data, p_G)

    return _integrate(integrand, data, generator)


def optimal_value(data: Gaussian, generator: Gaussian) -> float:
    """V(D*, G) = ∫ GAN_VALUE_AT_D_STAR(p_data, p_G) dx (the derived pointwise form) by
    :func:`integrate_box`."""
    at_d_star = _closed_form("GAN_VALUE_AT_D_STAR")

    def integrand(x: np.ndarray) -> np.ndarray:
        p, q, top = _shifted_densities(data, generator, x)
        return np.exp(top) * at_d_star(p, q)  # homogeneous of degree 1

    return _integrate(integrand, data, generator)


def js_divergence(data: Gaussian, generator: Gaussian, *, method: str = "quadpack") -> float:
    """JSD(p_data ‖ p_G) in nats by quadrature of log-space integrands (independent of
    ``derivations.gan``): ``"quadpack"`` — :func:`numerics.quadrature.js_divergence` (1-D
    only); ``"gauss-legendre"`` — the vectorised rule of :func:`integrate_box` (1-D or 2-D,
    fast: it is what :func:`train_gan` records). The default for 2-D is Gauss–Legendre."""
    from numerics.quadrature import js_divergence as jsd_on_the_line

    if method == "quadpack" and data.dim == 1:
        log_p = lambda x: float(data.log_prob(np.array([x])))  # noqa: E731
        log_q = lambda x: float(generator.log_prob(np.array([x])))  # noqa: E731
        return jsd_on_the_line(log_p=log_p, log_q=log_q,
                               points=sorted({data.mean[0], generator.mean[0]})).value
    if method not in ("quadpack", "gauss-legendre"):
        raise ValueError(f"unknown method {method!r}")

    def integrand(x: np.ndarray) -> np.ndarray:
        a, b = data.log_prob(x), generator.log_prob(x)
        log_m = np.logaddexp(a, b) + math.log(0.5)
        return 0.5 * (np.exp(a) * (a - log_m) + np.exp(b) * (b - log_m))

    return integrate_box(integrand, _box(data, generator))[0]


def sup_error_on_region(result: DiscriminatorResult, *, threshold: float = 0.05,
                        points: int = 2001) -> float:
    """sup |D − D*| over the grid points where (p_data + p_G)/2 ≥ ``threshold``.

    1-D: ``points`` grid points; 2-D: a ``√points``-per-axis grid, over ±6 pooled std.
    """
    config = result.config
    grid = region_grid(config.data, config.generator, points)
    mixture = 0.5 * (config.data.density(grid) + config.generator.density(grid))
    inside = mixture >= threshold
    if not inside.any():
        raise ValueError("the region (p_data + p_G)/2 ≥ threshold is empty on the grid")
    d_star = optimal_discriminator(config.data, config.generator)(grid)
    return float(np.max(np.abs(result.probability(grid) - d_star)[inside]))


def region_grid(data: Gaussian, generator: Gaussian, points: int = 2001,
                width: float = 6.0) -> np.ndarray:
    """A regular grid (n, d) over ±``width`` pooled standard deviations around the pooled mean
    (2-D: √points per axis)."""
    shift, scale = (t.double().numpy() for t in _pooled(data, generator))
    if data.dim == 1:
        return np.linspace(shift[0] - width * scale[0], shift[0] + width * scale[0],
                           points)[:, None]
    side = int(round(math.sqrt(points)))
    axes = [np.linspace(m - width * s, m + width * s, side) for m, s in zip(shift, scale)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


# --------------------------------------------------------------------------------------------
# a full GAN on a 1-D target, with a generator whose density is exact


class AffineGenerator(nn.Module):
    """G(z) = b + a·z with a = exp(log_a) > 0 and z ~ N(0, 1): p_G = N(b, a²) exactly."""

    def __init__(self, b: float = 0.0, log_a: float = 0.0) -> None:
        super().__init__()
        self.b = nn.Parameter(torch.tensor([b]))
        self.log_a = nn.Parameter(torch.tensor([log_a]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:  # (n, 1) -> (n, 1)
        return self.b + self.log_a.exp() * z

    def distribution(self) -> Gaussian:
        """p_G as a :class:`Gaussian` (the push-forward of N(0, 1) by the affine map)."""
        return Gaussian((float(self.b.detach()),), (float(self.log_a.detach().exp()),))


@dataclass(frozen=True)
class GANConfig:
    """A GAN on the 1-D target ``data`` with an affine generator started at N(b₀, a₀²).

    ``generator_loss``: ``"non_saturating"`` (G minimises −E log D(G(z)), Goodfellow et al.'s
    practical choice) or ``"minimax"`` (G minimises E log(1 − D(G(z))), the game of part 3.a).
    ``discriminator_steps`` D updates per G update; JSD(p_data ‖ p_G) is computed by quadrature
    (Gauss–Legendre, :func:`js_divergence`) every ``record_every`` generator steps.
    """

    data: Gaussian = Gaussian((2.0,), (0.5,))
    initial_b: float = -1.0
    initial_log_a: float = 0.5
    hidden: int = 32
    depth: int = 2
    steps: int = 300
    discriminator_steps: int = 2
    batch_size: int = 256
    discriminator_learning_rate: float = 5e-3
    generator_learning_rate: float = 2e-2
    generator_loss: str = "non_saturating"
    record_every: int = 30
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.data.dim != 1:
            raise ValueError("the full GAN is 1-D")
        if self.generator_loss not in ("non_saturating", "minimax"):
            raise ValueError(f"unknown generator_loss {self.generator_loss!r}")


@dataclass
class GANResult:
    """The trained pair, JSD(p_data ‖ p_G) by quadrature at the recorded steps, the time."""

    config: GANConfig
    generator: AffineGenerator
    discriminator: Discriminator
    recorded_steps: list[int]
    jsd: list[float]
    seconds: float


def train_gan(config: GANConfig, *, seed: int, progress: bool | None = None) -> GANResult:
    """Alternate ``discriminator_steps`` ascent steps on V for D and one step for G."""
    generator_rng = torch.Generator().manual_seed(seed)
    g = AffineGenerator(config.initial_b, config.initial_log_a)
    shift, scale = _pooled(config.data, g.distribution())
    d = Discriminator(1, config.hidden, config.depth, shift, scale)
    initialise(d, generator_rng)
    opt_d = torch.optim.Adam(d.parameters(), lr=config.discriminator_learning_rate,
                             betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(g.parameters(), lr=config.generator_learning_rate,
                             betas=(0.5, 0.999))
    recorded, jsd = [0], [js_divergence(config.data, g.distribution(), method="gauss-legendre")]
    with threads_limited(config.threads):
        seconds = _alternate(config, g, d, opt_d, opt_g, generator_rng, recorded, jsd, progress)
    return GANResult(config, g.eval(), d.eval(), recorded, jsd, seconds)


def _alternate(config: GANConfig, g: AffineGenerator, d: Discriminator,
               opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer,
               generator_rng: torch.Generator, recorded: list[int], jsd: list[float],
               progress: bool | None) -> float:
    """The training loop of :func:`train_gan`; returns its wall-clock time."""
    start = time.perf_counter()
    for step in _progress_steps(config.steps, progress, "GAN"):
        for _ in range(config.discriminator_steps):
            x_data = config.data.sample(config.batch_size, generator_rng)
            with torch.no_grad():
                x_fake = g(torch.randn(config.batch_size, 1, generator=generator_rng))
            real, fake = value_terms(d(x_data), d(x_fake))
            loss_d = -(real.mean() + fake.mean())
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        logits = d(g(torch.randn(config.batch_size, 1, generator=generator_rng)))
        if config.generator_loss == "minimax":
            loss_g = F.logsigmoid(-logits).mean()   # E log(1 − D(G(z)))
        else:
            loss_g = -F.logsigmoid(logits).mean()   # −E log D(G(z))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if (step + 1) % config.record_every == 0 or step + 1 == config.steps:
            recorded.append(step + 1)
            jsd.append(js_divergence(config.data, g.distribution(), method="gauss-legendre"))
    return time.perf_counter() - start
