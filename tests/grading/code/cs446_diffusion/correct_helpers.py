import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
import tqdm

import hw5_utils


def _as_column(sig, n, dtype=torch.float32):
    sig = torch.as_tensor(sig, dtype=dtype)
    if sig.numel() == 1:
        return sig.reshape(1, 1).expand(n, 1)
    return sig.reshape(n, 1)


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        blocks = [nn.Linear(3, latent_dim), nn.ReLU()]
        for _ in range(n_layers - 2):
            blocks += [nn.Linear(latent_dim, latent_dim), nn.ReLU()]
        blocks += [nn.Linear(latent_dim, 2)]
        self.mlp = nn.Sequential(*blocks)

    def forward(self, x, sigmas):
        sig = _as_column(sigmas, x.shape[0], x.dtype)
        return self.mlp(torch.cat([x, sig], dim=1)) / sig


def sample_noise_levels(sigmas, n):
    """pick one of the L sigmas uniformly for every example -> n x 1"""
    return sigmas[torch.randint(0, len(sigmas), (n,))].unsqueeze(-1)


def perturb(x, sigma):
    z = torch.randn_like(x)
    return x + sigma * z, z


def compute_denoising_loss(scorenet, training_data, sigmas):
    if isinstance(training_data, np.ndarray):
        training_data = torch.as_tensor(training_data, dtype=torch.float32)
    sigma = sample_noise_levels(sigmas, training_data.shape[0])
    x_tilde, z = perturb(training_data, sigma)
    target = -(x_tilde - training_data) / sigma ** 2
    lam = sigma ** 2
    sq_norm = ((scorenet(x_tilde, sigma) - target) ** 2).sum(dim=1, keepdim=True)
    return (0.5 * lam * sq_norm).mean()


def langevin_step(scorenet, x, sigma, alpha):
    z = torch.randn_like(x)
    return x + alpha * scorenet(x, sigma) + torch.sqrt(2 * alpha) * z


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    with torch.no_grad():
        x = torch.randn(n_samples, 2)
        history = []
        for sigma in sigmas:
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2
            sigma_col = _as_column(sigma, n_samples)
            for _ in tqdm.tqdm(range(iterations)):
                x = langevin_step(scorenet, x, sigma_col, alpha)
                history.append(x)
        if return_traj:
            return torch.stack(history, dim=1)
        return x


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for ep in tqdm.tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(model, data, sigmas)
        loss.backward()
        opt.step()
    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.savefig("samples.png")
