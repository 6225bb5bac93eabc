"""The checkers of notebook 13's exercises accept the reference solutions (as written in the
notebook's hidden solutions) and reject typical wrong answers."""

from __future__ import annotations

import torch

from ebm_helpers import checks


def _e_step(x, weights, probs):
    log_joint = torch.log(weights) + x @ torch.log(probs).T + (1 - x) @ torch.log1p(-probs).T
    return torch.softmax(log_joint, dim=1)


def _e_step_in_probabilities(x, weights, probs):  # underflows for 784 sharp pixels
    like = torch.stack([(probs[k] ** x * (1 - probs[k]) ** (1 - x)).prod(1)
                        for k in range(len(weights))], 1)
    post = weights * like
    return post / post.sum(1, keepdim=True)


def test_mixture_e_step(capsys):
    assert checks.mixture_e_step(_e_step)
    assert "✓ mixture_e_step" in capsys.readouterr().out
    wrong = [
        lambda x, w, p: torch.softmax(x @ torch.log(p).T + (1 - x) @ torch.log1p(-p).T, 1),
        lambda x, w, p: torch.softmax(torch.log(w) + x @ torch.log(p).T
                                      + (1 - x) @ torch.log1p(-p).T, 0),
        lambda x, w, p: torch.softmax(torch.log(w) + x @ torch.log(p).T, 1),
        _e_step_in_probabilities,
    ]
    for candidate in wrong:
        assert not checks.mixture_e_step(candidate)
        assert "✗" in capsys.readouterr().out


def test_made_output_mask(capsys):
    assert checks.made_output_mask(lambda m0, mh: (m0[:, None] > mh[None, :]).float())
    assert "✓" in capsys.readouterr().out
    wrong = [
        lambda m0, mh: (m0[:, None] >= mh[None, :]).float(),  # output d would see x_d
        lambda m0, mh: (mh[:, None] < m0[None, :]).float(),  # transposed
        lambda m0, mh: (m0[:, None] < mh[None, :]).float(),  # reversed
    ]
    for candidate in wrong:
        assert not checks.made_output_mask(candidate)
        assert "✗" in capsys.readouterr().out


def _sqrtm_psd(c):
    w, v = torch.linalg.eigh(c)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def _frechet(mu_a, cov_a, mu_b, cov_b):
    r = _sqrtm_psd(cov_a)
    return ((mu_a - mu_b) ** 2).sum() + torch.trace(cov_a + cov_b - 2 * _sqrtm_psd(r @ cov_b @ r))


def test_gaussian_frechet(capsys):
    assert checks.gaussian_frechet(_frechet)
    assert "✓" in capsys.readouterr().out
    wrong = [
        lambda ma, ca, mb, cb: torch.trace(ca + cb - 2 * _sqrtm_psd(_sqrtm_psd(ca) @ cb
                                                                      @ _sqrtm_psd(ca))),
        lambda ma, ca, mb, cb: ((ma - mb) ** 2).sum() + torch.trace(ca + cb - _sqrtm_psd(
            _sqrtm_psd(ca) @ cb @ _sqrtm_psd(ca))),
        lambda ma, ca, mb, cb: ((ma - mb) ** 2).sum() + torch.trace(ca + cb - 2 * ca @ cb),
    ]
    for candidate in wrong:
        assert not checks.gaussian_frechet(candidate)
        assert "✗" in capsys.readouterr().out


def test_the_stubs_read_as_not_attempted(capsys):
    def stub(*args):
        raise NotImplementedError

    for name in ("mixture_e_step", "made_output_mask", "gaussian_frechet"):
        assert checks.CHECKERS[name] == "13_rbm_vs_modern_methods"
        assert getattr(checks, name)(stub) is False
        assert "not attempted yet" in capsys.readouterr().out
