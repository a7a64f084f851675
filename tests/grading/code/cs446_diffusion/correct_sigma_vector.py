import numpy as np
import torch
from torch import nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils as utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        layers = [nn.Linear(3, latent_dim), nn.SiLU()]
        for _ in range(n_layers - 2):
            layers.extend([nn.Linear(latent_dim, latent_dim), nn.SiLU()])
        layers.append(nn.Linear(latent_dim, 2))
        self.net = nn.Sequential(*layers)

    def forward(self, x, sigmas):
        # sigmas may be a float, a vector of length N or N x 1
        sigmas = torch.as_tensor(sigmas, dtype=x.dtype).flatten()
        if sigmas.numel() == 1:
            sigmas = sigmas.expand(x.shape[0])
        sigmas = sigmas[:, None]
        return self.net(torch.cat((x, sigmas), dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    i = torch.randint(len(sigmas), (N,))
    sigma = sigmas[i]                                   # shape (N,)
    z = torch.randn(N, 2)
    x_tilde = training_data + sigma[:, None] * z
    score = scorenet(x_tilde, sigma)                    # N x 2
    target = -(x_tilde - training_data) / sigma[:, None] ** 2
    err = ((score - target) ** 2).sum(-1)               # N
    return (0.5 * sigma ** 2 * err).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    with torch.no_grad():
        x = torch.randn(n_samples, 2)
        traj = []
        for sigma in sigmas:
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2
            sig_vec = torch.full((n_samples,), sigma.item())
            for t in tqdm(range(iterations), leave=False):
                x = x + alpha * scorenet(x, sig_vec) + (2 * alpha) ** 0.5 * torch.randn(n_samples, 2)
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


def create_data(n=1000):
    # two moons-ish toy data for local testing
    t = np.random.rand(n) * np.pi
    a = np.stack([np.cos(t), np.sin(t)], 1)
    b = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1)
    X = np.concatenate([a[: n // 2], b[n // 2:]], 0) + 0.05 * np.random.randn(n, 2)
    return torch.tensor(X, dtype=torch.float32)


if __name__ == "__main__":
    X = create_data()
    sigmas = torch.tensor(np.geomspace(1, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for it in tqdm(range(5000)):
        loss = compute_denoising_loss(model, X, sigmas)
        opt.zero_grad()
        loss.backward()
        opt.step()
    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
    utils.plot_score(model)
