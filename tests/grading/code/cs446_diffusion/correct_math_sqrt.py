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
        hidden = [nn.Linear(latent_dim, latent_dim) for _ in range(n_layers - 2)]
        self.layers = nn.ModuleList([nn.Linear(3, latent_dim)] + hidden + [nn.Linear(latent_dim, 2)])

    def forward(self, x, sigmas):
        sigmas = torch.as_tensor(sigmas, dtype=torch.float32)
        sigmas = sigmas.reshape(-1, 1) * torch.ones(x.shape[0], 1)
        h = torch.cat([x, sigmas], dim=1)
        for k, layer in enumerate(self.layers):
            h = layer(h)
            if k < len(self.layers) - 1:
                h = torch.nn.functional.gelu(h)
        return h / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    inds = torch.randint(0, len(sigmas), size=(N,))
    sig = sigmas[inds].reshape(-1, 1)
    z = torch.randn(training_data.shape)
    x_tilde = training_data + sig * z
    s = scorenet(x_tilde, sig)
    loss = (sig ** 2) * torch.sum((s + (x_tilde - training_data) / sig ** 2) ** 2, dim=1, keepdim=True)
    return 0.5 * torch.mean(loss)


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for i in range(len(sigmas)):
            alpha = eps * sigmas[i] ** 2 / sigmas[-1] ** 2
            noise_scale = math.sqrt(2 * float(alpha))
            sigma_col = torch.full((n_samples, 1), float(sigmas[i]))
            for _ in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sigma_col) + noise_scale * torch.randn(n_samples, 2)
                traj.append(x)
    return torch.stack(traj, dim=1) if return_traj else x


if __name__ == "__main__":
    X = torch.tensor(create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for it in tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, X, sigmas)
        loss.backward()
        opt.step()
    out = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(out[:, 0], out[:, 1], s=2)
    plt.savefig("out.png")
