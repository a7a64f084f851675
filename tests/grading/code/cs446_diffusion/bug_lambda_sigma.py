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
        d_in = 3
        for _ in range(n_layers - 1):
            layers += [nn.Linear(d_in, latent_dim), nn.ELU()]
            d_in = latent_dim
        layers.append(nn.Linear(d_in, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.tensor(float(sigmas))
        sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    idx = torch.randint(0, len(sigmas), (N,))
    sigma = sigmas[idx].reshape(N, 1)
    z = torch.randn(N, 2)
    x_tilde = training_data + sigma * z
    target = -(x_tilde - training_data) / sigma ** 2
    score = scorenet(x_tilde, sigma)
    lam = sigma                      # lambda(sigma)
    loss = 0.5 * lam * ((score - target) ** 2).sum(dim=1, keepdim=True)
    return loss.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for s in sigmas:
            alpha = float(eps * s ** 2 / sigmas[-1] ** 2)
            for _ in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, float(s)) + math.sqrt(2 * alpha) * torch.randn(n_samples, 2)
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for it in tqdm(range(3000)):
        opt.zero_grad()
        l = compute_denoising_loss(model, data, sigmas)
        l.backward()
        opt.step()
    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
