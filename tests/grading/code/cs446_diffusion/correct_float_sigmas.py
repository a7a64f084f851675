import math
import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        layers = []
        d = 3
        for _ in range(n_layers - 1):
            layers.append(nn.Linear(d, latent_dim))
            layers.append(nn.LeakyReLU(0.1))
            d = latent_dim
        layers.append(nn.Linear(d, 2))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.full((x.shape[0], 1), float(sigmas), dtype=x.dtype)
        if sigmas.ndim == 0:
            sigmas = sigmas.expand(x.shape[0]).unsqueeze(1)
        if sigmas.ndim == 1:
            sigmas = sigmas.unsqueeze(1)
        return self.mlp(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    sigma_list = [float(s) for s in sigmas]          # plain python floats
    N = training_data.shape[0]
    choice = torch.randint(0, len(sigma_list), (N,))
    sigma = torch.tensor(sigma_list, dtype=training_data.dtype)[choice].reshape(N, 1)
    eps = torch.randn(N, 2)
    x_tilde = training_data + sigma * eps
    s = scorenet(x_tilde, sigma)
    diff = s + (x_tilde - training_data) / sigma ** 2
    loss = 0.5 * sigma[:, 0] ** 2 * (diff ** 2).sum(dim=1)
    return loss.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    sigma_list = [float(s) for s in sigmas]
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for sigma in sigma_list:
            alpha = eps * sigma ** 2 / sigma_list[-1] ** 2      # python float
            for t in range(iterations):
                z = torch.randn(n_samples, 2)
                x = x + alpha * scorenet(x, sigma) + math.sqrt(2 * alpha) * z
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    losses = []
    for step in tqdm(range(4000)):
        loss = compute_denoising_loss(net, data, sigmas)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    plt.plot(losses)
    plt.show()
    samples = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
