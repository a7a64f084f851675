import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        layers = [nn.Linear(3, latent_dim), nn.ReLU()]
        for _ in range(n_layers - 2):
            layers += [nn.Linear(latent_dim, latent_dim), nn.ReLU()]
        layers.append(nn.Linear(latent_dim, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.tensor(sigmas, dtype=torch.float32)
        sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    sigma = sigmas[torch.randint(0, len(sigmas), (N,))].reshape(N, 1)
    z = torch.randn(N, 2)
    x_tilde = training_data + sigma * z
    target = -(x_tilde - training_data) / sigma ** 2
    s = scorenet(x_tilde, sigma)
    return torch.mean(0.5 * sigma[:, 0] ** 2 * torch.sum((s - target) ** 2, dim=1))


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    for sigma in sigmas:
        alpha = eps * sigma / sigmas[-1]          # step size for this level
        sig = torch.ones(n_samples, 1) * sigma
        for _ in tqdm(range(iterations)):
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn_like(x)
            traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(model, data, sigmas)
        loss.backward()
        opt.step()
    s = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(s[:, 0], s[:, 1], s=1)
    plt.show()
