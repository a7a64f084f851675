import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super(ScoreNet, self).__init__()
        mlp = [nn.Linear(3, latent_dim), nn.ReLU()]
        for _ in range(n_layers - 2):
            mlp.extend([nn.Linear(latent_dim, latent_dim), nn.ReLU()])
        mlp.append(nn.Linear(latent_dim, 2))
        self.mlp = nn.Sequential(*mlp)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.full((x.shape[0], 1), sigmas)
        if sigmas.dim() < 2:
            sigmas = sigmas.reshape(-1, 1).expand(x.shape[0], 1)
        return self.mlp(torch.cat([x, sigmas], dim=1)) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    N = training_data.shape[0]
    idx = torch.randint(0, len(sigmas), (N,))
    sigma = sigmas[idx].unsqueeze(-1)
    noise = sigma * torch.randn(N, 2)
    x_tilde = training_data + noise
    target = -noise / sigma ** 2
    pred = scorenet(x_tilde, sigma)
    loss = 0.5 * sigma.squeeze(-1) ** 2 * ((pred - target) ** 2).sum(-1)
    return loss.mean()


@torch.no_grad()
def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.zeros(n_samples, 2)
    traj = []
    for i in range(len(sigmas)):
        alpha = eps * sigmas[i] ** 2 / sigmas[-1] ** 2
        sig = sigmas[i] * torch.ones(n_samples, 1)
        for _ in tqdm(range(iterations)):
            x = x + alpha * scorenet(x, sig) + torch.sqrt(2 * alpha) * torch.randn(n_samples, 2)
            traj.append(x)
    if return_traj:
        return torch.stack(traj, dim=1)
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
