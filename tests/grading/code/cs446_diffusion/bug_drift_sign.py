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
        layers = []
        d = 3
        for _ in range(n_layers - 1):
            layers += [nn.Linear(d, latent_dim), nn.GELU()]
            d = latent_dim
        layers.append(nn.Linear(d, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.full((x.shape[0], 1), float(sigmas))
        sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    idx = torch.randint(0, len(sigmas), (N,))
    sigma = sigmas[idx][:, None]
    z = torch.randn(N, 2)
    x_tilde = training_data + sigma * z
    s = scorenet(x_tilde, sigma)
    target = -(x_tilde - training_data) / sigma ** 2
    return (0.5 * sigma[:, 0] ** 2 * ((s - target) ** 2).sum(1)).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    sL = float(sigmas[-1])
    with torch.no_grad():
        for i in range(len(sigmas)):
            s_i = float(sigmas[i])
            alpha = eps * s_i ** 2 / sL ** 2
            for t in tqdm(range(iterations)):
                # gradient step on the energy
                x = x - alpha * scorenet(x, s_i) + math.sqrt(2 * alpha) * torch.randn(n_samples, 2)
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for it in tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, data, sigmas)
        loss.backward()
        opt.step()
    out = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(out[:, 0], out[:, 1], s=1)
    plt.show()
