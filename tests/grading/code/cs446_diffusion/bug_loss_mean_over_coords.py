import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import create_data


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.layers = nn.ModuleList()
        self.layers.append(nn.Linear(3, latent_dim))
        for _ in range(n_layers - 2):
            self.layers.append(nn.Linear(latent_dim, latent_dim))
        self.layers.append(nn.Linear(latent_dim, 2))

    def forward(self, x, sigmas):
        if not isinstance(sigmas, torch.Tensor):
            sigmas = torch.ones(x.shape[0], 1) * sigmas
        sigmas = sigmas.view(-1, 1).expand(x.shape[0], 1)
        h = torch.cat([x, sigmas], dim=1)
        for layer in self.layers[:-1]:
            h = torch.nn.functional.silu(layer(h))
        return self.layers[-1](h) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    sigma = sigmas[torch.randint(0, len(sigmas), (n,))].view(n, 1)
    noise = torch.randn_like(training_data)
    x_tilde = training_data + sigma * noise
    score = scorenet(x_tilde, sigma)
    target = -(x_tilde - training_data) / sigma ** 2
    # weighted squared error, averaged
    loss = 0.5 * sigma ** 2 * (score - target) ** 2
    return loss.mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    for i in range(len(sigmas)):
        alpha = eps * sigmas[i] ** 2 / sigmas[-1] ** 2
        sig = torch.full((n_samples, 1), sigmas[i].item())
        for t in tqdm(range(iterations)):
            z = torch.randn(n_samples, 2)
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * z
            traj.append(x)
    return torch.stack(traj, dim=1) if return_traj else x


if __name__ == "__main__":
    data = torch.as_tensor(create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for ep in tqdm(range(5000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, data, sigmas)
        loss.backward()
        opt.step()
    out = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(out[:, 0], out[:, 1], s=1)
    plt.savefig("samples.png")
