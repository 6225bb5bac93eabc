"""Small RBMs with random parameters, shared by test_rbm.py and test_partition.py.

Not a test module (pytest collects only test_*.py); the tests import it directly, as pytest puts
this folder on sys.path.
"""

import torch

from ebm_helpers.rbm import RBM


def random_rbm(n_visible, n_hidden, seed, scale=1.0, dtype=torch.float64):
    """An RBM with N(0, scale²) weights and N(0, 1) biases."""
    g = torch.Generator().manual_seed(seed)
    m = RBM(n_visible, n_hidden, dtype=dtype)
    with torch.no_grad():
        m.W.copy_(scale * torch.randn(n_hidden, n_visible, generator=g, dtype=dtype))
        m.v_bias.copy_(torch.randn(n_visible, generator=g, dtype=dtype))
        m.h_bias.copy_(torch.randn(n_hidden, generator=g, dtype=dtype))
    return m
