"""HW5 Q4: denoising score matching + annealed Langevin dynamics."""
import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm

from hw5_utils import create_data


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        net = []
        net.append(nn.Linear(3, latent_dim))
        net.append(nn.Tanh())
        for _ in range(n_layers - 2):
            net.append(nn.Linear(latent_dim, latent_dim))
            net.append(nn.Tanh())
        net.append(nn.Linear(latent_dim, 2))
        self.model = nn.Sequential(*net)

    def forward(self, x, sigmas):
        if type(sigmas) is float:
            sigmas = sigmas * torch.ones(x.shape[0], 1)
        sigmas = sigmas.reshape(-1, 1)
        if sigmas.shape[0] != x.shape[0]:
            sigmas = sigmas.repeat(x.shape[0], 1)
        inp = torch.cat([x, sigmas], dim=1)
        return self.model(inp) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    rand_idx = torch.randint(low=0, high=len(sigmas), size=(n,))
    sigma = sigmas[rand_idx]                          # (n,)
    noise = torch.randn(n, 2) * sigma[:, None]
    x_tilde = training_data + noise
    score = scorenet(x_tilde, sigma[:, None])
    target = -noise / sigma[:, None] ** 2
    return (sigma ** 2 * ((score - target) ** 2).sum(dim=1)).mean() / 2


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    L = len(sigmas)
    traj = torch.empty(n_samples, L * iterations, 2)
    x = torch.randn(n_samples, 2)
    for i, sigma in enumerate(sigmas):
        alpha = eps * (sigma / sigmas[-1]) ** 2
        sigma_batch = sigma.repeat(n_samples, 1)
        for t in range(iterations):
            x = x + alpha * scorenet(x, sigma_batch) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
            traj[:, i * iterations + t] = x
    return traj if return_traj else x


def train(model, data, sigmas, steps=5000, lr=1e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    pbar = tqdm(range(steps))
    for _ in pbar:
        loss = compute_denoising_loss(model, data, sigmas)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


if __name__ == "__main__":
    data = torch.tensor(create_data()).float()
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10)).float()
    model = train(ScoreNet(), data, sigmas)
    traj = langevin_dynamics_sample(model, 500, sigmas, return_traj=True)
    final = traj[:, -1]
    fig, ax = plt.subplots(1, 2, figsize=(10, 5))
    ax[0].scatter(data[:, 0], data[:, 1], s=1)
    ax[1].scatter(final[:, 0], final[:, 1], s=1)
    plt.savefig("q4.png")
