"""Tests of ``ebm_helpers.ssl``: the losses against direct computations, the collapse measures on
matrices with a known spectrum, augmentations, the EMA target's stop-gradient, the training
loops (determinism, collapse of invariance-only, divergence guard) and the linear probe."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ebm_helpers import ssl


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _digits_like(n: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 64, generator=_gen(seed))


# ----------------------------------------------------------------------------- losses
def _vicreg_direct(a: np.ndarray, b: np.ndarray, lam=25.0, mu=25.0, nu=1.0, eps=1e-4):
    """VICReg written out with loops over coordinates, as in the paper's equations."""
    n, d = a.shape
    inv = np.mean((a - b) ** 2)
    var = 0.0
    cov = 0.0
    for z in (a, b):
        for k in range(d):
            col = z[:, k]
            s = math.sqrt(np.sum((col - col.mean()) ** 2) / (n - 1) + eps)
            var += max(0.0, 1.0 - s) / d / 2
        zc = z - z.mean(0)
        for k in range(d):
            for m in range(d):
                if k != m:
                    c = np.sum(zc[:, k] * zc[:, m]) / (n - 1)
                    cov += c**2 / d
    return lam * inv + mu * var + nu * cov, (inv, var, cov)


@pytest.mark.parametrize("scale", [0.3, 3.0])  # below and above the variance hinge
def test_vicreg_matches_a_direct_computation(scale):
    g = _gen(1)
    a = scale * torch.randn(16, 5, generator=g, dtype=torch.float64)
    b = a + 0.2 * torch.randn(16, 5, generator=g, dtype=torch.float64)
    expected, (inv, var, cov) = _vicreg_direct(a.numpy(), b.numpy())
    assert float(ssl.vicreg_loss(a, b)) == pytest.approx(expected, rel=1e-10)
    terms = ssl.vicreg_terms(a, b)
    assert float(terms["invariance"]) == pytest.approx(inv, rel=1e-10)
    assert float(terms["variance"]) == pytest.approx(var, rel=1e-10, abs=1e-12)
    assert float(terms["covariance"]) == pytest.approx(cov, rel=1e-10)
    weighted, _ = _vicreg_direct(a.numpy(), b.numpy(), 1.0, 2.0, 3.0)
    assert float(ssl.vicreg_loss(a, b, 1.0, 2.0, 3.0)) == pytest.approx(weighted, rel=1e-10)


def test_vicreg_terms_on_known_cases():
    # identical views, every coordinate's std far above 1, uncorrelated: only covariance ≈ 0
    z = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    t = ssl.vicreg_terms(z, z.clone())
    assert float(t["invariance"]) == 0.0 and float(t["variance"]) == 0.0
    assert float(t["covariance"]) == pytest.approx(0.0, abs=1e-12)
    # a collapsed batch: variance hinge at its maximum, 1 − √ε per coordinate
    c = torch.ones(8, 3)
    assert float(ssl.vicreg_terms(c, c)["variance"]) == pytest.approx(1 - math.sqrt(1e-4))


def _info_nce_direct(a: np.ndarray, b: np.ndarray, tau: float) -> float:
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    n = len(a)
    total = 0.0
    for i in range(n):
        row = [an[i] @ bn[j] / tau for j in range(n)]
        col = [an[j] @ bn[i] / tau for j in range(n)]
        total += -row[i] + math.log(sum(math.exp(v) for v in row))
        total += -col[i] + math.log(sum(math.exp(v) for v in col))
    return total / (2 * n)


@pytest.mark.parametrize("tau", [0.1, 0.5, 2.0])
def test_info_nce_matches_a_direct_computation(tau):
    g = _gen(2)
    a = torch.randn(7, 4, generator=g, dtype=torch.float64)
    b = torch.randn(7, 4, generator=g, dtype=torch.float64)
    assert float(ssl.info_nce(a, b, tau)) == pytest.approx(_info_nce_direct(a.numpy(),
                                                                             b.numpy(), tau))


