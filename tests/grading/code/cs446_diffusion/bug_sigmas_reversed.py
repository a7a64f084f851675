import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import create_data


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        net = [nn.Linear(3, latent_dim), nn.SiLU()]
        for _ in range(n_layers - 2):
            net += [nn.Linear(latent_dim, latent_dim), nn.SiLU()]
        net.append(nn.Linear(latent_dim, 2))
        self.net = nn.Sequential(*net)

    def forward(self, x, sigmas):
        if isinstance(sigmas, float):
            sigmas = torch.tensor(sigmas)
        sigmas = sigmas.reshape(-1, 1)
        if sigmas.shape[0] == 1:
            sigmas = sigmas.expand(x.shape[0], 1)
        return self.net(torch.cat([x, sigmas], 1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    i = torch.randint(0, len(sigmas), (n,))
    sigma = sigmas[i].view(n, 1)
    z = torch.randn(n, 2)
    x_tilde = training_data + sigma * z
    score = scorenet(x_tilde, sigma)
    target = -z / sigma
    return (0.5 * sigma.view(n) ** 2 * ((score - target) ** 2).sum(1)).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    # sort so that we anneal through the noise levels in order
    sigmas_sorted, _ = torch.sort(sigmas)
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for sigma in sigmas_sorted:
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2
            sig = torch.full((n_samples, 1), sigma.item())
            for _ in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
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
    samples = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
