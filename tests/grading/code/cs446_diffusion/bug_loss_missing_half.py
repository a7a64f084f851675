import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        seq = [nn.Linear(3, latent_dim), nn.Tanh()]
        for _ in range(n_layers - 2):
            seq += [nn.Linear(latent_dim, latent_dim), nn.Tanh()]
        seq += [nn.Linear(latent_dim, 2)]
        self.seq = nn.Sequential(*seq)

    def forward(self, x, sigmas):
        if type(sigmas) in (float, int):
            sigmas = torch.full((len(x), 1), float(sigmas))
        elif sigmas.dim() == 0:
            sigmas = sigmas.expand(len(x), 1)
        elif sigmas.dim() == 1:
            sigmas = sigmas.unsqueeze(1)
        return self.seq(torch.cat((x, sigmas), 1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    idx = torch.randint(len(sigmas), (N,))
    sigma = sigmas[idx][:, None]
    z = torch.randn(N, 2)
    x_tilde = training_data + sigma * z
    s = scorenet(x_tilde, sigma)
    # lambda(sigma) * || s + (x~ - x)/sigma^2 ||^2
    per_ex = sigma.squeeze(1) ** 2 * ((s + (x_tilde - training_data) / sigma ** 2) ** 2).sum(1)
    return per_ex.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    with torch.no_grad():
        x = torch.randn(n_samples, 2)
        traj = []
        for sigma in sigmas:
            alpha = eps * (sigma ** 2) / (sigmas[-1] ** 2)
            for _ in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sigma) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
                traj.append(x)
        if return_traj:
            return torch.stack(traj, 1)
        return x


data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
sigmas = torch.tensor(np.geomspace(1, 0.01, 10), dtype=torch.float32)
model = ScoreNet()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in tqdm(range(3000)):
    opt.zero_grad()
    loss = compute_denoising_loss(model, data, sigmas)
    loss.backward()
    opt.step()
samples = langevin_dynamics_sample(model, 1000, sigmas)
plt.scatter(samples[:, 0], samples[:, 1], s=1)
plt.show()
