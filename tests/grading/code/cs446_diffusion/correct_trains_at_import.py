import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils

torch.manual_seed(446)
np.random.seed(446)

LR = 1e-3
EPOCHS = 3000
N_SAMPLES = 1000


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.first = nn.Sequential(nn.Linear(3, latent_dim), nn.Softplus())
        middle = []
        for _ in range(n_layers - 2):
            middle += [nn.Linear(latent_dim, latent_dim), nn.Softplus()]
        self.middle = nn.Sequential(*middle)
        self.last = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        if isinstance(sigmas, torch.Tensor):
            sig = sigmas.reshape(-1, 1).to(x)
            if sig.shape[0] == 1:
                sig = sig.expand(x.shape[0], 1)
        else:
            sig = torch.ones(x.shape[0], 1, dtype=x.dtype) * sigmas
        h = self.middle(self.first(torch.cat([x, sig], dim=1)))
        return self.last(h) / sig


def compute_denoising_loss(scorenet, training_data, sigmas):
    batch = training_data.shape[0]
    level = torch.randint(0, sigmas.shape[0], (batch, 1))
    sigma = sigmas[level]                         # batch x 1
    z = torch.randn_like(training_data)
    xt = training_data + sigma * z
    s = scorenet(xt, sigma)
    target = -(xt - training_data) / sigma.pow(2)
    l = 0.5 * sigma.pow(2).squeeze(1) * (s - target).pow(2).sum(dim=1)
    return l.mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    sigma_L = sigmas[-1]
    traj = []
    for sigma_i in tqdm(sigmas):
        alpha_i = eps * sigma_i ** 2 / sigma_L ** 2
        sig = sigma_i * torch.ones(n_samples, 1)
        for t in range(iterations):
            z = torch.randn(n_samples, 2)
            x = x + alpha_i * scorenet(x, sig) + torch.sqrt(2 * alpha_i) * z
            traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


# ------------------------------------------------------------------ training
data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)

scorenet = ScoreNet()
optimizer = torch.optim.Adam(scorenet.parameters(), lr=LR)
loss_hist = []
for epoch in tqdm(range(EPOCHS)):
    optimizer.zero_grad()
    loss = compute_denoising_loss(scorenet, data, sigmas)
    loss.backward()
    optimizer.step()
    loss_hist.append(loss.item())

plt.figure()
plt.plot(loss_hist)
plt.xlabel("epoch")
plt.ylabel("loss")
plt.savefig("dsm_loss.png")

samples = langevin_dynamics_sample(scorenet, N_SAMPLES, sigmas)
plt.figure()
plt.scatter(data[:, 0], data[:, 1], s=1, alpha=0.5)
plt.scatter(samples[:, 0], samples[:, 1], s=1)
plt.savefig("samples.png")
hw5_utils.plot_vector_field(scorenet, sigmas[-1])
