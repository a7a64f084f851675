import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import *


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super().__init__()
        dims = [3] + [latent_dim] * (n_layers - 1) + [2]
        blocks = []
        for a, b in zip(dims[:-2], dims[1:-1]):
            blocks += [nn.Linear(a, b), nn.ReLU()]
        blocks += [nn.Linear(dims[-2], dims[-1])]
        self.f = nn.Sequential(*blocks)

    def forward(self, x, sigmas):
        if isinstance(sigmas, (float, int, np.floating)):
            sigmas = x.new_full((x.shape[0], 1), float(sigmas))
        sigmas = sigmas.view(-1, 1)
        if sigmas.shape[0] == 1:
            sigmas = sigmas.expand(x.shape[0], 1)
        return self.f(torch.cat([x, sigmas], dim=-1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    if isinstance(training_data, np.ndarray):
        training_data = torch.from_numpy(training_data).float()
    N = len(training_data)

    idx = np.random.choice(len(sigmas), N)        # uniform, with replacement
    sigma = sigmas[torch.from_numpy(idx)].reshape(N, 1)

    z = torch.randn(N, 2)
    perturbed = training_data + sigma * z
    out = scorenet(perturbed, sigma)
    target = -(perturbed - training_data) / (sigma * sigma)

    sq = torch.sum((out - target) ** 2, dim=1)     # ||.||^2 per example
    lam = sigma.reshape(N) ** 2
    return torch.mean(0.5 * lam * sq)


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    with torch.no_grad():
        x = torch.randn(n_samples, 2)
        states = []
        last = float(sigmas[len(sigmas) - 1])
        for i in range(len(sigmas)):
            s_i = float(sigmas[i])
            step = eps * (s_i / last) ** 2
            sig = torch.full((n_samples, 1), s_i)
            for t in tqdm(range(iterations)):
                x = x + step * scorenet(x, sig) + np.sqrt(2 * step) * torch.randn(n_samples, 2)
                states.append(x.clone())
        if return_traj:
            return torch.stack(states, 1)
        return x


def main():
    data = create_data()
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    net = ScoreNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for i in tqdm(range(3000)):
        loss = compute_denoising_loss(net, data, sigmas)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = langevin_dynamics_sample(net, 1000, sigmas).numpy()
    plt.scatter(x[:, 0], x[:, 1], s=3)
    plt.title("annealed langevin samples")
    plt.show()


if __name__ == "__main__":
    main()