def test_info_nce_limits():
    # perfectly aligned, orthogonal pairs at a small temperature: loss → 0; a collapsed batch
    # (all rows the same) cannot tell the positive apart: loss = log n
    eye = torch.eye(6, dtype=torch.float64)
    assert float(ssl.info_nce(eye, eye, 0.01)) < 1e-12
    same = torch.ones(6, 3, dtype=torch.float64)
    assert float(ssl.info_nce(same, same, 0.5)) == pytest.approx(math.log(6))
    # invariant to the scale of the embeddings (cosine similarities)
    a, b = torch.randn(5, 3, generator=_gen(3)), torch.randn(5, 3, generator=_gen(4))
    assert torch.allclose(ssl.info_nce(a, b), ssl.info_nce(10 * a, 0.1 * b), atol=1e-5)


def test_invariance_and_ema_predictor_losses():
    a, b = torch.randn(5, 3, generator=_gen(5)), torch.randn(5, 3, generator=_gen(6))
    assert float(ssl.invariance_loss(a, b)) == pytest.approx(float(((a - b) ** 2).mean()))
    p, t = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    loss = ssl.ema_predictor_loss(p, t)
    cos = (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))
    assert float(loss.detach()) == pytest.approx(float((2 - 2 * cos).mean()), rel=1e-6)
    loss.backward()
    assert t.grad is None and p.grad is not None  # stop-gradient on the target


@pytest.mark.parametrize("fn", [ssl.vicreg_loss, ssl.info_nce])
def test_a_batch_of_one_is_refused(fn):
    z = torch.randn(1, 4)
    with pytest.raises(ValueError, match="at least 2"):
        fn(z, z)


@pytest.mark.parametrize("fn", [ssl.vicreg_loss, ssl.info_nce, ssl.invariance_loss])
def test_losses_refuse_bad_pairs(fn):
    with pytest.raises(ValueError, match="same shape"):
        fn(torch.randn(4, 3), torch.randn(4, 2))
    bad = torch.randn(4, 3)
    bad[1, 2] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        fn(bad, torch.randn(4, 3))
    with pytest.raises(ValueError, match="floating-point"):
        fn(torch.ones(4, 3, dtype=torch.int64), torch.ones(4, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="temperature"):
        ssl.info_nce(torch.randn(4, 3), torch.randn(4, 3), 0.0)


# ----------------------------------------------------------------------------- collapse
def test_effective_rank_of_known_spectra():
    q, _ = torch.linalg.qr(torch.randn(10, 10, generator=_gen(7), dtype=torch.float64))
    assert ssl.effective_rank(3.0 * q[:, :6]) == pytest.approx(6.0)  # equal spectrum: d
    assert ssl.effective_rank(torch.eye(4)) == pytest.approx(4.0)
    u, v = torch.randn(20, 1, generator=_gen(8)), torch.randn(1, 5, generator=_gen(9))
    assert ssl.effective_rank(u @ v) == pytest.approx(1.0, abs=1e-5)  # rank one
    assert ssl.effective_rank(torch.ones(30, 8)) == pytest.approx(1.0, abs=1e-5)  # collapsed
    # singular values 2 and 1: p = (2/3, 1/3)
    expected = math.exp(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))
    assert ssl.effective_rank(torch.diag(torch.tensor([2.0, 1.0]))) == pytest.approx(expected)
    assert ssl.effective_rank(torch.zeros(5, 3)) == 0.0


def test_singular_values_are_the_principal_standard_deviations():
    g = _gen(10)
    z = torch.randn(200, 4, generator=g, dtype=torch.float64) * torch.tensor(
        [3.0, 1.0, 0.5, 0.1], dtype=torch.float64) + 7.0
    s = ssl.singular_values(z).double()
    eig = torch.linalg.eigvalsh(torch.cov(z.T)).flip(0)
    assert torch.allclose(s, eig.sqrt(), rtol=1e-5)
    assert torch.all(s[:-1] >= s[1:])
    assert ssl.singular_values(z, center=False)[0] > 7  # the mean dominates uncentred
    with pytest.raises(ValueError, match="at least 2"):
        ssl.singular_values(z[:1])


