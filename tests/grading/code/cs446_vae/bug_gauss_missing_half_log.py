import math

import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
import hw5_utils


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super().__init__()
        self.layer1 = nn.Linear(data_dimension, hidden_dimension)
        self.layer_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.layer_var = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        out = torch.relu(self.layer1(x))
        mu = self.layer_mu(out)
        sigma_square = torch.exp(self.layer_var(out))
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super().__init__()
        self.layer1 = nn.Linear(latent_dimension, hidden_dimension)
        self.layer2 = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        out = torch.relu(self.layer1(z))
        p = torch.sigmoid(self.layer2(out))
        return p


class VAE(nn.Module):
    def __init__(self, lr, latent_dimension, hidden_dimension, data_dimension):
        super().__init__()
        self.latent_dimension = latent_dimension
        self.hidden_dimension = hidden_dimension
        self.data_dimension = data_dimension
        self.encoder = Encoder(data_dimension, hidden_dimension, latent_dimension)
        self.decoder = Decoder(latent_dimension, hidden_dimension, data_dimension)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    @staticmethod
    def sample_diagonal_gaussian(mu, sigma_square):
        samples = []
        for i in range(mu.shape[0]):
            eps = torch.randn(mu.shape[1])
            samples.append(mu[i] + torch.sqrt(sigma_square[i]) * eps)
        return torch.stack(samples)

    @staticmethod
    def sample_Bernoulli(p):
        rows = []
        for i in range(p.shape[0]):
            rows.append(torch.bernoulli(p[i]))
        return torch.stack(rows)

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        batch_size = z.shape[0]
        result = torch.zeros(batch_size)
        for i in range(batch_size):
            total = 0
            for j in range(z.shape[1]):
                var = sigma_square[i, j]
                total = total - torch.log(2 * math.pi * var) - (z[i, j] - mu[i, j]) ** 2 / (2 * var)
            result[i] = total
        return result

    @staticmethod
    def logpdf_bernoulli(x, p):
        batch_size = x.shape[0]
        result = torch.zeros(batch_size)
        for i in range(batch_size):
            result[i] = torch.sum(x[i] * torch.log(p[i]) + (1 - x[i]) * torch.log(1 - p[i]))
        return result

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        batch_size = x.shape[0]
        prior_mu = torch.zeros(batch_size, self.latent_dimension)
        prior_var = torch.ones(batch_size, self.latent_dimension)
        log_px = self.logpdf_bernoulli(x, p)
        log_pz = self.logpdf_diagonal_gaussian(sampled_z, prior_mu, prior_var)
        log_qz = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        elbo = 0
        for i in range(batch_size):
            elbo = elbo + log_px[i] + log_pz[i] - log_qz[i]
        return elbo / batch_size

    def train_model(self, epochs, train_loader):
        for epoch in range(epochs):
            for i, (x, y) in enumerate(train_loader):
                x = x.view(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                loss = -elbo
                loss.backward()
                self.optimizer.step()
                if i % 200 == 0:
                    print(epoch, i, elbo.item())


def main():
    train_loader, _ = hw5_utils.load_MNIST(batch_size=128)
    vae = VAE(1e-3, 2, 500, 784)
    vae.train_model(10, train_loader)


if __name__ == "__main__":
    main()
