import torch
import torch.nn as nn
import numpy as np
import cv2
import matplotlib.pyplot as plt
from tqdm import tqdm
import hw5_utils

torch.manual_seed(446)

# hyperparameters
LEARNING_RATE = 0.001
LATENT_DIM = 2
HIDDEN_DIM = 500
DATA_DIM = 784
EPOCHS = 50
BATCH_SIZE = 128


class Encoder(nn.Module):
    def __init__(self, data_dimension, hidden_dimension, latent_dimension):
        super(Encoder, self).__init__()
        self.fc1 = nn.Linear(data_dimension, hidden_dimension)
        self.fc_mu = nn.Linear(hidden_dimension, latent_dimension)
        self.fc_var = nn.Linear(hidden_dimension, latent_dimension)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc_mu(h), torch.exp(self.fc_var(h))


class Decoder(nn.Module):
    def __init__(self, latent_dimension, hidden_dimension, data_dimension):
        super(Decoder, self).__init__()
        self.fc1 = nn.Linear(latent_dimension, hidden_dimension)
        self.fc2 = nn.Linear(hidden_dimension, data_dimension)

    def forward(self, z):
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))


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
        return mu + torch.sqrt(sigma_square) * torch.randn(mu.size())

    @staticmethod
    def sample_Bernoulli(p):
        return torch.bernoulli(p)

    @staticmethod
    def logpdf_diagonal_gaussian(z, mu, sigma_square):
        return -0.5 * (np.log(2 * np.pi) + torch.log(sigma_square) + (z - mu) ** 2 / sigma_square)

    @staticmethod
    def logpdf_bernoulli(x, p):
        return torch.sum(x * torch.log(p) + (1 - x) * torch.log(1 - p), dim=1)

    def elbo_loss(self, sampled_z, mu, sigma_square, x, p):
        prior_mu = torch.zeros(self.latent_dimension)
        prior_var = torch.ones(self.latent_dimension)
        return torch.mean(self.logpdf_bernoulli(x, p)
                          + self.logpdf_diagonal_gaussian(sampled_z, prior_mu, prior_var)
                          - self.logpdf_diagonal_gaussian(sampled_z, mu, sigma_square))

    def train_model(self, epochs, train_loader):
        elbo_history = []
        for epoch in tqdm(range(epochs)):
            for x, _ in train_loader:
                x = x.view(-1, self.data_dimension)
                mu, sigma_square = self.encoder(x)
                z = self.sample_diagonal_gaussian(mu, sigma_square)
                p = self.decoder(z)
                elbo = self.elbo_loss(z, mu, sigma_square, x, p)
                self.optimizer.zero_grad()
                (-elbo).backward()
                self.optimizer.step()
            elbo_history.append(elbo.item())
        return elbo_history


# ---- run everything ----
train_loader, test_loader = hw5_utils.load_MNIST(BATCH_SIZE)
vae = VAE(LEARNING_RATE, LATENT_DIM, HIDDEN_DIM, DATA_DIM)
history = vae.train_model(EPOCHS, train_loader)

plt.plot(history)
plt.title("ELBO")
plt.savefig("elbo_curve.png")

# decode a grid of latent points
grid = np.linspace(-3, 3, 20)
canvas = np.zeros((28 * 20, 28 * 20))
with torch.no_grad():
    for i, zi in enumerate(grid):
        for j, zj in enumerate(grid):
            z = torch.tensor([[zi, zj]], dtype=torch.float32)
            img = vae.decoder(z).view(28, 28).numpy()
            canvas[i * 28:(i + 1) * 28, j * 28:(j + 1) * 28] = img
cv2.imwrite("manifold.png", (canvas * 255).astype(np.uint8))
plt.imshow(canvas, cmap="gray")
plt.show()
