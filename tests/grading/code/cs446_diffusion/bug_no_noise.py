import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(3, latent_dim)])
        self.layers.extend([nn.Linear(latent_dim, latent_dim) for _ in range(n_layers - 2)])
        self.last = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        if not isinstance(sigmas, torch.Tensor):
            sigmas = torch.tensor(float(sigmas))
        s = sigmas.reshape(-1, 1).expand(x.size(0), 1)
        h = torch.cat([x, s], dim=1)
        for layer in self.layers:
            h = torch.tanh(layer(h))
        return self.last(h) / s


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    sigma = sigmas[torch.multinomial(torch.ones(len(sigmas)), n, replacement=True)].reshape(n, 1)
    z = torch.randn(n, 2)
    x_tilde = training_data + sigma * z
    s = scorenet(x_tilde, sigma)
    return 0.5 * ((sigma * s + z) ** 2).sum(dim=1).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for sigma in sigmas:
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2
            sig = torch.ones(n_samples, 1) * sigma
            for _ in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sig)
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
