"""A score network s_θ(x, σ) trained by denoising score matching (homework Question 4).

Denoising score matching (Vincent 2011; Song & Ermon, "Generative Modeling by Estimating
Gradients of the Data Distribution", 2019, eq. 5–6): for a noise level σ, x ~ p_data and
x̃ = x + σε, ε ~ N(0, I), the conditional score is ∇_x̃ log N(x̃; x, σ²I) = −ε/σ, and

    ℓ(θ; σ) = ½ E ‖s_θ(x + σε, σ) + ε/σ‖²

is minimised by the score of the noised density p_σ = p_data ⊛ N(0, σ²I) (Tweedie). The
homework weighs the levels by λ(σ) = σ², so the loss averaged over a geometric ladder
σ_1 > σ_2 > … > σ_L is

    L(θ) = E_i ½ σ_i² ‖s_θ(x + σ_i ε, σ_i) + ε/σ_i‖² = E_i ½ ‖σ_i s_θ(x + σ_i ε, σ_i) + ε‖².

The network is a small MLP of (x, log σ); its output is divided by σ (Song & Ermon 2020,
"Improved techniques", §3.3: ‖∇ log p_σ‖ ∝ 1/σ), so σ·s_θ is O(1) at every level. For a
Gaussian mixture the noised score is known in closed form (``derivations.diffusion``, through
the torch bridge; see :func:`mixture_score`), which is what the learned field is compared
with (:func:`relative_mse`). Training draws fresh points from a :class:`GaussianMixture` or
minibatches from a fixed point cloud (the "CS446" text), from an explicit torch.Generator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from models.data import GaussianMixture
from models.layers import initialise

__all__ = [
    "ScoreConfig",
    "TEXT_CONFIG",
    "ScoreNetwork",
    "ScoreResult",
    "geometric_ladder",
    "denoising_score_matching_loss",
    "train",
    "mixture_score",
    "question4_mixture",
    "isotropic_stds",
    "noised_mixture",
    "relative_mse",
]

ScoreFunction = Callable[[torch.Tensor, float], torch.Tensor]  # (x (n, d), σ) -> (n, d)


def geometric_ladder(sigma_max: float, sigma_min: float, levels: int) -> np.ndarray:
    """σ_1 = sigma_max > … > σ_L = sigma_min with a constant ratio (float64, shape (L,))."""
    if not 0 < sigma_min < sigma_max or levels < 2:
        raise ValueError("need 0 < sigma_min < sigma_max and at least two levels")
    return np.exp(np.linspace(math.log(sigma_max), math.log(sigma_min), levels))


@dataclass(frozen=True)
class ScoreConfig:
    """The noise ladder, the network and the optimiser.

    Defaults: L = 10 levels from σ_1 = 3 to σ_L = 0.1 (the range over which the learned field
    is checked), an MLP of 3 hidden SiLU layers of 64 units, Adam with a cosine-decayed
    learning rate, 1500 steps of 512 points (each point gets a level drawn uniformly from the
    ladder and its own noise).
    """

    sigma_max: float = 3.0
    sigma_min: float = 0.1
    levels: int = 10
    hidden: int = 64
    depth: int = 3
    steps: int = 1500
    batch_size: int = 512
    learning_rate: float = 1e-2
    fourier_features: int = 0
    fourier_scale: float = 1.0
    threads: int | None = None  # torch.set_num_threads during training (None: leave it)

    @property
    def sigmas(self) -> np.ndarray:
        return geometric_ladder(self.sigma_max, self.sigma_min, self.levels)


# The "CS446" point cloud has structure far finer than its extent (strokes ≈ 0.3 wide, ±4.6
# wide): random Fourier features of the input (Tancik et al. 2020) let the small MLP resolve it.
TEXT_CONFIG = ScoreConfig(fourier_features=32, fourier_scale=1.0, steps=1000)


class ScoreNetwork(nn.Module):
    """s_θ(x, σ) = MLP((x − shift)/scale, log σ) / σ.

    ``shift`` and ``scale`` (the data's mean and overall standard deviation) only standardise
    the input; they are fixed buffers.
    """

    def __init__(self, dim: int, hidden: int, depth: int, shift: torch.Tensor,
                 scale: torch.Tensor, frequencies: torch.Tensor | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        features = 0 if frequencies is None else 2 * frequencies.shape[1]
        width = dim + 1 + features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)
        self.register_buffer("shift", shift.reshape(dim).float())
        self.register_buffer("scale", scale.reshape(()).float())
        self.register_buffer("frequencies", torch.zeros(dim, 0) if frequencies is None
                             else frequencies.float())

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        # x: (n, d), sigma: (n,) -> (n, d)
        z = (x - self.shift) / self.scale
        angles = 2 * math.pi * z @ self.frequencies                      # (n, F)
        inputs = torch.cat([z, angles.sin(), angles.cos(), sigma.log()[:, None]], dim=1)
        return self.net(inputs) / sigma[:, None]

    def score(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        """s_θ(x, σ) for points x (n, d) at one level σ (or one σ per point), no gradient."""
        sigma = torch.as_tensor(sigma, dtype=torch.float32)
        with torch.no_grad():
            x32 = x.float()
            out = self(x32, sigma.expand(len(x32)) if sigma.dim() == 0 else sigma.float())
        return out.to(x.dtype)


def denoising_score_matching_loss(model: ScoreNetwork, x: torch.Tensor, sigma: torch.Tensor,
                                  noise: torch.Tensor) -> torch.Tensor:
    """Per-point ½ λ(σ) ‖s_θ(x + σε, σ) + ε/σ‖² with λ(σ) = σ²; shapes (n, d), (n,), (n, d)."""
    sigma_col = sigma[:, None]
    residual = model(x + sigma_col * noise, sigma) + noise / sigma_col
    return 0.5 * sigma**2 * residual.pow(2).sum(dim=1)


@dataclass
class ScoreResult:
    """A trained score network, its config, the training time and the loss per step."""

    config: ScoreConfig
    model: ScoreNetwork
    seconds: float
    cpu_seconds: float
    losses: list[float] = field(default_factory=list)

    def score(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """The learned score at one level: (n, d) -> (n, d) (a :data:`ScoreFunction`)."""
        return self.model.score(x, sigma)


def _batches(data: GaussianMixture | np.ndarray, batch_size: int,
             generator: torch.Generator) -> Callable[[], torch.Tensor]:
    """A function drawing one training batch (batch_size, d) as float32."""
    if isinstance(data, GaussianMixture):
        weights = torch.tensor(np.array(data.weights), dtype=torch.float32)
        means = torch.tensor(np.array(data.means), dtype=torch.float32)
        factors = torch.as_tensor(np.linalg.cholesky(data.covariances), dtype=torch.float32)

        def draw_mixture() -> torch.Tensor:
            k = torch.multinomial(weights, batch_size, replacement=True, generator=generator)
            eps = torch.randn(batch_size, data.dim, generator=generator)
            return means[k] + torch.einsum("nij,nj->ni", factors[k], eps)

        return draw_mixture
    cloud = torch.as_tensor(np.asarray(data), dtype=torch.float32)
    if cloud.ndim != 2 or len(cloud) == 0:
        raise ValueError("a point cloud is an array of shape (n, d) with n ≥ 1")

    def draw_cloud() -> torch.Tensor:
        return cloud[torch.randint(len(cloud), (batch_size,), generator=generator)]

    return draw_cloud


def _moments(data: GaussianMixture | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """The data's mean (d,) and overall standard deviation √(tr Cov / d)."""
    if isinstance(data, GaussianMixture):
        mean = data.weights @ data.means
        centred = data.means - mean
        cov = np.einsum("k,kij->ij", data.weights, data.covariances) + \
            np.einsum("k,ki,kj->ij", data.weights, centred, centred)
    else:
        cloud = np.asarray(data, dtype=np.float64)
        mean, cov = cloud.mean(axis=0), np.atleast_2d(np.cov(cloud.T))
    return torch.as_tensor(mean), torch.as_tensor(math.sqrt(np.trace(cov) / len(mean)))


def train(config: ScoreConfig, data: GaussianMixture | np.ndarray, *, seed: int,
          progress: bool | None = None) -> ScoreResult:
    """Minimise the σ²-weighted denoising score matching loss over the geometric ladder.

    ``data`` is a :class:`GaussianMixture` (fresh draws every step: the loss's minimiser is
    the score of the mixture itself) or a fixed point cloud (n, d) (minibatches with
    replacement). Deterministic under ``seed``; respects ``torch.set_num_threads``.
    """
    from models.layers import threads_limited

    with threads_limited(config.threads):
        return _train(config, data, seed, progress)


def _train(config: ScoreConfig, data: GaussianMixture | np.ndarray, seed: int,
           progress: bool | None) -> ScoreResult:
    from models.progress import progress_bar

    generator = torch.Generator().manual_seed(seed)
    shift, scale = _moments(data)
    dim = len(shift)
    frequencies = None
    if config.fourier_features:
        frequencies = config.fourier_scale * torch.randn(dim, config.fourier_features,
                                                         generator=generator)
    model = ScoreNetwork(dim, config.hidden, config.depth, shift, scale, frequencies)
    initialise(model, generator)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, config.steps)
    sigmas = torch.as_tensor(config.sigmas, dtype=torch.float32)
    draw = _batches(data, config.batch_size, generator)
    losses: list[float] = []
    start, cpu_start = time.perf_counter(), time.process_time()
    bar = progress_bar(range(config.steps), enabled=progress, desc="score model",
                       total=config.steps)
    for _ in bar:
        x = draw()                                                              # (B, d)
        sigma = sigmas[torch.randint(len(sigmas), (len(x),), generator=generator)]  # (B,)
        noise = torch.randn(x.shape, generator=generator)                       # (B, d)
        loss = denoising_score_matching_loss(model, x, sigma, noise).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(loss.item())
    return ScoreResult(config, model.eval(), time.perf_counter() - start,
                       time.process_time() - cpu_start, losses)


