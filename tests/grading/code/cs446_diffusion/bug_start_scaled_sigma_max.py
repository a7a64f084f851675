import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        self.inp = nn.Linear(3, latent_dim)
        self.hid = nn.ModuleList(nn.Linear(latent_dim, latent_dim) for _ in range(n_layers - 2))
        self.out = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        s = torch.as_tensor(sigmas, dtype=x.dtype).reshape(-1, 1).expand(x.shape[0], 1)
        h = torch.nn.functional.elu(self.inp(torch.cat([x, s], 1)))
        for layer in self.hid:
            h = torch.nn.functional.elu(layer(h))
        return self.out(h) / s


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    sig = sigmas[torch.randint(len(sigmas), (n,))].reshape(-1, 1)
    z = torch.randn_like(training_data)
    x_tilde = training_data + sig * z
    s = scorenet(x_tilde, sig)
    l = 0.5 * sig ** 2 * ((s + (x_tilde - training_data) / sig ** 2) ** 2).sum(dim=1, keepdim=True)
    return l.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    # initialize from the widest noise distribution N(0, sigma_1^2 I)
    x = sigmas[0] * torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for sigma in sigmas:
            alpha = eps * sigma ** 2 / sigmas[-1] ** 2
            sig = sigma.repeat(n_samples, 1)
            for _ in tqdm(range(iterations)):
                x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
                traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


if __name__ == "__main__":
    data = torch.tensor(hw5_utils.create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in tqdm(range(3000)):
        opt.zero_grad()
        loss = compute_denoising_loss(net, data, sigmas)
        loss.backward()
        opt.step()
    samples = langevin_dynamics_sample(net, 1000, sigmas)
    plt.scatter(samples[:, 0], samples[:, 1], s=1)
    plt.show()
