"""Small torch helpers shared by the models: seeded initialisation and a thread limit.

``initialise`` redraws PyTorch's default ``nn.Linear`` initialisation (Kaiming-uniform weights,
uniform biases in ±1/√fan_in) from an explicit generator, so a model is a function of its seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


def initialise(module: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation, drawn from an explicit generator."""
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            bound = 1 / math.sqrt(layer.in_features)
            nn.init.uniform_(layer.bias, -bound, bound, generator=generator)


@contextmanager
def threads_limited(threads: int | None) -> Iterator[None]:
    """torch.set_num_threads(threads) inside the block (restored after); None leaves it."""
    if threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
