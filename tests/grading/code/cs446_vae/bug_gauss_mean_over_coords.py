import torch
from torch import nn
import numpy as np
import matplotlib.pyplot as plt
import hw5_utils


class Encoder(nn.Module):
    """Encoder predicts log-variance internally and returns sigma^2 = exp(logvar)."""

    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super().__init__()
        self.l1 = nn.Linear(data_dimension, hidden_dimension)
        self.l_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.l_logvar = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        h = nn.functional.leaky_relu(self.l1(x))
        mu = self.l_mu(h)
        logvar = self.l_logvar(h)
        return mu, logvar.exp()


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super().__init__()
        self.l1 = nn.Linear(latent_dimension, hidden_dimension)
        self.l2 = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        h = nn.functional.leaky_relu(self.l1(z))
        return torch.sigmoid(self.l2(h))


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
        logvar = torch.log(sigma_square)
        eps = torch.randn_like(logvar)
        return mu + eps * torch.exp(logvar / 2)

    @staticmethod
    def sample_Bernoulli(p):
        return torch.distributions.Bernoulli(p).sample()

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        normal = torch.distributions.Normal(loc=mu, scale=torch.sqrt(sigma_square))
        return torch.mean(normal.log_prob(z), dim=1)

    @staticmethod
    def logpdf_bernoulli(x, p):
        logits = torch.log(p) - torch.log1p(-p)
        return -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        mu_prior = torch.zeros(self.latent_dimension)
        var_prior = torch.ones(self.latent_dimension)
        reconstruction = self.logpdf_bernoulli(x, p)
        log_prior = self.logpdf_diagonal_gaussian(sampled_z, mu_prior, var_prior)
        log_posterior = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        elbo = reconstruction + log_prior - log_posterior
        return elbo.mean()

    def train_model(self, epochs, train_loader, verbose=True):
        for epoch in range(epochs):
            epoch_elbos = []
            for x, _ in train_loader:
                x = x.flatten(start_dim=1)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                neg_elbo = -elbo
                neg_elbo.backward()
                self.optimizer.step()
                epoch_elbos.append(elbo.item())
            if verbose:
                print("epoch", epoch, "mean elbo", np.mean(epoch_elbos))


vae = VAE(lr=1e-3, latent_dimension=2, hidden_dimension=500, data_dimension=784)
train_loader, test_loader = hw5_utils.load_MNIST(batch_size=128)
vae.train_model(50, train_loader)
hw5_utils.plot_reconstructions(vae, test_loader)
plt.show()
