import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from hw5_utils import load_MNIST

LOG_2PI = 1.8378770664093453
EPS = 1e-7


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.fc = nn.Linear(data_dimension, hidden_dimension)
        self.fc_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.fc_logvar = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        x = x.float()
        h = torch.relu(self.fc(x))
        return self.fc_mu(h), torch.exp(self.fc_logvar(h))


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.fc = nn.Linear(latent_dimension, hidden_dimension)
        self.fc_out = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        return torch.sigmoid(self.fc_out(torch.relu(self.fc(z.float()))))


class VAE(nn.Module):
    def __init__(self, lr, latent_dimension, hidden_dimension, data_dimension):
        super(VAE, self).__init__()
        self.latent_dimension = latent_dimension
        self.data_dimension = data_dimension
        self.encoder = Encoder(data_dimension, hidden_dimension, latent_dimension)
        self.decoder = Decoder(latent_dimension, hidden_dimension, data_dimension)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    @staticmethod
    def sample_diagonal_gaussian(mu, sigma_square):
        mu = mu.float()
        sigma_square = sigma_square.float()
        return torch.normal(mu, torch.sqrt(sigma_square))

    @staticmethod
    def sample_Bernoulli(p):
        p = p.float()
        u = torch.rand(p.shape, dtype=torch.float32)
        return (u < p).float()

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        z, mu, sigma_square = z.float(), mu.float(), sigma_square.float()
        half = torch.tensor(0.5, dtype=torch.float32)
        log2pi = torch.tensor(LOG_2PI, dtype=torch.float32)
        per_dim = -half * (log2pi + torch.log(sigma_square)) - half * (z - mu).pow(2) / sigma_square
        return per_dim.sum(dim=-1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        x, p = x.float(), p.float()
        p = p.clamp(EPS, 1.0 - EPS)
        return (x * p.log() + (1.0 - x) * (1.0 - p).log()).sum(dim=-1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        zero_mean = torch.zeros(self.latent_dimension, dtype=torch.float32)
        unit_var = torch.ones(self.latent_dimension, dtype=torch.float32)
        log_px_z = self.logpdf_bernoulli(x, p)
        log_pz = self.logpdf_diagonal_gaussian(sampled_z, zero_mean, unit_var)
        log_qz_x = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        return (log_px_z + log_pz - log_qz_x).mean()

    def train_model(self, epochs, batch_size=128):
        train_loader, test_loader = load_MNIST(batch_size)
        for epoch in range(epochs):
            epoch_elbo = 0.0
            for x, _ in train_loader:
                x = x.view(x.size(0), -1).float()
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
                epoch_elbo += elbo.item()
            print(f"[{epoch + 1}/{epochs}] ELBO = {epoch_elbo / len(train_loader):.2f}")


if __name__ == "__main__":
    vae = VAE(1e-3, 2, 500, 784)
    vae.train_model(40)
