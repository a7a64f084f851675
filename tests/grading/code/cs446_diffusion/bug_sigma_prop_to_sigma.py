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
            sigmas = torch.full((x.shape[0], 1), float(sigmas))
        sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, sigmas], 1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    # sample a noise level index for each data point
    idx = torch.multinomial(sigmas, N, replacement=True)
    sigma = sigmas[idx].unsqueeze(1)
    z = torch.randn_like(training_data)
    x_tilde = training_data + sigma * z
    target = -(x_tilde - training_data) / sigma ** 2
    score = scorenet(x_tilde, sigma)
    return (0.5 * sigma ** 2 * ((score - target) ** 2).sum(1, keepdim=True)).mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    for sigma in sigmas:
        alpha = eps * sigma ** 2 / sigmas[-1] ** 2
        for _ in tqdm(range(iterations)):
            x = x + alpha * scorenet(x, sigma * torch.ones(n_samples, 1)) \
                + torch.sqrt(2 * alpha) * torch.randn_like(x)
            traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for i in tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, data, sigmas)
        loss.backward()
        opt.step()
    s = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(s[:, 0], s[:, 1], s=1)
    plt.show()
