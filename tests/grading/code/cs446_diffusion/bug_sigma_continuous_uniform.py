import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import create_data


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        mods = [nn.Linear(3, latent_dim), nn.Softplus()]
        for _ in range(n_layers - 2):
            mods += [nn.Linear(latent_dim, latent_dim), nn.Softplus()]
        mods += [nn.Linear(latent_dim, 2)]
        self.mlp = nn.Sequential(*mods)

    def forward(self, x, sigmas):
        sigmas = torch.as_tensor(sigmas, dtype=x.dtype).reshape(-1, 1)
        sigmas = sigmas.expand(x.shape[0], 1)
        return self.mlp(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    # sigma ~ Uniform(sigma_min, sigma_max)
    s_min, s_max = sigmas.min(), sigmas.max()
    sigma = torch.rand(n, 1) * (s_max - s_min) + s_min
    z = torch.randn(n, 2)
    x_tilde = training_data + sigma * z
    score = scorenet(x_tilde, sigma)
    loss = 0.5 * ((sigma * score + z) ** 2).sum(dim=1)
    return loss.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for i in range(len(sigmas)):
            alpha = eps * sigmas[i] ** 2 / sigmas[-1] ** 2
            for t in range(iterations):
                x = x + alpha * scorenet(x, sigmas[i]) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    X = torch.tensor(create_data()).float()
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10)).float()
    model = ScoreNet()
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    for epoch in tqdm(range(4000)):
        optimizer.zero_grad()
        loss = compute_denoising_loss(model, X, sigmas)
        loss.backward()
        optimizer.step()
    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(*samples.T, s=1)
    plt.show()
