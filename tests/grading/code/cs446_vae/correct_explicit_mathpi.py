import math
import torch
import torch.nn as nn
import numpy as np
import matplotlib.pyplot as plt
import hw5_utils


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.fc1 = nn.Linear(data_dimension, hidden_dimension)
        self.fc21 = nn.Linear(hidden_dimension, latent_dimension)
        self.fc22 = nn.Linear(hidden_dimension, latent_dimension)
        self.relu = nn.ReLU()

    def forward(self, x):
        h1 = self.relu(self.fc1(x))
        mu = self.fc21(h1)
        log_var = self.fc22(h1)
        sigma_square = log_var.exp()
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.fc3 = nn.Linear(latent_dimension, hidden_dimension)
        self.fc4 = nn.Linear(hidden_dimension, data_dimension)
        self.relu = nn.ReLU()
        self.sigmoid = nn.Sigmoid()

    def forward(self, z):
        h3 = self.relu(self.fc3(z))
        p = self.sigmoid(self.fc4(h3))
        return p


class VAE(nn.Module):
    def __init__(self, lr, latent_dimension, hidden_dimension, data_dimension):
        super(VAE, self).__init__()
        self.latent_dimension = latent_dimension
        self.hidden_dimension = hidden_dimension
        self.data_dimension = data_dimension
        self.encoder = Encoder(data_dimension, hidden_dimension, latent_dimension)
        self.decoder = Decoder(latent_dimension, hidden_dimension, data_dimension)
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)

    @staticmethod
    def sample_diagonal_gaussian(mu, sigma_square):
        # z = mu + sigma * eps,  eps ~ N(0, I)
        epsilon = torch.randn(mu.shape)
        sigma = torch.sqrt(sigma_square)
        sampled_z = mu + sigma * epsilon
        return sampled_z

    @staticmethod
    def sample_Bernoulli(p):
        u = torch.rand_like(p)
        return (u < p).float()

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        # log N(z; mu, diag(sigma^2)) = sum_j -1/2 log(2 pi sigma_j^2) - (z_j - mu_j)^2 / (2 sigma_j^2)
        log_norm = -0.5 * torch.log(2 * math.pi * sigma_square)
        quad = -((z - mu) ** 2) / (2 * sigma_square)
        return torch.sum(log_norm + quad, dim=1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        return torch.sum(x * torch.log(p) + (1 - x) * torch.log(1 - p), dim=1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        log_likelihood = self.logpdf_bernoulli(x, p)
        log_prior = self.logpdf_diagonal_gaussian(
            sampled_z,
            torch.zeros(self.latent_dimension),
            torch.ones(self.latent_dimension),
        )
        log_posterior = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        return torch.mean(log_likelihood + log_prior - log_posterior)

    def train_model(self, epochs, train_loader):
        for epoch in range(1, epochs + 1):
            running = 0.0
            n = 0
            for x, _ in train_loader:
                x = x.view(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                loss = -elbo
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                running += elbo.item() * x.shape[0]
                n += x.shape[0]
            print("Epoch %d: average ELBO %.4f" % (epoch, running / n))

    def generate(self, n):
        with torch.no_grad():
            z = torch.randn(n, self.latent_dimension)
            p = self.decoder(z)
        return p


if __name__ == "__main__":
    train_loader, test_loader = hw5_utils.load_MNIST(batch_size=64)
    vae = VAE(1e-3, 2, 500, 784)
    vae.train_model(30, train_loader)
    imgs = vae.generate(16).view(-1, 28, 28).numpy()
    fig, axes = plt.subplots(4, 4)
    for ax, img in zip(axes.flatten(), imgs):
        ax.imshow(img, cmap="gray")
        ax.axis("off")
    plt.show()