# ----------------------------------------------------------------------------- augmentations
def test_augment_identity_and_range():
    x = _digits_like(10)
    same = ssl.augment(x, _gen(), shift=0, dropout=0.0, noise=0.0)
    assert torch.equal(same, x) and same is not x
    out = ssl.augment(x, _gen())
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, ssl.augment(x, _gen()))  # same generator state, same views
    assert not torch.equal(out, ssl.augment(x, _gen(1)))


def test_augment_shifts_by_at_most_shift_pixels_and_fills_with_zero():
    x = torch.zeros(400, 64)
    x[:, 3 * 8 + 4] = 1.0  # one lit pixel at row 3, column 4
    out = ssl.augment(x, _gen(11), shift=1, dropout=0.0, noise=0.0)
    assert torch.all(out.sum(1) == 1.0)  # the pixel moves, nothing else appears
    pos = out.argmax(1)
    rows, cols = pos // 8, pos % 8
    assert set(rows.tolist()) == {2, 3, 4} and set(cols.tolist()) == {3, 4, 5}
    edge = torch.zeros(400, 64)
    edge[:, 0] = 1.0  # the top-left corner pixel falls off the image when shifted up/left
    lost = ssl.augment(edge, _gen(12), shift=1, dropout=0.0, noise=0.0).sum(1) == 0
    assert 0.4 < float(lost.float().mean()) < 0.7  # 1 − (2/3)² = 5/9 of the shifts


def test_augment_dropout_and_noise_rates():
    x = torch.full((200, 64), 0.5)
    dropped = ssl.augment(x, _gen(13), shift=0, dropout=0.25, noise=0.0) == 0
    rate = float(dropped.float().mean())
    assert abs(rate - 0.25) < 4 * math.sqrt(0.25 * 0.75 / dropped.numel())
    noisy = ssl.augment(x, _gen(14), shift=0, dropout=0.0, noise=0.1) - 0.5
    assert float(noisy.std()) == pytest.approx(0.1, rel=0.05)


def test_augment_bad_input():
    with pytest.raises(ValueError, match="square"):
        ssl.augment(torch.rand(3, 60), _gen())
    with pytest.raises(ValueError, match="dropout"):
        ssl.augment(torch.rand(3, 64), _gen(), dropout=1.0)
    with pytest.raises(ValueError, match="shift"):
        ssl.augment(torch.rand(3, 64), _gen(), shift=8)
    with pytest.raises(ValueError, match="noise"):
        ssl.augment(torch.rand(3, 64), _gen(), noise=-0.1)
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        ssl.augment(torch.rand(3, 64), 0)


def test_quadrants_partition_the_image():
    m = ssl.quadrant_masks(8)
    assert m.shape == (4, 64) and torch.all(m.sum(0) == 1) and torch.all(m.sum(1) == 16)
    assert m[0].reshape(8, 8)[:4, :4].all() and m[3].reshape(8, 8)[4:, 4:].all()
    x = _digits_like(6)
    q = torch.tensor([0, 1, 2, 3, 0, 1])
    assert torch.allclose(ssl.mask_quadrant(x, q) + ssl.mask_quadrant(x, q, keep=True), x)
    assert torch.all(ssl.mask_quadrant(x, 2)[:, m[2]] == 0)
    with pytest.raises(ValueError, match="quadrant"):
        ssl.mask_quadrant(x, 4)
    with pytest.raises(ValueError, match="even"):
        ssl.quadrant_masks(7)


