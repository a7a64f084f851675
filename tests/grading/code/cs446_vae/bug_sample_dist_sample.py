import torch
import torch.nn as nn
import torch.nn.functional as F
import numpy as np
import matplotlib.pyplot as plt
from torch.distributions import Normal, Bernoulli
import hw5_utils


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.fc1 = nn.Linear(data_dimension, hidden_dimension)
        self.fc_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.fc_sigma = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu = self.fc_mu(h)
        sigma_square = torch.exp(self.fc_sigma(h))
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.fc1 = nn.Linear(latent_dimension, hidden_dimension)
        self.fc2 = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        h = F.relu(self.fc1(z))
        p = torch.sigmoid(self.fc2(h))
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
        return Normal(mu, torch.sqrt(sigma_square)).sample()

    @staticmethod
    def sample_Bernoulli(p):
        return Bernoulli(probs=p).sample()

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        return Normal(mu, sigma_square.sqrt()).log_prob(z).sum(-1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        prior_mu = torch.zeros(self.latent_dimension)
        prior_var = torch.ones(self.latent_dimension)
        log_px_given_z = self.logpdf_bernoulli(x, p)
        log_pz = self.logpdf_diagonal_gaussian(sampled_z, prior_mu, prior_var)
        log_qz_given_x = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        return torch.mean(log_px_given_z + log_pz - log_qz_given_x)

    def train_model(self, epochs, train_loader):
        self.train()
        losses = []
        for epoch in range(epochs):
            total = 0.0
            for x, _ in train_loader:
                x = x.view(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
                total += elbo.item()
            losses.append(total / len(train_loader))
            print("epoch", epoch, "elbo", losses[-1])
        return losses


def visualize_latent(vae, test_loader):
    zs, ys = [], []
    with torch.no_grad():
        for x, y in test_loader:
            mu, _ = vae.encoder(x.view(-1, vae.data_dimension))
            zs.append(mu)
            ys.append(y)
    zs = torch.cat(zs).numpy()
    ys = torch.cat(ys).numpy()
    plt.scatter(zs[:, 0], zs[:, 1], c=ys, s=2, cmap="tab10")
    plt.colorbar()
    plt.show()


if __name__ == "__main__":
    train_loader, test_loader = hw5_utils.load_MNIST(batch_size=128)
    vae = VAE(lr=1e-3, latent_dimension=2, hidden_dimension=500, data_dimension=784)
    vae.train_model(epochs=50, train_loader=train_loader)
    visualize_latent(vae, test_loader)
