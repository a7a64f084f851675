import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import matplotlib.pyplot as plt
from torch.distributions import Categorical
from tqdm import tqdm

import hw5_utils


class ScoreNet(nn.Module):
    def __init__(self, n_layers=8, latent_dim=128):
        super(ScoreNet, self).__init__()
        self.fcs = nn.ModuleList()
        in_features = 3
        for _ in range(n_layers - 1):
            self.fcs.append(nn.Linear(in_features, latent_dim))
            in_features = latent_dim
        self.head = nn.Linear(latent_dim, 2)

    def forward(self, x, sigmas):
        if not torch.is_tensor(sigmas):
            sigmas = torch.tensor(float(sigmas))
        if sigmas.dim() == 0:
            sigmas = sigmas.repeat(x.size(0))
        sigmas = sigmas.view(x.size(0), 1).type_as(x)
        h = torch.cat([x, sigmas], dim=1)
        for fc in self.fcs:
            h = F.softplus(fc(h))
        return self.head(h) / sigmas


def compute_denoising_loss(scorenet, training_data, sigmas):
    n = training_data.shape[0]
    L = len(sigmas)
    # uniform categorical over the noise levels
    levels = Categorical(probs=torch.ones(L) / L).sample((n,))
    sig = sigmas[levels].view(n, 1)
    z = torch.randn_like(training_data)
    x_t = training_data + sig * z
    s = scorenet(x_t, sig)
    loss_per = 0.5 * (sig ** 2) * torch.sum((s - (-z / sig)) ** 2, dim=1, keepdim=True)
    return torch.mean(loss_per)


def langevin_dynamics_sample(scorenet, n_samples, sigmas, iterations=100, eps=2e-5, return_traj=False):
    x = torch.randn(n_samples, 2)
    traj = []
    with torch.no_grad():
        for i in tqdm(range(len(sigmas))):
            a = eps * (sigmas[i] ** 2) / (sigmas[-1] ** 2)
            sig = sigmas[i].expand(n_samples, 1)
            for it in range(iterations):
                drift = scorenet(x, sig)
                x += a * drift
                x += torch.sqrt(2 * a) * torch.randn_like(x)
                traj.append(x.clone())   # clone!! otherwise every entry is the same tensor
    if return_traj:
        return torch.stack(traj, dim=1)
    return x


def train(model, data, sigmas, epochs=3000):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1000, 0.5)
    for e in tqdm(range(epochs)):
        opt.zero_grad()
        loss = compute_denoising_loss(model, data, sigmas)
        loss.backward()
        opt.step()
        sched.step()


if __name__ == "__main__":
    data = torch.from_numpy(hw5_utils.create_data()).float()
    sigmas = torch.tensor(np.geomspace(1.0, 0.01, 10), dtype=torch.float32)
    model = ScoreNet()
    train(model, data, sigmas)
    samples = langevin_dynamics_sample(model, 1000, sigmas)
    plt.scatter(samples[:, 0].numpy(), samples[:, 1].numpy(), s=2)
    plt.show()