# ----------------------------------------------------------------------------- training
def test_ema_update_and_the_target_gets_no_gradient():
    online = ssl.MLPEncoder(64, 4, (8,), generator=_gen(15))
    target = ssl.MLPEncoder(64, 4, (8,), generator=_gen(16))
    before = [p.clone() for p in target.parameters()]
    ssl.ema_update(target, online, 0.9)
    for b, t, o in zip(before, target.parameters(), online.parameters(), strict=True):
        assert torch.allclose(t, 0.9 * b + 0.1 * o)
    with pytest.raises(ValueError, match="momentum"):
        ssl.ema_update(target, online, 1.5)
    # the I-JEPA target encoder after training: frozen, never touched by backward
    encoder, _ = ssl.train_ijepa(_digits_like(64), epochs=2, batch_size=32, embed_dim=8,
                                 hidden=(16,), generator=_gen(17))
    assert all(not p.requires_grad and p.grad is None for p in encoder.parameters())


@pytest.mark.parametrize("method", ssl.METHODS)
def test_train_joint_embedding_runs_and_is_deterministic(method):
    x = _digits_like(96)
    kwargs = dict(epochs=3, batch_size=32, embed_dim=8, hidden=(32,), proj_dim=16,
                  head_width=32)
    enc, hist = ssl.train_joint_embedding(x, method, generator=_gen(18), **kwargs)
    enc2, _ = ssl.train_joint_embedding(x, method, generator=_gen(18), **kwargs)
    assert not enc.training
    assert hist["epoch"] == [1, 2, 3] and all(math.isfinite(v) for v in hist["loss"])
    assert {"rank", "embedding_rank", "embedding_std"} <= set(hist.metrics)
    if method == "vicreg":
        assert {"invariance", "variance", "covariance"} <= set(hist.metrics)
    z = ssl.embed(enc, x)
    assert z.shape == (96, 8) and not z.requires_grad
    assert torch.equal(z, ssl.embed(enc2, x))


@pytest.mark.slow
def test_invariance_only_collapses_and_vicreg_does_not():
    from ebm_helpers import data

    x = data.load_digits().x_train[:512]
    spread = {}
    for method in ["invariance", "vicreg"]:
        _, hist = ssl.train_joint_embedding(x, method, epochs=15, batch_size=128,
                                            generator=_gen(19), progress=False)
        spread[method] = hist["embedding_std"]
    # the embedding's spread: VICReg's variance term holds it up, invariance-only lets it shrink
    # (from a small start, it first grows with the weights, then falls)
    assert spread["invariance"][-1] < 0.1 * spread["vicreg"][-1]
    assert spread["invariance"][-1] < 0.6 * max(spread["invariance"])


def test_train_ijepa_targets_and_features():
    x = _digits_like(64)
    for target in ssl.JEPA_TARGETS:
        enc, hist = ssl.train_ijepa(x, epochs=2, batch_size=32, embed_dim=8, hidden=(16,),
                                    target=target, generator=_gen(20))
        assert len(hist["loss"]) == 2 and "rank" in hist
        feats = ssl.quadrant_features(enc, x)
        assert feats.shape == (64, 32)
        q0 = ssl.embed(enc, ssl.mask_quadrant(x, 0, keep=True))
        assert torch.equal(feats[:, :8], q0)
    with pytest.raises(ValueError, match="unknown target"):
        ssl.train_ijepa(x, epochs=1, target="logits", generator=_gen())
    with pytest.raises(ValueError, match="final_momentum"):
        ssl.train_ijepa(x, epochs=1, momentum=0.99, final_momentum=0.9, generator=_gen())


