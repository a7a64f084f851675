# hw3_vae.py
# CS 446 -- Variational Autoencoder on binarized MNIST
import torch
import torch.nn as nn
import torch.nn.functional as F
import numpy as np
import matplotlib.pyplot as plt
from hw5_utils import load_MNIST, plot_latent


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.fc1 = nn.Linear(data_dimension, hidden_dimension)
        self.fc2 = nn.Linear(hidden_dimension, 2 * latent_dimension)
        self.latent_dimension = latent_dimension

    def forward(self, x):
        out = self.fc2(torch.tanh(self.fc1(x)))
        mu = out[:, :self.latent_dimension]
        sigma_square = torch.exp(out[:, self.latent_dimension:])
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.fc1 = nn.Linear(latent_dimension, hidden_dimension)
        self.fc2 = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        return torch.sigmoid(self.fc2(torch.tanh(self.fc1(z))))


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
        noise = torch.normal(torch.zeros_like(mu), torch.ones_like(mu))
        return mu + noise * sigma_square.sqrt()

    @staticmethod
    def sample_Bernoulli(p):
        u = torch.rand(p.size())
        x = torch.zeros_like(p)
        x[u < p] = 1.0
        return x

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        const = np.log(2 * np.pi)
        return -0.5 * (const + sigma_square.log() + (z - mu).pow(2) / sigma_square).sum(1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        # negative BCE summed over pixels
        return -F.binary_cross_entropy(p, x, reduction="none").sum(1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        log_p_x_given_z = self.logpdf_bernoulli(x, p)
        log_p_z = self.logpdf_diagonal_gaussian(sampled_z, torch.zeros_like(mu), torch.ones_like(sigma_square))
        log_q_z_given_x = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        return (log_p_x_given_z + log_p_z - log_q_z_given_x).mean()

    def train_model(self, epochs, train_loader, test_loader=None):
        for epoch in range(epochs):
            for x, _ in train_loader:
                x = x.view(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
            print("epoch %d elbo %.3f" % (epoch, elbo.item()))
            if test_loader is not None and epoch % 10 == 9:
                plot_latent(self, test_loader)


if __name__ == "__main__":
    train_loader, test_loader = load_MNIST(batch_size=128)
    vae = VAE(lr=1e-3, latent_dimension=2, hidden_dimension=500, data_dimension=784)
    vae.train_model(50, train_loader, test_loader)
    plt.show()