# --------------------------------------------------------------------------------------------
# the exact score of a noised Gaussian mixture, and the error of a learned one


def noised_mixture(mixture: GaussianMixture, sigma: float) -> GaussianMixture:
    """p_σ = p ⊛ N(0, σ²I): the same weights and means, covariances Σ_k + σ²I (exact)."""
    eye = np.eye(mixture.dim)[None]
    return GaussianMixture(mixture.weights, mixture.means, mixture.covariances + sigma**2 * eye)


def isotropic_stds(mixture: GaussianMixture) -> np.ndarray:
    """s_k with Σ_k = s_k² I, or ValueError when a component is not isotropic."""
    variances = np.einsum("kii->ki", mixture.covariances)
    s2 = variances[:, 0]
    off_diagonal = mixture.covariances - s2[:, None, None] * np.eye(mixture.dim)[None]
    if np.max(np.abs(off_diagonal)) > 1e-12 * max(1.0, float(s2.max())):
        raise ValueError("the derived 2-D mixture score is for isotropic components N(m_k, s_k² I)")
    return np.sqrt(s2)


def question4_mixture() -> GaussianMixture:
    """The mixture the score model is checked on: three isotropic 2-D Gaussians.

    Weights 0.5, 0.3, 0.2 (unequal, so mode weights are informative), means (−2, −1), (2, −1),
    (0, 2) as in ``models.data.default_mixture``, standard deviations 0.45, 0.3, 0.6. Isotropic
    components, because that is the case whose noised score ``derivations.diffusion`` derives
    (``NOISED_MIXTURE_SCORE_2D``).
    """
    means = np.array([[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]])
    stds = np.array([0.45, 0.3, 0.6])
    return GaussianMixture(np.array([0.5, 0.3, 0.2]), means,
                           stds[:, None, None] ** 2 * np.eye(2)[None])


