import math
import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import create_data


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.layers = nn.ModuleList()
        d = 3
        for _ in range(n_layers - 1):
            self.layers.append(nn.Linear(d, latent_dim))
            d = latent_dim
        self.layers.append(nn.Linear(d, 2))

    def forward(self, x, sigmas):
        sigmas = torch.as_tensor(sigmas, dtype=x.dtype).reshape(-1, 1)
        if sigmas.shape[0] == 1:
            sigmas = sigmas.repeat(x.shape[0], 1)
        h = torch.cat([x, sigmas], 1)
        for l in self.layers[:-1]:
            h = torch.nn.functional.softplus(l(h))
        return self.layers[-1](h) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = len(training_data)
    sigma = sigmas[np.random.choice(len(sigmas), n)].view(n, 1)
    z = torch.randn(n, 2)
    x_tilde = training_data + sigma * z
    score = scorenet(x_tilde, sigma)
    return (0.5 * ((sigma * score + z) ** 2).sum(dim=1)).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    # start from random points
    x = torch.rand(n_samples, 2)
    traj = []
    sigma_L = float(sigmas[-1])
    with torch.no_grad():
        for sigma in sigmas:
            sigma = float(sigma)
            alpha = eps * sigma ** 2 / sigma_L ** 2
            for t in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sigma) + math.sqrt(2 * alpha) * torch.randn(n_samples, 2)
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for it in tqdm(range(4000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, data, sigmas)
        loss.backward()
        opt.step()
    x = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(x[:, 0], x[:, 1], s=1)
    plt.show()
