import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from hw5_utils import load_MNIST


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super().__init__()
        self.fc1 = nn.Linear(data_dimension, hidden_dimension)
        self.fc2_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.fc2_var = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        mu = self.fc2_mu(h)
        sigma_square = torch.nn.functional.softplus(self.fc2_var(h))
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super().__init__()
        self.fc1 = nn.Linear(latent_dimension, hidden_dimension)
        self.fc2 = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))


class VAE(nn.Module):
    def __init__(self, lr, latent_dimension, hidden_dimension, data_dimension):
        super().__init__()
        self.latent_dimension = latent_dimension
        self.data_dimension = data_dimension
        self.encoder = Encoder(data_dimension, hidden_dimension, latent_dimension)
        self.decoder = Decoder(latent_dimension, hidden_dimension, data_dimension)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    @staticmethod
    def sample_diagonal_gaussian(mu, sigma_square):
        std = torch.sqrt(sigma_square)
        return mu + std * torch.randn_like(std)

    @staticmethod
    def sample_Bernoulli(p):
        return torch.distributions.Bernoulli(probs=p).sample()

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        return torch.sum(-0.5 * np.log(2 * np.pi) - 0.5 * torch.log(sigma_square)
                         - 0.5 * (z - mu) ** 2 / sigma_square, dim=1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        return torch.sum(x * torch.log(p) + (1 - x) * torch.log(1 - p), dim=1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        # everything written out: log p(x|z) + log p(z) - log q(z|x)
        log_px_z = torch.sum(x * torch.log(p) + (1 - x) * torch.log(1 - p), dim=1)
        log_pz = torch.sum(-0.5 * np.log(2 * np.pi) - 0.5 * sampled_z ** 2, dim=1)
        log_qz = torch.sum(-0.5 * np.log(2 * np.pi) - 0.5 * torch.log(sigma_square)
                           - (sampled_z - mu) ** 2 / (2 * sigma_square), dim=1)
        return torch.mean(log_px_z + log_pz - log_qz)

    def train_model(self, epochs, batch_size):
        loader, _ = load_MNIST(batch_size)
        for ep in range(epochs):
            for x, _ in loader:
                x = x.view(-1, self.data_dimension)
                mu, var = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, var)
                p = self.decoder(z)
                loss = -self.elbo_loss(z, mu, var, x, p)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
            print(ep, -loss.item())


if __name__ == "__main__":
    vae = VAE(1e-3, 2, 400, 784)
    vae.train_model(30, 128)
