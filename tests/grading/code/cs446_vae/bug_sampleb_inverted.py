import argparse

import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils

parser = argparse.ArgumentParser(description="VAE on MNIST")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--latent", type=int, default=2)
parser.add_argument("--hidden", type=int, default=500)
parser.add_argument("--batch_size", type=int, default=128)
args = parser.parse_args()


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.body = nn.Sequential(nn.Linear(data_dimension, hidden_dimension), nn.ReLU())
        self.head_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.head_var = nn.Sequential(nn.Linear(hidden_dimension, latent_dimension), nn.Softplus())

    def forward(self, x):
        h = self.body(x)
        return self.head_mu(h), self.head_var(h) + 1e-5


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.body = nn.Sequential(
            nn.Linear(latent_dimension, hidden_dimension), nn.ReLU(),
            nn.Linear(hidden_dimension, data_dimension), nn.Sigmoid())

    def forward(self, z):
        return self.body(z)


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
        std = torch.exp(0.5 * torch.log(sigma_square))
        eps = torch.randn_like(std)
        return eps.mul(std).add(mu)

    @staticmethod
    def sample_Bernoulli(p):
        return torch.where(torch.rand_like(p) > p, torch.ones_like(p), torch.zeros_like(p))

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        log_var = torch.log(sigma_square)
        return torch.sum(-0.5 * (np.log(2 * np.pi) + log_var + (z - mu) ** 2 * torch.exp(-log_var)), dim=-1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        return torch.sum(torch.xlogy(x, p) + torch.xlogy(1 - x, 1 - p), dim=-1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        z_prior_mean = torch.zeros(self.latent_dimension)
        z_prior_var = torch.ones(self.latent_dimension)
        log_lik = self.logpdf_bernoulli(x, p)
        log_prior = self.logpdf_diagonal_gaussian(sampled_z, z_prior_mean, z_prior_var)
        log_q = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        return torch.mean(log_lik + log_prior - log_q)

    def train_model(self, epochs, train_loader):
        pbar = tqdm(range(epochs))
        for _ in pbar:
            for x, _y in train_loader:
                x = x.view(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
            pbar.set_description("elbo %.2f" % elbo.item())


if __name__ == "__main__":
    train_loader, test_loader = hw5_utils.load_MNIST(args.batch_size)
    vae = VAE(args.lr, args.latent, args.hidden, 784)
    vae.train_model(args.epochs, train_loader)
    hw5_utils.visualize(vae, test_loader)
    plt.show()
