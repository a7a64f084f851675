"""The shared torch helpers: seeded initialisation and the thread limit."""

from __future__ import annotations

import torch
from torch import nn

from models.layers import initialise, threads_limited


def test_initialisation_is_a_function_of_the_seed():
    first, second, other = (nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)) for _ in range(3))
    initialise(first, torch.Generator().manual_seed(7))
    initialise(second, torch.Generator().manual_seed(7))
    initialise(other, torch.Generator().manual_seed(8))
    for a, b, c in zip(first.parameters(), second.parameters(), other.parameters()):
        assert torch.equal(a, b)
        assert not torch.equal(a, c)


def test_initial_weights_stay_within_the_default_bound():
    layer = nn.Linear(16, 8)
    initialise(layer, torch.Generator().manual_seed(0))
    assert layer.bias.abs().max() <= 1 / 4  # ±1/√fan_in


def test_the_thread_limit_holds_inside_the_block_and_is_restored_after():
    before = torch.get_num_threads()
    with threads_limited(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with threads_limited(None):
        assert torch.get_num_threads() == before
