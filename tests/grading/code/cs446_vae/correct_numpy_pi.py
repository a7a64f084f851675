import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import matplotlib.pyplot as plt
from hw5_utils import load_MNIST, save_images


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.hidden = nn.Linear(data_dimension, hidden_dimension)
        self.mean = nn.Linear(hidden_dimension, latent_dimension)
        self.var = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        mu = self.mean(h)
        sigma_square = torch.exp(self.var(h))
        return mu, sigma_square


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.hidden = nn.Linear(latent_dimension, hidden_dimension)
        self.out = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        h = torch.tanh(self.hidden(z))
        return torch.sigmoid(self.out(h))


class VAE(nn.Module):
    def __init__(self, lr, latent_dimension, hidden_dimension, data_dimension):
        super(VAE, self).__init__()
        self.lr = lr
        self.latent_dimension = latent_dimension
        self.hidden_dimension = hidden_dimension
        self.data_dimension = data_dimension
        self.encoder = Encoder(data_dimension, hidden_dimension, latent_dimension)
        self.decoder = Decoder(latent_dimension, hidden_dimension, data_dimension)
        self.optimizer = optim.Adam(self.parameters(), lr=self.lr)

    @staticmethod
    def sample_diagonal_gaussian(mu, sigma_square):
        batch_size, latent_dim = mu.shape
        eps = torch.randn(batch_size, latent_dim)
        return mu + eps * sigma_square ** 0.5

    @staticmethod
    def sample_Bernoulli(p):
        return torch.bernoulli(p)

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        log2pi = torch.log(torch.tensor(2 * np.pi))
        d = z.shape[1]
        logpdf = -0.5 * d * log2pi \
                 - 0.5 * torch.sum(torch.log(sigma_square), dim=1) \
                 - 0.5 * torch.sum((z - mu) ** 2 / sigma_square, dim=1)
        return logpdf

    @staticmethod
    def logpdf_bernoulli(x, p):
        return torch.sum(x * torch.log(p + 1e-8) + (1 - x) * torch.log(1 - p + 1e-8), dim=1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        prior_mu = torch.zeros(self.latent_dimension)
        prior_sigma_square = torch.ones(self.latent_dimension)
        log_p_x = self.logpdf_bernoulli(x, p)
        log_p_z = self.logpdf_diagonal_gaussian(sampled_z, prior_mu, prior_sigma_square)
        log_q_z = self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square)
        ELBO = torch.mean(log_p_x + log_p_z - log_q_z)
        return ELBO

    def train_model(self, epochs, batch_size):
        train_loader, test_loader = load_MNIST(batch_size=batch_size)
        train_elbo = []
        for e in range(epochs):
            batch_elbo = []
            for images, labels in train_loader:
                x = images.view(images.size(0), -1)
                x = (x > 0.5).float()
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
                batch_elbo.append(elbo.item())
            train_elbo.append(np.mean(batch_elbo))
            print("epoch {}: {}".format(e, train_elbo[-1]))
        plt.figure()
        plt.plot(np.arange(epochs), train_elbo)
        plt.title("training ELBO")
        plt.show()
        return train_elbo


if __name__ == "__main__":
    vae = VAE(lr=0.0005, latent_dimension=2, hidden_dimension=500, data_dimension=784)
    vae.train_model(epochs=50, batch_size=100)
    with torch.no_grad():
        z = torch.randn(100, 2)
        samples = vae.sample_Bernoulli(vae.decoder(z))
    save_images(samples.view(-1, 1, 28, 28), "samples.png")
