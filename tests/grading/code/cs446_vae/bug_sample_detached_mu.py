import numpy as np
import torch
import torch.nn as nn
import matplotlib.pyplot as plt
import hw5_utils


def _to_tensor(a):
    # some of the helper code hands back numpy arrays, so be defensive
    return torch.as_tensor(a, dtype=torch.float32)


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.linear = nn.Linear(data_dimension, hidden_dimension)
        self.mu = nn.Linear(hidden_dimension, latent_dimension)
        self.log_sigma_square = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        x = _to_tensor(x)
        h = torch.relu(self.linear(x))
        return self.mu(h), torch.exp(self.log_sigma_square(h))


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.linear = nn.Linear(latent_dimension, hidden_dimension)
        self.out = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        h = torch.relu(self.linear(_to_tensor(z)))
        return torch.sigmoid(self.out(h))


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
        mu = torch.as_tensor(mu).detach()
        sigma_square = torch.as_tensor(sigma_square)
        epsilon = torch.randn_like(mu)
        return mu + epsilon * torch.sqrt(sigma_square)

    @staticmethod
    def sample_Bernoulli(p):
        p = torch.as_tensor(p, dtype=torch.float32)
        return torch.bernoulli(p)

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        z = torch.as_tensor(z)
        mu = torch.as_tensor(mu)
        sigma_square = torch.as_tensor(sigma_square)
        k = z.shape[-1]
        log_det = torch.log(sigma_square).sum(dim=-1)
        mahal = ((z - mu) ** 2 / sigma_square).sum(dim=-1)
        return -0.5 * (k * np.log(2 * np.pi) + log_det + mahal)

    @staticmethod
    def logpdf_bernoulli(x, p):
        x = torch.as_tensor(x)
        p = torch.as_tensor(p)
        return (x * torch.log(p) + (1 - x) * torch.log1p(-p)).sum(dim=-1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        prior_mean = torch.zeros(self.latent_dimension)
        prior_var = torch.ones(self.latent_dimension)
        return torch.mean(
            self.logpdf_bernoulli(x, p)
            + self.logpdf_diagonal_gaussian(sampled_z, prior_mean, prior_var)
            - self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        )

    def train_model(self, epochs, train_loader):
        elbos = []
        for epoch in range(epochs):
            for x, _ in train_loader:
                x = _to_tensor(x).reshape(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
                elbos.append(elbo.item())
            print("epoch", epoch, np.mean(elbos[-len(train_loader):]))
        return elbos


if __name__ == "__main__":
    train_loader, _ = hw5_utils.load_MNIST(batch_size=100)
    vae = VAE(1e-3, 2, 500, 784)
    elbos = vae.train_model(25, train_loader)
    plt.plot(elbos)
    plt.show()