def mixture_score(mixture: GaussianMixture) -> ScoreFunction:
    """(x, σ) ↦ ∇_x log p_σ(x) for an isotropic 2-D mixture: ``NOISED_MIXTURE_SCORE_2D`` of
    ``derivations.diffusion`` through the torch bridge, in float64.

    The closed form is a ratio Σ_k w_k N_k (…)/Σ_k w_k N_k, unchanged when every w_k is scaled
    by one positive factor; far from the data both sums underflow, so each point's weights
    are scaled by e^{c(x)} with c(x) = min_k ‖x − m_k‖²/(2(s_k² + σ²)) (the exponent of the
    nearest component), which leaves the score as it is and the sums O(1). Where even so the
    sums leave float64's range (a point ≳ 38 noised standard deviations from every mode), the
    score is that of the nearest component, ``GAUSSIAN_SCORE`` (the mixture score's limit there,
    the other responsibilities being below e^{−700}).
    """
    from derivations.diffusion import GAUSSIAN_SCORE, NOISED_MIXTURE_SCORE_2D
    from numerics.bridge import to_torch

    if mixture.dim != 2:
        raise ValueError("a 2-D mixture")
    first, second = (to_torch(closed_form) for closed_form in NOISED_MIXTURE_SCORE_2D)
    gaussian = to_torch(GAUSSIAN_SCORE)  # (x, mu, sigma), elementwise
    stds = torch.as_tensor(isotropic_stds(mixture), dtype=torch.float64)
    weights = torch.tensor(np.array(mixture.weights), dtype=torch.float64)
    means = torch.tensor(np.array(mixture.means), dtype=torch.float64)

    def score(x: torch.Tensor, sigma: float) -> torch.Tensor:
        x64 = x.double()                                                       # (n, 2)
        variance = stds**2 + float(sigma) ** 2                                 # (K,)
        exponent = ((x64[:, None, :] - means[None]) ** 2).sum(-1) / (2 * variance)  # (n, K)
        scaled = weights * torch.exp(exponent.min(dim=1, keepdim=True).values)      # (n, K)
        args = (x64[:, 0], x64[:, 1], scaled, means[:, 0], means[:, 1], stds,
                torch.tensor(float(sigma), dtype=torch.float64))
        value = torch.stack([first(*args), second(*args)], dim=1)
        lost = ~torch.isfinite(value).all(dim=1)
        if lost.any():  # beyond float64's exp range: the nearest component's score (the limit)
            nearest = exponent[lost].argmin(dim=1)
            value[lost] = gaussian(x64[lost], means[nearest],
                                   variance[nearest].sqrt()[:, None])
        return value.to(x.dtype)

    return score


def relative_mse(score: ScoreFunction, mixture: GaussianMixture, sigma: float, n: int,
                 rng: np.random.Generator, exact: ScoreFunction | None = None):
    """E‖s − ∇log p_σ‖² / E‖∇log p_σ‖² over x ~ p_σ, as an Estimate (ratio, delta-method se).

    x is drawn exactly from p_σ (mixture draws plus σ-noise, from ``rng``); ``exact`` defaults
    to :func:`mixture_score`. The standard error of the ratio R = ā/b̄ is
    sd(a − R b)/(√n b̄) (delta method).
    """
    from numerics.estimates import Estimate

    exact = mixture_score(mixture) if exact is None else exact
    x, _ = noised_mixture(mixture, sigma).sample(n, rng)
    points = torch.as_tensor(x, dtype=torch.float64)
    truth = exact(points, sigma).double()
    error = (score(points, sigma).double() - truth).pow(2).sum(dim=1).numpy()
    size = truth.pow(2).sum(dim=1).numpy()
    ratio = float(error.mean() / size.mean())
    se = float(np.std(error - ratio * size, ddof=1) / (math.sqrt(n) * size.mean()))
    return Estimate(ratio, se, n)