def test_training_bad_input_and_divergence_guard():
    x = _digits_like(32)
    with pytest.raises(ValueError, match="unknown method"):
        ssl.train_joint_embedding(x, "simclr", epochs=1, generator=_gen())
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ssl.train_joint_embedding(3 * x, "vicreg", epochs=1, generator=_gen())
    with pytest.raises(ValueError, match="at least 2 images"):
        ssl.train_joint_embedding(x[:1], "vicreg", epochs=1, generator=_gen())
    with pytest.raises(TypeError, match=r"torch\.Generator"):
        ssl.train_joint_embedding(x, "vicreg", epochs=1, generator=0)
    with pytest.raises(ValueError, match="epochs"):
        ssl.train_joint_embedding(x, "vicreg", epochs=0, generator=_gen())
    with pytest.raises(ValueError, match="dropout"):
        ssl.train_joint_embedding(x, "vicreg", epochs=1, generator=_gen(),
                                  augment_kwargs={"dropout": 2.0})
    with pytest.raises(RuntimeError, match=r"diverged in epoch 1.*lower lr"):
        ssl.train_joint_embedding(x, "vicreg", epochs=1, batch_size=16, generator=_gen(),
                                  max_loss=1e-3)


def test_embed_restores_the_mode_and_checks_its_input():
    enc = ssl.MLPEncoder(64, 4, generator=_gen(21)).train()
    z = ssl.embed(enc, _digits_like(5))
    assert enc.training and z.shape == (5, 4)
    with pytest.raises(ValueError, match=r"\(batch, 64\)"):
        enc(torch.rand(5, 60))
    with pytest.raises(TypeError, match="torch module"):
        ssl.embed(lambda x: x, _digits_like(5))


# ----------------------------------------------------------------------------- probe
def _blobs(n_per_class: int, seed: int, spread: float = 1.0):
    g = _gen(seed)
    centres = 3.0 * torch.randn(4, 6, generator=_gen(99))
    y = torch.arange(4).repeat_interleave(n_per_class)
    x = centres[y] + spread * torch.randn(len(y), 6, generator=g)
    return x, y


def test_linear_probe_separable_blobs_and_choice_on_validation_only():
    x_train, y_train = _blobs(50, 22)
    x_test, y_test = _blobs(30, 23)
    out = ssl.linear_probe(x_train, y_train, x_test, y_test, Cs=(1e-3, 1.0, 100.0))
    assert out["accuracy"] > 0.95 and out["C"] in (1e-3, 1.0, 100.0)
    assert set(out["val_accuracy"]) == {1e-3, 1.0, 100.0}
    # the choice of C never looks at the test split: scrambled test labels, same C
    scrambled = ssl.linear_probe(x_train, y_train, x_test, y_test.flip(0),
                                 Cs=(1e-3, 1.0, 100.0))
    assert scrambled["C"] == out["C"] and scrambled["val_accuracy"] == out["val_accuracy"]
    # numpy inputs work the same
    same = ssl.linear_probe(x_train.numpy(), y_train.numpy(), x_test.numpy(), y_test.numpy(),
                            Cs=(1e-3, 1.0, 100.0))
    assert same["accuracy"] == out["accuracy"]


def test_linear_probe_picks_the_best_validation_c():
    x_train, y_train = _blobs(40, 24, spread=4.0)
    x_test, y_test = _blobs(20, 25, spread=4.0)
    out = ssl.linear_probe(x_train, y_train, x_test, y_test, Cs=(1e-4, 1e-2, 1.0))
    best = max(out["val_accuracy"].values())
    assert out["val_accuracy"][out["C"]] == best


def test_linear_probe_bad_input():
    x, y = _blobs(5, 26)
    with pytest.raises(ValueError, match="one per row"):
        ssl.linear_probe(x, y[:-1], x, y)
    with pytest.raises(ValueError, match="integer class labels"):
        ssl.linear_probe(x, y.float(), x, y)
    with pytest.raises(ValueError, match="never occur"):
        ssl.linear_probe(x[y < 3], y[y < 3], x, y)
    with pytest.raises(ValueError, match="width"):
        ssl.linear_probe(x, y, x[:, :3], y)
    with pytest.raises(ValueError, match="too few"):
        ssl.linear_probe(x[::5], y[::5], x, y)
    with pytest.raises(ValueError, match="val_fraction"):
        ssl.linear_probe(x, y, x, y, val_fraction=1.0)
