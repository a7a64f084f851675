# CS446 HW5 -- score matching / annealed langevin
import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm

import hw5_utils

N_LAYERS = 8
LATENT = 128


class ScoreNet(nn.Module):
    def __init__(self, n_layers=N_LAYERS, latent_dim=LATENT):
        super().__init__()
        mods = []
        in_dim = 3
        for _ in range(n_layers - 1):
            mods.append(nn.Linear(in_dim, latent_dim))
            mods.append(nn.ELU())
            in_dim = latent_dim
        mods.append(nn.Linear(in_dim, 2))
        self.mlp = nn.Sequential(*mods)

    def forward(self, x, sigmas):
        n = x.shape[0]
        sigmas = torch.as_tensor(sigmas, dtype=x.dtype)
        if sigmas.numel() == 1:
            sigmas = sigmas.reshape(1, 1).repeat(n, 1)
        else:
            sigmas = sigmas.reshape(n, 1)
        return self.mlp(torch.cat([x, sigmas], 1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.size(0)
    L = sigmas.shape[0]
    # uniform over the L levels
    which = torch.multinomial(torch.ones(L), N, replacement=True)
    sig = sigmas[which].unsqueeze(1)  # N x 1
    z = torch.randn(N, 2)
    x_noisy = training_data + sig * z
    # x_noisy - x = sig * z  =>  target = -z / sig
    target = -z / sig
    pred = scorenet(x_noisy, sig)
    per_example = 0.5 * sig.squeeze(1) ** 2 * ((pred - target) ** 2).sum(dim=1)
    return per_example.mean()


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    # run each chain separately (easier to debug, slower)
    outs = []
    trajs = []
    with torch.no_grad():
        for j in tqdm(range(n_samples)):
            x = torch.randn(1, 2)
            chain = []
            for sigma in sigmas:
                alpha = eps * sigma ** 2 / sigmas[-1] ** 2
                for t in range(iterations):
                    noise = torch.randn(1, 2)
                    x = x + alpha * scorenet(x, sigma) + torch.sqrt(2 * alpha) * noise
                    chain.append(x[0])
            outs.append(x[0])
            if return_traj:
                trajs.append(torch.stack(chain, dim=0))   # (L*T) x 2
    if return_traj:
        return torch.stack(trajs, dim=0)                   # n x (L*T) x 2
    return torch.stack(outs, dim=0)


def train(model, data, sigmas, n_iters=4000):
    opt = torch.optim.Adam(model.parameters(), lr=3e-4)
    for it in tqdm(range(n_iters)):
        loss = compute_denoising_loss(model, data, sigmas)
        opt.zero_grad()
        loss.backward()
        opt.step()


if __name__ == '__main__':
    X = torch.from_numpy(hw5_utils.create_data()).float()
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10)).float()
    model = ScoreNet()
    train(model, X, sigmas)
    traj = langevin_dynamics_sample(model, 200, sigmas, return_traj=True)
    for k in range(0, traj.shape[1], 100):
        plt.scatter(traj[:, k, 0], traj[:, k, 1], s=1)
    plt.savefig('traj.png')
