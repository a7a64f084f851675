import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
from torch.distributions.multivariate_normal import MultivariateNormal
from hw5_utils import load_MNIST


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(data_dimension, hidden_dimension),
            nn.Tanh(),
        )
        self.mu_layer = nn.Linear(hidden_dimension, latent_dimension)
        self.var_layer = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        h = self.net(x)
        mu = self.mu_layer(h)
        sigma_square = nn.functional.softplus(self.var_layer(h)) + 1e-6
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent_dimension, hidden_dimension),
            nn.Tanh(),
            nn.Linear(hidden_dimension, data_dimension),
            nn.Sigmoid(),
        )

    def forward(self, z):
        return self.net(z)


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
        eps = torch.randn_like(mu)
        return mu + torch.sqrt(sigma_square) * eps

    @staticmethod
    def sample_Bernoulli(p):
        return torch.bernoulli(p)

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        # diagonal covariance matrix for each example in the batch
        cov = torch.diag_embed(sigma_square)
        dist = MultivariateNormal(mu, covariance_matrix=cov)
        return dist.log_prob(z)

    @staticmethod
    def logpdf_bernoulli(x, p):
        p = torch.clamp(p, 1e-7, 1 - 1e-7)
        return torch.sum(x * torch.log(p) + (1 - x) * torch.log(1 - p), dim=1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        zeros = torch.zeros_like(mu)
        ones = torch.ones_like(sigma_square)
        recon = self.logpdf_bernoulli(x, p)
        prior = self.logpdf_diagonal_gaussian(sampled_z, zeros, ones)
        posterior = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        elbo = recon + prior - posterior
        return elbo.mean()

    def train_model(self, epochs, batch_size):
        train_loader, _ = load_MNIST(batch_size)
        history = []
        for epoch in range(epochs):
            for batch_idx, (x, _) in enumerate(train_loader):
                x = x.reshape(x.shape[0], -1)
                x = self.sample_Bernoulli(x)  # dynamic binarization
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                loss = -self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                if batch_idx % 100 == 0:
                    print(f"epoch {epoch} batch {batch_idx} loss {loss.item():.3f}")
                history.append(-loss.item())
        plt.plot(history)
        plt.xlabel("iteration")
        plt.ylabel("ELBO")
        plt.savefig("elbo.png")


if __name__ == "__main__":
    model = VAE(lr=0.001, latent_dimension=2, hidden_dimension=500, data_dimension=784)
    model.train_model(epochs=20, batch_size=100)
