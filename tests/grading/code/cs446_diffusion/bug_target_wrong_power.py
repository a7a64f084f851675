import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import create_data, plot_samples


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.hidden = nn.ModuleList(
            [nn.Linear(3, latent_dim)] + [nn.Linear(latent_dim, latent_dim) for _ in range(n_layers - 2)]
        )
        self.final = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.tensor([float(sigmas)])
        sigmas = sigmas.reshape(-1, 1).repeat(x.shape[0] // sigmas.numel(), 1)
        h = torch.cat([x, sigmas], dim=1)
        for lin in self.hidden:
            h = torch.relu(lin(h))
        return self.final(h) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    sigma = sigmas[torch.randint(0, len(sigmas), (n,))].unsqueeze(1)
    z = torch.randn(n, 2)
    x_tilde = training_data + sigma * z
    # grad log q = -(x~ - x)/sigma^2 = -z / sigma^2
    target = -z / sigma ** 2
    score = scorenet(x_tilde, sigma)
    return 0.5 * (sigma.squeeze(1) ** 2 * ((score - target) ** 2).sum(1)).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for sigma in sigmas:
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2
            sig = sigma.expand(n_samples, 1)
            for t in tqdm(range(iterations)):
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
    for epoch in tqdm(range(3000)):
        loss = compute_denoising_loss(net, data, sigmas)
        opt.zero_grad()
        loss.backward()
        opt.step()
    plot_samples(langevin_dynamics_sample(net, 1000, sigmas))
