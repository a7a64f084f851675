import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super(ScoreNet, self).__init__()
        self.layers = nn.ModuleList([nn.Linear(3, latent_dim)])
        for _ in range(n_layers - 2):
            self.layers.append(nn.Linear(latent_dim, latent_dim))
        self.out = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        if isinstance(sigmas, float):
            sigmas = torch.tensor(sigmas)
        sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1).float()
        h = torch.cat([x, sigmas], 1)
        for layer in self.layers:
            h = torch.relu(layer(h))
        return self.out(h) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    # pick a random noise level
    k = torch.randint(0, len(sigmas), (1,))
    sigma = sigmas[k].expand(N).reshape(N, 1)
    z = torch.randn(N, 2)
    x_tilde = training_data + sigma * z
    target = -(x_tilde - training_data) / sigma ** 2
    s = scorenet(x_tilde, sigma)
    loss = 0.5 * sigma[:, 0] ** 2 * torch.sum((s - target) ** 2, dim=1)
    return loss.mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = torch.zeros(n_samples, len(sigmas) * iterations, 2)
    step = 0
    for sigma in sigmas:
        alpha = eps * sigma ** 2 / sigmas[-1] ** 2
        sig = sigma.repeat(n_samples, 1)
        for t in tqdm(range(iterations)):
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
            traj[:, step] = x
            step += 1
    return traj if return_traj else x


def train(model, data, sigmas, epochs=3000):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in tqdm(range(epochs)):
        opt.zero_grad()
        loss = compute_denoising_loss(model, data, sigmas)
        loss.backward()
        opt.step()


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    train(model, data, sigmas)
    out = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(out[:, 0], out[:, 1], s=1)
    plt.show()
