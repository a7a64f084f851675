import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        layers = [nn.Linear(3, latent_dim), nn.SiLU()]
        for _ in range(n_layers - 2):
            layers += [nn.Linear(latent_dim, latent_dim), nn.SiLU()]
        layers += [nn.Linear(latent_dim, 2)]
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        if isinstance(sigmas, (float, int)):
            sigmas = torch.tensor(float(sigmas))
        sig = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, sig], dim=1)) / sig


def compute_denoising_loss(scorenet, training_data, sigmas):
    if isinstance(training_data, np.ndarray):
        training_data = torch.from_numpy(training_data).float()
    N = training_data.shape[0]
    sigma = sigmas[torch.randint(0, len(sigmas), (N, 1))]      # N x 1
    z = torch.randn_like(training_data)
    x_tilde = training_data + sigma * z
    score = scorenet(x_tilde, sigma)
    target = -(x_tilde - training_data) / sigma ** 2
    loss = 0.5 * sigma ** 2 * (score - target) ** 2
    return loss.sum()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    for sigma in sigmas:
        alpha = eps * sigma ** 2 / sigmas[-1] ** 2
        sig = torch.full((n_samples, 1), float(sigma))
        for _ in tqdm(range(iterations)):
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
            traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = hw5_utils.create_data()
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-5)
    for it in tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, data, sigmas)
        loss.backward()
        opt.step()
    samples = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
