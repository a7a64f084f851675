import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from tqdm import tqdm
from hw5_utils import create_data, plot_samples


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super(ScoreNet, self).__init__()
        self.layers = nn.ModuleList()
        self.layers.append(nn.Linear(2 + 1, latent_dim))
        for i in range(n_layers - 2):
            self.layers.append(nn.Linear(latent_dim, latent_dim))
        self.layers.append(nn.Linear(latent_dim, 2))
        self.act = nn.SiLU()

    def forward(self, x, sigmas):
        if isinstance(sigmas, float) or isinstance(sigmas, int):
            sigmas = torch.full((x.shape[0], 1), float(sigmas))
        elif sigmas.dim() < 2:
            sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        h = torch.cat((x, sigmas), dim=1)
        for layer in self.layers[:-1]:
            h = self.act(layer(h))
        h = self.layers[-1](h)
        return h / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    # I wrote this one example at a time first to make sure I understood it
    N = training_data.shape[0]
    L = len(sigmas)
    total = 0.0
    for i in range(N):
        j = torch.randint(0, L, (1,))
        sigma = sigmas[j].reshape(1, 1)            # 1 x 1
        x = training_data[i].reshape(1, 2)         # 1 x 2
        z = torch.randn(1, 2)
        x_tilde = x + sigma * z
        s = scorenet(x_tilde, sigma)               # 1 x 2
        target = -(x_tilde - x) / sigma ** 2
        l_i = 0.5 * sigma ** 2 * torch.sum((s - target) ** 2)
        total = total + l_i
    return (total / N).reshape(())


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    L = len(sigmas)
    sigma_L = float(sigmas[-1])
    traj = torch.zeros(n_samples, L * iterations, 2)
    with torch.no_grad():
        x = torch.randn(n_samples, 2)
        k = 0
        for i in range(L):
            sigma_i = float(sigmas[i])
            alpha_i = eps * sigma_i ** 2 / sigma_L ** 2
            for t in tqdm(range(iterations), leave=False):
                z = torch.randn(n_samples, 2)
                x = x + alpha_i * scorenet(x, sigma_i) + (2 * alpha_i) ** 0.5 * z
                traj[:, k, :] = x
                k += 1
    if return_traj:
        return traj
    return x


def train(net, data, sigmas, epochs=3000, lr=1e-3):
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    for ep in tqdm(range(epochs)):
        loss = compute_denoising_loss(net, data, sigmas)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if ep % 500 == 0:
            print(ep, loss.item())
    return net


if __name__ == "__main__":
    data = torch.as_tensor(create_data(), dtype=torch.float32)
    sigmas = torch.tensor(np.geomspace(1, 0.01, 10), dtype=torch.float32)
    net = train(ScoreNet(), data, sigmas)
    samples = langevin_dynamics_sample(net, 2000, sigmas)
    plot_samples(samples.numpy())
    plt.show()
