import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.inp = nn.Linear(3, latent_dim)
        self.hidden = nn.ModuleList([nn.Linear(latent_dim, latent_dim) for _ in range(n_layers - 2)])
        self.out = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        if not isinstance(sigmas, torch.Tensor):
            sigmas = torch.tensor([[sigmas]], dtype=x.dtype)
        s = sigmas.reshape(-1, 1).expand(len(x), 1)
        h = torch.relu(self.inp(torch.cat([x, s], 1)))
        for lin in self.hidden:
            h = torch.relu(lin(h))
        return self.out(h) / s


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    sigma = sigmas[torch.randint(len(sigmas), (n,))][:, None]
    z = torch.randn_like(training_data)
    x_tilde = training_data + sigma * z
    score = scorenet(x_tilde, sigma)
    # 1/2 sigma^2 || s + z/sigma ||^2 = 1/2 || sigma*s + z ||^2
    return 0.5 * ((sigma * score + z) ** 2).sum(1).mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for i in range(len(sigmas)):
            sigma_i = sigmas[i]                       # 0-dim tensor
            alpha_i = eps * sigma_i ** 2 / sigmas[-1] ** 2
            for _ in tqdm(range(iterations), desc=f"sigma={sigma_i.item():.3f}"):
                x = x + alpha_i * scorenet(x, sigma_i) + (2 * alpha_i).sqrt() * torch.randn_like(x)
                if return_traj:
                    traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


data = torch.from_numpy(hw5_utils.create_data()).float()
SIGMAS = torch.tensor(np.geomspace(1, 0.01, 10), dtype=torch.float32)

if __name__ == "__main__":
    model = ScoreNet()
    optim = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in tqdm(range(2000)):
        optim.zero_grad()
        l = compute_denoising_loss(model, data, SIGMAS)
        l.backward()
        optim.step()
    s = langevin_dynamics_sample(model, 1000, SIGMAS)
    plt.scatter(*s.T, s=2)
    plt.show()
