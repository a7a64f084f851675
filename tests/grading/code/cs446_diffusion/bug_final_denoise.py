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
        layers.append(nn.Linear(latent_dim, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.tensor(float(sigmas))
        sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.net(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    sigma = sigmas[torch.randint(0, len(sigmas), (n,))].view(n, 1)
    z = torch.randn_like(training_data)
    x_tilde = training_data + sigma * z
    s = scorenet(x_tilde, sigma)
    target = -(x_tilde - training_data) / sigma ** 2
    return (0.5 * sigma ** 2 * ((s - target) ** 2).sum(dim=1, keepdim=True)).mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    for sigma in sigmas:
        alpha = eps * sigma ** 2 / sigmas[-1] ** 2
        sig = torch.ones(n_samples, 1) * sigma
        for _ in tqdm(range(iterations)):
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn_like(x)
            traj.append(x)
    # one last denoising step (Tweedie) to remove the leftover noise
    sig_L = torch.ones(n_samples, 1) * sigmas[-1]
    x = x + sigmas[-1] ** 2 * scorenet(x, sig_L)
    if return_traj:
        traj[-1] = x
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
