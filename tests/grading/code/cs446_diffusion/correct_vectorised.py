import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm

import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        # input is (x1, x2, sigma)
        layers = [nn.Linear(3, latent_dim), nn.Softplus()]
        for _ in range(n_layers - 2):
            layers += [nn.Linear(latent_dim, latent_dim), nn.Softplus()]
        layers.append(nn.Linear(latent_dim, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        """x: N x 2, sigmas: N x 1 (or a float). returns N x 2."""
        if not torch.is_tensor(sigmas):
            sigmas = torch.tensor(sigmas, dtype=x.dtype)
        sigmas = sigmas.to(x.dtype).reshape(-1, 1).expand(x.shape[0], 1)
        out = self.net(torch.cat([x, sigmas], dim=1))
        return out / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    """
    training_data: N x 2
    sigmas: L, decreasing
    returns the denoising score matching loss (scalar)
    """
    n = training_data.shape[0]
    # pick a noise level for every example
    idx = torch.randint(0, len(sigmas), (n,))
    sigma = sigmas[idx].view(-1, 1)

    noise = torch.randn_like(training_data) * sigma
    x_tilde = training_data + noise

    # grad_x~ log q(x~ | x) = -(x~ - x) / sigma^2
    target = -(x_tilde - training_data) / sigma ** 2
    score = scorenet(x_tilde, sigma)

    loss = 0.5 * (sigma ** 2) * ((score - target) ** 2).sum(dim=1, keepdim=True)
    return loss.mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    for sigma in sigmas:
        alpha = eps * sigma ** 2 / sigmas[-1] ** 2
        sig = torch.ones(n_samples, 1) * sigma
        for _ in range(iterations):
            z = torch.randn_like(x)
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * z
            traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


def train(model, data, sigmas, n_epochs=5000, lr=1e-3):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(n_epochs)):
        opt.zero_grad()
        loss = compute_denoising_loss(model, data, sigmas)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


if __name__ == "__main__":
    torch.manual_seed(0)
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    losses = train(model, data, sigmas)
    plt.plot(losses)
    plt.yscale("log")
    plt.savefig("loss.png")
    plt.close()

    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(data[:, 0], data[:, 1], s=2, label="data")
    plt.scatter(samples[:, 0], samples[:, 1], s=2, label="samples")
    plt.legend()
    plt.savefig("samples.png")
