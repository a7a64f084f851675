import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        layers = [nn.Linear(3, latent_dim), nn.Softplus()]
        for _ in range(n_layers - 2):
            layers.append(nn.Linear(latent_dim, latent_dim))
            layers.append(nn.Softplus())
        layers.append(nn.Linear(latent_dim, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        sigmas = torch.as_tensor(sigmas, dtype=x.dtype)
        if sigmas.numel() == 1:
            sigmas = sigmas.reshape(1, 1).expand(x.shape[0], 1)
        sigmas = sigmas.reshape(-1, 1)
        return self.net(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    idx = torch.randint(0, len(sigmas), (N,))
    sigma = sigmas[idx].view(-1, 1)
    x_tilde = training_data + sigma * torch.randn_like(training_data)
    # score of q(x~|x) = N(x, sigma^2 I)
    target = (x_tilde - training_data) / sigma ** 2
    score = scorenet(x_tilde, sigma)
    loss = 0.5 * sigma ** 2 * torch.sum((score - target) ** 2, dim=1, keepdim=True)
    return loss.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    L = len(sigmas)
    x = torch.randn(n_samples, 2)
    traj = torch.zeros(n_samples, L * iterations, 2)
    with torch.no_grad():
        for i in range(L):
            alpha = eps * sigmas[i] ** 2 / sigmas[L - 1] ** 2
            sig = torch.ones(n_samples, 1) * sigmas[i]
            for t in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn_like(x)
                traj[:, i * iterations + t, :] = x
    if return_traj:
        return traj
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
    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
